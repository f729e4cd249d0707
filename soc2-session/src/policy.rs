//! How long sessions live and how many a user may hold.

use std::time::Duration;

use soc2_core::Preset;

/// What happens when a user already holds the maximum number of sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnSessionLimit {
    /// Refuse the new login (the user must log out elsewhere first).
    Refuse,
    /// End the least recently used session to make room.
    EvictOldest,
}

/// Session timeouts and limits. Build with [`SessionPolicy::from_preset`] and override with
/// the `with_*` methods; [`SessionPolicy::validate`] refuses combinations that cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SessionPolicy {
    pub(crate) idle_timeout: Duration,
    pub(crate) absolute_lifetime: Duration,
    pub(crate) max_concurrent: Option<(usize, OnSessionLimit)>,
    pub(crate) touch_interval: Duration,
}

/// A policy that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A duration that must be positive is zero.
    #[error("`{0}` must be longer than zero")]
    Zero(&'static str),
    /// The idle timeout is longer than the absolute lifetime, so it never applies.
    #[error(
        "the idle timeout ({idle:?}) exceeds the absolute lifetime ({absolute:?}), so it would never apply"
    )]
    IdleBeyondAbsolute {
        /// The idle timeout.
        idle: Duration,
        /// The absolute lifetime.
        absolute: Duration,
    },
    /// Touches are coalesced over an interval as long as the idle timeout, which would let
    /// active sessions expire.
    #[error("the touch interval ({touch:?}) must be shorter than the idle timeout ({idle:?})")]
    TouchNotBelowIdle {
        /// The touch interval.
        touch: Duration,
        /// The idle timeout.
        idle: Duration,
    },
    /// A concurrent-session limit of zero would refuse every login.
    #[error("a concurrent-session limit must allow at least one session")]
    ZeroLimit,
    /// The TOML configuration does not parse (unknown keys are refused, so a typo cannot
    /// silently leave a default in force).
    #[error("session policy configuration: {0}")]
    Config(String),
}

/// The TOML form of a session policy: a preset and any overrides.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    preset: Preset,
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    idle_timeout: Option<Duration>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    absolute_lifetime: Option<Duration>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    touch_interval: Option<Duration>,
    max_concurrent: Option<usize>,
    on_limit: Option<LimitAction>,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
enum LimitAction {
    Refuse,
    EvictOldest,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl SessionPolicy {
    /// The values of `preset`:
    ///
    /// | preset | idle | absolute | concurrent |
    /// |---|---|---|---|
    /// | `Nist80063bAal2` | 30 min (SP 800-63B §4.2.3) | 12 h (SP 800-63B §4.2.3) | unlimited |
    /// | `AsvsL2` | 30 min (ASVS 4.0.3 V3.3.2, L2) | 12 h (ASVS 4.0.3 V3.3.2) | unlimited |
    /// | `Pci4` | 15 min (PCI DSS v4.0 8.2.8) | 12 h (SP 800-63B §4.2.3) | unlimited |
    /// | `Soc2Strict` | 15 min (PCI DSS v4.0 8.2.8) | 12 h (SP 800-63B §4.2.3) | 3, oldest evicted |
    ///
    /// Every preset coalesces touches over 1 minute, so `last_seen` costs one write a minute
    /// per active session and the idle timeout fires between `idle - 1 min` and `idle` after
    /// the last request (never later).
    pub fn from_preset(preset: Preset) -> Self {
        let (idle, max_concurrent) = match preset {
            Preset::Nist80063bAal2 | Preset::AsvsL2 => (30 * MINUTE, None),
            Preset::Pci4 => (15 * MINUTE, None),
            _ => (15 * MINUTE, Some((3, OnSessionLimit::EvictOldest))),
        };
        Self {
            idle_timeout: idle,
            absolute_lifetime: 12 * HOUR,
            max_concurrent,
            touch_interval: MINUTE,
        }
    }

    /// Reads a policy from TOML: a `preset` and optional overrides, then validates it.
    ///
    /// ```toml
    /// preset = "soc2-strict"          # nist80063b-aal2 | asvs-l2 | pci4 | soc2-strict
    /// idle_timeout = "10m"
    /// absolute_lifetime = "8h"
    /// touch_interval = "30s"
    /// max_concurrent = 5              # with on_limit = "refuse" | "evict-oldest"
    /// on_limit = "refuse"
    /// ```
    ///
    /// # Errors
    /// [`PolicyError::Config`] for malformed TOML, unknown keys or bad durations, and any
    /// [`PolicyError`] of [`SessionPolicy::validate`].
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            toml::from_str(text).map_err(|e| PolicyError::Config(e.message().to_owned()))?;
        let mut policy = Self::from_preset(file.preset);
        if let Some(idle) = file.idle_timeout {
            policy.idle_timeout = idle;
        }
        if let Some(absolute) = file.absolute_lifetime {
            policy.absolute_lifetime = absolute;
        }
        if let Some(touch) = file.touch_interval {
            policy.touch_interval = touch;
        }
        if file.max_concurrent.is_some() || file.on_limit.is_some() {
            let preset_limit = policy.max_concurrent;
            let limit = file.max_concurrent.or(preset_limit.map(|(limit, _)| limit));
            let action = match file.on_limit {
                Some(LimitAction::Refuse) => OnSessionLimit::Refuse,
                Some(LimitAction::EvictOldest) => OnSessionLimit::EvictOldest,
                None => preset_limit.map_or(OnSessionLimit::Refuse, |(_, action)| action),
            };
            policy.max_concurrent = match limit {
                Some(limit) => Some((limit, action)),
                None => {
                    return Err(PolicyError::Config(
                        "`on_limit` needs `max_concurrent`".into(),
                    ));
                }
            };
        }
        policy.validate()
    }

    /// Sets the idle timeout.
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Sets the absolute lifetime.
    pub fn with_absolute_lifetime(mut self, absolute: Duration) -> Self {
        self.absolute_lifetime = absolute;
        self
    }

    /// Limits the sessions a user may hold at once; `None` for no limit.
    pub fn with_max_concurrent(mut self, limit: Option<(usize, OnSessionLimit)>) -> Self {
        self.max_concurrent = limit;
        self
    }

    /// Sets how often `last_seen` is written for an active session (see [`SessionPolicy::from_preset`]).
    pub fn with_touch_interval(mut self, touch: Duration) -> Self {
        self.touch_interval = touch;
        self
    }

    /// Checks that the policy can work.
    ///
    /// # Errors
    /// A [`PolicyError`] naming the contradiction.
    pub fn validate(self) -> Result<Self, PolicyError> {
        if self.idle_timeout.is_zero() {
            return Err(PolicyError::Zero("idle_timeout"));
        }
        if self.absolute_lifetime.is_zero() {
            return Err(PolicyError::Zero("absolute_lifetime"));
        }
        if self.idle_timeout > self.absolute_lifetime {
            return Err(PolicyError::IdleBeyondAbsolute {
                idle: self.idle_timeout,
                absolute: self.absolute_lifetime,
            });
        }
        if self.touch_interval >= self.idle_timeout {
            return Err(PolicyError::TouchNotBelowIdle {
                touch: self.touch_interval,
                idle: self.idle_timeout,
            });
        }
        if matches!(self.max_concurrent, Some((0, _))) {
            return Err(PolicyError::ZeroLimit);
        }
        Ok(self)
    }

    /// The idle timeout.
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The absolute lifetime.
    #[must_use]
    pub fn absolute_lifetime(&self) -> Duration {
        self.absolute_lifetime
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_carry_their_sources_values() {
        let nist = SessionPolicy::from_preset(Preset::Nist80063bAal2);
        assert_eq!(
            (nist.idle_timeout, nist.absolute_lifetime),
            (30 * MINUTE, 12 * HOUR)
        );
        assert_eq!(nist.max_concurrent, None);
        let strict = SessionPolicy::from_preset(Preset::Soc2Strict);
        assert_eq!(strict.idle_timeout, 15 * MINUTE);
        assert_eq!(
            strict.max_concurrent,
            Some((3, OnSessionLimit::EvictOldest))
        );
        for preset in [
            Preset::Nist80063bAal2,
            Preset::AsvsL2,
            Preset::Pci4,
            Preset::Soc2Strict,
        ] {
            assert!(SessionPolicy::from_preset(preset).validate().is_ok());
        }
    }

    #[test]
    fn toml_overrides_a_preset() {
        let policy = SessionPolicy::from_toml(
            "preset = \"nist80063b-aal2\"\nidle_timeout = \"10m\"\nmax_concurrent = 5\non_limit = \"refuse\"\n",
        )
        .unwrap();
        assert_eq!(policy.idle_timeout, 10 * MINUTE);
        assert_eq!(policy.absolute_lifetime, 12 * HOUR);
        assert_eq!(policy.max_concurrent, Some((5, OnSessionLimit::Refuse)));
        let strict = SessionPolicy::from_toml("preset = \"soc2-strict\"").unwrap();
        assert_eq!(strict, SessionPolicy::from_preset(Preset::Soc2Strict));
    }

    #[test]
    fn bad_toml_is_refused_with_a_reason() {
        let cases = [
            ("preset = \"nist\"", "unknown variant"),
            ("preset = \"pci4\"\nidle_timout = \"5m\"", "unknown field"),
            (
                "preset = \"pci4\"\nidle_timeout = \"soon\"",
                "not a duration",
            ),
            (
                "preset = \"pci4\"\non_limit = \"refuse\"",
                "needs `max_concurrent`",
            ),
            ("idle_timeout = \"5m\"", "missing field `preset`"),
        ];
        for (text, reason) in cases {
            match SessionPolicy::from_toml(text) {
                Err(PolicyError::Config(message)) => {
                    assert!(message.contains(reason), "{text}: {message}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            SessionPolicy::from_toml("preset = \"pci4\"\ntouch_interval = \"15m\""),
            Err(PolicyError::TouchNotBelowIdle {
                touch: 15 * MINUTE,
                idle: 15 * MINUTE
            })
        );
    }

    #[test]
    fn contradictions_are_refused_at_start_up() {
        let base = SessionPolicy::from_preset(Preset::Nist80063bAal2);
        assert_eq!(
            base.clone().with_idle_timeout(Duration::ZERO).validate(),
            Err(PolicyError::Zero("idle_timeout"))
        );
        assert_eq!(
            base.clone().with_idle_timeout(13 * HOUR).validate(),
            Err(PolicyError::IdleBeyondAbsolute {
                idle: 13 * HOUR,
                absolute: 12 * HOUR
            })
        );
        assert_eq!(
            base.clone().with_touch_interval(30 * MINUTE).validate(),
            Err(PolicyError::TouchNotBelowIdle {
                touch: 30 * MINUTE,
                idle: 30 * MINUTE
            })
        );
        assert_eq!(
            base.with_max_concurrent(Some((0, OnSessionLimit::Refuse)))
                .validate(),
            Err(PolicyError::ZeroLimit)
        );
    }
}
