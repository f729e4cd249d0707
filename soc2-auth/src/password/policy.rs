//! What a password must be, how long it lasts and how many are remembered.

use std::time::Duration;

use soc2_core::Preset;

use super::{CharClass, MAX_PASSWORD_BYTES};

/// NIST SP 800-63B-4 §3.1.1.2: verifiers SHOULD permit passwords of at least 64 characters.
const MIN_MAX_LENGTH: usize = 64;
/// The largest input cap a policy may set: enough for 4,096 code points of any script, small
/// enough that normalising and hashing the largest input stays cheap.
pub const MAX_INPUT_BYTES_LIMIT: usize = 16 * 1024;
/// The deepest password history a policy may keep. Every remembered password costs one hash
/// verification per password change; 24 is the deepest history Windows can enforce.
pub const MAX_HISTORY_DEPTH: usize = 24;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Rules for choosing a password, and its lifetime. Build with [`PasswordPolicy::from_preset`]
/// or [`PasswordPolicy::from_toml`], adjust with the `with_*` methods, and call
/// [`PasswordPolicy::validate`] to refuse combinations that cannot work.
///
/// [`PasswordChecker`](super::PasswordChecker) enforces the length, strength, blocklist and
/// composition rules; the history and age settings are enforced where passwords are changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PasswordPolicy {
    pub(crate) min_length: usize,
    pub(crate) max_length: usize,
    pub(crate) max_input_bytes: usize,
    pub(crate) min_score: u8,
    pub(crate) blocklist: bool,
    pub(crate) composition: Vec<CharClass>,
    pub(crate) min_classes: u8,
    pub(crate) history_depth: usize,
    pub(crate) min_age: Option<Duration>,
    pub(crate) max_age: Option<Duration>,
}

/// A password policy that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordPolicyError {
    /// A minimum length of zero would accept one-character passwords.
    #[error("`min_length` must be at least 1")]
    ZeroMinLength,
    /// The maximum length is below the 64 characters NIST SP 800-63B-4 §3.1.1.2 asks verifiers
    /// to permit.
    #[error("`max_length` ({max_length}) must be at least 64")]
    MaxLengthBelow64 {
        /// The maximum length.
        max_length: usize,
    },
    /// No password could be both long enough and short enough.
    #[error("`min_length` ({min_length}) exceeds `max_length` ({max_length})")]
    MinAboveMax {
        /// The minimum length.
        min_length: usize,
        /// The maximum length.
        max_length: usize,
    },
    /// The input cap would refuse passwords the maximum length allows: a code point takes up
    /// to 4 bytes of UTF-8.
    #[error(
        "`max_input_bytes` ({max_input_bytes}) must be at least 4 × `max_length` ({max_length})"
    )]
    InputCapBelowMaxLength {
        /// The input cap.
        max_input_bytes: usize,
        /// The maximum length.
        max_length: usize,
    },
    /// The input cap exceeds [`MAX_INPUT_BYTES_LIMIT`].
    #[error("`max_input_bytes` ({0}) exceeds the limit of {MAX_INPUT_BYTES_LIMIT}")]
    InputCapTooLarge(usize),
    /// zxcvbn scores run from 0 to 4.
    #[error("`min_score` ({0}) must be between 0 and 4")]
    ScoreOutOfRange(u8),
    /// There are four character classes to count.
    #[error("`min_classes` ({0}) must be between 0 and 4")]
    ClassesOutOfRange(u8),
    /// The history is deeper than [`MAX_HISTORY_DEPTH`].
    #[error("`history_depth` ({0}) exceeds the limit of {MAX_HISTORY_DEPTH}")]
    HistoryTooDeep(usize),
    /// An age limit of zero; turn the limit off instead.
    #[error("`{0}` must be longer than zero; use \"none\" to turn it off")]
    ZeroAge(&'static str),
    /// The password would expire before it may be changed.
    #[error("`min_age` ({min_age:?}) must be shorter than `max_age` ({max_age:?})")]
    MinAgeNotBelowMaxAge {
        /// The minimum age.
        min_age: Duration,
        /// The maximum age.
        max_age: Duration,
    },
    /// The TOML configuration does not parse (unknown keys are refused, so a typo cannot
    /// silently leave a default in force).
    #[error("password policy configuration: {0}")]
    Config(String),
}

/// The TOML form of a password policy: a preset and any overrides.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    preset: Preset,
    min_length: Option<usize>,
    max_length: Option<usize>,
    max_input_bytes: Option<usize>,
    min_score: Option<u8>,
    blocklist: Option<bool>,
    composition: Option<Vec<CharClass>>,
    min_classes: Option<u8>,
    history_depth: Option<usize>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional_or_none")]
    min_age: Option<Option<Duration>>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional_or_none")]
    max_age: Option<Option<Duration>>,
}

impl PasswordPolicy {
    /// The values of `preset`:
    ///
    /// | | `Nist80063bAal2` | `AsvsL2` | `Pci4` | `Soc2Strict` |
    /// |---|---|---|---|---|
    /// | min length | 8 (SP 800-63B-4 §3.1.1.2, password used with a second factor) | 12 (ASVS 4.0.3 V2.1.1) | 12 (PCI DSS v4.0 8.3.6) | 15 (SP 800-63B-4 §3.1.1.2, single-factor) |
    /// | max length | 64 (SP 800-63B-4 §3.1.1.2, "at least 64") | 128 (ASVS 4.0.3 V2.1.2) | 128 (ASVS 4.0.3 V2.1.2) | 128 (ASVS 4.0.3 V2.1.2) |
    /// | input cap | 1 KiB | 1 KiB | 1 KiB | 1 KiB |
    /// | min zxcvbn score | 2 (soc2-rs) | 3 (ASVS 4.0.3 V2.1.8) | 2 (soc2-rs) | 3 (ASVS 4.0.3 V2.1.8) |
    /// | common-password list | on (SP 800-63B-4 §3.1.1.2) | on (ASVS 4.0.3 V2.1.7) | on (soc2-rs; PCI DSS sets none) | on (SP 800-63B-4 §3.1.1.2) |
    /// | composition | none (SP 800-63B-4 §3.1.1.2) | none (ASVS 4.0.3 V2.1.9) | alphabetic + numeric (PCI DSS v4.0 8.3.6) | none (SP 800-63B-4 §3.1.1.2) |
    /// | history depth | 0 (SP 800-63B-4 sets none) | 0 (ASVS 4.0.3 V2.1.10) | 4 (PCI DSS v4.0 8.3.7) | 4 (PCI DSS v4.0 8.3.7) |
    /// | min age | none | none | 1 day (soc2-rs) | 1 day (soc2-rs) |
    /// | max age | none (SP 800-63B-4 §3.1.1.2) | none (ASVS 4.0.3 V2.1.10) | 90 days (PCI DSS v4.0 8.3.9) | none (SP 800-63B-4 §3.1.1.2) |
    ///
    /// Notes on the choices:
    ///
    /// - **Strength.** SP 800-63B-4 asks for guidance on choosing a strong password but sets no
    ///   score, and PCI DSS sets none. soc2-rs requires score 2 (at least 10⁶ guesses by
    ///   zxcvbn's estimate), far beyond what the rate limiting of SP 800-63B-4 §3.2.2 (at most
    ///   100 consecutive failures) lets an online attacker try; ASVS-based presets require 3
    ///   (10⁸), the level zxcvbn itself calls safe.
    /// - **History and minimum age.** PCI DSS v4.0 8.3.7 forbids reusing any of the last four
    ///   passwords (`history_depth` counts the current one). A history can be defeated by
    ///   changing the password several times in a row until the old one falls out, so
    ///   presets that keep a history also set a minimum age of one day (the rationale of
    ///   Windows' "Minimum password age" policy; cf. devise-security#168).
    /// - **`Soc2Strict`** takes the strictest value that contradicts no source: 15 characters
    ///   because multi-factor authentication is not enforced for every user; score 3; PCI's
    ///   four-password history (ASVS 4.0.3 V2.1.10 discourages history requirements because
    ///   they accompany forced rotation, which this preset does not have, so a history only
    ///   applies to voluntary changes); no composition rules and no expiry, because SP
    ///   800-63B-4 §3.1.1.2 forbids both (they make passwords weaker and more predictable)
    ///   and PCI DSS v4.0 8.3.9 exempts accounts using multi-factor authentication from 90-day
    ///   rotation. SOC 2 names no values of its own; auditors accept NIST's.
    pub fn from_preset(preset: Preset) -> Self {
        let nist = Self {
            min_length: 8,
            max_length: 64,
            max_input_bytes: MAX_PASSWORD_BYTES,
            min_score: 2,
            blocklist: true,
            composition: Vec::new(),
            min_classes: 0,
            history_depth: 0,
            min_age: None,
            max_age: None,
        };
        match preset {
            Preset::Nist80063bAal2 => nist,
            Preset::AsvsL2 => Self {
                min_length: 12,
                max_length: 128,
                min_score: 3,
                ..nist
            },
            Preset::Pci4 => Self {
                min_length: 12,
                max_length: 128,
                composition: vec![CharClass::Alphabetic, CharClass::Numeric],
                history_depth: 4,
                min_age: Some(DAY),
                max_age: Some(90 * DAY),
                ..nist
            },
            _ => Self {
                min_length: 15,
                max_length: 128,
                min_score: 3,
                history_depth: 4,
                min_age: Some(DAY),
                ..nist
            },
        }
    }

    /// Reads a policy from TOML: a `preset` and optional overrides, then validates it.
    ///
    /// ```toml
    /// preset = "soc2-strict"      # nist80063b-aal2 | asvs-l2 | pci4 | soc2-strict
    /// min_length = 14             # code points, after NFKC
    /// max_length = 128
    /// max_input_bytes = 1024      # bytes, before anything else is looked at
    /// min_score = 3               # zxcvbn, 0..=4; 0 turns the estimate off
    /// blocklist = true            # the embedded common-password list
    /// composition = ["alphabetic", "numeric"]  # required classes: lowercase, uppercase,
    ///                                          # alphabetic, numeric, symbol; [] for none
    /// min_classes = 0             # of lowercase, uppercase, numeric, symbol
    /// history_depth = 4           # passwords remembered, the current one included
    /// min_age = "1d"              # or "none"
    /// max_age = "90d"             # or "none"
    /// ```
    ///
    /// # Errors
    /// [`PasswordPolicyError::Config`] for malformed TOML, unknown keys or bad durations, and
    /// any [`PasswordPolicyError`] of [`PasswordPolicy::validate`].
    pub fn from_toml(text: &str) -> Result<Self, PasswordPolicyError> {
        let file: PolicyFile = toml::from_str(text)
            .map_err(|e| PasswordPolicyError::Config(e.message().to_owned()))?;
        let mut policy = Self::from_preset(file.preset);
        policy.min_length = file.min_length.unwrap_or(policy.min_length);
        policy.max_length = file.max_length.unwrap_or(policy.max_length);
        policy.max_input_bytes = file.max_input_bytes.unwrap_or(policy.max_input_bytes);
        policy.min_score = file.min_score.unwrap_or(policy.min_score);
        policy.blocklist = file.blocklist.unwrap_or(policy.blocklist);
        if let Some(classes) = file.composition {
            policy = policy.with_composition(classes);
        }
        policy.min_classes = file.min_classes.unwrap_or(policy.min_classes);
        policy.history_depth = file.history_depth.unwrap_or(policy.history_depth);
        policy.min_age = file.min_age.unwrap_or(policy.min_age);
        policy.max_age = file.max_age.unwrap_or(policy.max_age);
        policy.validate()
    }

    /// Sets the minimum length, in code points after NFKC normalisation.
    pub fn with_min_length(mut self, min_length: usize) -> Self {
        self.min_length = min_length;
        self
    }

    /// Sets the maximum length, in code points after NFKC normalisation.
    pub fn with_max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// Sets the hard cap on submitted input, in bytes before normalisation.
    pub fn with_max_input_bytes(mut self, max_input_bytes: usize) -> Self {
        self.max_input_bytes = max_input_bytes;
        self
    }

    /// Sets the minimum zxcvbn score (0 to 4; 0 skips the estimate).
    pub fn with_min_score(mut self, min_score: u8) -> Self {
        self.min_score = min_score;
        self
    }

    /// Turns the embedded common-password list on or off.
    pub fn with_blocklist(mut self, blocklist: bool) -> Self {
        self.blocklist = blocklist;
        self
    }

    /// Sets the character classes every password must contain (none by default).
    pub fn with_composition(mut self, classes: impl IntoIterator<Item = CharClass>) -> Self {
        let mut classes: Vec<CharClass> = classes.into_iter().collect();
        classes.sort_unstable();
        classes.dedup();
        self.composition = classes;
        self
    }

    /// Sets how many of the four classes (lower case, upper case, numeric, symbol) every
    /// password must span (0 by default).
    pub fn with_min_classes(mut self, min_classes: u8) -> Self {
        self.min_classes = min_classes;
        self
    }

    /// Sets how many passwords are remembered, the current one included (0 for none).
    pub fn with_history_depth(mut self, history_depth: usize) -> Self {
        self.history_depth = history_depth;
        self
    }

    /// Sets how long a password must be kept before it may be changed again.
    pub fn with_min_age(mut self, min_age: Option<Duration>) -> Self {
        self.min_age = min_age;
        self
    }

    /// Sets how long a password lasts before it must be changed.
    pub fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Checks that the policy can work.
    ///
    /// # Errors
    /// A [`PasswordPolicyError`] naming the contradiction.
    pub fn validate(self) -> Result<Self, PasswordPolicyError> {
        if self.min_length == 0 {
            return Err(PasswordPolicyError::ZeroMinLength);
        }
        if self.max_length < MIN_MAX_LENGTH {
            return Err(PasswordPolicyError::MaxLengthBelow64 {
                max_length: self.max_length,
            });
        }
        if self.min_length > self.max_length {
            return Err(PasswordPolicyError::MinAboveMax {
                min_length: self.min_length,
                max_length: self.max_length,
            });
        }
        if self.max_input_bytes > MAX_INPUT_BYTES_LIMIT {
            return Err(PasswordPolicyError::InputCapTooLarge(self.max_input_bytes));
        }
        if self.max_input_bytes / 4 < self.max_length {
            return Err(PasswordPolicyError::InputCapBelowMaxLength {
                max_input_bytes: self.max_input_bytes,
                max_length: self.max_length,
            });
        }
        if self.min_score > 4 {
            return Err(PasswordPolicyError::ScoreOutOfRange(self.min_score));
        }
        if self.min_classes > 4 {
            return Err(PasswordPolicyError::ClassesOutOfRange(self.min_classes));
        }
        if self.history_depth > MAX_HISTORY_DEPTH {
            return Err(PasswordPolicyError::HistoryTooDeep(self.history_depth));
        }
        if self.min_age == Some(Duration::ZERO) {
            return Err(PasswordPolicyError::ZeroAge("min_age"));
        }
        if self.max_age == Some(Duration::ZERO) {
            return Err(PasswordPolicyError::ZeroAge("max_age"));
        }
        if let (Some(min_age), Some(max_age)) = (self.min_age, self.max_age)
            && min_age >= max_age
        {
            return Err(PasswordPolicyError::MinAgeNotBelowMaxAge { min_age, max_age });
        }
        Ok(self)
    }

    /// The minimum length in code points.
    #[must_use]
    pub fn min_length(&self) -> usize {
        self.min_length
    }

    /// The maximum length in code points.
    #[must_use]
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The hard cap on submitted input, in bytes; pass it to
    /// [`normalize_password`](super::normalize_password) at login.
    #[must_use]
    pub fn max_input_bytes(&self) -> usize {
        self.max_input_bytes
    }

    /// The minimum zxcvbn score.
    #[must_use]
    pub fn min_score(&self) -> u8 {
        self.min_score
    }

    /// Whether the embedded common-password list is checked.
    #[must_use]
    pub fn blocklist(&self) -> bool {
        self.blocklist
    }

    /// The character classes every password must contain, sorted.
    #[must_use]
    pub fn composition(&self) -> &[CharClass] {
        &self.composition
    }

    /// How many of the four counted classes every password must span.
    #[must_use]
    pub fn min_classes(&self) -> u8 {
        self.min_classes
    }

    /// How many passwords are remembered, the current one included; a new password must
    /// differ from all of them. 0 keeps no history.
    #[must_use]
    pub fn history_depth(&self) -> usize {
        self.history_depth
    }

    /// How long a password must be kept before the user may change it again.
    #[must_use]
    pub fn min_age(&self) -> Option<Duration> {
        self.min_age
    }

    /// How long a password lasts before it must be changed.
    #[must_use]
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }
}
