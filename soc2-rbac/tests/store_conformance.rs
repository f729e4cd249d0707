//! The `RoleStore` conformance suite on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_rbac::{MemoryRoleStore, RoleStore};
use soc2_testkit::rbac::RoleBackend;

/// One process's memory: every handle is the same store.
#[derive(Default)]
struct Memory(MemoryRoleStore);

#[async_trait]
impl RoleBackend for Memory {
    async fn open(&self) -> Arc<dyn RoleStore> {
        Arc::new(self.0.clone())
    }
}

soc2_testkit::role_store_conformance!(Some(Memory::default()));
