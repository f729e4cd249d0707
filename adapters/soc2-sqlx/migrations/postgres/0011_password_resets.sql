-- At most one live password-reset token per user: issuing a newer one replaces the older
-- (one upsert on this index, so of concurrent requests exactly one token survives).
CREATE UNIQUE INDEX soc2_ceremonies_one_reset ON soc2_ceremonies (user_id)
    WHERE kind = 'password_reset';
