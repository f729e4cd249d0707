-- Server-side sessions, keyed by the SHA-256 digest of their token (the token is never stored).
-- Times are microseconds since the Unix epoch, UTC.
CREATE TABLE soc2_sessions (
    token_digest           BLOB    PRIMARY KEY,
    session_id             TEXT    NOT NULL,
    user_id                TEXT    NOT NULL,
    created_at_us          INTEGER NOT NULL,
    last_seen_at_us        INTEGER NOT NULL,
    idle_expires_at_us     INTEGER NOT NULL,
    absolute_expires_at_us INTEGER NOT NULL,
    authenticated_at_us    INTEGER NOT NULL,
    factors                TEXT    NOT NULL,
    mfa_verified_at_us     INTEGER,
    client_ip              TEXT,
    user_agent             TEXT
);
CREATE INDEX soc2_sessions_user ON soc2_sessions (user_id, created_at_us);
CREATE INDEX soc2_sessions_idle_expiry ON soc2_sessions (idle_expires_at_us);
CREATE INDEX soc2_sessions_absolute_expiry ON soc2_sessions (absolute_expires_at_us);
