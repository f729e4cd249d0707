#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Static segregation of duties through the `RoleManager`: refused grants name the rule,
//! `scan` finds violations after a rule is added; all audited. (The store's atomic check,
//! concurrent grants included, is in the conformance suite.)

mod common;

use common::{fixture, role, user};
use serde_json::json;
use soc2_audit::Actor;
use soc2_core::Clock;
use soc2_rbac::{RoleError, RoleStore, SodConflict};

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
        f.roles
            .user_roles(dana, f.clock.now())
            .await
            .unwrap()
            .assigned,
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
