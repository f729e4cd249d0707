//! The audit event schema.

use std::fmt;

use ring::digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use soc2_core::{
    EventId, RequestContext, SecretString, UserId, truncate_to_char_boundary, truncate_to_micros,
    unix_micros,
};
use time::OffsetDateTime;

use crate::Action;

/// Longest reason kept, in bytes.
pub const MAX_REASON_BYTES: usize = 1024;
/// Longest name (username, service name, target kind or id) kept, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Largest metadata kept, in bytes of JSON; a value that would exceed it is replaced by a
/// `{"truncated": true, "bytes": N}` marker, so the event is still recorded.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// A SOC 2 Trust Services Criterion an event evidences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Criterion {
    /// CC6.1: logical access security (authentication, sessions).
    #[serde(rename = "CC6.1")]
    Cc6_1,
    /// CC6.2: user registration, authorization and removal (provisioning).
    #[serde(rename = "CC6.2")]
    Cc6_2,
    /// CC6.3: role-based access, least privilege, segregation of duties.
    #[serde(rename = "CC6.3")]
    Cc6_3,
    /// CC7.2: monitoring for anomalies and security events.
    #[serde(rename = "CC7.2")]
    Cc7_2,
    /// CC8.1: authorized, tested and approved changes.
    #[serde(rename = "CC8.1")]
    Cc8_1,
}

impl Criterion {
    /// The criterion's id, e.g. `CC6.1`.
    #[must_use]
    pub const fn id(self) -> &'static str {
        match self {
            Self::Cc6_1 => "CC6.1",
            Self::Cc6_2 => "CC6.2",
            Self::Cc6_3 => "CC6.3",
            Self::Cc7_2 => "CC7.2",
            Self::Cc8_1 => "CC8.1",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Actor {
    /// An authenticated user.
    User {
        /// The user's id.
        id: UserId,
    },
    /// A service or job, by name.
    Service {
        /// The service's name.
        name: String,
    },
    /// Somebody not (yet) authenticated, with the username they tried, if any.
    Anonymous {
        /// The username typed at a login form (never the password).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attempted_username: Option<String>,
    },
    /// soc2-rs itself (expiry sweeps, retention).
    System,
}

impl Actor {
    /// An authenticated user.
    #[must_use]
    pub fn user(id: UserId) -> Self {
        Self::User { id }
    }

    /// A service, by name (truncated to [`MAX_NAME_BYTES`]).
    #[must_use]
    pub fn service(name: &str) -> Self {
        Self::Service {
            name: bounded(name, MAX_NAME_BYTES),
        }
    }

    /// An unauthenticated caller who typed `attempted_username` (truncated to [`MAX_NAME_BYTES`]).
    #[must_use]
    pub fn anonymous(attempted_username: Option<&str>) -> Self {
        Self::Anonymous {
            attempted_username: attempted_username.map(|name| bounded(name, MAX_NAME_BYTES)),
        }
    }
}

/// What the action was done to: a kind and an id, e.g. `user` / `0190…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    kind: String,
    id: String,
}

impl Target {
    /// A target, both parts truncated to [`MAX_NAME_BYTES`].
    #[must_use]
    pub fn new(kind: &str, id: &str) -> Self {
        Self {
            kind: bounded(kind, MAX_NAME_BYTES),
            id: bounded(id, MAX_NAME_BYTES),
        }
    }

    /// The target's kind.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The target's id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// It happened.
    Success,
    /// It was attempted and failed (e.g. a wrong password).
    Failure,
    /// A policy refused it.
    Denied,
    /// The system could not decide (fail closed).
    Error,
}

impl Outcome {
    /// The stored name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
            Self::Error => "error",
        }
    }
}

/// A reference to a session that identifies it in the log without revealing it: the first
/// 96 bits of the SHA-256 of its token, in hex. A token can never be recovered from it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionRef(String);

impl SessionRef {
    /// The reference of a session token.
    #[must_use]
    pub fn of_token(token: &SecretString) -> Self {
        Self::of_digest(digest::digest(&digest::SHA256, token.expose_secret().as_bytes()).as_ref())
    }

    /// The reference from a token digest a store already holds (SHA-256 of the token).
    #[must_use]
    pub fn of_digest(sha256: &[u8]) -> Self {
        Self(hex::encode(&sha256[..sha256.len().min(12)]))
    }

    /// The reference as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionRef({})", self.0)
    }
}

/// One security-relevant event.
///
/// Built with [`AuditEvent::new`] and `with_*` setters. Every text field is bounded, and the
/// setters accept only plain text or serializable values: soc2-core's [`soc2_core::Secret`]
/// implements neither `Display`, `AsRef<str>` nor `Serialize`, so a secret cannot be put into an
/// event without an explicit, greppable `expose_secret()`:
///
/// ```compile_fail
/// use soc2_audit::{Actor, AuditEvent, Outcome, SdkAction};
/// use soc2_core::SecretString;
/// let password = SecretString::from("hunter2");
/// let event = AuditEvent::new(SdkAction::LoginFailed, Outcome::Failure, Actor::System, time::OffsetDateTime::UNIX_EPOCH)
///     .with_metadata("password", &password); // error: `Secret<String>` is not `Serialize`
/// ```
///
/// ```compile_fail
/// # use soc2_audit::{Actor, AuditEvent, Outcome, SdkAction};
/// # use soc2_core::SecretString;
/// let password = SecretString::from("hunter2");
/// let event = AuditEvent::new(SdkAction::LoginFailed, Outcome::Failure, Actor::System, time::OffsetDateTime::UNIX_EPOCH)
///     .with_reason(&password); // error: expected `&str`
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    id: EventId,
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: OffsetDateTime,
    actor: Actor,
    action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
    outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default)]
    context: RequestContext,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_ref: Option<SessionRef>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    metadata: Map<String, Value>,
    criteria: Vec<Criterion>,
}

impl AuditEvent {
    /// A new event with a fresh UUIDv7, stamped `occurred_at` (in UTC, to the microsecond, the
    /// precision every store keeps, within years 0000-9999, the range RFC 3339 can write) and
    /// the action's default criteria.
    #[must_use]
    pub fn new(
        action: impl Into<Action>,
        outcome: Outcome,
        actor: Actor,
        occurred_at: OffsetDateTime,
    ) -> Self {
        let action = action.into();
        Self {
            id: EventId::new_v7(),
            occurred_at: normalize_time(occurred_at),
            actor,
            criteria: action.default_criteria().to_vec(),
            action,
            target: None,
            outcome,
            reason: None,
            context: RequestContext::default(),
            session_ref: None,
            metadata: Map::new(),
        }
    }

    /// Sets the target.
    #[must_use]
    pub fn with_target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    /// Sets a human-readable reason (truncated to [`MAX_REASON_BYTES`]).
    #[must_use]
    pub fn with_reason(mut self, reason: &str) -> Self {
        self.reason = Some(bounded(reason, MAX_REASON_BYTES));
        self
    }

    /// Sets the request context.
    #[must_use]
    pub fn with_context(mut self, context: RequestContext) -> Self {
        self.context = context;
        self
    }

    /// Sets the session reference.
    #[must_use]
    pub fn with_session(mut self, session: SessionRef) -> Self {
        self.session_ref = Some(session);
        self
    }

    /// Adds a metadata entry. A value that does not serialize, or that would push the metadata
    /// past [`MAX_METADATA_BYTES`], is replaced by a `{"truncated": true, "bytes": N}` marker.
    #[must_use]
    pub fn with_metadata(mut self, key: &str, value: impl Serialize) -> Self {
        let key = bounded(key, MAX_NAME_BYTES);
        let used: usize = self
            .metadata
            .iter()
            .map(|(k, v)| k.len() + json_len(v))
            .sum();
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        let size = key.len() + json_len(&value);
        let value = if used + size > MAX_METADATA_BYTES {
            serde_json::json!({ "truncated": true, "bytes": size })
        } else {
            value
        };
        self.metadata.insert(key, value);
        self
    }

    /// Replaces the criteria this event evidences.
    #[must_use]
    pub fn with_criteria(mut self, criteria: &[Criterion]) -> Self {
        self.criteria = criteria.to_vec();
        self
    }

    /// The event id (UUIDv7).
    #[must_use]
    pub fn id(&self) -> EventId {
        self.id
    }

    /// When it happened, in UTC.
    #[must_use]
    pub fn occurred_at(&self) -> OffsetDateTime {
        self.occurred_at
    }

    /// Who acted.
    #[must_use]
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// What happened.
    #[must_use]
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// What it was done to.
    #[must_use]
    pub fn target(&self) -> Option<&Target> {
        self.target.as_ref()
    }

    /// How it ended.
    #[must_use]
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Why, in words.
    #[must_use]
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// The request it happened in.
    #[must_use]
    pub fn context(&self) -> &RequestContext {
        &self.context
    }

    /// The session it happened in.
    #[must_use]
    pub fn session_ref(&self) -> Option<&SessionRef> {
        self.session_ref.as_ref()
    }

    /// Structured details.
    #[must_use]
    pub fn metadata(&self) -> &Map<String, Value> {
        &self.metadata
    }

    /// The SOC 2 criteria it evidences.
    #[must_use]
    pub fn criteria(&self) -> &[Criterion] {
        &self.criteria
    }

    /// Microseconds since the Unix epoch of [`AuditEvent::occurred_at`], as stores index it.
    #[must_use]
    pub fn occurred_at_micros(&self) -> i64 {
        unix_micros(self.occurred_at)
    }
}

/// UTC, whole microseconds, clamped to the years RFC 3339 can represent, so every event
/// serializes (a clock set to year -1 is a broken clock, not a reason to lose the event).
fn normalize_time(at: OffsetDateTime) -> OffsetDateTime {
    let earliest = time::macros::datetime!(0000-01-01 00:00 UTC);
    let latest = time::macros::datetime!(9999-12-31 23:59:59.999999 UTC);
    truncate_to_micros(at.to_offset(time::UtcOffset::UTC).clamp(earliest, latest))
}

fn bounded(text: &str, max: usize) -> String {
    truncate_to_char_boundary(text, max).to_owned()
}

fn json_len(value: &Value) -> usize {
    serde_json::to_string(value).map_or(0, |s| s.len())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::SdkAction;

    fn login_failed() -> AuditEvent {
        AuditEvent::new(
            SdkAction::LoginFailed,
            Outcome::Failure,
            Actor::anonymous(Some("alice")),
            datetime!(2026-11-23 10:00:00.123456789 +01:00),
        )
    }

    #[test]
    fn new_event_is_utc_microseconds_with_default_criteria() {
        let event = login_failed();
        assert_eq!(
            event.occurred_at(),
            datetime!(2026-11-23 09:00:00.123456 UTC)
        );
        assert_eq!(event.occurred_at_micros(), 1_795_424_400_123_456);
        assert_eq!(event.criteria(), &[Criterion::Cc6_1]);
        assert_eq!(event.id().as_uuid().get_version_num(), 7);
    }

    #[test]
    fn serializes_to_stable_json_and_back() {
        let event = login_failed()
            .with_reason("wrong password")
            .with_target(Target::new("user", "alice"))
            .with_metadata("factor", "password");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["action"], "auth.login.failed");
        assert_eq!(
            json["actor"],
            serde_json::json!({"kind": "anonymous", "attempted_username": "alice"})
        );
        assert_eq!(json["outcome"], "failure");
        assert_eq!(json["occurred_at"], "2026-11-23T09:00:00.123456Z");
        assert_eq!(json["criteria"], serde_json::json!(["CC6.1"]));
        let back: AuditEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn oversized_fields_are_bounded() {
        let event = login_failed()
            .with_reason(&"r".repeat(100_000))
            .with_metadata("blob", "x".repeat(100_000))
            .with_target(Target::new(&"k".repeat(1000), "id"));
        assert_eq!(event.reason().map(str::len), Some(MAX_REASON_BYTES));
        assert_eq!(event.metadata()["blob"]["truncated"], true);
        assert_eq!(event.target().map(|t| t.kind().len()), Some(MAX_NAME_BYTES));
        let small = login_failed().with_metadata("ok", 42);
        assert_eq!(small.metadata()["ok"], 42);
    }

    #[test]
    fn session_ref_is_a_short_hash_of_the_token() {
        let token = SecretString::from("s2_secret-token-value");
        let reference = SessionRef::of_token(&token);
        assert_eq!(reference.as_str().len(), 24);
        assert!(!reference.as_str().contains("secret"));
        assert_eq!(
            reference,
            SessionRef::of_token(&SecretString::from("s2_secret-token-value"))
        );
        assert_ne!(
            reference,
            SessionRef::of_token(&SecretString::from("other"))
        );
    }
}
