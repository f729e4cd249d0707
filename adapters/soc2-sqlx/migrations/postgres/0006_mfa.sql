-- TOTP factors, one per account: the seed sealed with AES-256-GCM (`v1.<key id>.<data>`), whether
-- the user confirmed a code, and the last accepted RFC 6238 time step (replay prevention).
CREATE TABLE soc2_totp (
    user_id       TEXT    PRIMARY KEY,
    sealed_secret TEXT    NOT NULL,
    confirmed     BOOLEAN NOT NULL,
    last_step     BIGINT,
    created_at_us BIGINT  NOT NULL
);

-- Unused recovery codes, as SHA-256 digests of the owner and the code; using one deletes it.
CREATE TABLE soc2_recovery_codes (
    user_id       TEXT    NOT NULL,
    digest        BYTEA   NOT NULL,
    created_at_us BIGINT  NOT NULL,
    PRIMARY KEY (user_id, digest)
);
