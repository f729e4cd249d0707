//! Helpers for the crate's unit tests.

use cedar_policy::{AuthorizationError, Decision, Response};

/// What a Cedar response decided: the decision, the determining policies and the policies
/// that failed to evaluate, both sorted.
pub(crate) fn outcome(response: &Response) -> (Decision, Vec<String>, Vec<String>) {
    let mut reasons: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    reasons.sort_unstable();
    let mut errors: Vec<String> = response
        .diagnostics()
        .errors()
        .map(|AuthorizationError::PolicyEvaluationError(e)| e.policy_id().to_string())
        .collect();
    errors.sort_unstable();
    (response.decision(), reasons, errors)
}
