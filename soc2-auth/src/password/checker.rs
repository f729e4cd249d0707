//! Checks a candidate password against a policy and reports every reason to refuse it.

use std::sync::Arc;

use super::{
    BreachedCheckError, BreachedPasswordCheck, NormalizedPassword, PasswordInputError,
    PasswordPolicy, PasswordRejected, UserContext, Violation, ViolationCode, blocklist,
    composition, normalize_password, strength,
};

/// Checks new passwords against a [`PasswordPolicy`]. Cheap to clone.
///
/// Input problems (empty, over the byte cap, control characters) are reported alone, before
/// any other work. Otherwise every rule runs and every failure is reported, in this order:
/// length, composition, common-password list, user context, strength, breached corpus.
#[derive(Debug, Clone)]
#[must_use]
pub struct PasswordChecker {
    policy: Arc<PasswordPolicy>,
    breached: Option<Arc<dyn BreachedPasswordCheck>>,
}

/// Why [`PasswordChecker::check`] did not accept a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordCheckError {
    /// The password breaks the policy.
    #[error(transparent)]
    Rejected(#[from] PasswordRejected),
    /// The breached-password check could not run, so the password is refused (fail closed).
    #[error("the breached-password check failed")]
    Breached(#[from] BreachedCheckError),
}

impl PasswordChecker {
    /// A checker for `policy` (which should have passed [`PasswordPolicy::validate`]).
    pub fn new(policy: PasswordPolicy) -> Self {
        Self {
            policy: Arc::new(policy),
            breached: None,
        }
    }

    /// Also looks passwords up in a breached-password corpus, in [`PasswordChecker::check`].
    pub fn with_breached_check(mut self, check: Arc<dyn BreachedPasswordCheck>) -> Self {
        self.breached = Some(check);
        self
    }

    /// The policy enforced.
    pub fn policy(&self) -> &PasswordPolicy {
        &self.policy
    }

    /// Runs every check except the breached-password corpus: input, length, composition,
    /// common passwords, user context and strength. Its cost is bounded whatever the input
    /// (see the module documentation), so it can run on an async worker thread.
    ///
    /// # Errors
    /// [`PasswordRejected`] listing every rule `candidate` breaks.
    pub fn check_offline(
        &self,
        candidate: &str,
        user: &UserContext<'_>,
    ) -> Result<NormalizedPassword, PasswordRejected> {
        let (password, violations) = self.evaluate(candidate, user)?;
        match PasswordRejected::from_violations(violations) {
            Some(rejected) => Err(rejected),
            None => Ok(password),
        }
    }

    /// Runs [`PasswordChecker::check_offline`]'s checks and, when configured, the
    /// breached-password check; returns the password to hash.
    ///
    /// # Errors
    /// [`PasswordCheckError::Rejected`] listing every rule `candidate` breaks;
    /// [`PasswordCheckError::Breached`] when the breached-password check itself failed.
    pub async fn check(
        &self,
        candidate: &str,
        user: &UserContext<'_>,
    ) -> Result<NormalizedPassword, PasswordCheckError> {
        let (password, mut violations) = self.evaluate(candidate, user)?;
        if let Some(check) = &self.breached
            && let Some(count) = check.breach_count(&password).await?
        {
            violations.push(Violation::new(
                ViolationCode::Breached,
                format!(
                    "The password has appeared in data breaches ({count} times) and is tried \
                     early by attackers."
                ),
            ));
        }
        match PasswordRejected::from_violations(violations) {
            Some(rejected) => Err(rejected.into()),
            None => Ok(password),
        }
    }

    /// The normalised password and what it breaks, or the input error alone.
    fn evaluate(
        &self,
        candidate: &str,
        user: &UserContext<'_>,
    ) -> Result<(NormalizedPassword, Vec<Violation>), PasswordRejected> {
        let policy = &*self.policy;
        let password = normalize_password(candidate, policy.max_input_bytes)
            .map_err(|e| PasswordRejected::new(input_violation(e)))?;
        let text = password.as_str();
        let mut violations = Vec::new();
        let mut refuse = |code, message: String| violations.push(Violation::new(code, message));

        let chars = password.chars();
        if chars < policy.min_length {
            refuse(
                ViolationCode::TooShort,
                format!(
                    "The password must be at least {} characters long.",
                    policy.min_length
                ),
            );
        }
        if chars > policy.max_length {
            refuse(
                ViolationCode::TooLong,
                format!(
                    "The password must be at most {} characters long.",
                    policy.max_length
                ),
            );
        }
        if let Some(message) = composition::missing(text, &policy.composition, policy.min_classes) {
            refuse(ViolationCode::Composition, message);
        }
        if policy.blocklist && blocklist::is_common(text) {
            refuse(
                ViolationCode::Common,
                "The password is one of the most commonly used passwords.".to_owned(),
            );
        }
        let tokens = user.tokens();
        if tokens.found_in(text) {
            refuse(
                ViolationCode::ContainsUserContext,
                "The password must not contain your username, email address or name, or the \
                 name of this application."
                    .to_owned(),
            );
        }
        if policy.min_score > 0 {
            let score = strength::score(text, &tokens.inputs);
            if score < policy.min_score {
                refuse(
                    ViolationCode::TooWeak,
                    format!(
                        "The password is too easy to guess (strength {score} of 4, at least {} \
                         required): make it longer or less predictable.",
                        policy.min_score
                    ),
                );
            }
        }
        Ok((password, violations))
    }
}

fn input_violation(error: PasswordInputError) -> Violation {
    let message = match error {
        PasswordInputError::Empty => "Enter a password.".to_owned(),
        PasswordInputError::TooLong { max_bytes } => {
            format!("The password must be at most {max_bytes} bytes long.")
        }
        PasswordInputError::InvalidCharacter => {
            "The password must not contain control characters such as tabs or line breaks."
                .to_owned()
        }
    };
    Violation::new(error.code(), message)
}
