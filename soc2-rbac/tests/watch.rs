#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reload on file change (feature `watch`): the watcher waits on the file system's own
//! notifications; the tests wait on the watcher's events, with a timeout, never a fixed sleep.

mod common;

use std::time::Duration;

use common::{Fixture, fixture};
use serde_json::json;
use soc2_audit::{Actor, AuditStore};
use soc2_rbac::{PolicyWatcher, ProblemKind, ReloadError, ResourceEntity, ResourceRef, WatchEvent};
use tokio::sync::broadcast;

/// Quiet time before a reload; short, since the tests write each file in one call.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// The longest wait for the file system and the reload (generous for loaded CI machines).
const PATIENCE: Duration = Duration::from_secs(30);

async fn next(events: &mut broadcast::Receiver<WatchEvent>) -> WatchEvent {
    tokio::time::timeout(PATIENCE, events.recv())
        .await
        .expect("the watcher reported within the timeout")
        .expect("the watcher is running")
}

/// (outcome, actor) of every `rbac.policy.reloaded` event so far.
async fn reloads(f: &Fixture) -> Vec<(String, Actor)> {
    f.audit.flush().await.unwrap();
    f.audit_store
        .read(0, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|stored| stored.event().unwrap())
        .filter(|event| event.action().name() == "rbac.policy.reloaded")
        .map(|event| (event.outcome().name().to_owned(), event.actor().clone()))
        .collect()
}

async fn may_read_audit(f: &Fixture) -> bool {
    let log = ResourceRef::new("AuditLog", "main");
    f.add_resource(&log, ResourceEntity::new());
    f.authorizer
        .authorize(common::user(), "read_audit", &log, json!({}))
        .await
        .unwrap()
        .allowed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_edit_is_put_in_force() {
    let f = fixture().await;
    let before = f.policies.version();
    let watcher = PolicyWatcher::start(f.policies.clone(), DEBOUNCE).unwrap();
    let mut events = watcher.subscribe();
    assert!(!may_read_audit(&f).await, "only auditors read the log");

    f.write(
        "audit.cedar",
        "@id(\"everyone-reads\")\npermit (principal, action == Action::\"read_audit\", resource);\n",
    );

    let WatchEvent::Reloaded(report) = next(&mut events).await else {
        panic!("expected a reload")
    };
    assert_eq!(report.previous, before);
    assert_ne!(report.current, before);
    assert_eq!(f.policies.version(), report.current);
    assert!(may_read_audit(&f).await, "the new policy decides");
    assert_eq!(
        reloads(&f).await,
        [
            ("success".to_owned(), Actor::System),
            ("success".to_owned(), Actor::service("policy-watcher")),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_edit_keeps_the_previous_set_and_is_reported_and_audited() {
    let f = fixture().await;
    let before = f.policies.version();
    let watcher = PolicyWatcher::start(f.policies.clone(), DEBOUNCE).unwrap();
    let mut events = watcher.subscribe();

    f.write(
        "audit.cedar",
        "@id(\"broken\")\npermit (principal, action == Action::\"nope\", resource);\n",
    );

    let WatchEvent::Refused(error) = next(&mut events).await else {
        panic!("expected a refusal")
    };
    let ReloadError::Invalid(error) = &*error else {
        panic!("expected Invalid, got {error:?}")
    };
    assert_eq!(error.problems().len(), 1);
    assert_eq!(error.problems()[0].kind(), ProblemKind::Validation);
    assert_eq!(
        f.policies.version(),
        before,
        "the previous set stays in force"
    );
    assert!(!may_read_audit(&f).await);
    assert_eq!(
        reloads(&f).await,
        [
            ("success".to_owned(), Actor::System),
            ("failure".to_owned(), Actor::service("policy-watcher")),
        ]
    );

    // Fixing the file puts the fix in force.
    f.write(
        "audit.cedar",
        "@id(\"everyone-reads\")\npermit (principal, action == Action::\"read_audit\", resource);\n",
    );
    let WatchEvent::Reloaded(report) = next(&mut events).await else {
        panic!("expected a reload")
    };
    assert_eq!(report.previous, before);
    assert!(may_read_audit(&f).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_watcher_stops_it() {
    let f = fixture().await;
    let watcher = PolicyWatcher::start(f.policies.clone(), DEBOUNCE).unwrap();
    let mut events = watcher.subscribe();
    drop(watcher);
    let closed = tokio::time::timeout(PATIENCE, events.recv()).await.unwrap();
    assert!(matches!(closed, Err(broadcast::error::RecvError::Closed)));
}

#[tokio::test]
async fn a_missing_directory_cannot_be_watched() {
    let f = fixture().await;
    let path = f.path().to_owned();
    std::fs::remove_dir_all(&path).unwrap();
    let error = PolicyWatcher::start(f.policies.clone(), DEBOUNCE).unwrap_err();
    assert!(
        matches!(error, soc2_rbac::WatchError::Watch(_)),
        "{error:?}"
    );
}

#[test]
fn starting_outside_a_runtime_is_an_error() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let f = runtime.block_on(fixture());
    let error = PolicyWatcher::start(f.policies.clone(), DEBOUNCE).unwrap_err();
    assert!(
        matches!(error, soc2_rbac::WatchError::NoRuntime),
        "{error:?}"
    );
}
