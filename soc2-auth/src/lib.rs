#![doc = include_str!("../README.md")]

mod audit;
mod credential;
mod hash;
mod lockout;
pub mod login;
pub mod mfa;
pub mod passkey;
pub mod password;
mod seal;
mod service;
mod username;

pub use credential::{CredentialFlags, CredentialRecord, CredentialStore, MemoryCredentialStore};
pub use hash::{
    HashError, HashParams, MAX_PEPPER_ID_BYTES, PasswordHasher, StoredHash, Verification,
};
pub use lockout::{
    ATTEMPT_TIMEOUT, AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState,
    LockStarted, LockoutKey, LockoutPolicy, LockoutPolicyError, LockoutStore,
    MAX_SUSTAINED_FAILURES_PER_HOUR, MemoryLockoutStore,
};
pub use seal::{SealError, Sealer};
pub use service::{
    AuthError, ChangeReason, DenyReason, LoginDenied, PasswordAuth, PasswordCheck, PublicDenial,
    VerifiedPassword,
};
pub use username::{MAX_USERNAME_BYTES, Username, UsernameError};
