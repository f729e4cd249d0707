-- Service-token ids revoked before their expiry; rows can go once the token has expired.
CREATE TABLE soc2_denied_tokens (
    jti           TEXT    PRIMARY KEY,
    expires_at_us BIGINT  NOT NULL
);
CREATE INDEX soc2_denied_tokens_expiry ON soc2_denied_tokens (expires_at_us);
