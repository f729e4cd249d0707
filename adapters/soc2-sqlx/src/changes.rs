//! Following the database's change log into a [`soc2_core::ChangeFeed`]: what both backends'
//! followers share (the `<kind>:<key>` format the triggers write).

use soc2_core::{Change, UserId};

/// The kind of a session change; its key is the token digest in hex.
const SESSION: &str = "session";
/// The kind of a change to a user's assignments or elevations; its key is the user id.
const USER_ROLES: &str = "user_roles";
/// The kind of a change to the role hierarchy; its key is empty.
const ROLE_HIERARCHY: &str = "role_hierarchy";
/// The kind of a change that may have touched anything (a TRUNCATE); its key is empty.
const RESYNC: &str = "resync";

/// The change a trigger wrote as `kind` and `key`; `None` for anything else (the caller logs it
/// and resyncs).
pub(crate) fn parse_change(kind: &str, key: &str) -> Option<Change> {
    match kind {
        SESSION => {
            let mut digest = [0; 32];
            hex::decode_to_slice(key, &mut digest).ok()?;
            Some(Change::Session(digest))
        }
        USER_ROLES => key.parse::<UserId>().ok().map(Change::UserRoles),
        ROLE_HIERARCHY if key.is_empty() => Some(Change::RoleHierarchy),
        RESYNC if key.is_empty() => Some(Change::Resync),
        _ => None,
    }
}

/// The change for `kind` and `key`, or [`Change::Resync`] (logged) when they are not one: an
/// unknown change may have been anything.
pub(crate) fn change_or_resync(kind: &str, key: &str) -> Change {
    parse_change(kind, key).unwrap_or_else(|| {
        tracing::warn!(target: "soc2::sqlx", kind, key, "unknown change in the log; resyncing");
        Change::Resync
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn trigger_payloads_parse_and_anything_else_resyncs() {
        let user = UserId::new_v7();
        let hex_digest = "ab".repeat(32);
        assert_eq!(
            parse_change("session", &hex_digest),
            Some(Change::Session([0xab; 32]))
        );
        assert_eq!(
            parse_change("session", &"AB".repeat(32)),
            Some(Change::Session([0xab; 32]))
        );
        assert_eq!(
            parse_change("user_roles", &user.to_string()),
            Some(Change::UserRoles(user))
        );
        assert_eq!(
            parse_change("role_hierarchy", ""),
            Some(Change::RoleHierarchy)
        );
        assert_eq!(parse_change("session", "abcd"), None);
        assert_eq!(parse_change("user_roles", "alice"), None);
        assert_eq!(parse_change("role_hierarchy", "x"), None);
        assert_eq!(parse_change("resync", ""), Some(Change::Resync));
        assert_eq!(parse_change("passwords", ""), None);
        assert_eq!(change_or_resync("nonsense", "x"), Change::Resync);
    }
}
