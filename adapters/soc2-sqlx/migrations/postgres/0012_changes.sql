-- Change notifications for followers (soc2_sqlx::postgres::follow_changes): every change to a
-- session, a role assignment, an elevation or the role hierarchy, from any writer (the stores,
-- soc2ctl, the sweeper, manual SQL), is sent by a trigger with
-- pg_notify('soc2_changes', '<schema>:<kind>:<key>'). NOTIFY is delivered at commit, in commit
-- order, and not at all on rollback; no table is kept (a table read by `seq > cursor` is not
-- exact here: sequence values commit out of order). The schema is in the payload because the
-- channel is per database: a follower ignores other schemas' changes.
-- `kind` is 'session' (key: the token digest, lowercase hex), 'user_roles' (key: the user id),
-- 'role_hierarchy' (key: '') or 'resync' (key: ''; a TRUNCATE, which fires no row trigger).

-- A session ended (logout, revocation, expiry, rotation: the store deletes the old row), or was
-- changed in place by hand (its token, or anything but a touch: a touch only moves
-- last_seen_at_us and idle_expires_at_us later, and does not publish).
CREATE FUNCTION soc2_sessions_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR (OLD.token_digest, OLD.session_id, OLD.user_id, OLD.created_at_us,
            OLD.absolute_expires_at_us, OLD.authenticated_at_us, OLD.factors,
            OLD.mfa_verified_at_us, OLD.client_ip, OLD.user_agent)
           IS DISTINCT FROM
           (NEW.token_digest, NEW.session_id, NEW.user_id, NEW.created_at_us,
            NEW.absolute_expires_at_us, NEW.authenticated_at_us, NEW.factors,
            NEW.mfa_verified_at_us, NEW.client_ip, NEW.user_agent)
        OR NEW.idle_expires_at_us < OLD.idle_expires_at_us
    THEN
        PERFORM pg_notify('soc2_changes',
            TG_TABLE_SCHEMA || ':session:' || encode(OLD.token_digest, 'hex'));
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER soc2_sessions_change AFTER DELETE OR UPDATE ON soc2_sessions
    FOR EACH ROW EXECUTE FUNCTION soc2_sessions_change();

-- A user's assignments or elevations changed (both users when a row moved between users).
CREATE FUNCTION soc2_user_roles_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('soc2_changes', TG_TABLE_SCHEMA || ':user_roles:' || OLD.user_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        PERFORM pg_notify('soc2_changes', TG_TABLE_SCHEMA || ':user_roles:' || NEW.user_id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER soc2_role_assignments_change AFTER INSERT OR UPDATE OR DELETE
    ON soc2_role_assignments FOR EACH ROW EXECUTE FUNCTION soc2_user_roles_change();
CREATE TRIGGER soc2_elevations_change AFTER INSERT OR UPDATE OR DELETE
    ON soc2_elevations FOR EACH ROW EXECUTE FUNCTION soc2_user_roles_change();

-- The role hierarchy changed.
CREATE FUNCTION soc2_role_hierarchy_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('soc2_changes', TG_TABLE_SCHEMA || ':role_hierarchy:');
    RETURN NULL;
END;
$$;
CREATE TRIGGER soc2_role_parents_change AFTER INSERT OR UPDATE OR DELETE
    ON soc2_role_parents FOR EACH ROW EXECUTE FUNCTION soc2_role_hierarchy_change();

-- A TRUNCATE fires no row trigger: every cache over the table must start over.
CREATE FUNCTION soc2_truncate_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('soc2_changes', TG_TABLE_SCHEMA || ':resync:');
    RETURN NULL;
END;
$$;
CREATE TRIGGER soc2_sessions_truncate_change AFTER TRUNCATE ON soc2_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION soc2_truncate_change();
CREATE TRIGGER soc2_role_assignments_truncate_change AFTER TRUNCATE ON soc2_role_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION soc2_truncate_change();
CREATE TRIGGER soc2_elevations_truncate_change AFTER TRUNCATE ON soc2_elevations
    FOR EACH STATEMENT EXECUTE FUNCTION soc2_truncate_change();
CREATE TRIGGER soc2_role_parents_truncate_change AFTER TRUNCATE ON soc2_role_parents
    FOR EACH STATEMENT EXECUTE FUNCTION soc2_truncate_change();
