#![doc = include_str!("../README.md")]

mod authorizer;
mod bundle;
mod cached_roles;
mod elevation;
mod elevation_policy;
mod elevations;
mod entity;
mod error;
mod hierarchy;
mod index;
mod load;
mod location;
mod memory;
mod policy_store;
pub mod policy_test;
pub mod review;
mod role;
mod roles;
mod slice;
mod snapshot;
mod sod;
mod store;
#[cfg(test)]
mod test_support;
#[cfg(feature = "watch")]
mod watch;

pub use authorizer::{Authorizer, AuthzError, Decision, EvaluationError};
pub use cached_roles::{CachedRoleStore, DEFAULT_ROLE_CACHE_STALENESS, ROLE_CACHE_CAPACITY};
pub use elevation::{Elevation, ElevationChange, ElevationStatus, ElevationUpdate};
pub use elevation_policy::{DEFAULT_MAX_ELEVATION, ElevationPolicy, ElevationPolicyError};
pub use elevations::{ElevationError, ElevationManager};
pub use entity::{AttrValue, EntityProvider, ResourceEntity, ResourceRef};
pub use error::{PolicyError, Problem, ProblemKind};
pub use load::{MAX_FILE_BYTES, MAX_FILES, MAX_POLICIES, SOD_FILE};
pub use location::Location;
pub use memory::MemoryRoleStore;
pub use policy_store::{PolicyStore, ReloadError, ReloadReport};
pub use role::{InvalidRoleName, MAX_ROLE_NAME_BYTES, RoleName};
pub use roles::{RoleError, RoleManager, SodViolation};
pub use slice::MAX_ATTR_DEPTH;
pub use snapshot::{ACTION_TYPE, PolicySnapshot, PolicyVersion, ROLE_TYPE, USER_TYPE};
pub use sod::{DEFAULT_CARDINALITY, SodConflict, SodRule, SodRules};
pub use store::{Assignment, RoleNode, RoleStore, UserRoles};
#[cfg(feature = "watch")]
pub use watch::{DEFAULT_DEBOUNCE, PolicyWatcher, WatchError, WatchEvent};
