-- WebAuthn passkeys, several per account, each credential id registered once: the webauthn-rs
-- `Passkey` as JSON (public key, signature counter, backup flags; no secret), the counter and
-- flags again as columns for listing, and when it was registered and last used.
CREATE TABLE soc2_passkeys (
    credential_id   TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    passkey         TEXT    NOT NULL,
    sign_count      BIGINT  NOT NULL,
    backup_eligible BOOLEAN NOT NULL,
    backed_up       BOOLEAN NOT NULL,
    created_at_us   BIGINT  NOT NULL,
    last_used_at_us BIGINT
);

CREATE INDEX soc2_passkeys_user ON soc2_passkeys (user_id);
