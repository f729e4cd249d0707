-- Lockout counters, keyed by `LockoutKey::storage_key()` (`account:<uuid>` or
-- `name:<normalised name>`). The column defaults are `AccountLockState::default()`, so a row
-- created with only its key and `updated_at_us` holds a fresh state. Times are microseconds
-- since the Unix epoch, UTC.
CREATE TABLE soc2_lockouts (
    lockout_key      TEXT    PRIMARY KEY,
    failures         INTEGER NOT NULL DEFAULT 0,
    window_start_us  INTEGER,
    pending          INTEGER NOT NULL DEFAULT 0,
    pending_since_us INTEGER,
    locked_until_us  INTEGER,
    admin_lock       BOOLEAN NOT NULL DEFAULT FALSE,
    lockouts         INTEGER NOT NULL DEFAULT 0,
    updated_at_us    INTEGER NOT NULL
);
CREATE INDEX soc2_lockouts_updated ON soc2_lockouts (updated_at_us);

-- Per-IP failure windows (two fixed buckets approximating a sliding window), keyed by the
-- address as text.
CREATE TABLE soc2_ip_throttle (
    ip                TEXT    PRIMARY KEY,
    bucket_start_us   INTEGER NOT NULL,
    current_failures  INTEGER NOT NULL DEFAULT 0,
    previous_failures INTEGER NOT NULL DEFAULT 0,
    updated_at_us     INTEGER NOT NULL
);
CREATE INDEX soc2_ip_throttle_updated ON soc2_ip_throttle (updated_at_us);
