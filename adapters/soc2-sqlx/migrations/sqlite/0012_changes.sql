-- The change log that followers poll (soc2_sqlx::sqlite::follow_changes): every change to a
-- session, a role assignment, an elevation or the role hierarchy, from any writer (the stores,
-- soc2ctl, the sweeper, manual SQL), appended by triggers in the writer's transaction. SQLite
-- has one writer at a time, so `seq` order is commit order; AUTOINCREMENT never reuses a value
-- (a rolled-back insert gives its value back with the rest of the transaction), so a follower
-- that finds a row whose `seq` is not its cursor + 1 knows rows were pruned before it read them.
-- `kind` is 'session' (key: the token digest, hex), 'user_roles' (key: the user id) or
-- 'role_hierarchy' (key: ''); followers also accept 'resync' (key: '': drop everything); `at_us` is microseconds since the Unix epoch, UTC, for pruning.
CREATE TABLE soc2_changes (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind  TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    at_us INTEGER NOT NULL
);
CREATE INDEX soc2_changes_at ON soc2_changes (at_us);

-- A session ended (logout, revocation, expiry, rotation: the store deletes the old row).
CREATE TRIGGER soc2_sessions_deleted_change AFTER DELETE ON soc2_sessions
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('session', lower(hex(OLD.token_digest)),
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

-- A session changed in place by hand (the store rotates by delete and insert): its token, or
-- anything but a touch. A touch only moves last_seen_at_us and idle_expires_at_us later, and
-- does not publish.
CREATE TRIGGER soc2_sessions_updated_change AFTER UPDATE ON soc2_sessions
WHEN OLD.token_digest IS NOT NEW.token_digest
    OR OLD.session_id IS NOT NEW.session_id
    OR OLD.user_id IS NOT NEW.user_id
    OR OLD.created_at_us IS NOT NEW.created_at_us
    OR OLD.absolute_expires_at_us IS NOT NEW.absolute_expires_at_us
    OR OLD.authenticated_at_us IS NOT NEW.authenticated_at_us
    OR OLD.factors IS NOT NEW.factors
    OR OLD.mfa_verified_at_us IS NOT NEW.mfa_verified_at_us
    OR OLD.client_ip IS NOT NEW.client_ip
    OR OLD.user_agent IS NOT NEW.user_agent
    OR NEW.idle_expires_at_us < OLD.idle_expires_at_us
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('session', lower(hex(OLD.token_digest)),
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_role_assignments_inserted_change AFTER INSERT ON soc2_role_assignments
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', NEW.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_role_assignments_updated_change AFTER UPDATE ON soc2_role_assignments
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', OLD.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
    INSERT INTO soc2_changes (kind, key, at_us)
    SELECT 'user_roles', NEW.user_id,
           CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)
    WHERE NEW.user_id IS NOT OLD.user_id;
END;

CREATE TRIGGER soc2_role_assignments_deleted_change AFTER DELETE ON soc2_role_assignments
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', OLD.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_elevations_inserted_change AFTER INSERT ON soc2_elevations
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', NEW.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_elevations_updated_change AFTER UPDATE ON soc2_elevations
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', OLD.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
    INSERT INTO soc2_changes (kind, key, at_us)
    SELECT 'user_roles', NEW.user_id,
           CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)
    WHERE NEW.user_id IS NOT OLD.user_id;
END;

CREATE TRIGGER soc2_elevations_deleted_change AFTER DELETE ON soc2_elevations
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('user_roles', OLD.user_id,
            CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_role_parents_inserted_change AFTER INSERT ON soc2_role_parents
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('role_hierarchy', '', CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_role_parents_updated_change AFTER UPDATE ON soc2_role_parents
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('role_hierarchy', '', CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;

CREATE TRIGGER soc2_role_parents_deleted_change AFTER DELETE ON soc2_role_parents
BEGIN
    INSERT INTO soc2_changes (kind, key, at_us)
    VALUES ('role_hierarchy', '', CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER));
END;
