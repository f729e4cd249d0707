#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Atomic reload: a broken edit keeps the previous set, returns the errors and is audited; a
//! good one swaps in while decisions in flight keep their snapshot.

mod common;

use common::fixture;
use serde_json::json;
use soc2_audit::Actor;
use soc2_rbac::{ProblemKind, ReloadError};

#[tokio::test]
async fn a_broken_edit_keeps_the_previous_set_and_is_audited() {
    let f = fixture().await;
    let before = f.policies.version();
    f.write(
        "changes.cedar",
        "@id(\"x\")\npermit (principal, action == Action::\"nope\", resource);\n",
    );
    let error = f
        .policies
        .reload(Actor::service("deployer"))
        .await
        .unwrap_err();
    let ReloadError::Invalid(error) = error else {
        panic!("expected Invalid, got {error:?}")
    };
    assert_eq!(error.problems().len(), 1);
    assert_eq!(error.problems()[0].kind(), ProblemKind::Validation);
    assert_eq!(f.policies.version(), before);
    assert!(
        f.policies
            .snapshot()
            .policy_ids()
            .contains(&"changes.approve-own-forbidden".to_owned())
    );

    let reloads = f.events_of("rbac.policy.reloaded").await;
    assert_eq!(reloads.len(), 2, "the initial load and the refusal");
    assert_eq!(reloads[0].0, "success");
    assert_eq!(reloads[1].0, "failure");
    assert_eq!(reloads[1].1["problem_count"], 1);
    assert_eq!(reloads[1].1["version_in_force"], before.to_string());
    assert!(
        reloads[1].1["problems"][0]
            .as_str()
            .unwrap()
            .contains("changes.cedar:2:")
    );
}

#[tokio::test]
async fn a_good_edit_swaps_in_and_snapshots_in_flight_are_kept() {
    let f = fixture().await;
    let old = f.policies.snapshot();
    f.write("audit.cedar", "@id(\"everyone-reads\")\npermit (principal, action == Action::\"read_audit\", resource);\n");
    let report = f.policies.reload(Actor::System).await.unwrap();
    assert_eq!(report.previous, old.version());
    assert_ne!(report.current, report.previous);
    assert_eq!(f.policies.version(), report.current);
    assert!(
        old.policy_ids().contains(&"audit.auditors-read".to_owned()),
        "the old snapshot is unchanged"
    );
    assert!(
        f.policies
            .snapshot()
            .policy_ids()
            .contains(&"audit.everyone-reads".to_owned())
    );

    let log = soc2_rbac::ResourceRef::new("AuditLog", "main");
    f.add_resource(&log, soc2_rbac::ResourceEntity::new());
    let decision = f
        .authorizer
        .authorize(common::user(), "read_audit", &log, json!({}))
        .await
        .unwrap();
    assert_eq!(
        (decision.allowed(), decision.version()),
        (true, report.current)
    );

    let reloads = f.events_of("rbac.policy.reloaded").await;
    assert_eq!(reloads[1].0, "success");
    assert_eq!(reloads[1].1["version"], report.current.to_string());
    assert_eq!(
        reloads[1].1["previous_version"],
        report.previous.to_string()
    );
}

#[tokio::test]
async fn concurrent_reloads_and_decisions_never_see_a_half_loaded_set() {
    let f = fixture().await;
    let alice = common::user();
    let log = soc2_rbac::ResourceRef::new("AuditLog", "main");
    f.add_resource(&log, soc2_rbac::ResourceEntity::new());
    let versions = [f.policies.version()];
    let reloads = async {
        for _ in 0..10 {
            f.policies.reload(Actor::System).await.unwrap();
        }
    };
    let decisions = async {
        for _ in 0..200 {
            let decision = f
                .authorizer
                .authorize(alice, "read_audit", &log, json!({}))
                .await
                .unwrap();
            assert!(!decision.allowed());
            assert_eq!(decision.version(), versions[0]);
            tokio::task::yield_now().await;
        }
    };
    tokio::join!(reloads, decisions);
}

#[tokio::test]
async fn opening_a_broken_directory_fails_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let store = soc2_audit::MemoryAuditStore::new(&soc2_core::KeyRing::single(
        soc2_core::KeyId::new("k").unwrap(),
        [1; 32],
    ));
    let audit = soc2_audit::AuditLog::start(
        std::sync::Arc::new(store.clone()),
        soc2_audit::AuditLogConfig::default(),
    );
    let opened = soc2_rbac::PolicyStore::open(
        dir.path(),
        audit.clone(),
        std::sync::Arc::new(soc2_core::SystemClock),
    )
    .await;
    let Err(ReloadError::Invalid(error)) = opened else {
        panic!("expected Invalid")
    };
    assert_eq!(error.problems()[0].kind(), ProblemKind::MissingSchema);
    audit.flush().await.unwrap();
    use soc2_audit::AuditStore;
    let events = store.read(0, 10).await.unwrap();
    let event = events[0].event().unwrap();
    assert_eq!(
        (event.action().name(), event.outcome().name()),
        ("rbac.policy.reloaded", "failure")
    );
}
