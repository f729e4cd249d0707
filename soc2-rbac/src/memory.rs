//! An in-memory `RoleStore`, for tests and single-instance hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};

use crate::hierarchy::{Parents, closure, effective, would_cycle};
use crate::{Assignment, RoleName, RoleNode, RoleStore, SodRules, UserRoles};

#[derive(Debug, Default)]
struct Roles {
    assigned: BTreeMap<UserId, BTreeSet<RoleName>>,
    holders: BTreeMap<RoleName, BTreeSet<UserId>>,
    parents: Parents,
}

/// Assignments and hierarchy in maps behind one lock; clones share them. Lost on restart.
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
    async fn user_roles(&self, user: UserId) -> Result<UserRoles, StoreError> {
        let roles = self.read();
        let Some(assigned) = roles.assigned.get(&user) else {
            return Ok(UserRoles::default());
        };
        Ok(UserRoles {
            assigned: assigned.iter().cloned().collect(),
            closure: closure(assigned, &roles.parents),
        })
    }

    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
    ) -> Result<Assignment, StoreError> {
        let mut roles = self.write();
        let held = roles.assigned.get(&user);
        if held.is_some_and(|held| held.contains(role)) {
            return Ok(Assignment::AlreadyHeld);
        }
        let after = effective(held.into_iter().flatten().chain([role]), &roles.parents);
        if let Some(conflict) = rules.conflicts(&after).into_iter().next() {
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
}
