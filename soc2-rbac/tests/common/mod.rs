//! The example policy directory wired to memory stores, a manual clock and a memory audit log.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;
use soc2_audit::{AuditLog, AuditLogConfig, AuditStore, MemoryAuditStore};
use soc2_core::{BoxError, KeyId, KeyRing, ManualClock, UserId};
use soc2_rbac::{
    Authorizer, ElevationManager, ElevationPolicy, EntityProvider, MemoryRoleStore, PolicyStore,
    ResourceEntity, ResourceRef, RoleManager, RoleName,
};
use time::macros::datetime;

pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies");

/// Host resources by (kind, id).
#[derive(Debug, Default)]
pub struct Resources(pub Mutex<HashMap<(String, String), ResourceEntity>>);

#[async_trait]
impl EntityProvider for Resources {
    async fn resource(&self, resource: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        let key = (resource.kind().to_owned(), resource.id().to_owned());
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub policies: Arc<PolicyStore>,
    pub roles: MemoryRoleStore,
    pub resources: Arc<Resources>,
    pub manager: RoleManager,
    pub authorizer: Authorizer,
    pub audit: AuditLog,
    pub audit_store: MemoryAuditStore,
}

/// A copy of the example directory.
pub fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(EXAMPLE).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

pub fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}

pub async fn fixture() -> Fixture {
    let dir = example_copy();
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("k").unwrap(), [3; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let policies = Arc::new(
        PolicyStore::open(dir.path(), audit.clone(), clock.clone())
            .await
            .unwrap(),
    );
    let roles = MemoryRoleStore::new();
    let resources = Arc::new(Resources::default());
    let manager = RoleManager::new(
        Arc::new(roles.clone()),
        policies.clone(),
        audit.clone(),
        clock.clone(),
    );
    let authorizer = Authorizer::new(
        policies.clone(),
        Arc::new(roles.clone()),
        resources.clone(),
        audit.clone(),
        clock.clone(),
    );
    Fixture {
        dir,
        clock,
        policies,
        roles,
        resources,
        manager,
        authorizer,
        audit,
        audit_store,
    }
}

impl Fixture {
    /// An elevation manager on this fixture's stores, clock and audit log.
    pub fn elevations(&self, policy: ElevationPolicy) -> ElevationManager {
        ElevationManager::new(
            Arc::new(self.roles.clone()),
            self.policies.clone(),
            policy,
            self.audit.clone(),
            self.clock.clone(),
        )
    }

    pub fn add_resource(&self, resource: &ResourceRef, entity: ResourceEntity) {
        self.resources.0.lock().unwrap().insert(
            (resource.kind().to_owned(), resource.id().to_owned()),
            entity,
        );
    }

    pub fn write(&self, name: &str, text: &str) {
        fs::write(self.dir.path().join(name), text).unwrap();
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// (action, outcome, metadata) of every audit event so far.
    pub async fn events(&self) -> Vec<(String, String, serde_json::Map<String, Value>)> {
        self.audit.flush().await.unwrap();
        self.audit_store
            .read(0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|stored| {
                let event = stored.event().unwrap();
                (
                    event.action().name().to_owned(),
                    event.outcome().name().to_owned(),
                    event.metadata().clone(),
                )
            })
            .collect()
    }

    /// The events of `action` so far.
    pub async fn events_of(&self, action: &str) -> Vec<(String, serde_json::Map<String, Value>)> {
        self.events()
            .await
            .into_iter()
            .filter(|(name, _, _)| name == action)
            .map(|(_, outcome, metadata)| (outcome, metadata))
            .collect()
    }
}

pub fn user() -> UserId {
    UserId::new_v7()
}
