//! `WebApp`: the stores, services and clock every adapter's test server is built from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value};
use soc2_audit::{Actor, AuditLog, AuditLogConfig, AuditStore, MemoryAuditStore};
use soc2_auth::{LockoutPolicy, MemoryLockoutStore};
use soc2_core::{BoxError, Clock, ManualClock, Preset, RequestContext, UserId};
use soc2_rbac::{
    Authorizer, EntityProvider, MemoryRoleStore, PolicyStore, ResourceEntity, ResourceRef,
    RoleManager, RoleName,
};
use soc2_session::{Factor, MemorySessionStore, SessionManager, SessionPolicy};
use time::macros::datetime;

/// soc2-rbac's example change-management policy set.
const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../soc2-rbac/examples/policies"
);

/// The change whose entity provider lookup fails (to test failing closed).
pub const BROKEN_CHANGE: &str = "CHG-broken";

/// Failed logins from one address within [`IP_WINDOW`] that throttle it.
pub const IP_THRESHOLD: u32 = 3;
/// The per-IP throttling window.
pub const IP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Everything an adapter's test server needs, on memory stores and a manual clock, with the
/// `Soc2Strict` session policy and the example policy set.
#[derive(Debug)]
pub struct WebApp {
    /// The clock of every service; advance it instead of sleeping.
    pub clock: Arc<ManualClock>,
    /// The session manager the session middleware validates with.
    pub sessions: SessionManager,
    /// The audit log every service records to.
    pub audit: AuditLog,
    /// The authorizer the session middleware hands to `Authorize` and `RequireAction`.
    pub authorizer: Authorizer,
    /// The lockout store the login throttle reads.
    pub lockouts: Arc<MemoryLockoutStore>,
    /// `Soc2Strict` with IP throttling at [`IP_THRESHOLD`] per [`IP_WINDOW`].
    pub lockout_policy: LockoutPolicy,
    audit_store: MemoryAuditStore,
    roles: RoleManager,
    resources: Arc<Resources>,
}

impl WebApp {
    /// A fresh app (new stores, clock at 2026-11-23 09:00 UTC).
    pub async fn new() -> Self {
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
        let audit_store = MemoryAuditStore::new(&crate::test_keys("web", 7));
        let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
        let sessions = SessionManager::new(
            Arc::new(MemorySessionStore::new()),
            SessionPolicy::from_preset(Preset::Soc2Strict),
            clock.clone() as Arc<dyn Clock>,
            audit.clone(),
        );
        let policies = Arc::new(
            PolicyStore::open(POLICIES, audit.clone(), clock.clone())
                .await
                .unwrap(),
        );
        let role_store = Arc::new(MemoryRoleStore::new());
        let resources = Arc::new(Resources::default());
        let roles = RoleManager::new(
            role_store.clone(),
            policies.clone(),
            audit.clone(),
            clock.clone(),
        );
        let authorizer = Authorizer::new(
            policies,
            role_store,
            resources.clone(),
            audit.clone(),
            clock.clone(),
        );
        Self {
            clock,
            sessions,
            audit,
            authorizer,
            lockouts: Arc::new(MemoryLockoutStore::new()),
            lockout_policy: LockoutPolicy::from_preset(Preset::Soc2Strict)
                .with_ip_throttle(IP_THRESHOLD, IP_WINDOW),
            audit_store,
            roles,
            resources,
        }
    }

    /// A new session of `user` (password factor, authenticated now): its token.
    pub async fn login(&self, user: UserId) -> soc2_session::SessionToken {
        let (token, _) = self
            .sessions
            .create(user, &[Factor::Password], &RequestContext::new())
            .await
            .unwrap();
        token
    }

    /// Grants `role` to `user`.
    pub async fn grant(&self, user: UserId, role: &str) {
        let role = RoleName::new(role).unwrap();
        self.roles.assign(Actor::System, user, &role).await.unwrap();
    }

    /// Makes the host know `resource` with these attributes.
    pub fn add_resource(&self, resource: &ResourceRef, entity: ResourceEntity) {
        self.resources.0.lock().unwrap().insert(
            (resource.kind().to_owned(), resource.id().to_owned()),
            entity,
        );
    }

    /// (outcome, metadata, client IP) of every audit event of `action` so far.
    pub async fn events_of(&self, action: &str) -> Vec<(String, Map<String, Value>, String)> {
        self.audit.flush().await.unwrap();
        self.audit_store
            .read(0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|stored| stored.event().unwrap())
            .filter(|event| event.action().name() == action)
            .map(|event| {
                let ip = event
                    .context()
                    .client_ip()
                    .map(|ip| ip.to_string())
                    .unwrap_or_default();
                (
                    event.outcome().name().to_owned(),
                    event.metadata().clone(),
                    ip,
                )
            })
            .collect()
    }
}

/// The host's resources by (kind, id); [`BROKEN_CHANGE`] fails to load.
#[derive(Debug, Default)]
struct Resources(Mutex<HashMap<(String, String), ResourceEntity>>);

#[async_trait]
impl EntityProvider for Resources {
    async fn resource(&self, resource: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        if resource.id() == BROKEN_CHANGE {
            return Err("the host's database is down".into());
        }
        let key = (resource.kind().to_owned(), resource.id().to_owned());
        Ok(self.0.lock().unwrap().get(&key).cloned())
    }
}
