//! Administration: audit export and verification, user roles, unlocking accounts, ending a
//! user's sessions, reloading the policies. Each route needs a sign-in within 15 minutes
//! (step-up) and the Cedar action it names (`read_audit`, `manage_users`,
//! `reload_policies`); a refusal is 403 `forbidden`, audited by the authorizer.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use serde::Deserialize;
use serde_json::{Value, json};
use soc2_audit::{
    Actor, AuditStore, ExportError, ExportFormat, ExportPages, TimeRange, VerifyError,
    VerifyRequest,
};
use soc2_auth::Username;
use soc2_core::{RequestContext, UserId};
use soc2_rbac::{ReloadError, ResourceRef, RoleName};
use soc2_tower::{Authorize, FreshAuth};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, format_description};
use time::{Date, OffsetDateTime};

use super::ApiError;
use super::error::unavailable;
use crate::app::AppState;
use crate::changes::{AUDIT_LOG_TYPE, POLICY_SET_TYPE};

/// How recently an administrator must have signed in.
const ADMIN_FRESHNESS_MINUTES: u64 = 15;

/// A user signed in within [`ADMIN_FRESHNESS_MINUTES`], with the authorizer at hand; each
/// handler asks for its own action with [`Admin::require`].
#[derive(Debug)]
pub(crate) struct Admin {
    authz: Authorize,
    context: RequestContext,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        FreshAuth::<ADMIN_FRESHNESS_MINUTES>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let authz = Authorize::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let context = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default();
        Ok(Self { authz, context })
    }
}

impl Admin {
    /// Refuses unless the policies allow `action` on `resource`.
    async fn require(&self, action: &str, resource: &ResourceRef) -> Result<(), ApiError> {
        self.authz.require(action, resource, Value::Null).await?;
        Ok(())
    }

    /// The administrator as the audit log's actor.
    fn actor(&self) -> Actor {
        Actor::user(self.authz.principal().user_id())
    }

    /// The user named `username` once `manage_users` on them is allowed (an unknown name is
    /// checked as an unknown user, so only administrators learn that it does not exist).
    async fn managed_user(&self, state: &AppState, username: &str) -> Result<UserId, ApiError> {
        let found = match Username::parse(username) {
            Ok(username) => state
                .credentials
                .find(&username)
                .await
                .map_err(|e| unavailable(&e))?,
            Err(_) => None,
        };
        // The nil id belongs to nobody.
        let user = found
            .as_ref()
            .map_or(UserId::from_uuid(uuid::Uuid::nil()), |r| r.user_id);
        self.require("manage_users", &ResourceRef::user(user))
            .await?;
        found.map(|r| r.user_id).ok_or(ApiError::NotFound)
    }

    /// A valid role name and the managed user it is about (400 for a malformed name).
    async fn managed_role(
        &self,
        state: &AppState,
        username: &str,
        role: &str,
    ) -> Result<(UserId, RoleName), ApiError> {
        let role = RoleName::new(role).map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        Ok((self.managed_user(state, username).await?, role))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The events in `[from, to)` (RFC 3339 instants or `YYYY-MM-DD` dates, UTC; default: all)
/// as JSON Lines (`format=jsonl`, the default) or CSV (`format=csv`), streamed page by page.
pub(crate) async fn export(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    admin.require("read_audit", &audit_log()).await?;
    let (format, content_type) = match query.format.as_deref() {
        None | Some("jsonl") => (ExportFormat::JsonLines, "application/x-ndjson"),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8"),
        Some(_) => return Err(ApiError::InvalidRequest("format is jsonl or csv".into())),
    };
    let from = instant(query.from.as_deref())?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = instant(query.to.as_deref())?.unwrap_or(datetime!(9999-12-31 0:00 UTC));
    state.audit.flush().await.map_err(|e| unavailable(&e))?;
    let body = export_body(
        Arc::clone(&state.audit_store),
        ExportPages::new(TimeRange::new(from, to), format),
    )
    .await?;
    Ok(([(CONTENT_TYPE, content_type)], body).into_response())
}

/// The export as a streamed body holding one page (1000 events) at a time. The first page is
/// read before the answer starts, so a store that is down gives 503; a failure after that
/// cuts the response short (the client sees an incomplete body, never a silently short file)
/// and is logged.
async fn export_body(store: Arc<dyn AuditStore>, mut pages: ExportPages) -> Result<Body, ApiError> {
    let Some(first) = pages
        .next_chunk(store.as_ref())
        .await
        .map_err(|e| unavailable(&e))?
    else {
        return Ok(Body::empty());
    };
    let rest = stream::try_unfold((store, pages), |(store, mut pages)| async move {
        let chunk = pages.next_chunk(store.as_ref()).await?;
        Ok::<_, ExportError>(chunk.map(|chunk| (chunk, (store, pages))))
    })
    .inspect_err(|error| tracing::error!(%error, "audit export cut short"));
    Ok(Body::from_stream(
        stream::once(async { Ok(first) }).chain(rest),
    ))
}

/// Verifies the whole chain with the server's keys: `{"ok": true, "checked", "last_seq"}`,
/// or `{"ok": false, "violation": {"seq", "kind", "detail"}}`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Value>, ApiError> {
    admin.require("read_audit", &audit_log()).await?;
    state.audit.flush().await.map_err(|e| unavailable(&e))?;
    let result = soc2_audit::verify(
        state.audit_store.as_ref(),
        &state.keys,
        &VerifyRequest::all(),
    )
    .await;
    Ok(Json(match result {
        Ok(verified) => {
            json!({"ok": true, "checked": verified.checked, "last_seq": verified.last_seq})
        }
        Err(VerifyError::Violation(violation)) => json!({
            "ok": false,
            "violation": {
                "seq": violation.seq,
                "kind": violation.kind.name(),
                "detail": violation.detail,
            },
        }),
        Err(error) => return Err(unavailable(&error)),
    }))
}

/// Lifts a lock on `username` and clears its failure counter.
pub(crate) async fn unlock(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = admin.managed_user(&state, &username).await?;
    state
        .auth
        .unlock(user, admin.actor(), &admin.context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of `username`.
pub(crate) async fn revoke_sessions(
    State(state): State<AppState>,
    admin: Admin,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = admin.managed_user(&state, &username).await?;
    state
        .sessions
        .revoke_user(user, admin.actor(), &admin.context)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grants `role` to `username`: 204, or 409 `sod_conflict` naming the rule the grant would
/// break (refused and audited).
pub(crate) async fn grant_role(
    State(state): State<AppState>,
    admin: Admin,
    Path((username, role)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (user, role) = admin.managed_role(&state, &username, &role).await?;
    state
        .role_manager
        .assign(admin.actor(), user, &role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes `role` from `username` (204 whether or not it was held).
pub(crate) async fn revoke_role(
    State(state): State<AppState>,
    admin: Admin,
    Path((username, role)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (user, role) = admin.managed_role(&state, &username, &role).await?;
    state
        .role_manager
        .revoke(admin.actor(), user, &role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reloads the policy directory: `{"version", "previous_version"}`, or 422
/// `invalid_policies` with every problem while the previous set stays in force.
pub(crate) async fn reload_policies(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Json<Value>, ApiError> {
    admin
        .require(
            "reload_policies",
            &ResourceRef::new(POLICY_SET_TYPE, "current"),
        )
        .await?;
    match state.policies.reload(admin.actor()).await {
        Ok(report) => Ok(Json(json!({
            "version": report.current.to_string(),
            "previous_version": report.previous.to_string(),
        }))),
        Err(ReloadError::Invalid(error)) => Err(ApiError::InvalidPolicies(
            error.problems().iter().map(ToString::to_string).collect(),
        )),
        Err(other) => Err(unavailable(&other)),
    }
}

/// The audit log as a Cedar resource.
fn audit_log() -> ResourceRef {
    ResourceRef::new(AUDIT_LOG_TYPE, "log")
}

/// An RFC 3339 instant or a `YYYY-MM-DD` date (midnight UTC).
fn instant(text: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| {
            Date::parse(text, format_description!("[year]-[month]-[day]"))
                .map(|date| date.midnight().assume_utc())
        })
        .map(Some)
        .map_err(|_| {
            ApiError::InvalidRequest(format!("`{text}` is not a date or RFC 3339 instant"))
        })
}
