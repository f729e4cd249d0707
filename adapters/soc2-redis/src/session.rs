//! `SessionStore` and `TokenDenyList` on Redis.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use soc2_core::{StoreError, UserId, unix_micros};
use soc2_session::jwt::TokenDenyList;
use soc2_session::{SessionRecord, SessionStore, TokenDigest};
use time::OffsetDateTime;

use crate::error::store_error;
use crate::keys::Keys;
use crate::session_hash::{digest_hex, expiry_score, fields, pairs, parse};
use crate::session_scripts::{
    INSERT, LIST_USER, REMOVE, REMOVE_EXPIRED, REMOVE_USER, ROTATE, TOUCH,
};

/// How long after its absolute expiry Redis keeps a session key by default: a week, so the
/// sweeper ([`SessionStore::remove_expired`]) still finds, deletes and audits sessions that
/// expired while no instance was sweeping.
pub const DEFAULT_EXPIRY_GRACE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Sessions (by token digest, never the token) and the service-token deny list on Redis,
/// shared by every app instance on the same server and key prefix.
///
/// Each session is a hash under `<prefix>session:<hex digest>` whose Redis expiry is its
/// absolute expiry plus [`with_expiry_grace`](Self::with_expiry_grace); a set per user and a
/// sorted set by expiry index them. Every trait method is one Lua script or one command.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    keys: Keys,
    expiry_grace: Duration,
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.keys.prefix())
            .field("expiry_grace", &self.expiry_grace)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStore {
    /// A store on `conn` under the default key prefix `soc2:`.
    #[must_use]
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            keys: Keys::default(),
            expiry_grace: DEFAULT_EXPIRY_GRACE,
        }
    }

    /// Puts every key under `prefix` (e.g. `"myapp:soc2:"`); instances must agree on it.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.keys = Keys::new(prefix);
        self
    }

    /// How long after its absolute expiry Redis drops a session key by itself (default
    /// [`DEFAULT_EXPIRY_GRACE`]). The sweeper only reports sessions whose key is still there,
    /// so keep this longer than any sweeper outage you want audited.
    #[must_use]
    pub fn with_expiry_grace(mut self, grace: Duration) -> Self {
        self.expiry_grace = grace;
        self
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The Unix time in milliseconds at which Redis drops the key of `record`.
    fn key_expiry_ms(&self, record: &SessionRecord) -> i64 {
        let grace = time::Duration::try_from(self.expiry_grace).unwrap_or(time::Duration::MAX);
        let at = record.absolute_expires_at.saturating_add(grace);
        i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    fn records(hashes: Vec<Vec<String>>) -> Result<Vec<SessionRecord>, StoreError> {
        hashes
            .into_iter()
            .map(|flat| pairs(flat).and_then(parse))
            .collect()
    }

    fn record(flat: Vec<String>) -> Result<Option<SessionRecord>, StoreError> {
        if flat.is_empty() {
            return Ok(None);
        }
        pairs(flat).and_then(parse).map(Some)
    }
}

/// Oldest first, ties by id (so listings are deterministic).
fn oldest_first(records: &mut [SessionRecord]) {
    records.sort_by_key(|record| (record.created_at, record.id));
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let digest = digest_hex(&session.digest);
        let inserted: i64 = INSERT
            .key(self.keys.session(&digest))
            .key(self.keys.user_sessions(session.user_id))
            .key(self.keys.session_expiry())
            .arg(&digest)
            .arg(expiry_score(session))
            .arg(self.key_expiry_ms(session))
            .arg(fields(session))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        if inserted == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict("session token digest exists".into()))
        }
    }

    async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        let map: HashMap<String, String> = redis::cmd("HGETALL")
            .arg(self.keys.session(&digest_hex(digest)))
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        if map.is_empty() {
            return Ok(None);
        }
        parse(map).map(Some)
    }

    async fn touch(
        &self,
        digest: &TokenDigest,
        seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let digest = digest_hex(digest);
        let touched: i64 = TOUCH
            .key(self.keys.session(&digest))
            .key(self.keys.session_expiry())
            .arg(&digest)
            .arg(unix_micros(seen_at).to_string())
            .arg(unix_micros(idle_expires_at).to_string())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        Ok(touched == 1)
    }

    async fn rotate(&self, old: &TokenDigest, new: &SessionRecord) -> Result<bool, StoreError> {
        let (old, digest) = (digest_hex(old), digest_hex(&new.digest));
        let rotated: i64 = ROTATE
            .key(self.keys.session(&old))
            .key(self.keys.session(&digest))
            .key(self.keys.user_sessions(new.user_id))
            .key(self.keys.session_expiry())
            .arg(self.keys.prefix())
            .arg(&old)
            .arg(&digest)
            .arg(expiry_score(new))
            .arg(self.key_expiry_ms(new))
            .arg(fields(new))
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        match rotated {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(StoreError::Conflict("session token digest exists".into())),
        }
    }

    async fn remove(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        let digest = digest_hex(digest);
        let flat: Vec<String> = REMOVE
            .key(self.keys.session(&digest))
            .key(self.keys.session_expiry())
            .arg(self.keys.prefix())
            .arg(&digest)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        Self::record(flat)
    }

    async fn list_user(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        let hashes: Vec<Vec<String>> = LIST_USER
            .key(self.keys.user_sessions(user))
            .arg(self.keys.prefix())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        let mut records = Self::records(hashes)?;
        oldest_first(&mut records);
        Ok(records)
    }

    async fn remove_user(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        let hashes: Vec<Vec<String>> = REMOVE_USER
            .key(self.keys.user_sessions(user))
            .key(self.keys.session_expiry())
            .arg(self.keys.prefix())
            .arg(keep.map(digest_hex).unwrap_or_default())
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        let mut records = Self::records(hashes)?;
        oldest_first(&mut records);
        Ok(records)
    }

    async fn remove_expired(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let hashes: Vec<Vec<String>> = REMOVE_EXPIRED
            .key(self.keys.session_expiry())
            .arg(self.keys.prefix())
            .arg(unix_micros(now).to_string())
            .arg(limit)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        Self::records(hashes)
    }
}

#[async_trait]
impl TokenDenyList for RedisSessionStore {
    async fn deny(&self, jti: &str, until: OffsetDateTime) -> Result<(), StoreError> {
        // GT: an existing denial only ever moves later; a new one is added.
        redis::cmd("ZADD")
            .arg(self.keys.denied_tokens())
            .arg("GT")
            .arg(unix_micros(until).to_string())
            .arg(jti)
            .exec_async(&mut self.conn.clone())
            .await
            .map_err(store_error)
    }

    async fn is_denied(&self, jti: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let until: Option<String> = redis::cmd("ZSCORE")
            .arg(self.keys.denied_tokens())
            .arg(jti)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)?;
        let Some(until) = until else {
            return Ok(false);
        };
        let until: i64 = until.parse().map_err(|_| {
            StoreError::Corrupt("denied token: expiry is not whole microseconds".into())
        })?;
        Ok(until > unix_micros(now))
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        redis::cmd("ZREMRANGEBYSCORE")
            .arg(self.keys.denied_tokens())
            .arg("-inf")
            .arg(unix_micros(now).to_string())
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)
    }
}
