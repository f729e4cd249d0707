-- Password credentials, one row per account. `username` is the normalised login name,
-- `password_hash` an argon2 PHC string (NULL for a password-less account). Times are
-- microseconds since the Unix epoch, UTC.
CREATE TABLE soc2_credentials (
    user_id                TEXT    PRIMARY KEY,
    username               TEXT    NOT NULL UNIQUE,
    password_hash          TEXT,
    password_changed_at_us INTEGER,
    must_change            BOOLEAN NOT NULL,
    disabled               BOOLEAN NOT NULL,
    created_at_us          INTEGER NOT NULL
);

-- Earlier password hashes of an account; the highest `seq` is the most recent.
CREATE TABLE soc2_password_history (
    user_id       TEXT    NOT NULL REFERENCES soc2_credentials (user_id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    previous_hash TEXT    NOT NULL,
    PRIMARY KEY (user_id, seq)
);
