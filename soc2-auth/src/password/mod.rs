//! Password rules (SOC 2 CC6.1): length, strength, common and breached passwords, optional
//! composition, plus the history and age settings enforced where passwords change.
//!
//! Every password goes through [`normalize_password`] first: a hard byte cap checked before
//! anything else, refusal of control characters, then NFKC normalisation with no case folding
//! and no truncation (NIST SP 800-63B-4 §3.1.1.2). Lengths count code points after
//! normalisation.
//!
//! [`PasswordChecker`] then applies a [`PasswordPolicy`] and lists every
//! [`Violation`] with a stable [`ViolationCode`]. Its cost is bounded for any input: the
//! byte cap bounds normalisation and the blocklist and context checks, and zxcvbn, whose
//! matchers can take seconds on 100 crafted characters, is shown only the prefix whose
//! worst-case work fits a fixed budget. Breached passwords are looked up through
//! [`BreachedPasswordCheck`], for example in a local Have I Been Pwned file with [`HibpFile`].
//!
//! ```
//! use soc2_auth::password::{PasswordChecker, PasswordPolicy, UserContext, ViolationCode};
//! use soc2_core::Preset;
//!
//! let checker = PasswordChecker::new(PasswordPolicy::from_preset(Preset::AsvsL2));
//! let user = UserContext::default().with_username("alice").with_app_name("Acme");
//! let rejected = checker.check_offline("alice2024", &user).unwrap_err();
//! assert!(rejected.has(ViolationCode::TooShort));
//! assert!(rejected.has(ViolationCode::ContainsUserContext));
//! assert!(checker.check_offline("plinth quasar tundra 42", &user).is_ok());
//! ```

mod blocklist;
mod breached;
mod checker;
mod composition;
mod context;
mod hibp;
mod input;
mod policy;
mod strength;
mod violation;

pub use breached::{BreachedCheckError, BreachedPasswordCheck};
pub use checker::{PasswordCheckError, PasswordChecker};
pub use composition::CharClass;
pub use context::UserContext;
pub use hibp::HibpFile;
pub use input::{MAX_PASSWORD_BYTES, NormalizedPassword, PasswordInputError, normalize_password};
pub use policy::{MAX_HISTORY_DEPTH, MAX_INPUT_BYTES_LIMIT, PasswordPolicy, PasswordPolicyError};
pub use violation::{PasswordRejected, Violation, ViolationCode};
