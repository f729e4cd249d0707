//! `LockoutStore` on Redis: optimistic read-modify-write of one hash per counter.
//!
//! Each `apply_*` reads the counter's hash (with its revision `rev`), runs the pure state
//! machine ([`AccountLockState::apply`], [`IpWindowState::apply`]) and writes the result with
//! a compare-and-set script that only succeeds while `rev` is still the one read; a caller
//! that lost the race reads again. So the state a caller acts on is the state it replaces,
//! with any number of app instances. An `apply` that leaves the state as it was (a refusal
//! while locked, a `Busy`) only records the time and keeps `rev`, so it never makes the
//! attempts that do change the counter retry.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use async_trait::async_trait;
use redis::Script;
use redis::aio::ConnectionManager;
use soc2_auth::{
    AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, IpWindowState, LockoutKey,
    LockoutPolicy, LockoutStore,
};
use soc2_core::{StoreError, from_unix_micros, unix_micros};
use time::OffsetDateTime;

use crate::error::{corrupt, store_error};
use crate::keys::Keys;

/// How many times one `apply` re-reads after losing a race before it reports a conflict.
const MAX_ATTEMPTS: u32 = 10_000;
/// How many idle candidates `remove_idle` examines per round trip.
const IDLE_PAGE: usize = 500;

/// Writes a counter's fields if its revision is still the one read: `1`, else `0`.
///
/// KEYS: counter hash, touched index. ARGV: revision read (empty: absent), now (µs), `1` when
/// the state changed (bump `rev`, write the pairs) or `0` (record the time only), then the
/// hash's `field, value` pairs.
static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local rev = redis.call('HGET', KEYS[1], 'rev')
if (rev or '') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' or not rev then
  redis.call('HSET', KEYS[1], 'rev', tostring((tonumber(rev) or 0) + 1), 'at', ARGV[2],
    unpack(ARGV, 4))
else
  redis.call('HSET', KEYS[1], 'at', ARGV[2])
end
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1])
return 1
",
    )
});

/// Deletes a counter last changed before `before` that holds no lock in force then: `1`, else
/// `0`; `2` when the counter was already gone (it leaves the index).
///
/// KEYS: counter hash, touched index. ARGV: before (µs).
static REMOVE_IF_IDLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'at', 'admin_lock', 'locked_until')
if not f[1] then
  redis.call('ZREM', KEYS[2], KEYS[1])
  return 2
end
local at, before = tonumber(f[1]), tonumber(ARGV[1])
if not at then return redis.error_reply('CORRUPT lockout hash: `at` is not a number') end
if at >= before or f[2] == '1' then return 0 end
if f[3] and f[3] ~= '' then
  local lock_end = tonumber(f[3])
  if not lock_end then
    return redis.error_reply('CORRUPT lockout hash: `locked_until` is not a number')
  end
  if lock_end > before then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
return 1
",
    )
});

/// Lockout counters and per-IP windows on Redis, shared by every app instance on the same
/// server and key prefix.
///
/// Accounts live under `<prefix>lockout:<storage key>`, IP windows under
/// `<prefix>ip-window:<ip>`, both hashes without a Redis expiry (an administrator's lock must
/// not vanish); [`LockoutStore::remove_idle`] deletes the idle ones, found through the sorted
/// set `<prefix>lockout-touched`.
#[derive(Clone)]
pub struct RedisLockoutStore {
    conn: ConnectionManager,
    keys: Keys,
}

impl fmt::Debug for RedisLockoutStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLockoutStore")
            .field("prefix", &self.keys.prefix())
            .finish_non_exhaustive()
    }
}

impl RedisLockoutStore {
    /// A store on `conn` under the default key prefix `soc2:`.
    #[must_use]
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            keys: Keys::default(),
        }
    }

    /// Puts every key under `prefix`; instances must agree on it.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.keys = Keys::new(prefix);
        self
    }

    /// The key prefix.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    async fn read(&self, key: &str) -> Result<HashMap<String, String>, StoreError> {
        redis::cmd("HGETALL")
            .arg(key)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(store_error)
    }

    /// One optimistic read-modify-write of the hash under `key`.
    async fn apply<S, O>(
        &self,
        key: &str,
        now: OffsetDateTime,
        decode: impl Fn(&HashMap<String, String>) -> Result<S, StoreError>,
        fresh: impl Fn() -> S,
        mut step: impl FnMut(&mut S) -> O,
        encode: impl Fn(&S) -> Vec<String>,
    ) -> Result<O, StoreError>
    where
        S: Clone + PartialEq,
    {
        let now = unix_micros(now).to_string();
        for _ in 0..MAX_ATTEMPTS {
            let stored = self.read(key).await?;
            let (rev, before) = if stored.is_empty() {
                (String::new(), fresh())
            } else {
                let rev = stored
                    .get("rev")
                    .ok_or_else(|| corrupt("lockout hash", "no revision"))?
                    .clone();
                (rev, decode(&stored)?)
            };
            let mut state = before.clone();
            let outcome = step(&mut state);
            let changed = state != before;
            let written: i64 = COMPARE_AND_SET
                .key(key)
                .key(self.keys.lockout_touched())
                .arg(&rev)
                .arg(&now)
                .arg(if changed { "1" } else { "0" })
                .arg(encode(&state))
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(store_error)?;
            if written == 1 {
                return Ok(outcome);
            }
        }
        Err(StoreError::Conflict(
            "lockout counter changed by others on every attempt".into(),
        ))
    }
}

const ACCOUNT: &str = "lockout hash";
const IP: &str = "ip window hash";

fn micros(at: Option<OffsetDateTime>) -> String {
    at.map(|at| unix_micros(at).to_string()).unwrap_or_default()
}

fn field<'a>(
    map: &'a HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<&'a str, StoreError> {
    map.get(name)
        .map(String::as_str)
        .ok_or_else(|| corrupt(what, &format!("missing field `{name}`")))
}

fn count(map: &HashMap<String, String>, name: &str, what: &str) -> Result<u32, StoreError> {
    field(map, name, what)?
        .parse()
        .map_err(|_| corrupt(what, &format!("`{name}` is not a counter")))
}

fn instant(text: &str, what: &str) -> Result<OffsetDateTime, StoreError> {
    text.parse::<i64>()
        .ok()
        .and_then(from_unix_micros)
        .ok_or_else(|| corrupt(what, "timestamp is not microseconds in range"))
}

fn optional_instant(
    map: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<OffsetDateTime>, StoreError> {
    match field(map, name, what)? {
        "" => Ok(None),
        text => instant(text, what).map(Some),
    }
}

fn encode_account(state: &AccountLockState) -> Vec<String> {
    [
        ("failures", state.failures.to_string()),
        ("window_start", micros(state.window_start)),
        ("pending", state.pending.to_string()),
        ("pending_since", micros(state.pending_since)),
        ("locked_until", micros(state.locked_until)),
        (
            "admin_lock",
            if state.admin_lock { "1" } else { "0" }.to_owned(),
        ),
        ("lockouts", state.lockouts.to_string()),
    ]
    .into_iter()
    .flat_map(|(name, value)| [name.to_owned(), value])
    .collect()
}

fn decode_account(map: &HashMap<String, String>) -> Result<AccountLockState, StoreError> {
    let mut state = AccountLockState::default();
    state.failures = count(map, "failures", ACCOUNT)?;
    state.window_start = optional_instant(map, "window_start", ACCOUNT)?;
    state.pending = count(map, "pending", ACCOUNT)?;
    state.pending_since = optional_instant(map, "pending_since", ACCOUNT)?;
    state.locked_until = optional_instant(map, "locked_until", ACCOUNT)?;
    state.admin_lock = match field(map, "admin_lock", ACCOUNT)? {
        "1" => true,
        "0" => false,
        _ => return Err(corrupt(ACCOUNT, "`admin_lock` is not 0 or 1")),
    };
    state.lockouts = count(map, "lockouts", ACCOUNT)?;
    Ok(state)
}

fn encode_ip(state: &IpWindowState) -> Vec<String> {
    vec![
        "bucket_start".to_owned(),
        unix_micros(state.bucket_start).to_string(),
        "current".to_owned(),
        state.current.to_string(),
        "previous".to_owned(),
        state.previous.to_string(),
    ]
}

fn decode_ip(map: &HashMap<String, String>) -> Result<IpWindowState, StoreError> {
    let mut state = IpWindowState::new(instant(field(map, "bucket_start", IP)?, IP)?);
    state.current = count(map, "current", IP)?;
    state.previous = count(map, "previous", IP)?;
    Ok(state)
}

#[async_trait]
impl LockoutStore for RedisLockoutStore {
    async fn apply_account(
        &self,
        key: &LockoutKey,
        op: AccountOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<AccountOutcome, StoreError> {
        self.apply(
            &self.keys.lockout(&key.storage_key()),
            now,
            decode_account,
            AccountLockState::default,
            |state| state.apply(op, now, policy),
            encode_account,
        )
        .await
    }

    async fn apply_ip(
        &self,
        ip: IpAddr,
        op: IpOp,
        now: OffsetDateTime,
        policy: &LockoutPolicy,
    ) -> Result<IpOutcome, StoreError> {
        self.apply(
            &self.keys.ip_window(&ip.to_string()),
            now,
            decode_ip,
            || IpWindowState::new(now),
            |state| state.apply(op, now, policy),
            encode_ip,
        )
        .await
    }

    async fn account_state(
        &self,
        key: &LockoutKey,
    ) -> Result<Option<AccountLockState>, StoreError> {
        let stored = self.read(&self.keys.lockout(&key.storage_key())).await?;
        if stored.is_empty() {
            return Ok(None);
        }
        decode_account(&stored).map(Some)
    }

    async fn remove_idle(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let before = unix_micros(before).to_string();
        let index = self.keys.lockout_touched();
        let (mut removed, mut kept) = (0_u64, 0_usize);
        loop {
            let candidates: Vec<String> = redis::cmd("ZRANGE")
                .arg(&index)
                .arg("-inf")
                .arg(format!("({before}"))
                .arg("BYSCORE")
                .arg("LIMIT")
                .arg(kept)
                .arg(IDLE_PAGE)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(store_error)?;
            if candidates.is_empty() {
                return Ok(removed);
            }
            for key in candidates {
                let gone: i64 = REMOVE_IF_IDLE
                    .key(&key)
                    .key(&index)
                    .arg(&before)
                    .invoke_async(&mut self.conn.clone())
                    .await
                    .map_err(store_error)?;
                match gone {
                    0 => kept += 1,
                    1 => removed += 1,
                    _ => {}
                }
            }
        }
    }
}
