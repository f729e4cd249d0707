//! The session store conformance suite on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_session::jwt::TokenDenyList;
use soc2_session::{MemorySessionStore, SessionStore};
use soc2_testkit::session::SessionBackend;

/// One shared map; every `open` is another handle on it.
#[derive(Default)]
struct Memory(MemorySessionStore);

#[async_trait]
impl SessionBackend for Memory {
    async fn open(&self) -> Arc<dyn SessionStore> {
        Arc::new(self.0.clone())
    }

    async fn open_deny_list(&self) -> Arc<dyn TokenDenyList> {
        Arc::new(self.0.clone())
    }
}

soc2_testkit::session_store_conformance!(Some(Memory::default()));
