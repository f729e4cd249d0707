//! The audit conformance suite on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_audit::{AuditStore, MemoryAuditStore};
use soc2_core::KeyRing;
use soc2_testkit::audit::AuditBackend;
use tokio::sync::OnceCell;

/// One shared in-memory log; every `open` is another handle on it.
#[derive(Default)]
struct Memory(OnceCell<MemoryAuditStore>);

#[async_trait]
impl AuditBackend for Memory {
    async fn open(&self, keys: &KeyRing) -> Arc<dyn AuditStore> {
        let shared = self
            .0
            .get_or_init(|| async { MemoryAuditStore::new(keys) })
            .await;
        // A handle with the caller's keys on the same events, like a restarted instance.
        Arc::new(shared.with_keys(keys))
    }
}

soc2_testkit::audit_store_conformance!(Some(Memory::default()));
