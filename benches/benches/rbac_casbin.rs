//! soc2-rbac beside casbin-rs on casbin's own RBAC model (`g = _, _`) and the shapes of
//! casbin-rs's benchmarks (benches/benchmark.rs): small = 100 roles, 1,000 users, 10
//! resources; medium = 1,000 / 10,000 / 100; large = 10,000 / 100,000 / 1,000. Role `i`
//! (`group{i}`) may read `data{i / 10}`, user `j` holds role `j / 10`. The same data in
//! soc2-rbac: one Cedar `permit` per role, the users' roles in a `MemoryRoleStore`.
//!
//! Requests: casbin's own (denied) one per size, e.g. `user501` reads `data9`, and an allowed
//! one (`user501` reads `data5`). Both libraries are timed in the same run, calls alternating;
//! prints paired medians.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use criterion::{Criterion, criterion_group};
use soc2_benches::rbac::{self, AnyData, role_name};
use soc2_core::UserId;
use soc2_rbac::{Authorizer, MemoryRoleStore, ResourceRef};

/// casbin's `examples/rbac_model.conf`.
const MODEL: &str = "[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
";

/// Time spent on each paired comparison, at most (the pair count follows from casbin's speed).
const BUDGET: Duration = Duration::from_secs(3);

struct Shape {
    name: &'static str,
    roles: usize,
    users: usize,
    /// The resource of casbin's own request, which the user does not hold.
    denied: usize,
}

const SHAPES: [Shape; 3] = [
    Shape {
        name: "small",
        roles: 100,
        users: 1_000,
        denied: 9,
    },
    Shape {
        name: "medium",
        roles: 1_000,
        users: 10_000,
        denied: 15,
    },
    Shape {
        name: "large",
        roles: 10_000,
        users: 100_000,
        denied: 1_500,
    },
];

fn data(i: usize) -> String {
    format!("data{i}")
}

async fn casbin(shape: &Shape) -> Enforcer {
    let model = DefaultModel::from_str(MODEL).await.unwrap();
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default())
        .await
        .unwrap();
    enforcer.enable_auto_build_role_links(false);
    let policies = (0..shape.roles)
        .map(|i| vec![role_name(i), data(i / 10), "read".to_owned()])
        .collect();
    enforcer.add_policies(policies).await.unwrap();
    let grouping = (0..shape.users)
        .map(|j| vec![format!("user{j}"), role_name(j / 10)])
        .collect();
    enforcer.add_grouping_policies(grouping).await.unwrap();
    enforcer.build_role_links().unwrap();
    enforcer
}

/// The same data in soc2-rbac; returns the authorizer, the policy directory (kept alive) and
/// the ids of users `0..users`.
async fn soc2(shape: &Shape) -> (Authorizer, tempfile::TempDir, Vec<UserId>) {
    let dir = rbac::role_policy_dir(shape.roles, |i| Some(data(i / 10)));
    let audit = rbac::audit_log();
    let policies = rbac::policy_store(dir.path(), &audit).await;
    let users: Vec<UserId> = (0..shape.users).map(|_| UserId::new_v7()).collect();
    let roles = MemoryRoleStore::new();
    rbac::assign_all(
        &roles,
        users
            .iter()
            .enumerate()
            .map(|(j, user)| (*user, role_name(j / 10))),
    )
    .await;
    let authorizer = rbac::authorizer(&policies, roles, Arc::new(AnyData), &audit);
    (authorizer, dir, users)
}

async fn soc2_allowed(authorizer: &Authorizer, user: UserId, resource: &ResourceRef) -> bool {
    authorizer
        .authorize(user, "read", resource, serde_json::Value::Null)
        .await
        .unwrap()
        .allowed()
}

fn rbac_casbin(c: &mut Criterion) {
    let rt = soc2_benches::runtime();
    for shape in &SHAPES {
        let enforcer = rt.block_on(casbin(shape));
        let (authorizer, _dir, users) = rt.block_on(soc2(shape));
        // casbin's request user (`user501` in the small shape) and the resource its role reads.
        let j = shape.users / 2 + 1;
        let (name, user) = (format!("user{j}"), users[j]);
        for (allowed, resource) in [(true, j / 10 / 10), (false, shape.denied)] {
            let (object, cedar_resource) =
                (data(resource), ResourceRef::new("Data", data(resource)));
            let request = (name.as_str(), object.as_str(), "read");
            assert_eq!(enforcer.enforce(request).unwrap(), allowed);
            assert_eq!(
                rt.block_on(soc2_allowed(&authorizer, user, &cedar_resource)),
                allowed
            );

            let outcome = if allowed { "allow" } else { "deny" };
            let mut group = c.benchmark_group(format!("rbac_casbin/{}/{outcome}", shape.name));
            group.sample_size(20);
            group.bench_function("soc2_rbac", |b| {
                b.to_async(&rt)
                    .iter(|| soc2_allowed(&authorizer, user, &cedar_resource));
            });
            group.bench_function("casbin", |b| b.iter(|| enforcer.enforce(request).unwrap()));
            group.finish();

            let start = Instant::now();
            enforcer.enforce(request).unwrap();
            let pairs = usize::try_from(BUDGET.as_nanos() / start.elapsed().as_nanos().max(1))
                .unwrap_or(usize::MAX)
                .clamp(50, 3_000);
            let (soc2, casbin) = rt.block_on(rbac::paired(
                pairs,
                || soc2_allowed(&authorizer, user, &cedar_resource),
                || async { enforcer.enforce(request).unwrap() },
            ));
            println!(
                "rbac_casbin: {} ({} roles, {} users) {outcome}: soc2-rbac p50 {soc2:?}, casbin p50 {casbin:?}, casbin/soc2-rbac = {:.1}x (paired medians of {pairs} calls)",
                shape.name,
                shape.roles,
                shape.users,
                casbin.as_secs_f64() / soc2.as_secs_f64(),
            );
        }
    }
}

criterion_group!(benches, rbac_casbin);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
