//! `PolicySnapshot`: one validated, immutable policy set with its schema and SoD rules.

use std::collections::HashMap;
use std::fmt;

use cedar_policy::{EntityTypeName, EntityUid, PolicySet, Schema};

use crate::SodRules;

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

/// A loaded policy directory: schema, policies (ids `file-stem.@id`), SoD rules and version.
/// Immutable; a reload builds a new one.
#[derive(Debug)]
pub struct PolicySnapshot {
    pub(crate) version: PolicyVersion,
    pub(crate) schema: Schema,
    pub(crate) policies: PolicySet,
    pub(crate) sod: SodRules,
    pub(crate) actions: HashMap<String, EntityUid>,
    pub(crate) policy_ids: Vec<String>,
    pub(crate) user_type: EntityTypeName,
    pub(crate) role_type: EntityTypeName,
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
