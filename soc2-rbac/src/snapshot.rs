//! `PolicySnapshot`: one validated, immutable policy set with its schema and SoD rules.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use cedar_policy::{Entities, Entity, EntityTypeName, EntityUid, PolicySet, Schema};

use soc2_core::UserId;

use crate::index::ActionPolicies;
use crate::{SodRules, UserRoles};

/// Cedar entity type of users (principals); its ids are [`soc2_core::UserId`]s.
pub const USER_TYPE: &str = "User";
/// Cedar entity type of roles; its ids are [`crate::RoleName`]s.
pub const ROLE_TYPE: &str = "Role";
/// Cedar entity type of actions.
pub const ACTION_TYPE: &str = "Action";

/// The SHA-256 of a policy directory's files (names and contents), so instances can compare
/// which policy set they enforce after a reload (casbin/casbin#421: stale grants linger when
/// instances silently disagree).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PolicyVersion([u8; 32]);

impl PolicyVersion {
    pub(crate) const fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The digest bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for PolicyVersion {
    /// Lowercase hex, 64 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PolicyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyVersion({self})")
    }
}

/// Most role sets whose entities and policies are kept per action (see
/// [`ActionEntry::roles_slice`]).
pub(crate) const ROLE_SLICES: usize = 1024;

/// Most principals whose slices are kept per action (see [`ActionEntry::principal_slice`]).
pub(crate) const PRINCIPAL_SLICES: usize = 4096;

/// What a decision on one action needs for one principal's roles, built once per role set.
#[derive(Debug)]
pub(crate) struct RoleSlice {
    /// The entities of the roles that have parents, with the action's entities, transitively
    /// closed.
    pub(crate) entities: Entities,
    /// The policies that can apply to a principal holding those roles (see [`ActionPolicies`]).
    pub(crate) policies: Arc<PolicySet>,
    /// The uids of every role the principal is a member of, directly or through the
    /// hierarchy: its entity's parents.
    pub(crate) user_parents: Vec<EntityUid>,
}

/// A [`RoleSlice`] with the principal in it: everything of a request's slice but the resource,
/// built once per principal and role set.
#[derive(Debug)]
pub(crate) struct PrincipalSlice {
    /// The role set the slice was built for; a different one rebuilds it.
    pub(crate) roles: UserRoles,
    /// The role slice's entities with the principal's entity, transitively closed.
    pub(crate) entities: Arc<Entities>,
    /// The role slice's policies.
    pub(crate) policies: Arc<PolicySet>,
}

/// One action the schema declares, with what a decision on it needs, computed once at load.
#[derive(Debug)]
pub(crate) struct ActionEntry {
    /// `Action::"name"`.
    pub(crate) uid: EntityUid,
    /// The action's entity (its ancestors, i.e. action groups, transitively closed) and the
    /// entities of those groups, from [`Schema::action_entities`]: everything Cedar can read
    /// about actions in a request for this action (actions have no attributes or tags, and in
    /// strict validation no other action can be reached from the request).
    pub(crate) entities: Vec<Entity>,
    /// The policies whose scope can match this action, by the role they are scoped to.
    pub(crate) policies: ActionPolicies,
    /// The resource types for which a user's request for this action with an empty context is
    /// known to conform to the schema, so it is not validated again per request.
    pub(crate) conforming_resource_types: HashSet<EntityTypeName>,
    /// The [`RoleSlice`] of a principal's roles (as read from the store), by those roles. The
    /// key is the whole content the slice is built from, so an entry can never be stale: a
    /// changed role or hierarchy is a different key. Bounded by [`ROLE_SLICES`] (cleared when
    /// full).
    roles: RwLock<HashMap<UserRoles, Arc<RoleSlice>>>,
    /// The [`PrincipalSlice`] of each recent principal. An entry is used only for the role set
    /// it was built for, so it can never be stale either. Bounded by [`PRINCIPAL_SLICES`].
    principals: RwLock<HashMap<UserId, Arc<PrincipalSlice>>>,
}

impl ActionEntry {
    pub(crate) fn new(
        uid: EntityUid,
        entities: Vec<Entity>,
        policies: ActionPolicies,
        conforming_resource_types: HashSet<EntityTypeName>,
    ) -> Self {
        Self {
            uid,
            entities,
            policies,
            conforming_resource_types,
            roles: RwLock::new(HashMap::new()),
            principals: RwLock::new(HashMap::new()),
        }
    }

    /// The [`RoleSlice`] of `roles`, built by `build` on first use of this exact role set.
    pub(crate) fn roles_slice<E>(
        &self,
        roles: &UserRoles,
        build: impl FnOnce() -> Result<RoleSlice, E>,
    ) -> Result<Arc<RoleSlice>, E> {
        cached(
            &self.roles,
            roles,
            ROLE_SLICES,
            |_| true,
            || Ok((roles.clone(), Arc::new(build()?))),
        )
    }

    /// The [`PrincipalSlice`] of `user` holding `roles`, built by `build` unless the one kept
    /// for `user` was built for exactly these roles.
    pub(crate) fn principal_slice<E>(
        &self,
        user: UserId,
        roles: &UserRoles,
        build: impl FnOnce() -> Result<PrincipalSlice, E>,
    ) -> Result<Arc<PrincipalSlice>, E> {
        cached(
            &self.principals,
            &user,
            PRINCIPAL_SLICES,
            |slice| slice.roles == *roles,
            || Ok((user, Arc::new(build()?))),
        )
    }
}

/// The entry of `map` under `key` if `fresh`, else the one `build` makes, kept (the map is
/// cleared when it holds `bound` entries).
fn cached<K: Eq + std::hash::Hash, V, E>(
    map: &RwLock<HashMap<K, Arc<V>>>,
    key: &K,
    bound: usize,
    fresh: impl FnOnce(&V) -> bool,
    build: impl FnOnce() -> Result<(K, Arc<V>), E>,
) -> Result<Arc<V>, E> {
    if let Some(value) = map
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .filter(|value| fresh(value))
    {
        return Ok(Arc::clone(value));
    }
    let (key, value) = build()?;
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= bound {
        map.clear();
    }
    map.insert(key, Arc::clone(&value));
    Ok(value)
}

/// A loaded policy directory: schema, policies (ids `file-stem.@id`), SoD rules and version.
/// Immutable; a reload builds a new one.
#[derive(Debug)]
pub struct PolicySnapshot {
    pub(crate) version: PolicyVersion,
    pub(crate) schema: Schema,
    pub(crate) policies: PolicySet,
    pub(crate) sod: SodRules,
    pub(crate) actions: HashMap<String, ActionEntry>,
    pub(crate) policy_ids: Vec<String>,
    pub(crate) user_type: EntityTypeName,
    pub(crate) role_type: EntityTypeName,
    /// The schema's entity types by their text, so a request does not parse its resource type.
    pub(crate) entity_types: HashMap<String, EntityTypeName>,
    /// The entity types a bare entity (no attributes, tags or parents) conforms to: a bare
    /// resource of one of them is left out of the slice, which Cedar cannot tell apart (see
    /// [`crate::slice`]).
    pub(crate) bare_entity_types: HashSet<EntityTypeName>,
}

impl PolicySnapshot {
    /// The version stamp of the files this set was loaded from.
    #[must_use]
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// The segregation-of-duties rules from `sod.toml` (none when the file is absent).
    #[must_use]
    pub fn sod(&self) -> &SodRules {
        &self.sod
    }

    /// Every policy id, sorted.
    #[must_use]
    pub fn policy_ids(&self) -> &[String] {
        &self.policy_ids
    }

    /// Every action the schema declares, sorted.
    #[must_use]
    pub fn actions(&self) -> Vec<&str> {
        let mut actions: Vec<&str> = self.actions.keys().map(String::as_str).collect();
        actions.sort_unstable();
        actions
    }

    /// The Cedar policy set, for tools that call Cedar directly (policy tests, benchmarks).
    #[must_use]
    pub fn cedar_policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The Cedar schema the policies were validated against.
    #[must_use]
    pub fn cedar_schema(&self) -> &Schema {
        &self.schema
    }
}
