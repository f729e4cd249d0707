//! Administration: audit export and verification, unlocking accounts.
//!
//! Until soc2-rbac lands, only the bootstrap administrator (`admin`) may call these, within
//! 15 minutes of signing in (step-up); Cedar authorization replaces [`Admin`]'s check then.

use axum::Json;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use soc2_audit::{
    Actor, AuditEvent, ExportFormat, Outcome, SdkAction, Target, TimeRange, VerifyError,
    VerifyRequest,
};
use soc2_auth::Username;
use soc2_core::RequestContext;
use soc2_tower::{FreshAuth, Principal};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, format_description};
use time::{Date, OffsetDateTime};

use super::ApiError;
use super::error::unavailable;
use crate::app::AppState;
use crate::bootstrap::ADMIN_USERNAME;

/// How recently an administrator must have signed in.
const ADMIN_FRESHNESS_MINUTES: u64 = 15;

/// The bootstrap administrator, authenticated within [`ADMIN_FRESHNESS_MINUTES`]. Anyone else
/// is refused with 403 `forbidden`, audited as `authz.denied`.
#[derive(Debug)]
pub(crate) struct Admin {
    principal: Principal,
    context: RequestContext,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let FreshAuth(principal) =
            FreshAuth::<ADMIN_FRESHNESS_MINUTES>::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let context = parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default();
        let record = state
            .auth
            .credential(principal.user_id())
            .await
            .map_err(|e| ApiError::from(e).into_response())?;
        if record.username.as_str() == ADMIN_USERNAME {
            return Ok(Self { principal, context });
        }
        let denied = AuditEvent::new(
            SdkAction::AuthorizationDenied,
            Outcome::Denied,
            Actor::user(principal.user_id()),
            state.clock.now(),
        )
        .with_target(Target::new("route", parts.uri.path()))
        .with_reason("administrator only")
        .with_context(context);
        Err(match state.audit.record(denied) {
            Ok(()) => ApiError::Forbidden.into_response(),
            Err(error) => unavailable(&error).into_response(),
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The events in `[from, to)` (RFC 3339 instants or `YYYY-MM-DD` dates, UTC; default: all)
/// as JSON Lines (`format=jsonl`, the default) or CSV (`format=csv`).
pub(crate) async fn export(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (format, content_type) = match query.format.as_deref() {
        None | Some("jsonl") => (ExportFormat::JsonLines, "application/x-ndjson"),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8"),
        Some(_) => return Err(ApiError::InvalidRequest("format is jsonl or csv".into())),
    };
    let from = instant(query.from.as_deref())?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let to = instant(query.to.as_deref())?.unwrap_or(datetime!(9999-12-31 0:00 UTC));
    state.audit.flush().await.map_err(|e| unavailable(&e))?;
    let mut out = Vec::new();
    soc2_audit::export(
        state.audit_store.as_ref(),
        &TimeRange::new(from, to),
        format,
        &mut out,
    )
    .await
    .map_err(|e| unavailable(&e))?;
    Ok(([(CONTENT_TYPE, content_type)], out).into_response())
}

/// Verifies the whole chain with the server's keys: `{"ok": true, "checked", "last_seq"}`,
/// or `{"ok": false, "violation": {"seq", "kind", "detail"}}`.
pub(crate) async fn verify(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Value>, ApiError> {
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
    let username = Username::parse(&username).map_err(|_| ApiError::NotFound)?;
    let record = state
        .credentials
        .find(&username)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or(ApiError::NotFound)?;
    state
        .auth
        .unlock(
            record.user_id,
            Actor::user(admin.principal.user_id()),
            &admin.context,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
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
