-- Short-lived, single-use ceremony state (MFA login challenges, later WebAuthn ceremonies and
-- reset tokens), keyed by the SHA-256 of the opaque token handed to the client.
CREATE TABLE soc2_ceremonies (
    digest        BYTEA PRIMARY KEY,
    kind          TEXT   NOT NULL,
    user_id       TEXT   NOT NULL,
    payload       TEXT   NOT NULL,
    expires_at_us BIGINT  NOT NULL
);

CREATE INDEX soc2_ceremonies_expiry ON soc2_ceremonies (expires_at_us);
