//! Sessions and lockouts on Redis (`server.redis_url`): soc2-redis's stores under
//! `server.redis_prefix`, shared by every instance (and `soc2ctl`) on that Redis.

use soc2_core::{ChangeFollower, StoreError};
use soc2_redis::redis::Client;
use soc2_redis::{FollowConfig, RedisLockoutStore, RedisSessionStore};

use crate::{Config, StartError};

/// The Redis stores of a configuration with `server.redis_url`: what the server puts its
/// sessions and lockouts (account and per-IP) on, and what `soc2ctl` must act on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisStores {
    /// Sessions, under `server.redis_prefix`.
    pub sessions: RedisSessionStore,
    /// Lockout counters and per-IP windows, under `server.redis_prefix`.
    pub lockouts: RedisLockoutStore,
    client: Client,
    prefix: String,
    url_for_logs: String,
}

impl RedisStores {
    /// Connects to `server.redis_url` (`REDIS_URL` when [`Config::with_env`] applied it);
    /// `None` when the configuration names no Redis.
    ///
    /// # Errors
    /// [`StartError::RedisUrl`] when the URL does not parse, [`StartError::Redis`] when the
    /// server cannot be reached (both without the URL's password).
    pub async fn open(config: &Config) -> Result<Option<Self>, StartError> {
        let Some(url) = config.server.redis_url.as_deref() else {
            return Ok(None);
        };
        let url_for_logs = config.redis_url_for_logs().unwrap_or_default();
        let client = Client::open(url).map_err(|error| StartError::RedisUrl {
            url: url_for_logs.clone(),
            reason: error.to_string(),
        })?;
        let conn = soc2_redis::connect(url)
            .await
            .map_err(|source| StartError::Redis {
                url: url_for_logs.clone(),
                source,
            })?;
        let prefix = config.server.redis_prefix.clone();
        Ok(Some(Self {
            sessions: RedisSessionStore::new(conn.clone()).with_prefix(prefix.clone()),
            lockouts: RedisLockoutStore::new(conn).with_prefix(prefix.clone()),
            client,
            prefix,
            url_for_logs,
        }))
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The URL without its password (for logs and messages).
    #[must_use]
    pub fn url_for_logs(&self) -> &str {
        &self.url_for_logs
    }

    /// Starts following the sessions' change channel (`<prefix>changes`): what the session
    /// cache follows when sessions are on Redis.
    pub(crate) async fn follow(&self) -> Result<ChangeFollower, StartError> {
        soc2_redis::follow_changes(
            self.client.clone(),
            self.prefix.clone(),
            FollowConfig::default(),
        )
        .await
        .map_err(|source: StoreError| StartError::Redis {
            url: self.url_for_logs.clone(),
            source,
        })
    }
}
