//! The elevation cases of the `RoleStore` conformance suite: records round-trip exactly, count
//! only while approved and unexpired, change status once, and obey segregation of duties
//! atomically with the write.

use std::sync::Arc;

use soc2_core::{ElevationId, StoreError, UserId};
use soc2_rbac::{
    Assignment, Elevation, ElevationChange, ElevationStatus, ElevationUpdate, RoleStore, SodRules,
    UserRoles,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;

use super::{RACE_ROUNDS, RoleBackend, T0, conflict, node, role, roles, rules, users};

fn at(minutes: i64) -> OffsetDateTime {
    T0 + Duration::minutes(minutes)
}

/// A pending elevation of `user` to `name`, requested at `requested_at` for `minutes`.
fn pending(user: UserId, name: &str, requested_at: OffsetDateTime, minutes: i64) -> Elevation {
    Elevation {
        id: ElevationId::new_v7(),
        user,
        role: role(name),
        reason: "CHG-1042: hotfix für prod\n(ticket OPS-7)".into(),
        requested_by: user,
        requested_at,
        expires_at: requested_at + Duration::minutes(minutes),
        break_glass: false,
        status: ElevationStatus::Pending,
        decided_by: None,
        decided_at: None,
        revoked_at: None,
    }
}

async fn add(store: &dyn RoleStore, elevation: &Elevation, rules: &SodRules) -> Assignment {
    store.add_elevation(elevation, rules).await.unwrap()
}

async fn change(
    store: &dyn RoleStore,
    id: ElevationId,
    change: ElevationChange<'_>,
    at: OffsetDateTime,
) -> ElevationUpdate {
    store.change_elevation(id, change, at).await.unwrap()
}

fn applied(update: ElevationUpdate) -> Elevation {
    match update {
        ElevationUpdate::Applied(elevation) => elevation,
        other => panic!("expected the change to apply, got {other:?}"),
    }
}

pub async fn elevations_round_trip(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let none = SodRules::none();
    let [user, manager] = users();
    let mut requested = pending(user, "approver", T0, 120);
    requested.requested_by = manager;
    assert_eq!(
        add(store.as_ref(), &requested, &none).await,
        Assignment::Granted
    );
    assert_eq!(
        store.elevation(requested.id).await.unwrap(),
        Some(requested.clone())
    );
    assert_eq!(store.elevation(ElevationId::new_v7()).await.unwrap(), None);
    let again = store.add_elevation(&requested, &none).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

    let mut glass = pending(user, "admin", at(1), 60);
    glass.break_glass = true;
    glass.status = ElevationStatus::Approved;
    glass.decided_at = Some(glass.requested_at);
    assert_eq!(
        add(store.as_ref(), &glass, &none).await,
        Assignment::Granted
    );
    assert_eq!(
        store.elevation(glass.id).await.unwrap(),
        Some(glass.clone())
    );
    assert_eq!(
        store.open_elevations(user, at(1)).await.unwrap(),
        [requested, glass]
    );
    assert_eq!(store.open_elevations(manager, at(1)).await.unwrap(), []);
}

pub async fn approved_elevations_count_only_in_their_window(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let none = SodRules::none();
    let [user, approver] = users();
    store
        .set_parents(&role("approver"), &roles(&["engineer"]))
        .await
        .unwrap();
    store
        .assign(user, &role("oncall"), &none, T0)
        .await
        .unwrap();
    let requested = pending(user, "approver", T0, 120);
    add(store.as_ref(), &requested, &none).await;
    assert_eq!(
        store.user_roles(user, at(1)).await.unwrap().elevated,
        [],
        "pending"
    );

    let approve = ElevationChange::Approve {
        by: approver,
        rules: &none,
    };
    let approved = applied(change(store.as_ref(), requested.id, approve, at(30)).await);
    let mut expected = requested.clone();
    expected.status = ElevationStatus::Approved;
    expected.decided_by = Some(approver);
    expected.decided_at = Some(at(30));
    assert_eq!(approved, expected);
    assert_eq!(
        store.elevation(requested.id).await.unwrap(),
        Some(expected.clone())
    );

    let assigned_only = UserRoles {
        assigned: roles(&["oncall"]),
        elevated: vec![],
        closure: vec![node("oncall", &[])],
    };
    let elevated = UserRoles {
        assigned: roles(&["oncall"]),
        elevated: roles(&["approver"]),
        closure: vec![
            node("approver", &["engineer"]),
            node("engineer", &[]),
            node("oncall", &[]),
        ],
    };
    let end = requested.expires_at;
    for (when, roles) in [
        (at(29), &assigned_only),
        (at(30), &elevated),
        (end - Duration::microseconds(1), &elevated),
        (end, &assigned_only),
    ] {
        assert_eq!(
            &store.user_roles(user, when).await.unwrap(),
            roles,
            "{when}"
        );
    }
    assert_eq!(
        store
            .open_elevations(user, end - Duration::microseconds(1))
            .await
            .unwrap(),
        [expected.clone()]
    );
    assert_eq!(store.open_elevations(user, end).await.unwrap(), []);
    assert_eq!(
        change(store.as_ref(), requested.id, ElevationChange::Revoke, end).await,
        ElevationUpdate::Stale(expected),
        "expired"
    );

    // Assigned while elevated: the role is assigned, no longer merely elevated.
    store
        .assign(user, &role("approver"), &none, at(31))
        .await
        .unwrap();
    let both = store.user_roles(user, at(31)).await.unwrap();
    assert_eq!(
        (both.assigned, both.elevated, both.closure),
        (roles(&["approver", "oncall"]), vec![], elevated.closure)
    );
}

pub async fn decided_and_revoked_elevations_stay_closed(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let none = SodRules::none();
    let [user, approver] = users();
    let approve = ElevationChange::Approve {
        by: approver,
        rules: &none,
    };
    let deny = ElevationChange::Deny { by: approver };
    let revoke = ElevationChange::Revoke;

    let revoked = pending(user, "approver", T0, 120);
    add(store.as_ref(), &revoked, &none).await;
    assert_eq!(
        change(store.as_ref(), revoked.id, revoke, at(1)).await,
        ElevationUpdate::Stale(revoked.clone()),
        "not approved yet"
    );
    applied(change(store.as_ref(), revoked.id, approve, at(1)).await);
    let ended = applied(change(store.as_ref(), revoked.id, revoke, at(10)).await);
    assert_eq!(
        (ended.status, ended.decided_at, ended.revoked_at),
        (ElevationStatus::Revoked, Some(at(1)), Some(at(10)))
    );
    assert_eq!(store.user_roles(user, at(11)).await.unwrap().elevated, []);
    for again in [approve, deny, revoke] {
        assert_eq!(
            change(store.as_ref(), revoked.id, again, at(11)).await,
            ElevationUpdate::Stale(ended.clone())
        );
    }

    let denied = pending(user, "admin", T0, 120);
    add(store.as_ref(), &denied, &none).await;
    let refused = applied(change(store.as_ref(), denied.id, deny, at(2)).await);
    assert_eq!(
        (refused.status, refused.decided_by, refused.decided_at),
        (ElevationStatus::Denied, Some(approver), Some(at(2)))
    );
    for again in [approve, deny, revoke] {
        assert_eq!(
            change(store.as_ref(), denied.id, again, at(3)).await,
            ElevationUpdate::Stale(refused.clone())
        );
    }

    let lapsed = pending(user, "oncall", T0, 5);
    add(store.as_ref(), &lapsed, &none).await;
    for late in [approve, deny] {
        assert_eq!(
            change(store.as_ref(), lapsed.id, late, at(5)).await,
            ElevationUpdate::Stale(lapsed.clone())
        );
    }
    assert_eq!(lapsed.status_at(at(5)), ElevationStatus::Expired);
    for any in [approve, deny, revoke] {
        assert_eq!(
            change(store.as_ref(), ElevationId::new_v7(), any, at(5)).await,
            ElevationUpdate::NotFound
        );
    }
    assert_eq!(store.open_elevations(user, at(20)).await.unwrap(), []);
    assert_eq!(store.user_roles(user, at(20)).await.unwrap().elevated, []);
}

pub async fn segregation_of_duties_counts_elevations(backend: &impl RoleBackend) {
    let store = backend.open().await;
    let rules = rules();
    let [dana, erin, approver] = users();
    store
        .assign(dana, &role("admin"), &rules, T0)
        .await
        .unwrap();
    assert_eq!(
        add(store.as_ref(), &pending(dana, "auditor", T0, 60), &rules).await,
        Assignment::Refused(conflict("admin-auditor", &["admin", "auditor"]))
    );
    assert_eq!(
        add(store.as_ref(), &pending(dana, "admin", T0, 60), &rules).await,
        Assignment::AlreadyHeld
    );
    assert_eq!(store.open_elevations(dana, T0).await.unwrap(), []);

    // Pending elevations hold nothing; the second approval would complete the conflict.
    let admin = pending(erin, "admin", T0, 60);
    let auditor = pending(erin, "auditor", T0, 60);
    for elevation in [&admin, &auditor] {
        assert_eq!(
            add(store.as_ref(), elevation, &rules).await,
            Assignment::Granted
        );
    }
    let approve = ElevationChange::Approve {
        by: approver,
        rules: &rules,
    };
    applied(change(store.as_ref(), admin.id, approve, at(1)).await);
    assert_eq!(
        change(store.as_ref(), auditor.id, approve, at(2)).await,
        ElevationUpdate::Refused {
            elevation: auditor.clone(),
            conflict: conflict("admin-auditor", &["admin", "auditor"]),
        }
    );
    assert_eq!(store.elevation(auditor.id).await.unwrap(), Some(auditor));
    assert_eq!(
        store
            .assign(erin, &role("auditor"), &rules, at(2))
            .await
            .unwrap(),
        Assignment::Refused(conflict("admin-auditor", &["admin", "auditor"])),
        "an active elevation counts"
    );
    assert_eq!(
        store
            .assign(erin, &role("auditor"), &rules, at(60))
            .await
            .unwrap(),
        Assignment::Granted,
        "an expired one does not"
    );
}

/// Two app instances approve and deny one elevation at the same moment: exactly one decision
/// applies, and the store keeps it.
pub async fn racing_decisions_apply_once(backend: &impl RoleBackend) {
    let stores = [backend.open().await, backend.open().await];
    let none = Arc::new(SodRules::none());
    let [user, approver, denier] = users();
    for _ in 0..RACE_ROUNDS / 2 {
        let elevation = pending(user, "approver", T0, 60);
        add(stores[0].as_ref(), &elevation, &none).await;
        let barrier = Arc::new(Barrier::new(2));
        let decide = |store: &Arc<dyn RoleStore>, approve: bool| {
            let (store, none, barrier) = (store.clone(), none.clone(), barrier.clone());
            tokio::spawn(async move {
                let change = if approve {
                    ElevationChange::Approve {
                        by: approver,
                        rules: &none,
                    }
                } else {
                    ElevationChange::Deny { by: denier }
                };
                barrier.wait().await;
                store
                    .change_elevation(elevation.id, change, at(1))
                    .await
                    .unwrap()
            })
        };
        let (a, b) = (decide(&stores[0], true), decide(&stores[1], false));
        let outcomes = [a.await.unwrap(), b.await.unwrap()];
        let winners: Vec<&Elevation> = outcomes
            .iter()
            .filter_map(|o| match o {
                ElevationUpdate::Applied(elevation) => Some(elevation),
                _ => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        let stored = stores[1].elevation(elevation.id).await.unwrap().unwrap();
        assert_eq!(&stored, winners[0]);
        assert!(
            outcomes.contains(&ElevationUpdate::Stale(stored)),
            "{outcomes:?}"
        );
    }
}

/// Two app instances race an approval against a conflicting grant (an assignment, or the
/// approval of another elevation) for one user: exactly one wins.
pub async fn racing_grants_and_approvals_keep_segregation(backend: &impl RoleBackend) {
    let stores = [backend.open().await, backend.open().await];
    let rules = Arc::new(rules());
    let [approver] = users();
    for round in 0..RACE_ROUNDS / 2 {
        let [user] = users();
        let admin = pending(user, "admin", T0, 60);
        let auditor = pending(user, "auditor", T0, 60);
        for elevation in [&admin, &auditor] {
            add(stores[0].as_ref(), elevation, &rules).await;
        }
        let barrier = Arc::new(Barrier::new(2));
        let approval = {
            let (store, rules, barrier) = (stores[0].clone(), rules.clone(), barrier.clone());
            tokio::spawn(async move {
                let approve = ElevationChange::Approve {
                    by: approver,
                    rules: &rules,
                };
                barrier.wait().await;
                let update = store.change_elevation(admin.id, approve, at(1)).await;
                matches!(update.unwrap(), ElevationUpdate::Applied(_))
            })
        };
        let grant = {
            let (store, rules, barrier) = (stores[1].clone(), rules.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                if round % 2 == 0 {
                    let granted = store.assign(user, &role("auditor"), &rules, at(1)).await;
                    granted.unwrap() == Assignment::Granted
                } else {
                    let approve = ElevationChange::Approve {
                        by: approver,
                        rules: &rules,
                    };
                    let update = store.change_elevation(auditor.id, approve, at(1)).await;
                    matches!(update.unwrap(), ElevationUpdate::Applied(_))
                }
            })
        };
        let won = [approval.await.unwrap(), grant.await.unwrap()];
        assert_eq!(won.iter().filter(|won| **won).count(), 1, "round {round}");
        let held = stores[1].user_roles(user, at(1)).await.unwrap();
        assert_eq!(held.assigned.len() + held.elevated.len(), 1, "{held:?}");
    }
}
