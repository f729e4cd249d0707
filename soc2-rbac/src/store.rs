//! Where users' roles, the role hierarchy and elevations live: the `RoleStore` trait.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{ElevationId, StoreError, UserId};
use time::OffsetDateTime;

use crate::{Elevation, ElevationChange, ElevationUpdate, RoleName, SodConflict, SodRules};

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
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UserRoles {
    /// Roles assigned to the user directly, sorted.
    pub assigned: Vec<RoleName>,
    /// Roles held only through an elevation active at that instant, sorted.
    pub elevated: Vec<RoleName>,
    /// Every role the user holds, assigned, elevated or inherited, each with its parents,
    /// sorted by role.
    pub closure: Vec<RoleNode>,
}

impl UserRoles {
    /// The roles the user is a direct member of: assigned, then elevated.
    pub fn direct(&self) -> impl Iterator<Item = &RoleName> {
        self.assigned.iter().chain(&self.elevated)
    }
}

/// What an [`RoleStore::assign`] or [`RoleStore::add_elevation`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Assignment {
    /// The role was granted (or the elevation stored).
    Granted,
    /// The user already held the role by assignment; nothing changed.
    AlreadyHeld,
    /// Granting would have violated a segregation-of-duties rule; nothing changed.
    Refused(SodConflict),
}

/// Storage for role assignments, the role hierarchy and just-in-time elevations. Every method
/// is one atomic operation, safe with many app instances on one store.
///
/// Segregation of duties counts what a user holds at an instant: assigned roles, the roles of
/// elevations active then, and every ancestor of those. Grants that add a role to a user
/// ([`RoleStore::assign`], [`RoleStore::add_elevation`], approving with
/// [`RoleStore::change_elevation`]) check the rules and write in one atomic step, so of two
/// concurrent grants that together break a rule, one is refused.
#[async_trait]
pub trait RoleStore: Debug + Send + Sync + 'static {
    /// The roles of `user` at `at`: assigned ones, those of elevations active at `at`, and
    /// every ancestor, read in one consistent snapshot.
    async fn user_roles(&self, user: UserId, at: OffsetDateTime) -> Result<UserRoles, StoreError>;

    /// Assigns `role` to `user` unless the user would then violate one of `rules` (counting
    /// inherited roles and elevations active at `at`).
    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
        at: OffsetDateTime,
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

    /// Stores a new elevation (pending, or approved for a break-glass grant) unless its user
    /// already holds its role by assignment, or would violate one of `rules` holding it at
    /// `elevation.requested_at`. An id already stored is a [`StoreError::Conflict`].
    async fn add_elevation(
        &self,
        elevation: &Elevation,
        rules: &SodRules,
    ) -> Result<Assignment, StoreError>;

    /// The elevation `id`.
    async fn elevation(&self, id: ElevationId) -> Result<Option<Elevation>, StoreError>;

    /// Applies `change` to elevation `id` at `at`, if its status at `at` allows it: of two
    /// concurrent changes (an approval and a denial, two approvals), exactly one applies.
    async fn change_elevation(
        &self,
        id: ElevationId,
        change: ElevationChange<'_>,
        at: OffsetDateTime,
    ) -> Result<ElevationUpdate, StoreError>;

    /// The elevations of `user` pending or active at `at` (not decided, expired or revoked),
    /// oldest request first.
    async fn open_elevations(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<Elevation>, StoreError>;
}
