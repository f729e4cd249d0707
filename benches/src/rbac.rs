//! Fixtures shared by the authorization benchmarks: policy directories with one `permit` per
//! role, role stores with many users, a resource provider, and paired timing.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use soc2_audit::{AuditLog, AuditLogConfig, TracingSink};
use soc2_core::{BoxError, Clock, SystemClock, UserId};
use soc2_rbac::{
    Authorizer, EntityProvider, MemoryRoleStore, PolicyStore, ResourceEntity, ResourceRef,
    RoleName, RoleStore, SodRules,
};

/// Users, roles and one resource type, `Data`, read by the action `read`.
pub const SCHEMA: &str = "entity Role in [Role];
entity User in [Role];
entity Data;
action read appliesTo { principal: [User], resource: [Data] };
";

/// Policies per file, so that every file stays well under [`soc2_rbac::MAX_FILE_BYTES`].
const PER_FILE: usize = 1_000;

/// The name of role `i` (casbin's benchmarks call roles `group{i}`).
#[must_use]
pub fn role_name(i: usize) -> String {
    format!("group{i}")
}

/// A policy directory with [`SCHEMA`] and `roles` policies, the `i`-th
/// `permit (principal in Role::"group{i}", action == Action::"read", resource)`, with
/// `resource == Data::"{id}"` when `resource(i)` names one.
///
/// # Panics
/// When the directory cannot be written.
#[must_use]
#[allow(clippy::unwrap_used)]
pub fn role_policy_dir(
    roles: usize,
    resource: impl Fn(usize) -> Option<String>,
) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.cedarschema"), SCHEMA).unwrap();
    for file in 0..roles.div_ceil(PER_FILE) {
        let mut text = String::new();
        for i in file * PER_FILE..roles.min((file + 1) * PER_FILE) {
            let scope = resource(i).map_or("resource".to_owned(), |id| {
                format!("resource == Data::\"{id}\"")
            });
            let role = role_name(i);
            writeln!(
                text,
                "@id(\"{role}\")\npermit (principal in Role::\"{role}\", action == Action::\"read\", {scope});"
            )
            .unwrap();
        }
        std::fs::write(dir.path().join(format!("roles{file}.cedar")), text).unwrap();
    }
    dir
}

/// Every `Data` resource exists and has no attributes.
#[derive(Debug)]
pub struct AnyData;

#[async_trait]
impl EntityProvider for AnyData {
    async fn resource(&self, _: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        Ok(Some(ResourceEntity::new()))
    }
}

/// An audit log that hands events to `tracing` (no subscriber in the benchmarks).
#[must_use]
pub fn audit_log() -> AuditLog {
    AuditLog::start(Arc::new(TracingSink), AuditLogConfig::default())
}

/// The policy store of `dir`.
///
/// # Panics
/// When the directory does not load.
#[allow(clippy::unwrap_used)]
pub async fn policy_store(dir: &Path, audit: &AuditLog) -> Arc<PolicyStore> {
    Arc::new(
        PolicyStore::open(dir, audit.clone(), Arc::new(SystemClock))
            .await
            .unwrap(),
    )
}

/// Assigns each user the roles named.
///
/// # Panics
/// When the store refuses an assignment.
#[allow(clippy::unwrap_used)]
pub async fn assign_all(
    store: &MemoryRoleStore,
    grants: impl IntoIterator<Item = (UserId, String)>,
) {
    let (none, now) = (SodRules::none(), SystemClock.now());
    for (user, role) in grants {
        store
            .assign(user, &RoleName::new(&role).unwrap(), &none, now)
            .await
            .unwrap();
    }
}

/// An authorizer over these stores, with the system clock.
#[must_use]
pub fn authorizer(
    policies: &Arc<PolicyStore>,
    roles: MemoryRoleStore,
    resources: Arc<dyn EntityProvider>,
    audit: &AuditLog,
) -> Authorizer {
    Authorizer::new(
        policies.clone(),
        Arc::new(roles),
        resources,
        audit.clone(),
        Arc::new(SystemClock),
    )
}

/// The median of `samples`.
///
/// # Panics
/// When `samples` is empty.
#[must_use]
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Median times of `a` and `b` over `pairs` alternating calls, so that both see the same
/// machine load.
pub async fn paired<A: Future, B: Future>(
    pairs: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Duration, Duration) {
    let (mut a_times, mut b_times) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for _ in 0..pairs {
        let start = Instant::now();
        std::hint::black_box(a().await);
        a_times.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(b().await);
        b_times.push(start.elapsed());
    }
    (median(a_times), median(b_times))
}
