//! `ElevationPolicy`: how long elevations may last, how long their reasons may be, and whether
//! break-glass grants are allowed.

use std::time::Duration;

use soc2_audit::MAX_REASON_BYTES;

/// The longest elevation by default: 8 hours, one working shift, so a grant ends with the task
/// it was approved for. NIST SP 800-53 Rev. 5 AC-2(2) has temporary access removed
/// automatically after an organization-defined period, and AC-6 asks for least privilege; the
/// period is the host's to shorten.
pub const DEFAULT_MAX_ELEVATION: Duration = Duration::from_secs(8 * 60 * 60);

/// Limits for just-in-time elevation. [`ElevationPolicy::default`] allows elevations of up to
/// [`DEFAULT_MAX_ELEVATION`], reasons of up to [`MAX_REASON_BYTES`] and no break-glass grants;
/// the `with_*` methods change that and refuse values that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ElevationPolicy {
    max_duration: Duration,
    max_reason_bytes: usize,
    break_glass: Option<Duration>,
}

/// A policy value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElevationPolicyError {
    /// A duration that must be positive is zero.
    #[error("`{0}` must be longer than zero")]
    Zero(&'static str),
    /// The reason limit is zero or longer than an audit event keeps.
    #[error("`max_reason_bytes` must be between 1 and {MAX_REASON_BYTES}")]
    ReasonLimit,
}

impl Default for ElevationPolicy {
    /// Elevations of up to 8 hours ([`DEFAULT_MAX_ELEVATION`], NIST SP 800-53 Rev. 5 AC-2(2));
    /// reasons of up to [`MAX_REASON_BYTES`], the most an audit event keeps whole (OWASP ASVS
    /// 4.0.3 V5.1.4: input checked against a length); no break-glass grants, so every
    /// elevation has a second person's approval (NIST SP 800-53 Rev. 5 AC-3(2), dual
    /// authorization).
    fn default() -> Self {
        Self {
            max_duration: DEFAULT_MAX_ELEVATION,
            max_reason_bytes: MAX_REASON_BYTES,
            break_glass: None,
        }
    }
}

impl ElevationPolicy {
    /// Sets the longest elevation a request may ask for.
    ///
    /// # Errors
    /// [`ElevationPolicyError::Zero`] for a zero duration.
    pub fn with_max_duration(mut self, max: Duration) -> Result<Self, ElevationPolicyError> {
        if max.is_zero() {
            return Err(ElevationPolicyError::Zero("max_duration"));
        }
        self.max_duration = max;
        Ok(self)
    }

    /// Sets the longest reason, in bytes of UTF-8.
    ///
    /// # Errors
    /// [`ElevationPolicyError::ReasonLimit`] outside 1 to [`MAX_REASON_BYTES`].
    pub fn with_max_reason_bytes(mut self, max: usize) -> Result<Self, ElevationPolicyError> {
        if !(1..=MAX_REASON_BYTES).contains(&max) {
            return Err(ElevationPolicyError::ReasonLimit);
        }
        self.max_reason_bytes = max;
        Ok(self)
    }

    /// Allows break-glass grants of up to `max`: a user takes a role at once, without approval,
    /// e.g. to handle an incident when no approver answers.
    ///
    /// # Warning
    /// A break-glass grant bypasses the second person. Every one is audited as
    /// `rbac.elevation.break_glass` with `break_glass: true` and must be reviewed after the
    /// fact; keep `max` short (an hour handles most incidents) and alert on the event.
    ///
    /// # Errors
    /// [`ElevationPolicyError::Zero`] for a zero duration.
    pub fn with_break_glass(mut self, max: Duration) -> Result<Self, ElevationPolicyError> {
        if max.is_zero() {
            return Err(ElevationPolicyError::Zero("break_glass"));
        }
        self.break_glass = Some(max);
        Ok(self)
    }

    /// The longest elevation a request may ask for.
    #[must_use]
    pub fn max_duration(&self) -> Duration {
        self.max_duration
    }

    /// The longest reason, in bytes.
    #[must_use]
    pub fn max_reason_bytes(&self) -> usize {
        self.max_reason_bytes
    }

    /// The longest break-glass grant, or `None` when break-glass grants are refused.
    #[must_use]
    pub fn break_glass(&self) -> Option<Duration> {
        self.break_glass
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_and_refused_values() {
        let policy = ElevationPolicy::default();
        assert_eq!(policy.max_duration(), Duration::from_secs(8 * 3600));
        assert_eq!(policy.max_reason_bytes(), 1024);
        assert_eq!(policy.break_glass(), None);

        let hour = Duration::from_secs(3600);
        let policy = policy
            .with_max_duration(2 * hour)
            .unwrap()
            .with_max_reason_bytes(200)
            .unwrap()
            .with_break_glass(hour)
            .unwrap();
        assert_eq!(
            (
                policy.max_duration(),
                policy.max_reason_bytes(),
                policy.break_glass()
            ),
            (2 * hour, 200, Some(hour))
        );

        let zero = Duration::ZERO;
        assert_eq!(
            policy.clone().with_max_duration(zero),
            Err(ElevationPolicyError::Zero("max_duration"))
        );
        assert_eq!(
            policy.clone().with_break_glass(zero),
            Err(ElevationPolicyError::Zero("break_glass"))
        );
        for bad in [0, MAX_REASON_BYTES + 1] {
            assert_eq!(
                policy.clone().with_max_reason_bytes(bad),
                Err(ElevationPolicyError::ReasonLimit)
            );
        }
    }
}
