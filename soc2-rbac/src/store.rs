//! Where users' roles and the role hierarchy live: the `RoleStore` trait.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};

use crate::{RoleName, SodConflict, SodRules};

/// A role and the roles it inherits from (its Cedar parents).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleNode {
    /// The role.
    pub role: RoleName,
    /// The roles it is a member of, e.g. `approver` inside `engineer`: whatever `engineer` may
    /// do, `approver` may do.
    pub parents: Vec<RoleName>,
}

/// A user's roles as the store saw them at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserRoles {
    /// Roles assigned to the user directly, sorted.
    pub assigned: Vec<RoleName>,
    /// Every role the user holds, assigned or inherited, each with its parents, sorted by role.
    pub closure: Vec<RoleNode>,
}

/// What an [`RoleStore::assign`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Assignment {
    /// The role was granted.
    Granted,
    /// The user already held the role; nothing changed.
    AlreadyHeld,
    /// Granting would have violated a segregation-of-duties rule; nothing changed.
    Refused(SodConflict),
}

/// Storage for role assignments and the role hierarchy. Every method is one atomic operation,
/// safe with many app instances on one store.
#[async_trait]
pub trait RoleStore: Debug + Send + Sync + 'static {
    /// The roles of `user`: assigned ones and every ancestor, read in one consistent snapshot.
    async fn user_roles(&self, user: UserId) -> Result<UserRoles, StoreError>;

    /// Assigns `role` to `user` unless the user would then violate one of `rules` (counting
    /// inherited roles). The check and the write are one atomic step: of two concurrent
    /// assignments that together break a rule, one is refused.
    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
    ) -> Result<Assignment, StoreError>;

    /// Removes `role` from `user`; false when the user did not hold it.
    async fn revoke(&self, user: UserId, role: &RoleName) -> Result<bool, StoreError>;

    /// The users `role` is assigned to directly, sorted.
    async fn holders(&self, role: &RoleName) -> Result<Vec<UserId>, StoreError>;

    /// Replaces the parents of `role`. A change that would make a role its own ancestor is a
    /// [`StoreError::Conflict`].
    async fn set_parents(&self, role: &RoleName, parents: &[RoleName]) -> Result<(), StoreError>;

    /// The whole role hierarchy: every role with parents, sorted by role.
    async fn hierarchy(&self) -> Result<Vec<RoleNode>, StoreError>;

    /// Up to `limit` users with at least one role and their assigned roles, in user id order,
    /// starting after `after`: pages for [`crate::RoleManager::scan`].
    async fn assignments(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(UserId, Vec<RoleName>)>, StoreError>;
}
