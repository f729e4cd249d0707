//! `SessionState`: the session middleware's finding, kept in the request's extensions for
//! the extractors.

use std::time::Duration;

use crate::{Principal, RejectionKind};

/// The request's session, or why it has none. The adapters' session middleware puts it into
/// every request's extensions (next to the [`Principal`] when there is one).
#[derive(Debug, Clone)]
pub struct SessionState(Result<Principal, RejectionKind>);

impl SessionState {
    pub(crate) fn new(outcome: Result<Principal, RejectionKind>) -> Self {
        Self(outcome)
    }

    /// The principal, when the session is valid.
    #[must_use]
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref().ok()
    }
}

/// What `CurrentUser` needs: the principal of the request whose extensions hold `state`.
///
/// # Errors
/// Why there is none (401 kinds, [`RejectionKind::SessionUnavailable`]), or
/// [`RejectionKind::MissingLayer`] when no session middleware left a state.
pub fn current_user(state: Option<&SessionState>) -> Result<Principal, RejectionKind> {
    state.map_or(Err(RejectionKind::MissingLayer), |state| state.0.clone())
}

/// What `FreshAuth<MINUTES>` needs: a principal who authenticated within the last `minutes`
/// (OWASP ASVS 4.0.3 V3.7.1).
///
/// # Errors
/// Those of [`current_user`], and [`RejectionKind::StepUpRequired`] when the authentication
/// is older.
pub fn fresh_auth(state: Option<&SessionState>, minutes: u64) -> Result<Principal, RejectionKind> {
    let principal = current_user(state)?;
    let max_age = Duration::from_secs(minutes.saturating_mul(60));
    principal
        .session()
        .require_fresh(max_age, principal.checked_at())
        .map_err(|_| RejectionKind::StepUpRequired)?;
    Ok(principal)
}
