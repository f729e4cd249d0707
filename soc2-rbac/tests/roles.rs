#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Static segregation of duties: refused grants name the rule, concurrent grants cannot
//! together break a rule, `scan` finds violations after a rule is added; all audited.

mod common;

use std::sync::Arc;

use common::{fixture, role, user};
use serde_json::json;
use soc2_audit::Actor;
use soc2_rbac::{Assignment, MemoryRoleStore, RoleError, RoleStore, SodConflict, SodRules};

#[tokio::test]
async fn a_grant_completing_a_conflict_is_refused_naming_the_rule() {
    let f = fixture().await;
    let dana = user();
    assert!(
        f.manager
            .assign(Actor::System, dana, &role("admin"))
            .await
            .unwrap()
    );
    assert!(
        !f.manager
            .assign(Actor::System, dana, &role("admin"))
            .await
            .unwrap(),
        "already held"
    );
    let refused = f
        .manager
        .assign(Actor::System, dana, &role("auditor"))
        .await;
    match refused {
        Err(RoleError::SodConflict(conflict)) => assert_eq!(
            conflict,
            SodConflict {
                rule: "admin-auditor".into(),
                roles: vec![role("admin"), role("auditor")]
            }
        ),
        other => panic!("expected a SoD conflict, got {other:?}"),
    }
    assert_eq!(
        refused_message(&f, dana).await,
        "segregation of duties: rule `admin-auditor` forbids holding admin + auditor"
    );
    assert_eq!(
        f.roles.user_roles(dana).await.unwrap().assigned,
        [role("admin")]
    );

    let events: Vec<_> = f
        .events()
        .await
        .into_iter()
        .filter(|(action, _, _)| action.starts_with("rbac.role") || action.starts_with("rbac.sod"))
        .map(|(action, outcome, metadata)| (action, outcome, metadata.get("rule").cloned()))
        .collect();
    assert_eq!(
        events,
        [
            ("rbac.role.granted".into(), "success".into(), None),
            (
                "rbac.sod.violation".into(),
                "denied".into(),
                Some(json!("admin-auditor"))
            ),
            (
                "rbac.sod.violation".into(),
                "denied".into(),
                Some(json!("admin-auditor"))
            ),
        ]
    );
}

async fn refused_message(f: &common::Fixture, who: soc2_core::UserId) -> String {
    f.manager
        .assign(Actor::System, who, &role("auditor"))
        .await
        .unwrap_err()
        .to_string()
}

#[tokio::test]
async fn inherited_roles_count_toward_conflicts() {
    let f = fixture().await;
    let erin = user();
    f.roles
        .set_parents(&role("lead"), &[role("approver")])
        .await
        .unwrap();
    f.manager
        .assign(Actor::System, erin, &role("lead"))
        .await
        .unwrap();
    let refused = f
        .manager
        .assign(Actor::System, erin, &role("auditor"))
        .await;
    assert!(
        matches!(refused, Err(RoleError::SodConflict(ref c)) if c.rule == "approver-auditor"),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_conflicting_grants_exactly_one_wins() {
    let rules = soc2_rbac::PolicySnapshot::load(std::path::Path::new(common::EXAMPLE))
        .unwrap()
        .sod()
        .clone();
    let rules = Arc::new(rules);
    let store = MemoryRoleStore::new();
    for _ in 0..200 {
        let who = user();
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let grant = |name: &'static str| {
            let (store, rules, barrier) = (store.clone(), rules.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.assign(who, &role(name), &rules).await.unwrap()
            })
        };
        let (a, b) = (grant("admin"), grant("auditor"));
        let outcomes = [a.await.unwrap(), b.await.unwrap()];
        let granted = outcomes
            .iter()
            .filter(|o| **o == Assignment::Granted)
            .count();
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Assignment::Refused(c) if c.rule == "admin-auditor"))
            .count();
        assert_eq!((granted, refused), (1, 1), "{outcomes:?}");
        assert_eq!(store.user_roles(who).await.unwrap().assigned.len(), 1);
    }
}

#[tokio::test]
async fn scan_reports_every_violation_after_a_rule_is_added() {
    let f = fixture().await;
    let (frank, grace, heidi) = (user(), user(), user());
    for (who, name) in [
        (frank, "engineer"),
        (frank, "approver"),
        (grace, "engineer"),
        (grace, "approver"),
        (heidi, "engineer"),
    ] {
        f.manager
            .assign(Actor::System, who, &role(name))
            .await
            .unwrap();
    }
    assert!(f.manager.scan(Actor::System).await.unwrap().is_empty());

    let sod = std::fs::read_to_string(f.path().join("sod.toml")).unwrap();
    f.write(
        "sod.toml",
        &format!(
            "{sod}\n[[rule]]\nname = \"build-approve\"\nroles = [\"engineer\", \"approver\"]\n"
        ),
    );
    f.policies.reload(Actor::System).await.unwrap();
    let mut found: Vec<_> = f
        .manager
        .scan(Actor::service("sod-scan"))
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.user, v.conflict.rule, v.conflict.roles))
        .collect();
    found.sort();
    let both = vec![role("approver"), role("engineer")];
    assert_eq!(
        found,
        [
            (frank, "build-approve".to_owned(), both.clone()),
            (grace, "build-approve".to_owned(), both)
        ]
    );
    let audited = f.events_of("rbac.sod.violation").await;
    assert_eq!(audited.len(), 2);
    assert!(
        audited
            .iter()
            .all(|(outcome, m)| outcome == "failure" && m["rule"] == "build-approve")
    );
}

#[tokio::test]
async fn the_memory_store_keeps_holders_and_hierarchy_consistent() {
    let store = MemoryRoleStore::new();
    let none = SodRules::none();
    let (a, b) = (user(), user());
    assert_eq!(
        store.assign(a, &role("engineer"), &none).await.unwrap(),
        Assignment::Granted
    );
    assert_eq!(
        store.assign(b, &role("engineer"), &none).await.unwrap(),
        Assignment::Granted
    );
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(store.holders(&role("engineer")).await.unwrap(), expected);
    assert!(store.revoke(a, &role("engineer")).await.unwrap());
    assert!(!store.revoke(a, &role("engineer")).await.unwrap());
    assert_eq!(store.holders(&role("engineer")).await.unwrap(), [b]);

    store
        .set_parents(&role("approver"), &[role("engineer")])
        .await
        .unwrap();
    let cycle = store
        .set_parents(&role("engineer"), &[role("approver")])
        .await;
    assert!(
        matches!(cycle, Err(soc2_core::StoreError::Conflict(_))),
        "{cycle:?}"
    );
    let hierarchy = store.hierarchy().await.unwrap();
    assert_eq!(
        (
            hierarchy.len(),
            &hierarchy[0].role,
            &hierarchy[0].parents[..]
        ),
        (1, &role("approver"), &[role("engineer")][..])
    );

    store.assign(a, &role("approver"), &none).await.unwrap();
    let roles = store.user_roles(a).await.unwrap();
    assert_eq!(roles.assigned, [role("approver")]);
    let closure: Vec<_> = roles.closure.iter().map(|n| n.role.as_str()).collect();
    assert_eq!(closure, ["approver", "engineer"]);

    let first = store.assignments(None, 1).await.unwrap();
    let rest = store.assignments(Some(first[0].0), 10).await.unwrap();
    assert_eq!((first.len(), rest.len()), (1, 1));
    assert_ne!(first[0].0, rest[0].0);
}
