//! The shape of every audit event soc2-auth records: an action about a user, in the context
//! of a request.

use soc2_audit::{Actor, AuditEvent, Outcome, SdkAction, Target};
use soc2_core::{RequestContext, UserId};
use time::OffsetDateTime;

/// An event of `action` by `actor` at `at`, targeting `user` when known.
pub(crate) fn user_event(
    action: SdkAction,
    outcome: Outcome,
    actor: Actor,
    user: Option<UserId>,
    at: OffsetDateTime,
    context: &RequestContext,
) -> AuditEvent {
    let event = AuditEvent::new(action, outcome, actor, at).with_context(context.clone());
    match user {
        Some(user) => event.with_target(Target::new("user", &user.to_string())),
        None => event,
    }
}
