//! Authorization decisions on the example change-management policies for a user with 5 roles,
//! entity slice included, beside calling cedar-policy directly with prebuilt entities (on the
//! whole policy set, and on the policies of the action only); the same decision with 1,000 vs
//! 100,000 (and, with `RBAC_BENCH_MILLION=1`, 1,000,000) users in the role store; and a user
//! with 5 roles under 10, 100, 1,000 and 10,000 roles of one `permit` each, beside Cedar on the
//! whole set. Prints paired medians (calls alternating) and p50s.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use cedar_policy::{
    ActionConstraint, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet,
    Request, RestrictedExpression,
};
use criterion::{Criterion, criterion_group};
use soc2_audit::AuditLog;
use soc2_benches::rbac::{self, AnyData, role_name};
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
    rbac::authorizer(policies, roles, Arc::new(OneChange(requester)), audit)
}

/// The policies of the whole set whose action scope names `action`.
fn action_policies(all: &PolicySet, action: &EntityUid) -> PolicySet {
    PolicySet::from_policies(
        all.policies()
            .filter(|policy| match policy.action_constraint() {
                ActionConstraint::Eq(uid) => uid == *action,
                _ => true,
            })
            .cloned(),
    )
    .unwrap()
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

/// The measured decision: `user` approves a change somebody else requested (allowed).
async fn decide(authorizer: &Authorizer, user: UserId, change: &ResourceRef) -> Decision {
    let decision = authorizer
        .authorize(user, "approve_change", change, serde_json::Value::Null)
        .await
        .unwrap();
    assert!(decision.allowed());
    decision
}

/// `user` approves a change they requested themselves: denied by a `forbid`, and audited.
async fn deny(authorizer: &Authorizer, user: UserId, change: &ResourceRef) -> Decision {
    let decision = authorizer
        .authorize(user, "approve_change", change, serde_json::Value::Null)
        .await
        .unwrap();
    assert!(!decision.allowed());
    decision
}

fn rbac_decision(c: &mut Criterion) {
    let rt = soc2_benches::runtime();
    let audit = rt.block_on(async { rbac::audit_log() });
    let policies = rt.block_on(rbac::policy_store(POLICIES.as_ref(), &audit));
    let (user, requester) = (UserId::new_v7(), UserId::new_v7());
    let change = ResourceRef::new("Change", "CHG-1");
    let small = authorizer(
        &policies,
        rt.block_on(store(1_000, user)),
        requester,
        &audit,
    );
    let own = authorizer(&policies, rt.block_on(store(0, user)), user, &audit);
    let (request, entities) = raw_inputs(&policies, user, requester);
    let snapshot = policies.snapshot();
    let for_action = action_policies(snapshot.cedar_policies(), request.action().unwrap());
    let cedar = cedar_policy::Authorizer::new();
    let raw = || cedar.is_authorized(&request, snapshot.cedar_policies(), &entities);
    let raw_action = || cedar.is_authorized(&request, &for_action, &entities);
    assert_eq!(raw().decision(), cedar_policy::Decision::Allow);
    assert_eq!(raw_action().decision(), cedar_policy::Decision::Allow);

    let mut group = c.benchmark_group("rbac_decision");
    group.bench_function("sdk_authorize_5_roles", |b| {
        b.to_async(&rt).iter(|| decide(&small, user, &change));
    });
    group.bench_function("sdk_authorize_5_roles_denied", |b| {
        b.to_async(&rt).iter(|| deny(&own, user, &change));
    });
    group.bench_function("raw_cedar_is_authorized", |b| b.iter(raw));
    group.bench_function("raw_cedar_is_authorized_action_policies", |b| {
        b.iter(raw_action);
    });
    group.finish();

    for (baseline, raw) in [
        (
            "the whole policy set",
            &raw as &dyn Fn() -> cedar_policy::Response,
        ),
        ("the action's policies", &raw_action),
    ] {
        let (sdk, raw_median) = rt.block_on(rbac::paired(
            PAIRS,
            || decide(&small, user, &change),
            || async { raw() },
        ));
        println!(
            "rbac_decision: authorize (5 roles, slice included) = {:.3}x cedar is_authorized on {baseline} with prebuilt entities (paired medians of {PAIRS} calls: SDK p50 {sdk:?}, raw p50 {raw_median:?})",
            sdk.as_secs_f64() / raw_median.as_secs_f64()
        );
    }
    let (denied, allowed) = rt.block_on(rbac::paired(
        PAIRS,
        || deny(&own, user, &change),
        || decide(&small, user, &change),
    ));
    println!(
        "rbac_decision: an audited deny = {:.3}x an allow (paired medians of {PAIRS} calls: p50 {denied:?} vs {allowed:?})",
        denied.as_secs_f64() / allowed.as_secs_f64()
    );

    let mut sizes = vec![100_000];
    if std::env::var_os("RBAC_BENCH_MILLION").is_some() {
        sizes.push(1_000_000);
    }
    for size in sizes {
        let large = authorizer(&policies, rt.block_on(store(size, user)), requester, &audit);
        let (small_p50, large_p50) = rt.block_on(rbac::paired(
            PAIRS,
            || decide(&small, user, &change),
            || decide(&large, user, &change),
        ));
        println!(
            "rbac_decision: {size} users = {:.3}x 1000 users (paired medians of {PAIRS} calls: p50 {large_p50:?} vs {small_p50:?})",
            large_p50.as_secs_f64() / small_p50.as_secs_f64()
        );
    }
    roles(&rt, &audit);
}

/// A user holding 5 of `roles` roles (one `permit` each) reads a `Data`: the SDK's authorizer,
/// Cedar on the whole set with the same entities prebuilt, and the policy directory.
struct ManyRoles {
    authorizer: Authorizer,
    user: UserId,
    raw: (Request, Entities, Arc<soc2_rbac::PolicySnapshot>),
    _dir: tempfile::TempDir,
}

fn many_roles(rt: &tokio::runtime::Runtime, roles: usize, audit: &AuditLog) -> ManyRoles {
    let dir = rbac::role_policy_dir(roles, |_| None);
    let policies = rt.block_on(rbac::policy_store(dir.path(), audit));
    let user = UserId::new_v7();
    let held: Vec<String> = (0..5).map(|i| role_name(i * roles / 5)).collect();
    let store = MemoryRoleStore::new();
    rt.block_on(rbac::assign_all(
        &store,
        held.iter().map(|role| (user, role.clone())),
    ));
    let snapshot = policies.snapshot();
    let ty = |name: &str| EntityTypeName::from_str(name).unwrap();
    let uid = |t: &str, id: &str| EntityUid::from_type_name_and_id(ty(t), EntityId::new(id));
    let principal = uid("User", &user.to_string());
    let entities = Entities::from_entities(
        held.iter()
            .map(|r| Entity::new_no_attrs(uid("Role", r), HashSet::new()))
            .chain([
                Entity::new_no_attrs(
                    principal.clone(),
                    held.iter().map(|r| uid("Role", r)).collect(),
                ),
                Entity::new_no_attrs(uid("Data", "d1"), HashSet::new()),
            ]),
        Some(snapshot.cedar_schema()),
    )
    .unwrap();
    let request = Request::new(
        principal,
        uid("Action", "read"),
        uid("Data", "d1"),
        Context::empty(),
        Some(snapshot.cedar_schema()),
    )
    .unwrap();
    ManyRoles {
        authorizer: rbac::authorizer(&policies, store, Arc::new(AnyData), audit),
        user,
        raw: (request, entities, snapshot),
        _dir: dir,
    }
}

async fn read(fixture: &ManyRoles) -> Decision {
    let data = ResourceRef::new("Data", "d1");
    let decision = fixture
        .authorizer
        .authorize(fixture.user, "read", &data, serde_json::Value::Null)
        .await
        .unwrap();
    assert_eq!(decision.policies().len(), 5, "each role held permits");
    decision
}

fn roles(rt: &tokio::runtime::Runtime, audit: &AuditLog) {
    let cedar = cedar_policy::Authorizer::new();
    let raw = |fixture: &ManyRoles| {
        let (request, entities, snapshot) = &fixture.raw;
        cedar.is_authorized(request, snapshot.cedar_policies(), entities)
    };
    let ten = many_roles(rt, 10, audit);
    for roles in [100, 1_000, 10_000] {
        let many = many_roles(rt, roles, audit);
        let (few, lots) = rt.block_on(rbac::paired(PAIRS, || read(&ten), || read(&many)));
        let (raw_few, raw_lots) = rt.block_on(rbac::paired(
            PAIRS,
            || async { raw(&ten) },
            || async { raw(&many) },
        ));
        println!(
            "rbac_decision: {roles} roles = {:.3}x 10 roles (user with 5 roles, one permit per role; paired medians of {PAIRS} calls: p50 {lots:?} vs {few:?}); cedar on the whole set: {:.1}x ({raw_lots:?} vs {raw_few:?})",
            lots.as_secs_f64() / few.as_secs_f64(),
            raw_lots.as_secs_f64() / raw_few.as_secs_f64(),
        );
    }
}

criterion_group!(benches, rbac_decision);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
