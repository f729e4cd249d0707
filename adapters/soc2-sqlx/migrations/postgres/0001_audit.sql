-- Hash-chained audit events. `body` is the event JSON exactly as hashed (TEXT, not JSONB, so
-- the bytes round-trip); the other columns are derived from it for indexing and are re-checked
-- by verification.
CREATE TABLE soc2_audit_events (
    seq            BIGINT PRIMARY KEY,
    event_id       TEXT   NOT NULL,
    occurred_at_us BIGINT NOT NULL,
    action         TEXT   NOT NULL,
    outcome        TEXT   NOT NULL,
    key_id         TEXT   NOT NULL,
    prev_hash      BYTEA  NOT NULL,
    hash           BYTEA  NOT NULL,
    body           TEXT   NOT NULL
);
CREATE UNIQUE INDEX soc2_audit_events_event_id ON soc2_audit_events (event_id);
CREATE INDEX soc2_audit_events_occurred_at ON soc2_audit_events (occurred_at_us);

-- Signed checkpoints, apart from the events: the head (newest event) and the retention anchor.
CREATE TABLE soc2_audit_checkpoints (
    kind   TEXT   PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   BYTEA  NOT NULL,
    key_id TEXT   NOT NULL,
    mac    BYTEA  NOT NULL
);
