//! The review store conformance suite on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_rbac::review::{MemoryReviewStore, ReviewStore};
use soc2_testkit::review::ReviewBackend;

/// One process's memory: every handle is the same store.
#[derive(Default)]
struct Memory(MemoryReviewStore);

#[async_trait]
impl ReviewBackend for Memory {
    async fn open(&self) -> Arc<dyn ReviewStore> {
        Arc::new(self.0.clone())
    }
}

soc2_testkit::review_store_conformance!(Some(Memory::default()));
