//! The Lua scripts behind [`RedisSessionStore`](crate::RedisSessionStore): each trait method is
//! one script (or one command), which Redis runs atomically.
//!
//! Times travel as the decimal strings Rust wrote; scripts compare them with `tonumber`
//! (exact below 2^53 microseconds) but always write the original strings back, never a Lua
//! number (Redis would format it with 14 significant digits).

use std::sync::LazyLock;

use redis::Script;

/// Inserts a session unless its key exists (`0`), then indexes it (`1`).
///
/// KEYS: session, user's set, expiry index. ARGV: digest, expiry score, key expiry (Unix ms),
/// then the hash's `field, value` pairs.
pub(crate) static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
",
    )
});

/// Moves `seen` and `idle` forward (never back) and re-scores the expiry index; `0` when the
/// session is gone.
///
/// KEYS: session, expiry index. ARGV: digest, seen, idle.
pub(crate) static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local f = redis.call('HMGET', KEYS[1], 'seen', 'idle', 'abs')
local seen, idle, abs = tonumber(f[1]), tonumber(f[2]), tonumber(f[3])
if not (seen and idle and abs) then
  return redis.error_reply('CORRUPT session hash: times missing or not numbers')
end
if tonumber(ARGV[2]) > seen then redis.call('HSET', KEYS[1], 'seen', ARGV[2]) end
local score = f[2]
if tonumber(ARGV[3]) > idle then
  redis.call('HSET', KEYS[1], 'idle', ARGV[3])
  score = ARGV[3]
  idle = tonumber(ARGV[3])
end
if abs < idle then score = f[3] end
redis.call('ZADD', KEYS[2], score, ARGV[1])
return 1
",
    )
});

/// Lua shared by the scripts that delete sessions: `forget(prefix, digest, expiry_key)`
/// deletes the session and its index entries, publishes `session:<digest>` on
/// `<prefix>changes` (in the same script, so atomically with the deletion: see
/// [`follow_changes`](crate::follow_changes)) and returns its hash (empty, and nothing
/// published, when it was gone).
const FORGET: &str = r"
local function forget(prefix, digest, expiry)
  local key = prefix .. 'session:' .. digest
  local h = redis.call('HGETALL', key)
  redis.call('ZREM', expiry, digest)
  if #h == 0 then return h end
  for i = 1, #h, 2 do
    if h[i] == 'user' then
      redis.call('SREM', prefix .. 'user-sessions:' .. h[i + 1], digest)
    end
  end
  redis.call('DEL', key)
  redis.call('PUBLISH', prefix .. 'changes', 'session:' .. digest)
  return h
end
";

/// Replaces the session under the old digest with a new one: `1`, or `0` when the old one is
/// gone, or `-1` when the new digest is taken (nothing changes).
///
/// KEYS: old session, new session, new user's set, expiry index. ARGV: prefix, old digest, new
/// digest, new expiry score, new key expiry (Unix ms), then the new hash's pairs.
pub(crate) static ROTATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{FORGET}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
forget(ARGV[1], ARGV[2], KEYS[4])
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('PEXPIREAT', KEYS[2], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[3])
if redis.call('PEXPIRETIME', KEYS[3]) < tonumber(ARGV[5]) then
  redis.call('PEXPIREAT', KEYS[3], ARGV[5])
end
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
return 1
"
    ))
});

/// Deletes one session, returning its hash (empty when it was gone).
///
/// KEYS: session, expiry index. ARGV: prefix, digest.
pub(crate) static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{FORGET}
return forget(ARGV[1], ARGV[2], KEYS[2])
"
    ))
});

/// The hashes of a user's sessions, dropping set members whose session Redis expired.
///
/// KEYS: user's set. ARGV: prefix.
pub(crate) static LIST_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local h = redis.call('HGETALL', ARGV[1] .. 'session:' .. digest)
  if #h == 0 then redis.call('SREM', KEYS[1], digest) else out[#out + 1] = h end
end
return out
",
    )
});

/// Deletes a user's sessions except one, returning the deleted hashes.
///
/// KEYS: user's set, expiry index. ARGV: prefix, digest to keep (or empty).
pub(crate) static REMOVE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{FORGET}
local out = {{}}
for _, digest in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if digest ~= ARGV[2] then
    local h = forget(ARGV[1], digest, KEYS[2])
    redis.call('SREM', KEYS[1], digest)
    if #h > 0 then out[#out + 1] = h end
  end
end
return out
"
    ))
});

/// Deletes up to `limit` sessions whose expiry score is at or before `now`, returning them.
/// Index entries of sessions Redis already expired are dropped and not counted.
///
/// KEYS: expiry index. ARGV: prefix, now, limit.
pub(crate) static REMOVE_EXPIRED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(&format!(
        r"{FORGET}
local out = {{}}
local limit = tonumber(ARGV[3])
while #out < limit do
  local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, limit - #out)
  if #due == 0 then break end
  for _, digest in ipairs(due) do
    local h = forget(ARGV[1], digest, KEYS[1])
    if #h > 0 then out[#out + 1] = h end
  end
end
return out
"
    ))
});
