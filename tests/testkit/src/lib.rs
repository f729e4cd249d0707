//! Conformance suites every storage backend of soc2-rs must pass, and helpers that give each
//! test its own database.
//!
//! A backend's test file implements the suite's backend trait and invokes the suite's macro,
//! which expands to one `#[tokio::test]` per case:
//!
//! ```text
//! soc2_testkit::audit_store_conformance!(my_backend());
//! ```
//!
//! where `my_backend()` is an `async` expression yielding `Option<impl AuditBackend>` (`None`
//! skips the case, e.g. when no PostgreSQL is configured).

pub mod audit;
pub mod auth;
pub mod credential;
pub mod lockout;
pub mod mfa;
pub mod net;
pub mod passkey;
pub mod postgres;
pub mod rbac;
pub mod redis;
pub mod review;
pub mod session;
pub mod web;

/// A fixed key ring for tests (never use fixed keys outside tests).
#[must_use]
pub fn test_keys(id: &str, byte: u8) -> soc2_core::KeyRing {
    match soc2_core::KeyId::new(id) {
        Ok(id) => soc2_core::KeyRing::single(id, [byte; soc2_core::KEY_LEN]),
        Err(error) => unreachable_key_id(id, &error),
    }
}

#[allow(clippy::panic)]
fn unreachable_key_id(id: &str, error: &soc2_core::KeyRingError) -> ! {
    panic!("test key id `{id}` is invalid: {error}")
}
