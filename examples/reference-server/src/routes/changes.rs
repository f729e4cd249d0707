//! Change requests (SOC 2 CC8.1): engineers request, someone else approves. Who may do what
//! is the Cedar policies' call; the requester of a change cannot approve it (a `forbid`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use soc2_rbac::ResourceRef;
use soc2_tower::Authorize;

use super::error::unavailable;
use super::{ApiError, JsonBody};
use crate::app::AppState;
use crate::changes::CHANGE_TYPE;

/// The longest change title accepted, in characters.
const MAX_TITLE_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
pub(crate) struct NewChange {
    title: String,
}

/// Requests a change: 201 `{id}`, 403 when the policies do not let the user request one.
/// The change is recorded, then authorized as the resource it now is; a refused request
/// leaves nothing behind.
pub(crate) async fn request(
    State(state): State<AppState>,
    authz: Authorize,
    JsonBody(body): JsonBody<NewChange>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let title = body.title.trim();
    if title.is_empty()
        || title.chars().count() > MAX_TITLE_CHARS
        || title.chars().any(char::is_control)
    {
        return Err(ApiError::InvalidRequest(format!(
            "title is 1 to {MAX_TITLE_CHARS} printable characters"
        )));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let requester = authz.principal().user_id();
    state
        .changes
        .create(&id, title, requester)
        .await
        .map_err(|e| unavailable(&e))?;
    let resource = ResourceRef::new(CHANGE_TYPE, id.as_str());
    if let Err(refused) = authz
        .require("request_change", &resource, Value::Null)
        .await
    {
        state
            .changes
            .delete(&id)
            .await
            .map_err(|e| unavailable(&e))?;
        return Err(refused.into());
    }
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// Approves a pending change: 200 `{id, status}`, 403 `forbidden` (not an approver, or the
/// change's own requester, or an unknown change: callers cannot probe which exist), 409 when
/// it is no longer pending.
pub(crate) async fn approve(
    State(state): State<AppState>,
    authz: Authorize,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let resource = ResourceRef::new(CHANGE_TYPE, id.as_str());
    authz
        .require("approve_change", &resource, Value::Null)
        .await?;
    let approved = state
        .changes
        .approve(&id, authz.principal().user_id())
        .await
        .map_err(|e| unavailable(&e))?;
    if approved {
        Ok(Json(json!({"id": id, "status": "approved"})))
    } else {
        Err(ApiError::Conflict)
    }
}
