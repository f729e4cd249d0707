//! The credential and lockout store conformance suites on the in-memory stores.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_auth::mfa::{MemoryMfaStore, MfaStore};
use soc2_auth::passkey::{MemoryPasskeyStore, PasskeyStore};
use soc2_auth::{CredentialStore, LockoutStore, MemoryCredentialStore, MemoryLockoutStore};
use soc2_testkit::credential::CredentialBackend;
use soc2_testkit::lockout::LockoutBackend;
use soc2_testkit::mfa::MfaBackend;
use soc2_testkit::passkey::PasskeyBackend;

/// One process's memory: every handle is the same store.
#[derive(Default)]
struct Memory {
    credentials: Arc<MemoryCredentialStore>,
    lockouts: Arc<MemoryLockoutStore>,
    mfa: Arc<MemoryMfaStore>,
    passkeys: Arc<MemoryPasskeyStore>,
}

#[async_trait]
impl MfaBackend for Memory {
    async fn open(&self) -> Arc<dyn MfaStore> {
        self.mfa.clone()
    }
}

#[async_trait]
impl PasskeyBackend for Memory {
    async fn open(&self) -> Arc<dyn PasskeyStore> {
        self.passkeys.clone()
    }
}

#[async_trait]
impl CredentialBackend for Memory {
    async fn open(&self) -> Arc<dyn CredentialStore> {
        self.credentials.clone()
    }
}

#[async_trait]
impl LockoutBackend for Memory {
    async fn open(&self) -> Arc<dyn LockoutStore> {
        self.lockouts.clone()
    }
}

soc2_testkit::credential_store_conformance!(Some(Memory::default()));
soc2_testkit::lockout_store_conformance!(Some(Memory::default()));
soc2_testkit::password_auth_conformance!(Some(Memory::default()));
soc2_testkit::mfa_store_conformance!(Some(Memory::default()));
soc2_testkit::passkey_store_conformance!(Some(Memory::default()));
