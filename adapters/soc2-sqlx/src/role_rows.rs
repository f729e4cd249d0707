//! The role store's queries and row shapes shared by both databases.

use std::collections::{BTreeMap, BTreeSet};

use soc2_core::{StoreError, UserId, unix_micros};
use soc2_rbac::{Elevation, ElevationStatus, RoleName, RoleNode, SodConflict, SodRules, UserRoles};

use crate::rows::{corrupt, instant};

/// The roles `$1` (a user id) holds at `$2` (microseconds), and `$3` (a role, or NULL) as if
/// held too: one row per assigned role (`assigned`), per role of an elevation active at `$2`
/// (`elevated`), for `$3` (`candidate`), and per role of the closure with each of its parents
/// (`closure`, parent NULL for a role without any). One statement, so one snapshot.
macro_rules! held_roles_query {
    () => {
        concat!(
            "WITH RECURSIVE held(how, role) AS (",
            " SELECT 'assigned', role FROM soc2_role_assignments WHERE user_id = $1",
            " UNION ALL SELECT 'elevated', role FROM soc2_elevations",
            " WHERE user_id = $1 AND status = 'approved'",
            " AND decided_at_us <= $2 AND expires_at_us > $2",
            " UNION ALL SELECT 'candidate', CAST($3 AS TEXT) WHERE $3 IS NOT NULL),",
            " reach(role) AS (SELECT role FROM held",
            " UNION SELECT p.parent FROM soc2_role_parents p JOIN reach r ON p.role = r.role)",
            " SELECT how, role, CAST(NULL AS TEXT) AS parent FROM held",
            " UNION ALL SELECT 'closure', r.role, p.parent FROM reach r",
            " LEFT JOIN soc2_role_parents p ON p.role = r.role"
        )
    };
}
pub(crate) use held_roles_query;

/// How many ancestors of role `$1` are role `$2` (0 or 1): giving `$2` the parent `$1` closes
/// a cycle when it is 1, or when `$1` is `$2`. The walk starts from stored rows (not from the
/// parameter), so PostgreSQL's recursive term and seed share the columns' collation.
macro_rules! ancestor_count_query {
    () => {
        concat!(
            "WITH RECURSIVE up(role) AS (SELECT parent FROM soc2_role_parents WHERE role = $1",
            " UNION SELECT p.parent FROM soc2_role_parents p JOIN up ON p.role = up.role)",
            " SELECT COUNT(*) FROM up WHERE role = $2"
        )
    };
}
pub(crate) use ancestor_count_query;

/// The columns of `soc2_elevations`, in `ElevationRow` order.
macro_rules! elevation_columns {
    () => {
        "elevation_id, user_id, role, reason, requested_by, requested_at_us, expires_at_us, \
         break_glass, status, decided_by, decided_at_us, revoked_at_us"
    };
}
pub(crate) use elevation_columns;

const ROLE_ROW: &str = "role";
const ELEVATION_ROW: &str = "elevation";

/// A role name as stored.
fn role_name(name: &str, row: &str) -> Result<RoleName, StoreError> {
    RoleName::new(name).map_err(|_| corrupt(row, "role name"))
}

/// A user id as stored.
fn user_id(id: &str, row: &str) -> Result<UserId, StoreError> {
    id.parse().map_err(|_| corrupt(row, "user id"))
}

/// One row of [`held_roles_query!`].
#[derive(sqlx::FromRow)]
pub(crate) struct HeldRow {
    how: String,
    role: String,
    parent: Option<String>,
}

/// The roles of [`held_roles_query!`]'s rows; a candidate role appears only in the closure.
pub(crate) fn held_roles(rows: Vec<HeldRow>) -> Result<UserRoles, StoreError> {
    let mut assigned = BTreeSet::new();
    let mut elevated = BTreeSet::new();
    let mut closure: BTreeMap<RoleName, Vec<RoleName>> = BTreeMap::new();
    for row in rows {
        let role = role_name(&row.role, ROLE_ROW)?;
        match row.how.as_str() {
            "assigned" => {
                assigned.insert(role);
            }
            "elevated" => {
                elevated.insert(role);
            }
            "candidate" => {}
            "closure" => {
                let parents = closure.entry(role).or_default();
                if let Some(parent) = row.parent {
                    parents.push(role_name(&parent, ROLE_ROW)?);
                }
            }
            _ => return Err(corrupt(ROLE_ROW, "kind of held role")),
        }
    }
    Ok(UserRoles {
        elevated: elevated.difference(&assigned).cloned().collect(),
        assigned: assigned.into_iter().collect(),
        closure: closure
            .into_iter()
            .map(|(role, mut parents)| {
                parents.sort_unstable();
                RoleNode { role, parents }
            })
            .collect(),
    })
}

/// The first of `rules` that a user holding every role of `held`'s closure violates.
pub(crate) fn first_conflict(rules: &SodRules, held: &UserRoles) -> Option<SodConflict> {
    let roles: BTreeSet<RoleName> = held.closure.iter().map(|node| node.role.clone()).collect();
    rules.conflicts(&roles).into_iter().next()
}

/// `(user,)` rows as user ids.
pub(crate) fn user_ids(rows: Vec<(String,)>) -> Result<Vec<UserId>, StoreError> {
    rows.iter().map(|(user,)| user_id(user, ROLE_ROW)).collect()
}

/// `(role, parent)` rows, sorted, as role nodes.
pub(crate) fn nodes(rows: Vec<(String, String)>) -> Result<Vec<RoleNode>, StoreError> {
    let mut nodes: Vec<RoleNode> = Vec::new();
    for (role, parent) in rows {
        let role = role_name(&role, ROLE_ROW)?;
        let parent = role_name(&parent, ROLE_ROW)?;
        match nodes.last_mut() {
            Some(node) if node.role == role => node.parents.push(parent),
            _ => nodes.push(RoleNode {
                role,
                parents: vec![parent],
            }),
        }
    }
    Ok(nodes)
}

/// `(user, role)` rows, sorted by user, as each user's roles.
pub(crate) fn users_roles(
    rows: Vec<(String, String)>,
) -> Result<Vec<(UserId, Vec<RoleName>)>, StoreError> {
    let mut users: Vec<(UserId, Vec<RoleName>)> = Vec::new();
    for (user, role) in rows {
        let user = user_id(&user, ROLE_ROW)?;
        let role = role_name(&role, ROLE_ROW)?;
        match users.last_mut() {
            Some((last, roles)) if *last == user => roles.push(role),
            _ => users.push((user, vec![role])),
        }
    }
    Ok(users)
}

/// An [`Elevation`] as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct ElevationRow {
    pub(crate) elevation_id: String,
    pub(crate) user_id: String,
    pub(crate) role: String,
    pub(crate) reason: String,
    pub(crate) requested_by: String,
    pub(crate) requested_at_us: i64,
    pub(crate) expires_at_us: i64,
    pub(crate) break_glass: bool,
    pub(crate) status: String,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at_us: Option<i64>,
    pub(crate) revoked_at_us: Option<i64>,
}

impl From<&Elevation> for ElevationRow {
    fn from(elevation: &Elevation) -> Self {
        Self {
            elevation_id: elevation.id.to_string(),
            user_id: elevation.user.to_string(),
            role: elevation.role.as_str().to_owned(),
            reason: elevation.reason.clone(),
            requested_by: elevation.requested_by.to_string(),
            requested_at_us: unix_micros(elevation.requested_at),
            expires_at_us: unix_micros(elevation.expires_at),
            break_glass: elevation.break_glass,
            status: elevation.status.as_str().to_owned(),
            decided_by: elevation.decided_by.map(|by| by.to_string()),
            decided_at_us: elevation.decided_at.map(unix_micros),
            revoked_at_us: elevation.revoked_at.map(unix_micros),
        }
    }
}

impl TryFrom<ElevationRow> for Elevation {
    type Error = StoreError;

    fn try_from(row: ElevationRow) -> Result<Self, StoreError> {
        let instant = |micros| instant(micros, ELEVATION_ROW);
        let user = |id: &str| user_id(id, ELEVATION_ROW);
        Ok(Self {
            id: row
                .elevation_id
                .parse()
                .map_err(|_| corrupt(ELEVATION_ROW, "elevation id"))?,
            user: user(&row.user_id)?,
            role: role_name(&row.role, ELEVATION_ROW)?,
            reason: row.reason,
            requested_by: user(&row.requested_by)?,
            requested_at: instant(row.requested_at_us)?,
            expires_at: instant(row.expires_at_us)?,
            break_glass: row.break_glass,
            status: ElevationStatus::from_name(&row.status)
                .ok_or_else(|| corrupt(ELEVATION_ROW, "status"))?,
            decided_by: row.decided_by.as_deref().map(user).transpose()?,
            decided_at: row.decided_at_us.map(instant).transpose()?,
            revoked_at: row.revoked_at_us.map(instant).transpose()?,
        })
    }
}
