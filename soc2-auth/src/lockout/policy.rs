//! How many failures lock an account, for how long, and how fast one IP may fail.

use std::time::Duration;

use soc2_core::Preset;

/// Account lockout and per-IP throttling settings. Build with [`LockoutPolicy::from_preset`],
/// override with the `with_*` methods or [`LockoutPolicy::from_toml`]; contradictory settings
/// are refused by [`LockoutPolicy::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct LockoutPolicy {
    pub(crate) threshold: u32,
    pub(crate) window: Duration,
    pub(crate) duration: Duration,
    pub(crate) backoff: u32,
    pub(crate) max_duration: Duration,
    pub(crate) until_admin: bool,
    pub(crate) ip_threshold: u32,
    pub(crate) ip_window: Duration,
    pub(crate) reveal_lock: bool,
}

/// The most failed attempts per hour an attacker may sustain against one account without
/// ever tripping the lock: SP 800-63B-4 §3.2.2 and OWASP ASVS 4.0.3 V2.2.1 both cap online
/// guessing at 100 failures per account.
pub const MAX_SUSTAINED_FAILURES_PER_HOUR: u64 = 100;

/// A lockout policy that cannot work, or would silently not protect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockoutPolicyError {
    /// A threshold of zero would lock every account before its first attempt.
    #[error("`threshold` must be at least 1")]
    ZeroThreshold,
    /// A duration that must be positive is zero.
    #[error("`{0}` must be longer than zero")]
    Zero(&'static str),
    /// A backoff multiplier of zero would end repeated lockouts at once.
    #[error("`backoff` must be at least 1 (1 keeps every lockout equally long)")]
    ZeroBackoff,
    /// The maximum lockout is shorter than the first one.
    #[error("`max_duration` ({max:?}) is shorter than `duration` ({duration:?})")]
    MaxBelowDuration {
        /// The first lockout's length.
        duration: Duration,
        /// The cap.
        max: Duration,
    },
    /// The window is so short that an attacker can stay under the threshold forever at more
    /// than [`MAX_SUSTAINED_FAILURES_PER_HOUR`].
    #[error(
        "a window of {window:?} with threshold {threshold} lets an attacker make {per_hour} guesses an hour without ever being locked (at most {MAX_SUSTAINED_FAILURES_PER_HOUR})"
    )]
    WindowTooShort {
        /// The threshold.
        threshold: u32,
        /// The observation window.
        window: Duration,
        /// The sustainable guesses an hour it allows.
        per_hour: u64,
    },
    /// The TOML does not parse, or names an unknown key.
    #[error("lockout policy configuration: {0}")]
    Config(String),
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl LockoutPolicy {
    /// The values of `preset`. Every preset backs off (each consecutive lockout lasts
    /// `backoff` times longer, up to `max_duration`) instead of locking until an administrator
    /// acts, because a hard lock lets anyone who knows a username deny that user service
    /// (keycloak#26172); `until_admin` is an opt-in.
    ///
    /// | preset | threshold / window | first lock, backoff, cap | per IP |
    /// |---|---|---|---|
    /// | `Nist80063bAal2` | 100 / 24 h (SP 800-63B-4 §3.2.2: at most 100 consecutive failures) | 30 min, ×2, 24 h | 100 / 15 min |
    /// | `AsvsL2` | 10 / 1 h (ASVS 4.0.3 V2.2.1: at most 100 failures an hour) | 15 min, ×2, 24 h | 100 / 15 min |
    /// | `Pci4` | 10 / 30 min (PCI DSS v4.0 8.3.4: lock after at most 10) | 30 min (8.3.4: at least 30 min), ×2, 24 h | 100 / 15 min |
    /// | `Soc2Strict` | 5 / 15 min | 30 min (PCI DSS v4.0 8.3.4), ×2, 24 h | 50 / 15 min |
    ///
    /// Per-IP throttling follows ASVS 4.0.3 V2.2.1 (IP-based anti-automation); the numbers
    /// are soc2-rs's, sized so an office behind one NAT address is not throttled by a few
    /// forgotten passwords. A locked account answers like a wrong password
    /// (`reveal_lock = false`), so lock state does not reveal that an account exists.
    pub fn from_preset(preset: Preset) -> Self {
        let (threshold, window, duration, ip_threshold) = match preset {
            Preset::Nist80063bAal2 => (100, 24 * HOUR, 30 * MINUTE, 100),
            Preset::AsvsL2 => (10, HOUR, 15 * MINUTE, 100),
            Preset::Pci4 => (10, 30 * MINUTE, 30 * MINUTE, 100),
            _ => (5, 15 * MINUTE, 30 * MINUTE, 50),
        };
        Self {
            threshold,
            window,
            duration,
            backoff: 2,
            max_duration: 24 * HOUR,
            until_admin: false,
            ip_threshold,
            ip_window: 15 * MINUTE,
            reveal_lock: false,
        }
    }

    /// Reads a policy from TOML: a `preset` and optional overrides, then validates it.
    ///
    /// ```toml
    /// preset = "soc2-strict"
    /// threshold = 5            # failures within `window` that lock the account
    /// window = "15m"
    /// duration = "30m"         # the first lockout
    /// backoff = 2              # each consecutive lockout lasts this many times longer ...
    /// max_duration = "24h"     # ... up to this
    /// until_admin = false      # true: stay locked until an administrator unlocks
    /// ip_threshold = 50        # failures from one IP within `ip_window`; 0 disables
    /// ip_window = "15m"
    /// reveal_lock = false      # true: tell the user the account is locked
    /// ```
    ///
    /// # Errors
    /// [`LockoutPolicyError::Config`] for malformed TOML, unknown keys or bad durations, and
    /// any error of [`LockoutPolicy::validate`].
    pub fn from_toml(text: &str) -> Result<Self, LockoutPolicyError> {
        let file: file::PolicyFile =
            toml::from_str(text).map_err(|e| LockoutPolicyError::Config(e.message().to_owned()))?;
        file.apply().validate()
    }

    /// Failures within the window that lock the account.
    pub fn with_threshold(mut self, threshold: u32) -> Self {
        self.threshold = threshold;
        self
    }

    /// How long failures are remembered.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The first lockout's length, the multiplier for each consecutive one, and the cap.
    pub fn with_duration(mut self, duration: Duration, backoff: u32, max: Duration) -> Self {
        self.duration = duration;
        self.backoff = backoff;
        self.max_duration = max;
        self
    }

    /// Keeps a locked account locked until an administrator unlocks it.
    ///
    /// # Warning
    /// Anyone who knows a username can then lock its owner out indefinitely.
    pub fn with_lock_until_admin(mut self, until_admin: bool) -> Self {
        self.until_admin = until_admin;
        self
    }

    /// Failures from one client IP within `window` after which its logins are throttled;
    /// `threshold` 0 disables IP throttling.
    pub fn with_ip_throttle(mut self, threshold: u32, window: Duration) -> Self {
        self.ip_threshold = threshold;
        self.ip_window = window;
        self
    }

    /// Lets the caller learn that an account is locked (instead of "invalid credentials").
    ///
    /// # Warning
    /// This reveals which usernames exist to anyone willing to lock them.
    pub fn with_reveal_lock(mut self, reveal: bool) -> Self {
        self.reveal_lock = reveal;
        self
    }

    /// Failures within the window that lock the account.
    #[must_use]
    pub fn threshold(&self) -> u32 {
        self.threshold
    }

    /// How long failures are remembered.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The first lockout's length.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Failures from one IP that throttle it (0: IP throttling off).
    #[must_use]
    pub fn ip_threshold(&self) -> u32 {
        self.ip_threshold
    }

    /// The per-IP sliding window.
    #[must_use]
    pub fn ip_window(&self) -> Duration {
        self.ip_window
    }

    /// Whether the caller may be told that an account is locked.
    #[must_use]
    pub fn reveals_lock(&self) -> bool {
        self.reveal_lock
    }

    /// How long the `lockouts`-th consecutive lockout lasts (1-based); `None` when it lasts
    /// until an administrator unlocks.
    #[must_use]
    pub fn lock_length(&self, lockouts: u32) -> Option<Duration> {
        if self.until_admin {
            return None;
        }
        let factor = self.backoff.saturating_pow(lockouts.saturating_sub(1));
        Some(self.duration.saturating_mul(factor).min(self.max_duration))
    }

    /// Checks that the settings can work and actually protect.
    ///
    /// # Errors
    /// The first [`LockoutPolicyError`] found.
    pub fn validate(self) -> Result<Self, LockoutPolicyError> {
        if self.threshold == 0 {
            return Err(LockoutPolicyError::ZeroThreshold);
        }
        if self.window.is_zero() {
            return Err(LockoutPolicyError::Zero("window"));
        }
        if !self.until_admin && self.duration.is_zero() {
            return Err(LockoutPolicyError::Zero("duration"));
        }
        if self.backoff == 0 {
            return Err(LockoutPolicyError::ZeroBackoff);
        }
        if self.max_duration < self.duration {
            return Err(LockoutPolicyError::MaxBelowDuration {
                duration: self.duration,
                max: self.max_duration,
            });
        }
        if self.ip_threshold > 0 && self.ip_window.is_zero() {
            return Err(LockoutPolicyError::Zero("ip_window"));
        }
        let per_hour = sustained_per_hour(self.threshold, self.window);
        if per_hour > MAX_SUSTAINED_FAILURES_PER_HOUR {
            return Err(LockoutPolicyError::WindowTooShort {
                threshold: self.threshold,
                window: self.window,
                per_hour,
            });
        }
        Ok(self)
    }
}

/// Guesses an hour that stay below `threshold` failures in every `window`.
fn sustained_per_hour(threshold: u32, window: Duration) -> u64 {
    let below = u128::from(threshold.saturating_sub(1));
    let per_hour = below * HOUR.as_millis() / window.as_millis().max(1);
    u64::try_from(per_hour).unwrap_or(u64::MAX)
}

mod file {
    use std::time::Duration;

    use soc2_core::Preset;

    use super::LockoutPolicy;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct PolicyFile {
        preset: Preset,
        threshold: Option<u32>,
        #[serde(default, deserialize_with = "soc2_core::duration::optional")]
        window: Option<Duration>,
        #[serde(default, deserialize_with = "soc2_core::duration::optional")]
        duration: Option<Duration>,
        backoff: Option<u32>,
        #[serde(default, deserialize_with = "soc2_core::duration::optional")]
        max_duration: Option<Duration>,
        until_admin: Option<bool>,
        ip_threshold: Option<u32>,
        #[serde(default, deserialize_with = "soc2_core::duration::optional")]
        ip_window: Option<Duration>,
        reveal_lock: Option<bool>,
    }

    impl PolicyFile {
        pub(super) fn apply(self) -> LockoutPolicy {
            let base = LockoutPolicy::from_preset(self.preset);
            LockoutPolicy {
                threshold: self.threshold.unwrap_or(base.threshold),
                window: self.window.unwrap_or(base.window),
                duration: self.duration.unwrap_or(base.duration),
                backoff: self.backoff.unwrap_or(base.backoff),
                max_duration: self.max_duration.unwrap_or(base.max_duration),
                until_admin: self.until_admin.unwrap_or(base.until_admin),
                ip_threshold: self.ip_threshold.unwrap_or(base.ip_threshold),
                ip_window: self.ip_window.unwrap_or(base.ip_window),
                reveal_lock: self.reveal_lock.unwrap_or(base.reveal_lock),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_documented_values() {
        let strict = LockoutPolicy::from_preset(Preset::Soc2Strict);
        assert_eq!(
            (strict.threshold, strict.window, strict.duration),
            (5, 15 * MINUTE, 30 * MINUTE)
        );
        assert_eq!((strict.ip_threshold, strict.ip_window), (50, 15 * MINUTE));
        let pci = LockoutPolicy::from_preset(Preset::Pci4);
        assert_eq!((pci.threshold, pci.duration), (10, 30 * MINUTE));
        assert_eq!(
            LockoutPolicy::from_preset(Preset::Nist80063bAal2).threshold,
            100
        );
        for preset in [
            Preset::Nist80063bAal2,
            Preset::AsvsL2,
            Preset::Pci4,
            Preset::Soc2Strict,
        ] {
            let policy = LockoutPolicy::from_preset(preset);
            assert!(!policy.until_admin && !policy.reveal_lock);
            assert_eq!(policy.clone().validate(), Ok(policy));
        }
    }

    #[test]
    fn backoff_grows_to_the_cap() {
        let policy = LockoutPolicy::from_preset(Preset::Soc2Strict);
        let lengths: Vec<_> = (1..=8).map(|n| policy.lock_length(n)).collect();
        assert_eq!(
            lengths,
            [30, 60, 120, 240, 480, 960, 1440, 1440].map(|m| Some(m * MINUTE))
        );
        assert_eq!(policy.lock_length(u32::MAX), Some(24 * HOUR));
        assert_eq!(policy.with_lock_until_admin(true).lock_length(1), None);
    }

    #[test]
    fn contradictory_settings_are_refused() {
        let base = || LockoutPolicy::from_preset(Preset::Soc2Strict);
        assert_eq!(
            base().with_threshold(0).validate(),
            Err(LockoutPolicyError::ZeroThreshold)
        );
        assert_eq!(
            base().with_window(Duration::ZERO).validate(),
            Err(LockoutPolicyError::Zero("window"))
        );
        assert_eq!(
            base().with_duration(Duration::ZERO, 2, HOUR).validate(),
            Err(LockoutPolicyError::Zero("duration"))
        );
        assert_eq!(
            base().with_duration(MINUTE, 0, HOUR).validate(),
            Err(LockoutPolicyError::ZeroBackoff)
        );
        assert_eq!(
            base().with_duration(HOUR, 2, MINUTE).validate(),
            Err(LockoutPolicyError::MaxBelowDuration {
                duration: HOUR,
                max: MINUTE
            })
        );
        assert_eq!(
            base().with_ip_throttle(10, Duration::ZERO).validate(),
            Err(LockoutPolicyError::Zero("ip_window"))
        );
        assert_eq!(
            base().with_window(Duration::from_secs(1)).validate(),
            Err(LockoutPolicyError::WindowTooShort {
                threshold: 5,
                window: Duration::from_secs(1),
                per_hour: 14_400
            })
        );
        assert!(
            base()
                .with_ip_throttle(0, Duration::ZERO)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn toml_overrides_a_preset_and_refuses_unknown_keys() {
        let policy = LockoutPolicy::from_toml(
            "preset = \"pci4\"\nthreshold = 6\nduration = \"45m\"\nip_threshold = 0\n",
        )
        .unwrap();
        assert_eq!(
            (policy.threshold, policy.duration, policy.ip_threshold),
            (6, 45 * MINUTE, 0)
        );
        assert_eq!(policy.window, 30 * MINUTE);
        assert!(matches!(
            LockoutPolicy::from_toml("preset = \"pci4\"\nthreshhold = 6\n"),
            Err(LockoutPolicyError::Config(message)) if message.contains("threshhold")
        ));
        assert!(matches!(
            LockoutPolicy::from_toml("preset = \"pci4\"\nwindow = \"soon\"\n"),
            Err(LockoutPolicyError::Config(_))
        ));
        assert_eq!(
            LockoutPolicy::from_toml("preset = \"pci4\"\nthreshold = 0\n"),
            Err(LockoutPolicyError::ZeroThreshold)
        );
    }
}
