#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Just-in-time elevation through the `ElevationManager` and the `Authorizer`: decisions follow
//! approval, expiry (a manual clock, never a sleep) and revocation on the next request;
//! nobody approves their own elevation; break-glass only when configured, always flagged;
//! segregation of duties covers elevated roles; of two racing decisions one wins; all audited.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Fixture, fixture, role, user};
use serde_json::{Value, json};
use soc2_audit::Actor;
use soc2_core::{ElevationId, UserId};
use soc2_rbac::{
    ElevationError, ElevationPolicy, ElevationStatus, ResourceEntity, ResourceRef, RoleError,
    SodConflict,
};

const HOUR: Duration = Duration::from_secs(3600);
const MICRO: Duration = Duration::from_micros(1);

/// A pending change requested by someone else, and whether `who` may approve it now.
async fn may_approve(f: &Fixture, who: UserId) -> bool {
    let chg = ResourceRef::new("Change", "CHG-1042");
    f.add_resource(
        &chg,
        ResourceEntity::new()
            .with_attribute("requester", user())
            .with_attribute("status", "pending"),
    );
    f.authorizer
        .authorize(who, "approve_change", &chg, json!({}))
        .await
        .unwrap()
        .allowed()
}

/// (action, outcome, metadata) of the `rbac.elevation.*` and `rbac.sod.*` events so far.
async fn elevation_events(f: &Fixture) -> Vec<(String, String, serde_json::Map<String, Value>)> {
    f.events()
        .await
        .into_iter()
        .filter(|(action, _, _)| {
            action.starts_with("rbac.elevation.") || action.starts_with("rbac.sod.")
        })
        .collect()
}

fn steps(events: &[(String, String, serde_json::Map<String, Value>)]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|(action, outcome, _)| (action.as_str(), outcome.as_str()))
        .collect()
}

#[tokio::test]
async fn an_approved_elevation_allows_until_it_expires() {
    let f = fixture().await;
    let elevations = f.elevations(ElevationPolicy::default());
    let (alice, bob) = (user(), user());
    assert!(!may_approve(&f, alice).await);

    let requested = elevations
        .request(
            alice,
            alice,
            &role("approver"),
            "  CHG-1042 needs a second approver ",
            2 * HOUR,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            requested.status,
            &requested.reason[..],
            requested.break_glass
        ),
        (
            ElevationStatus::Pending,
            "CHG-1042 needs a second approver",
            false
        )
    );
    assert!(!may_approve(&f, alice).await, "pending grants nothing");

    f.clock.advance(HOUR / 2);
    let approved = elevations.approve(requested.id, bob).await.unwrap();
    assert_eq!(
        (approved.status, approved.decided_by),
        (ElevationStatus::Approved, Some(bob))
    );
    assert!(
        may_approve(&f, alice).await,
        "approved: on the next request"
    );
    assert_eq!(elevations.open(alice).await.unwrap(), [approved]);

    f.clock.advance(HOUR + HOUR / 2 - MICRO);
    assert!(may_approve(&f, alice).await);
    f.clock.advance(MICRO);
    assert!(!may_approve(&f, alice).await, "expired on its own");
    assert_eq!(elevations.open(alice).await.unwrap(), []);

    let events = elevation_events(&f).await;
    assert_eq!(
        steps(&events),
        [
            ("rbac.elevation.requested", "success"),
            ("rbac.elevation.approved", "success"),
        ]
    );
    let approved_event = &events[1].2;
    assert_eq!(approved_event["elevation"], json!(requested.id.to_string()));
    assert_eq!(approved_event["role"], json!("approver"));
    assert_eq!(approved_event["requested_by"], json!(alice.to_string()));
    assert_eq!(approved_event["expires_at"], json!("2026-11-23T11:00:00Z"));
    assert_eq!(approved_event["break_glass"], json!(false));
}

#[tokio::test]
async fn a_revoked_elevation_stops_on_the_next_request() {
    let f = fixture().await;
    let elevations = f.elevations(ElevationPolicy::default());
    let (alice, bob) = (user(), user());
    let requested = elevations
        .request(alice, alice, &role("approver"), "CHG-7", HOUR)
        .await
        .unwrap();
    elevations.approve(requested.id, bob).await.unwrap();
    assert!(may_approve(&f, alice).await);

    f.clock.advance(HOUR / 4);
    let revoked = elevations
        .revoke(requested.id, Actor::service("incident-closer"))
        .await
        .unwrap();
    assert_eq!(revoked.status, ElevationStatus::Revoked);
    assert_eq!(revoked.revoked_at, Some(requested.requested_at + HOUR / 4));
    assert!(
        !may_approve(&f, alice).await,
        "revoked: on the next request"
    );
    assert!(matches!(
        elevations.revoke(requested.id, Actor::System).await,
        Err(ElevationError::WrongStatus(ElevationStatus::Revoked))
    ));
    assert_eq!(
        steps(&elevation_events(&f).await),
        [
            ("rbac.elevation.requested", "success"),
            ("rbac.elevation.approved", "success"),
            ("rbac.elevation.revoked", "success"),
        ]
    );
}

#[tokio::test]
async fn nobody_approves_their_own_elevation() {
    let f = fixture().await;
    let elevations = f.elevations(ElevationPolicy::default());
    let (alice, lead, dave, bob) = (user(), user(), user(), user());
    let own = elevations
        .request(alice, alice, &role("approver"), "CHG-1", HOUR)
        .await
        .unwrap();
    let on_behalf = elevations
        .request(lead, dave, &role("approver"), "CHG-2", HOUR)
        .await
        .unwrap();
    for (id, approver) in [(own.id, alice), (on_behalf.id, lead), (on_behalf.id, dave)] {
        let refused = elevations.approve(id, approver).await;
        assert!(
            matches!(refused, Err(ElevationError::SelfApproval)),
            "{refused:?}"
        );
    }
    assert_eq!(
        elevations.get(own.id).await.unwrap().unwrap().status,
        ElevationStatus::Pending
    );
    assert!(!may_approve(&f, alice).await);
    elevations.approve(on_behalf.id, bob).await.unwrap();
    assert!(may_approve(&f, dave).await);

    let events = elevation_events(&f).await;
    let refusals: Vec<_> = events
        .iter()
        .filter(|(action, outcome, _)| action == "rbac.elevation.approved" && outcome == "denied")
        .collect();
    assert_eq!(refusals.len(), 3);
    assert_eq!(refusals[0].2["elevation"], json!(own.id.to_string()));
}

#[tokio::test]
async fn deciding_an_expired_or_decided_elevation_is_a_typed_error() {
    let f = fixture().await;
    let elevations = f.elevations(ElevationPolicy::default());
    let (alice, bob) = (user(), user());
    let lapsed = elevations
        .request(alice, alice, &role("approver"), "CHG-3", HOUR)
        .await
        .unwrap();
    let denied = elevations
        .request(alice, alice, &role("engineer"), "CHG-4", 2 * HOUR)
        .await
        .unwrap();
    assert!(matches!(
        elevations.revoke(denied.id, Actor::System).await,
        Err(ElevationError::WrongStatus(ElevationStatus::Pending))
    ));
    elevations.deny(denied.id, bob).await.unwrap();
    f.clock.advance(HOUR);

    let wrong = |result: Result<_, ElevationError>| match result {
        Err(ElevationError::WrongStatus(status)) => status,
        other => panic!("expected a status error, got {other:?}"),
    };
    assert_eq!(
        wrong(elevations.approve(lapsed.id, bob).await),
        ElevationStatus::Expired
    );
    assert_eq!(
        wrong(elevations.deny(lapsed.id, bob).await),
        ElevationStatus::Expired
    );
    assert_eq!(
        wrong(elevations.approve(denied.id, bob).await),
        ElevationStatus::Denied
    );
    assert_eq!(
        wrong(elevations.deny(denied.id, bob).await),
        ElevationStatus::Denied
    );
    assert!(matches!(
        elevations.approve(ElevationId::new_v7(), bob).await,
        Err(ElevationError::NotFound)
    ));
    assert_eq!(
        elevations
            .approve(lapsed.id, bob)
            .await
            .unwrap_err()
            .to_string(),
        "the elevation is expired"
    );
    assert!(!may_approve(&f, alice).await);
    assert_eq!(
        steps(&elevation_events(&f).await),
        [
            ("rbac.elevation.requested", "success"),
            ("rbac.elevation.requested", "success"),
            ("rbac.elevation.denied", "success"),
        ]
    );
}

#[tokio::test]
async fn break_glass_is_refused_unless_configured_and_always_flagged() {
    let f = fixture().await;
    let alice = user();
    let refused = f
        .elevations(ElevationPolicy::default())
        .break_glass(alice, &role("approver"), "INC-9: production down", HOUR)
        .await;
    assert!(
        matches!(refused, Err(ElevationError::BreakGlassDisabled)),
        "{refused:?}"
    );
    assert!(!may_approve(&f, alice).await);

    let elevations = f.elevations(ElevationPolicy::default().with_break_glass(HOUR).unwrap());
    let too_long = elevations
        .break_glass(alice, &role("approver"), "INC-9", 2 * HOUR)
        .await;
    assert!(
        matches!(too_long, Err(ElevationError::InvalidDuration { max }) if max == HOUR),
        "{too_long:?}"
    );
    let glass = elevations
        .break_glass(alice, &role("approver"), "INC-9: production down", HOUR / 2)
        .await
        .unwrap();
    assert_eq!(
        (
            glass.status,
            glass.break_glass,
            glass.decided_by,
            glass.requested_by
        ),
        (ElevationStatus::Approved, true, None, alice)
    );
    assert!(may_approve(&f, alice).await, "at once, without approval");
    f.clock.advance(HOUR / 2);
    assert!(!may_approve(&f, alice).await);

    let events = elevation_events(&f).await;
    assert_eq!(
        steps(&events),
        [
            ("rbac.elevation.break_glass", "denied"),
            ("rbac.elevation.break_glass", "success"),
        ]
    );
    assert!(
        events
            .iter()
            .all(|(_, _, m)| m["break_glass"] == json!(true))
    );
    assert_eq!(events[1].2["elevation"], json!(glass.id.to_string()));
}

#[tokio::test]
async fn segregation_of_duties_covers_elevated_roles() {
    let f = fixture().await;
    let elevations = f.elevations(ElevationPolicy::default());
    let (dana, erin, bob) = (user(), user(), user());
    f.manager
        .assign(Actor::System, dana, &role("admin"))
        .await
        .unwrap();
    let refused = elevations
        .request(dana, dana, &role("auditor"), "quarterly audit", HOUR)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ElevationError::SodConflict(c) if c.rule == "admin-auditor"),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        "segregation of duties: rule `admin-auditor` forbids holding admin + auditor"
    );
    assert_eq!(elevations.open(dana).await.unwrap(), []);

    // Both pending; approving the second would complete `admin-approver`.
    let admin = elevations
        .request(erin, erin, &role("admin"), "OPS-1", HOUR)
        .await
        .unwrap();
    let approver = elevations
        .request(erin, erin, &role("approver"), "CHG-9", HOUR)
        .await
        .unwrap();
    elevations.approve(admin.id, bob).await.unwrap();
    let refused = elevations.approve(approver.id, bob).await;
    assert!(
        matches!(&refused, Err(ElevationError::SodConflict(SodConflict { rule, .. })) if rule == "admin-approver"),
        "{refused:?}"
    );
    assert_eq!(
        elevations.get(approver.id).await.unwrap().unwrap().status,
        ElevationStatus::Pending
    );
    // An active elevation counts against assignments too, until it expires.
    let assigned = f
        .manager
        .assign(Actor::System, erin, &role("auditor"))
        .await;
    assert!(
        matches!(&assigned, Err(RoleError::SodConflict(c)) if c.rule == "admin-auditor"),
        "{assigned:?}"
    );
    f.clock.advance(HOUR);
    assert!(
        f.manager
            .assign(Actor::System, erin, &role("auditor"))
            .await
            .unwrap()
    );

    let violations: Vec<_> = elevation_events(&f)
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "rbac.sod.violation")
        .map(|(_, outcome, m)| (outcome, m["rule"].clone(), m.get("elevation").cloned()))
        .collect();
    assert_eq!(
        violations
            .iter()
            .map(|(outcome, rule, elevation)| (&outcome[..], rule, elevation.is_some()))
            .collect::<Vec<_>>(),
        [
            ("denied", &json!("admin-auditor"), true),
            ("denied", &json!("admin-approver"), true),
            ("denied", &json!("admin-auditor"), false),
        ],
        "the refused request, the refused approval, the refused assignment"
    );
    assert_eq!(violations[1].2, Some(json!(approver.id.to_string())));
}

#[tokio::test]
async fn bad_requests_are_typed_errors_and_change_nothing() {
    let f = fixture().await;
    let short_reasons = ElevationPolicy::default()
        .with_max_reason_bytes(10)
        .unwrap();
    let (alice, bob) = (user(), user());
    let approver = role("approver");
    for (policy, reason, duration) in [
        (ElevationPolicy::default(), "", HOUR),
        (ElevationPolicy::default(), " \n\t ", HOUR),
        (ElevationPolicy::default(), &"x".repeat(1025)[..], HOUR),
        (ElevationPolicy::default(), "bell \u{7}", HOUR),
        (short_reasons.clone(), "ten bytes!", HOUR),
        (short_reasons, "eleven byte", HOUR),
        (ElevationPolicy::default(), "CHG-1", Duration::ZERO),
        (ElevationPolicy::default(), "CHG-1", 8 * HOUR + MICRO),
        (ElevationPolicy::default(), "CHG-1", Duration::MAX),
    ] {
        let outcome = f
            .elevations(policy)
            .request(alice, alice, &approver, reason, duration)
            .await;
        match (reason, outcome) {
            ("ten bytes!", Ok(_)) => {}
            ("CHG-1", Err(ElevationError::InvalidDuration { max })) => {
                assert_eq!(max, 8 * HOUR);
            }
            (_, Err(ElevationError::InvalidReason { max_bytes })) => {
                assert!(max_bytes == 1024 || max_bytes == 10);
            }
            (reason, other) => panic!("{reason:?}: {other:?}"),
        }
    }
    f.manager
        .assign(Actor::System, bob, &approver)
        .await
        .unwrap();
    let held = f
        .elevations(ElevationPolicy::default())
        .request(bob, bob, &approver, "CHG-1", HOUR)
        .await;
    assert!(
        matches!(&held, Err(ElevationError::AlreadyHeld(r)) if *r == approver),
        "{held:?}"
    );
    assert_eq!(
        steps(&elevation_events(&f).await),
        [("rbac.elevation.requested", "success")],
        "only the valid request"
    );
    assert!(
        f.elevations(ElevationPolicy::default())
            .open(bob)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_an_approval_and_a_denial_racing_exactly_one_wins() {
    let f = fixture().await;
    let elevations = Arc::new(f.elevations(ElevationPolicy::default()));
    let (alice, bob, carol) = (user(), user(), user());
    const ROUNDS: usize = 100;
    for _ in 0..ROUNDS {
        let requested = elevations
            .request(alice, alice, &role("engineer"), "CHG-5", HOUR)
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let decide = |approve: bool| {
            let (elevations, barrier) = (elevations.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                if approve {
                    elevations.approve(requested.id, bob).await
                } else {
                    elevations.deny(requested.id, carol).await
                }
            })
        };
        let (approval, denial) = (decide(true), decide(false));
        let outcomes = [approval.await.unwrap(), denial.await.unwrap()];
        let stored = elevations.get(requested.id).await.unwrap().unwrap();
        match &outcomes {
            [Ok(won), Err(ElevationError::WrongStatus(status))]
            | [Err(ElevationError::WrongStatus(status)), Ok(won)] => {
                assert_eq!(won, &stored);
                assert_eq!(*status, stored.status);
            }
            other => panic!("expected exactly one winner, got {other:?}"),
        }
    }
    let decided = steps(&elevation_events(&f).await)
        .into_iter()
        .filter(|step| {
            *step == ("rbac.elevation.approved", "success")
                || *step == ("rbac.elevation.denied", "success")
        })
        .count();
    assert_eq!(decided, ROUNDS, "one decision audited per elevation");
}
