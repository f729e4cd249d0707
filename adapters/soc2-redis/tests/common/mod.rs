//! A Redis backend for the conformance suites: each test under its own key prefix.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use soc2_auth::LockoutStore;
use soc2_redis::{ConnectionManager, RedisLockoutStore, RedisSessionStore};
use soc2_session::SessionStore;
use soc2_session::jwt::TokenDenyList;
use soc2_testkit::lockout::LockoutBackend;
use soc2_testkit::redis::TestPrefix;
use soc2_testkit::session::SessionBackend;

/// The suites' fixed times lie in the past of the wall clock Redis expires keys by: keep their
/// keys for a century (the TTL itself has a test of its own).
pub const SUITE_GRACE: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A test's prefix on the test server.
pub struct RedisBackend {
    pub test: TestPrefix,
}

impl RedisBackend {
    /// `None` (skip) when no server is configured.
    pub fn new(test: &str) -> Option<Self> {
        TestPrefix::create(test).map(|test| Self { test })
    }

    /// A new connection (each call a separate one, like a separate app instance).
    pub async fn connect(&self) -> ConnectionManager {
        match soc2_redis::connect(self.test.url()).await {
            Ok(conn) => conn,
            Err(error) => panic!("cannot connect to {}: {error:?}", self.test.url()),
        }
    }

    pub async fn sessions(&self) -> RedisSessionStore {
        RedisSessionStore::new(self.connect().await)
            .with_prefix(self.test.prefix())
            .with_expiry_grace(SUITE_GRACE)
    }

    pub async fn lockouts(&self) -> RedisLockoutStore {
        RedisLockoutStore::new(self.connect().await).with_prefix(self.test.prefix())
    }

    /// Every key under the test's prefix, sorted.
    pub async fn keys(&self) -> Vec<String> {
        self.test.keys().await
    }

    /// Deletes every key under the test's prefix.
    pub async fn delete_all(&self) {
        self.test.delete_all().await;
    }
}

#[async_trait]
impl SessionBackend for RedisBackend {
    async fn open(&self) -> Arc<dyn SessionStore> {
        Arc::new(self.sessions().await)
    }

    async fn open_deny_list(&self) -> Arc<dyn TokenDenyList> {
        Arc::new(self.sessions().await)
    }

    async fn cleanup(&self) {
        self.delete_all().await;
    }
}

#[async_trait]
impl LockoutBackend for RedisBackend {
    async fn open(&self) -> Arc<dyn LockoutStore> {
        Arc::new(self.lockouts().await)
    }

    async fn cleanup(&self) {
        self.delete_all().await;
    }
}
