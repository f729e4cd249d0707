-- soc2-rbac's `RoleStore`. Role names are `a-z 0-9 _ -`, user and elevation ids are UUIDs as
-- text, times are microseconds since the Unix epoch, UTC. Names and ids compare bytewise
-- (`COLLATE "C"`), so their order is the SDK's whatever the database's locale.

-- Roles assigned to users directly.
CREATE TABLE soc2_role_assignments (
    user_id TEXT COLLATE "C" NOT NULL,
    role    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX soc2_role_assignments_role ON soc2_role_assignments (role, user_id);

-- The role hierarchy: `role` is a member of `parent` (inherits what `parent` may do).
CREATE TABLE soc2_role_parents (
    role   TEXT COLLATE "C" NOT NULL,
    parent TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role, parent)
);

-- Just-in-time elevations. `status` is as last changed; a pending or approved elevation is
-- expired once `expires_at_us` is reached, and an approved one counts from `decided_at_us`.
CREATE TABLE soc2_elevations (
    elevation_id    TEXT COLLATE "C" PRIMARY KEY,
    user_id         TEXT COLLATE "C" NOT NULL,
    role            TEXT COLLATE "C" NOT NULL,
    reason          TEXT    NOT NULL,
    requested_by    TEXT    NOT NULL,
    requested_at_us BIGINT  NOT NULL,
    expires_at_us   BIGINT  NOT NULL,
    break_glass     BOOLEAN NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('pending', 'approved', 'denied', 'revoked')),
    decided_by      TEXT,
    decided_at_us   BIGINT,
    revoked_at_us   BIGINT
);
CREATE INDEX soc2_elevations_user ON soc2_elevations (user_id, expires_at_us);
