//! An in-memory `RoleStore`, for tests and single-instance hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use soc2_core::{ElevationId, StoreError, UserId};
use time::OffsetDateTime;

use crate::hierarchy::{Parents, closure, effective, would_cycle};
use crate::{
    Assignment, Elevation, ElevationChange, ElevationStatus, ElevationUpdate, RoleName, RoleNode,
    RoleStore, SodConflict, SodRules, UserRoles,
};

#[derive(Debug, Default)]
struct Roles {
    assigned: BTreeMap<UserId, BTreeSet<RoleName>>,
    holders: BTreeMap<RoleName, BTreeSet<UserId>>,
    parents: Parents,
    elevations: BTreeMap<ElevationId, Elevation>,
    elevations_of: BTreeMap<UserId, BTreeSet<ElevationId>>,
}

impl Roles {
    /// `user`'s elevations, in id order.
    fn elevations_of(&self, user: UserId) -> impl Iterator<Item = &Elevation> {
        self.elevations_of
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|id| self.elevations.get(id))
    }

    /// The roles `user` is a direct member of at `at`: assigned, and elevated only; sorted.
    fn direct(&self, user: UserId, at: OffsetDateTime) -> (Vec<RoleName>, Vec<RoleName>) {
        let assigned = self.assigned.get(&user);
        let mut elevated: Vec<RoleName> = self
            .elevations_of(user)
            .filter(|elevation| {
                elevation.is_active(at)
                    && !assigned.is_some_and(|held| held.contains(&elevation.role))
            })
            .map(|elevation| elevation.role.clone())
            .collect();
        elevated.sort_unstable();
        elevated.dedup();
        (assigned.into_iter().flatten().cloned().collect(), elevated)
    }

    /// The first rule `user` would violate at `at` when also holding `role`.
    fn conflict(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
        at: OffsetDateTime,
    ) -> Option<SodConflict> {
        let (assigned, elevated) = self.direct(user, at);
        let after = effective(
            assigned.iter().chain(&elevated).chain([role]),
            &self.parents,
        );
        rules.conflicts(&after).into_iter().next()
    }
}

/// Assignments, hierarchy and elevations in maps behind one lock; clones share them. Lost on
/// restart.
#[derive(Debug, Clone, Default)]
pub struct MemoryRoleStore {
    roles: Arc<RwLock<Roles>>,
}

impl MemoryRoleStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Roles> {
        self.roles.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Roles> {
        self.roles.write().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl RoleStore for MemoryRoleStore {
    async fn user_roles(&self, user: UserId, at: OffsetDateTime) -> Result<UserRoles, StoreError> {
        let roles = self.read();
        let (assigned, elevated) = roles.direct(user, at);
        Ok(UserRoles {
            closure: closure(assigned.iter().chain(&elevated), &roles.parents),
            assigned,
            elevated,
        })
    }

    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
        at: OffsetDateTime,
    ) -> Result<Assignment, StoreError> {
        let mut roles = self.write();
        if roles
            .assigned
            .get(&user)
            .is_some_and(|held| held.contains(role))
        {
            return Ok(Assignment::AlreadyHeld);
        }
        if let Some(conflict) = roles.conflict(user, role, rules, at) {
            return Ok(Assignment::Refused(conflict));
        }
        roles.assigned.entry(user).or_default().insert(role.clone());
        roles.holders.entry(role.clone()).or_default().insert(user);
        Ok(Assignment::Granted)
    }

    async fn revoke(&self, user: UserId, role: &RoleName) -> Result<bool, StoreError> {
        let mut roles = self.write();
        let Some(held) = roles.assigned.get_mut(&user) else {
            return Ok(false);
        };
        let removed = held.remove(role);
        if held.is_empty() {
            roles.assigned.remove(&user);
        }
        if let Some(holders) = roles.holders.get_mut(role) {
            holders.remove(&user);
            if holders.is_empty() {
                roles.holders.remove(role);
            }
        }
        Ok(removed)
    }

    async fn holders(&self, role: &RoleName) -> Result<Vec<UserId>, StoreError> {
        Ok(self
            .read()
            .holders
            .get(role)
            .map(|holders| holders.iter().copied().collect())
            .unwrap_or_default())
    }

    async fn set_parents(&self, role: &RoleName, parents: &[RoleName]) -> Result<(), StoreError> {
        let mut roles = self.write();
        if would_cycle(role, parents, &roles.parents) {
            return Err(StoreError::Conflict(format!(
                "role `{role}` would become its own ancestor"
            )));
        }
        let mut parents = parents.to_vec();
        parents.sort_unstable();
        parents.dedup();
        if parents.is_empty() {
            roles.parents.remove(role);
        } else {
            roles.parents.insert(role.clone(), parents);
        }
        Ok(())
    }

    async fn hierarchy(&self) -> Result<Vec<RoleNode>, StoreError> {
        let mut nodes: Vec<RoleNode> = self
            .read()
            .parents
            .iter()
            .map(|(role, parents)| RoleNode {
                role: role.clone(),
                parents: parents.clone(),
            })
            .collect();
        nodes.sort_unstable_by(|a, b| a.role.cmp(&b.role));
        Ok(nodes)
    }

    async fn assignments(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(UserId, Vec<RoleName>)>, StoreError> {
        let roles = self.read();
        let range = match after {
            Some(after) => roles
                .assigned
                .range((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            None => roles.assigned.range(..),
        };
        Ok(range
            .take(limit)
            .map(|(user, held)| (*user, held.iter().cloned().collect()))
            .collect())
    }

    async fn add_elevation(
        &self,
        elevation: &Elevation,
        rules: &SodRules,
    ) -> Result<Assignment, StoreError> {
        let mut roles = self.write();
        if roles.elevations.contains_key(&elevation.id) {
            return Err(StoreError::Conflict(format!(
                "elevation {} already exists",
                elevation.id
            )));
        }
        let user = elevation.user;
        if roles
            .assigned
            .get(&user)
            .is_some_and(|held| held.contains(&elevation.role))
        {
            return Ok(Assignment::AlreadyHeld);
        }
        if let Some(conflict) = roles.conflict(user, &elevation.role, rules, elevation.requested_at)
        {
            return Ok(Assignment::Refused(conflict));
        }
        roles.elevations.insert(elevation.id, elevation.clone());
        roles
            .elevations_of
            .entry(user)
            .or_default()
            .insert(elevation.id);
        Ok(Assignment::Granted)
    }

    async fn elevation(&self, id: ElevationId) -> Result<Option<Elevation>, StoreError> {
        Ok(self.read().elevations.get(&id).cloned())
    }

    async fn change_elevation(
        &self,
        id: ElevationId,
        change: ElevationChange<'_>,
        at: OffsetDateTime,
    ) -> Result<ElevationUpdate, StoreError> {
        let mut roles = self.write();
        let Some(current) = roles.elevations.get(&id).cloned() else {
            return Ok(ElevationUpdate::NotFound);
        };
        if current.status_at(at) != change.requires() {
            return Ok(ElevationUpdate::Stale(current));
        }
        if let ElevationChange::Approve { rules, .. } = change
            && let Some(conflict) = roles.conflict(current.user, &current.role, rules, at)
        {
            return Ok(ElevationUpdate::Refused {
                elevation: current,
                conflict,
            });
        }
        let changed = change.apply(&current, at);
        roles.elevations.insert(id, changed.clone());
        Ok(ElevationUpdate::Applied(changed))
    }

    async fn open_elevations(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<Elevation>, StoreError> {
        let roles = self.read();
        let mut open: Vec<Elevation> = roles
            .elevations_of(user)
            .filter(|elevation| {
                matches!(
                    elevation.status_at(at),
                    ElevationStatus::Pending | ElevationStatus::Approved
                )
            })
            .cloned()
            .collect();
        open.sort_by_key(|elevation| (elevation.requested_at, elevation.id));
        Ok(open)
    }
}
