//! Authorization decisions on the example change-management policies for a user with 5 roles,
//! entity slice included, beside calling cedar-policy directly with prebuilt entities; and the
//! same decision with 1,000 vs 100,000 (and, with `RBAC_BENCH_MILLION=1`, 1,000,000) users in
//! the role store. Prints paired medians (calls alternating) and p50s.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
};
use criterion::{Criterion, criterion_group};
use soc2_audit::{AuditLog, AuditLogConfig, TracingSink};
use soc2_core::{BoxError, Clock, SystemClock, UserId};
use soc2_rbac::{
    Authorizer, Decision, EntityProvider, MemoryRoleStore, PolicyStore, ResourceEntity,
    ResourceRef, RoleName, RoleStore, SodRules,
};

const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policies"
);
const ROLES: [&str; 5] = [
    "engineer",
    "approver",
    "oncall",
    "team-payments",
    "team-platform",
];
const PAIRS: usize = 3000;

/// One pending change, requested by someone else.
#[derive(Debug)]
struct OneChange(UserId);

#[async_trait]
impl EntityProvider for OneChange {
    async fn resource(&self, _: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        Ok(Some(
            ResourceEntity::new()
                .with_attribute("requester", self.0)
                .with_attribute("status", "pending"),
        ))
    }
}

/// A store with `users` users holding 2 roles each, plus the measured user with 5.
async fn store(users: usize, measured: UserId) -> MemoryRoleStore {
    let store = MemoryRoleStore::new();
    let none = SodRules::none();
    let now = SystemClock.now();
    let roles: Vec<RoleName> = ROLES.iter().map(|r| RoleName::new(r).unwrap()).collect();
    for i in 0..users {
        let user = UserId::new_v7();
        store.assign(user, &roles[i % 5], &none, now).await.unwrap();
        store
            .assign(user, &roles[(i + 1) % 5], &none, now)
            .await
            .unwrap();
    }
    for role in &roles {
        store.assign(measured, role, &none, now).await.unwrap();
    }
    store
}

fn authorizer(
    policies: &Arc<PolicyStore>,
    roles: MemoryRoleStore,
    requester: UserId,
    audit: &AuditLog,
) -> Authorizer {
    Authorizer::new(
        policies.clone(),
        Arc::new(roles),
        Arc::new(OneChange(requester)),
        audit.clone(),
        Arc::new(SystemClock),
    )
}

/// The same slice the SDK builds, prebuilt once, and the request.
fn raw_inputs(policies: &PolicyStore, user: UserId, requester: UserId) -> (Request, Entities) {
    let snapshot = policies.snapshot();
    let ty = |name: &str| EntityTypeName::from_str(name).unwrap();
    let uid = |t: &str, id: &str| EntityUid::from_type_name_and_id(ty(t), EntityId::new(id));
    let principal = uid("User", &user.to_string());
    let change = uid("Change", "CHG-1");
    let mut entities: Vec<Entity> = ROLES
        .iter()
        .map(|r| Entity::new_no_attrs(uid("Role", r), HashSet::new()))
        .collect();
    entities.push(Entity::new_no_attrs(
        principal.clone(),
        ROLES.iter().map(|r| uid("Role", r)).collect(),
    ));
    entities.push(
        Entity::new(
            change.clone(),
            [
                (
                    "requester".to_owned(),
                    RestrictedExpression::new_entity_uid(uid("User", &requester.to_string())),
                ),
                (
                    "status".to_owned(),
                    RestrictedExpression::new_string("pending".into()),
                ),
            ]
            .into(),
            HashSet::new(),
        )
        .unwrap(),
    );
    let entities = Entities::from_entities(entities, Some(snapshot.cedar_schema())).unwrap();
    let request = Request::new(
        principal,
        uid("Action", "approve_change"),
        change,
        Context::empty(),
        Some(snapshot.cedar_schema()),
    )
    .unwrap();
    (request, entities)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// The measured decision: `user` approves a change somebody else requested (allowed).
async fn decide(authorizer: &Authorizer, user: UserId, change: &ResourceRef) -> Decision {
    let decision = authorizer
        .authorize(user, "approve_change", change, serde_json::Value::Null)
        .await
        .unwrap();
    assert!(decision.allowed());
    decision
}

/// Median times of `a` and `b` over [`PAIRS`] alternating calls.
async fn paired<A: Future, B: Future>(
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Duration, Duration) {
    let (mut a_times, mut b_times) = (Vec::new(), Vec::new());
    for _ in 0..PAIRS {
        let start = Instant::now();
        std::hint::black_box(a().await);
        a_times.push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(b().await);
        b_times.push(start.elapsed());
    }
    (median(a_times), median(b_times))
}

fn rbac_decision(c: &mut Criterion) {
    let rt = soc2_benches::runtime();
    let audit =
        rt.block_on(async { AuditLog::start(Arc::new(TracingSink), AuditLogConfig::default()) });
    let policies = Arc::new(
        rt.block_on(PolicyStore::open(
            POLICIES,
            audit.clone(),
            Arc::new(SystemClock),
        ))
        .unwrap(),
    );
    let (user, requester) = (UserId::new_v7(), UserId::new_v7());
    let change = ResourceRef::new("Change", "CHG-1");
    let small = authorizer(
        &policies,
        rt.block_on(store(1_000, user)),
        requester,
        &audit,
    );
    let (request, entities) = raw_inputs(&policies, user, requester);
    let snapshot = policies.snapshot();
    let cedar = cedar_policy::Authorizer::new();
    let raw = || cedar.is_authorized(&request, snapshot.cedar_policies(), &entities);
    assert_eq!(raw().decision(), cedar_policy::Decision::Allow);

    let mut group = c.benchmark_group("rbac_decision");
    group.bench_function("sdk_authorize_5_roles", |b| {
        b.to_async(&rt).iter(|| decide(&small, user, &change));
    });
    group.bench_function("raw_cedar_is_authorized", |b| b.iter(raw));
    group.finish();

    let (sdk, raw_median) = rt.block_on(paired(
        || async { decide(&small, user, &change).await },
        || async { raw() },
    ));
    println!(
        "rbac_decision: authorize (5 roles, slice included) = {:.3}x cedar is_authorized with prebuilt entities (paired medians of {PAIRS} calls: SDK p50 {sdk:?}, raw p50 {raw_median:?})",
        sdk.as_secs_f64() / raw_median.as_secs_f64()
    );

    let mut sizes = vec![100_000];
    if std::env::var_os("RBAC_BENCH_MILLION").is_some() {
        sizes.push(1_000_000);
    }
    for size in sizes {
        let large = authorizer(&policies, rt.block_on(store(size, user)), requester, &audit);
        let (small_p50, large_p50) = rt.block_on(paired(
            || async { decide(&small, user, &change).await },
            || async { decide(&large, user, &change).await },
        ));
        println!(
            "rbac_decision: {size} users = {:.3}x 1000 users (paired medians of {PAIRS} calls: p50 {large_p50:?} vs {small_p50:?})",
            large_p50.as_secs_f64() / small_p50.as_secs_f64()
        );
    }
}

criterion_group!(benches, rbac_decision);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
