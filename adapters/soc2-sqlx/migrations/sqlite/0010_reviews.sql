-- Access-review campaigns: the scope (JSON, e.g. {"kind":"roles","roles":["admin"]}) and the
-- reviewers (JSON array of user ids) as started; closed once every item is decided.
CREATE TABLE soc2_review_campaigns (
    campaign_id   TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    reviewers     TEXT    NOT NULL,
    started_at_us INTEGER NOT NULL,
    due_at_us     INTEGER NOT NULL,
    closed_at_us  INTEGER
);

CREATE INDEX soc2_review_campaigns_due ON soc2_review_campaigns (due_at_us);

-- One item per (user, role) of a campaign, with the user's facts at the start and the single
-- decision (keep or revoke) of its assigned reviewer.
CREATE TABLE soc2_review_items (
    item_id       TEXT    PRIMARY KEY,
    campaign_id   TEXT    NOT NULL REFERENCES soc2_review_campaigns (campaign_id),
    subject_id    TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    username      TEXT    NOT NULL,
    last_login_us INTEGER,
    mfa_enabled   BOOLEAN NOT NULL,
    reviewer_id   TEXT    NOT NULL,
    decision      TEXT    CHECK (decision IN ('keep', 'revoke')),
    comment       TEXT,
    decided_by    TEXT,
    decided_at_us INTEGER,
    UNIQUE (campaign_id, subject_id, role),
    CHECK ((decision IS NULL) = (decided_by IS NULL)),
    CHECK ((decision IS NULL) = (decided_at_us IS NULL))
);

CREATE INDEX soc2_review_items_reviewer ON soc2_review_items (campaign_id, reviewer_id);
