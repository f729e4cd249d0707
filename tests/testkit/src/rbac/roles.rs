//! The assignment and hierarchy cases of the `RoleStore` conformance suite: grants, holders,
//! revocation, the closure, cycle refusal, paging, and segregation of duties checked
//! atomically with the write.

use std::sync::Arc;

use soc2_core::{StoreError, UserId};
use soc2_rbac::{Assignment, RoleName, RoleStore, SodRules, UserRoles};
use tokio::sync::Barrier;

use super::{RACE_ROUNDS, RoleBackend, T0, conflict, node, role, roles, rules, users};

pub async fn grants_holders_and_revocation(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let none = SodRules::none();
    let [a, b, stranger] = users();
    for (user, name, outcome) in [
        (a, "engineer", Assignment::Granted),
        (a, "engineer", Assignment::AlreadyHeld),
        (b, "engineer", Assignment::Granted),
        (a, "oncall", Assignment::Granted),
    ] {
        assert_eq!(
            store.assign(user, &role(name), &none, T0).await.unwrap(),
            outcome,
            "{name}"
        );
    }
    assert_eq!(store.holders(&role("engineer")).await.unwrap(), [a, b]);
    assert_eq!(store.holders(&role("nobody")).await.unwrap(), []);
    assert_eq!(
        store.user_roles(a, T0).await.unwrap(),
        UserRoles {
            assigned: roles(&["engineer", "oncall"]),
            elevated: vec![],
            closure: vec![node("engineer", &[]), node("oncall", &[])],
        }
    );
    assert_eq!(
        store.user_roles(stranger, T0).await.unwrap(),
        UserRoles::default()
    );

    assert!(store.revoke(a, &role("engineer")).await.unwrap());
    assert!(!store.revoke(a, &role("engineer")).await.unwrap());
    assert!(!store.revoke(stranger, &role("engineer")).await.unwrap());
    assert_eq!(store.holders(&role("engineer")).await.unwrap(), [b]);
    assert_eq!(
        store.user_roles(a, T0).await.unwrap().assigned,
        roles(&["oncall"])
    );
}

pub async fn the_hierarchy_feeds_the_closure(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let [user] = users();
    store
        .set_parents(&role("approver"), &roles(&["staff", "engineer", "staff"]))
        .await
        .unwrap();
    store
        .set_parents(&role("engineer"), &roles(&["staff"]))
        .await
        .unwrap();
    store
        .set_parents(&role("lead"), &roles(&["approver"]))
        .await
        .unwrap();
    assert_eq!(
        store.hierarchy().await.unwrap(),
        [
            node("approver", &["engineer", "staff"]),
            node("engineer", &["staff"]),
            node("lead", &["approver"]),
        ]
    );
    store
        .assign(user, &role("lead"), &SodRules::none(), T0)
        .await
        .unwrap();
    assert_eq!(
        store.user_roles(user, T0).await.unwrap(),
        UserRoles {
            assigned: roles(&["lead"]),
            elevated: vec![],
            closure: vec![
                node("approver", &["engineer", "staff"]),
                node("engineer", &["staff"]),
                node("lead", &["approver"]),
                node("staff", &[]),
            ],
        }
    );

    store.set_parents(&role("lead"), &[]).await.unwrap();
    store
        .set_parents(&role("approver"), &roles(&["staff"]))
        .await
        .unwrap();
    assert_eq!(
        store.hierarchy().await.unwrap(),
        [node("approver", &["staff"]), node("engineer", &["staff"])]
    );
    assert_eq!(
        store.user_roles(user, T0).await.unwrap().closure,
        [node("lead", &[])]
    );
}

pub async fn parent_changes_forming_a_cycle_are_refused(backend: &impl RoleBackend) {
    let store = backend.open().await;
    store.set_parents(&role("a"), &roles(&["b"])).await.unwrap();
    store.set_parents(&role("b"), &roles(&["c"])).await.unwrap();
    let before = store.hierarchy().await.unwrap();
    for (name, parents) in [
        ("a", &["a"][..]),
        ("c", &["a"][..]),
        ("c", &["d", "b"][..]),
        ("b", &["a"][..]),
    ] {
        let refused = store.set_parents(&role(name), &roles(parents)).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{name} -> {parents:?}: {refused:?}"
        );
    }
    assert_eq!(store.hierarchy().await.unwrap(), before);
    store.set_parents(&role("c"), &roles(&["d"])).await.unwrap();
    store.set_parents(&role("a"), &roles(&["c"])).await.unwrap();
    assert_eq!(
        store.hierarchy().await.unwrap(),
        [node("a", &["c"]), node("b", &["c"]), node("c", &["d"])]
    );
}

pub async fn grants_completing_a_conflict_are_refused(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let rules = rules();
    let [dana, erin, frank, grace] = users();
    let assign = |user, name: &'static str| {
        let (store, rules) = (store.clone(), rules.clone());
        async move { store.assign(user, &role(name), &rules, T0).await.unwrap() }
    };
    assert_eq!(assign(dana, "admin").await, Assignment::Granted);
    assert_eq!(
        assign(dana, "auditor").await,
        Assignment::Refused(conflict("admin-auditor", &["admin", "auditor"]))
    );
    assert_eq!(
        store.user_roles(dana, T0).await.unwrap().assigned,
        roles(&["admin"])
    );

    store
        .set_parents(&role("lead"), &roles(&["approver"]))
        .await
        .unwrap();
    assert_eq!(assign(erin, "lead").await, Assignment::Granted);
    assert_eq!(
        assign(erin, "auditor").await,
        Assignment::Refused(conflict("approver-auditor", &["approver", "auditor"]))
    );

    assert_eq!(assign(frank, "deploy").await, Assignment::Granted);
    assert_eq!(assign(frank, "release").await, Assignment::Granted);
    assert_eq!(
        assign(frank, "sign").await,
        Assignment::Refused(conflict("trio", &["deploy", "release", "sign"]))
    );
    assert_eq!(assign(grace, "auditor").await, Assignment::Granted);
    assert_eq!(store.holders(&role("auditor")).await.unwrap(), [grace]);
}

/// Two app instances grant conflicting roles to one user at the same moment, many times:
/// exactly one grant wins each time.
pub async fn racing_conflicting_grants_one_wins(backend: &impl RoleBackend) {
    let stores = [backend.open().await, backend.open().await];
    let rules = Arc::new(rules());
    for _ in 0..RACE_ROUNDS {
        let [who] = users();
        let barrier = Arc::new(Barrier::new(2));
        let grant = |store: &Arc<dyn RoleStore>, name: &'static str| {
            let (store, rules, barrier) = (store.clone(), rules.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.assign(who, &role(name), &rules, T0).await.unwrap()
            })
        };
        let (a, b) = (grant(&stores[0], "admin"), grant(&stores[1], "auditor"));
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
        assert_eq!(
            stores[0].user_roles(who, T0).await.unwrap().assigned.len(),
            1
        );
    }
}

/// Two app instances make two roles each other's parent at the same moment: one is refused.
pub async fn racing_parent_changes_never_form_a_cycle(backend: &impl RoleBackend) {
    let stores = [backend.open().await, backend.open().await];
    for round in 0..RACE_ROUNDS / 4 {
        let (a, b) = (role(&format!("a{round}")), role(&format!("b{round}")));
        let barrier = Arc::new(Barrier::new(2));
        let link = |store: &Arc<dyn RoleStore>, child: &RoleName, parent: &RoleName| {
            let (store, barrier) = (store.clone(), barrier.clone());
            let (child, parent) = (child.clone(), parent.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.set_parents(&child, &[parent]).await
            })
        };
        let (first, second) = (link(&stores[0], &a, &b), link(&stores[1], &b, &a));
        let outcomes = [first.await.unwrap(), second.await.unwrap()];
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!(
            (outcomes.iter().filter(|o| o.is_ok()).count(), refused),
            (1, 1),
            "{outcomes:?}"
        );
    }
    assert_eq!(stores[1].hierarchy().await.unwrap().len(), RACE_ROUNDS / 4);
}

pub async fn assignments_page_in_user_order(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let none = SodRules::none();
    let all: [UserId; 5] = users();
    for (i, user) in all.iter().enumerate() {
        for name in ["zeta", "alpha", "mid-1"].iter().take(i % 3 + 1) {
            store.assign(*user, &role(name), &none, T0).await.unwrap();
        }
    }
    let expected: Vec<(UserId, Vec<RoleName>)> = all
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let mut held = roles(&["zeta", "alpha", "mid-1"][..=i % 3]);
            held.sort();
            (*user, held)
        })
        .collect();
    assert_eq!(store.assignments(None, 2).await.unwrap(), expected[..2]);
    assert_eq!(
        store.assignments(Some(all[1]), 2).await.unwrap(),
        expected[2..4]
    );
    assert_eq!(
        store.assignments(Some(all[3]), 2).await.unwrap(),
        expected[4..]
    );
    assert_eq!(store.assignments(Some(all[4]), 2).await.unwrap(), []);
    assert_eq!(store.assignments(None, 100).await.unwrap(), expected);
}
