//! The `AuditStore` conformance suite.
//!
//! [`audit_store_conformance!`](crate::audit_store_conformance) runs the behaviour every backend
//! must have; [`audit_tamper_conformance!`](crate::audit_tamper_conformance) tampers with the
//! stored rows the way an attacker with database access would (through SQL for SQL backends) and
//! checks that verification names the first bad `seq` and what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_audit::{
    Actor, AuditEvent, AuditStore, CSV_HEADER, CheckpointKind, ExportFormat, Outcome, SdkAction,
    Target, TimeRange, VerifyError, VerifyRequest, ViolationKind, export, purge_before, verify,
};
use soc2_core::{KeyId, KeyRing, RequestContext, StoreError};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::test_keys;

/// A backend under test: a database that store handles can be opened on.
#[async_trait]
pub trait AuditBackend: Send + Sync + 'static {
    /// A new store handle on this backend's database, chaining with `keys`. Each call is a
    /// separate connection pool, like a separate app instance.
    async fn open(&self, keys: &KeyRing) -> Arc<dyn AuditStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

/// Direct writes to the stored rows, bypassing the store, for the tamper suite.
#[async_trait]
pub trait AuditTamper: AuditBackend {
    /// Replaces the stored body of `seq`.
    async fn set_body(&self, seq: u64, body: &str);
    /// Replaces the indexed `action` column of `seq`.
    async fn set_action_column(&self, seq: u64, action: &str);
    /// Deletes the event `seq`.
    async fn delete(&self, seq: u64);
    /// Deletes every event after `seq`.
    async fn delete_after(&self, seq: u64);
    /// Swaps the positions (`seq` values) of two events.
    async fn swap(&self, a: u64, b: u64);
    /// Sets the head checkpoint's `seq` without re-signing it.
    async fn set_head_seq(&self, seq: u64);
    /// Deletes every checkpoint.
    async fn delete_checkpoints(&self);
}

const T0: OffsetDateTime = datetime!(2026-11-01 00:00 UTC);

fn keys() -> KeyRing {
    test_keys("conformance", 0x42)
}

/// An event stamped `T0 + minutes`, numbered `n` in its metadata.
pub fn event_at(n: u64, minutes: i64) -> AuditEvent {
    AuditEvent::new(
        SdkAction::LoginFailed,
        Outcome::Failure,
        Actor::anonymous(Some("alice")),
        T0 + Duration::minutes(minutes),
    )
    .with_reason("wrong password")
    .with_metadata("n", n)
}

fn events(range: std::ops::Range<u64>) -> Vec<AuditEvent> {
    range.map(|n| event_at(n, n as i64)).collect()
}

async fn verify_all(store: &dyn AuditStore, keys: &KeyRing) -> Result<u64, VerifyError> {
    verify(store, keys, &VerifyRequest::all())
        .await
        .map(|v| v.checked)
}

async fn violation(store: &dyn AuditStore) -> (u64, ViolationKind) {
    match verify(store, &keys(), &VerifyRequest::all()).await {
        Err(VerifyError::Violation(v)) => (v.seq, v.kind),
        other => panic!("expected a violation, got {other:?}"),
    }
}

fn numbers(stored: &[soc2_audit::StoredEvent]) -> Vec<u64> {
    stored
        .iter()
        .map(|s| s.event().unwrap().metadata()["n"].as_u64().unwrap())
        .collect()
}

/// Flushes `log` and returns the (action name, reason) of every event `store` holds, in order:
/// what behaviour tests count.
pub async fn actions_and_reasons(
    log: &soc2_audit::AuditLog,
    store: &dyn AuditStore,
) -> Vec<(String, Option<String>)> {
    log.flush().await.unwrap();
    store
        .read(0, 100_000)
        .await
        .unwrap()
        .iter()
        .map(|stored| {
            let event = stored.event().unwrap();
            (
                event.action().name().to_owned(),
                event.reason().map(str::to_owned),
            )
        })
        .collect()
}

pub async fn appends_form_one_gapless_chain(backend: &impl AuditBackend) {
    let keys = keys();
    let store = backend.open(&keys).await;
    assert_eq!(store.head().await.unwrap(), None);
    store.append_events(&events(0..1)).await.unwrap();
    store.append_events(&events(1..6)).await.unwrap();
    store.append_events(&[]).await.unwrap();
    store.append_events(&events(6..8)).await.unwrap();

    let stored = store.read(0, 100).await.unwrap();
    assert_eq!(
        stored.iter().map(|s| s.seq).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    assert_eq!(numbers(&stored), (0..8).collect::<Vec<_>>());
    assert_eq!(stored[0].prev_hash, soc2_audit::GENESIS_HASH);
    for pair in stored.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    let head = store.head().await.unwrap().unwrap();
    assert_eq!(
        (head.kind, head.seq, head.hash),
        (CheckpointKind::Head, 8, stored[7].hash)
    );
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 8);
}

pub async fn large_batches_are_one_atomic_append(backend: &impl AuditBackend) {
    let keys = keys();
    let store = backend.open(&keys).await;
    // Larger than one insert statement holds: the append still commits as one unit.
    store.append_events(&events(0..2500)).await.unwrap();
    store.append_events(&events(2500..2501)).await.unwrap();
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 2501);
    assert_eq!(store.head().await.unwrap().map(|h| h.seq), Some(2501));
}

pub async fn stored_events_round_trip_exactly(backend: &impl AuditBackend) {
    let store = backend.open(&keys()).await;
    let event = event_at(1, 0)
        .with_target(Target::new("user", "ünïcødé ✓"))
        .with_context(
            RequestContext::new()
                .with_client_ip("2001:db8::1".parse().unwrap())
                .with_user_agent("Mozilla/5.0 'quoted' \"double\"")
                .with_request_id("req-1"),
        )
        .with_metadata("blob", "x".repeat(soc2_audit::MAX_METADATA_BYTES - 64))
        .with_metadata(
            "nested",
            serde_json::json!({"b": [1, 2.5, null], "a": true}),
        );
    store
        .append_events(std::slice::from_ref(&event))
        .await
        .unwrap();
    let stored = store.read(0, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event().unwrap(), event);
    assert_eq!(stored[0].index, soc2_audit::IndexColumns::of(&event));
}

pub async fn reads_page_in_seq_order(backend: &impl AuditBackend) {
    let store = backend.open(&keys()).await;
    store.append_events(&events(0..25)).await.unwrap();
    let page = store.read(10, 7).await.unwrap();
    assert_eq!(
        page.iter().map(|s| s.seq).collect::<Vec<_>>(),
        (11..=17).collect::<Vec<_>>()
    );
    assert!(store.read(25, 10).await.unwrap().is_empty());
    assert_eq!(store.read(0, 0).await.unwrap().len(), 0);
}

pub async fn time_ranges_are_half_open(backend: &impl AuditBackend) {
    let store = backend.open(&keys()).await;
    store
        .append_events(&[
            event_at(0, 0),
            event_at(1, 60),
            event_at(2, 120),
            event_at(3, 60),
        ])
        .await
        .unwrap();
    let range = TimeRange::new(T0 + Duration::minutes(60), T0 + Duration::minutes(120));
    let inside = store.read_range(&range, 0, 100).await.unwrap();
    assert_eq!(numbers(&inside), [1, 3]);
    assert_eq!(
        numbers(&store.read_range(&range, 2, 100).await.unwrap()),
        [3]
    );
    assert_eq!(
        store
            .first_seq_since(T0 + Duration::minutes(60))
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        store
            .first_seq_since(T0 + Duration::minutes(121))
            .await
            .unwrap(),
        None
    );
}

pub async fn rotated_keys_keep_verifying(backend: &impl AuditBackend) {
    let old = test_keys("2026-05", 1);
    let store = backend.open(&old).await;
    store.append_events(&events(0..2)).await.unwrap();
    let rotated = test_keys("2026-11", 2)
        .with_key(KeyId::new("2026-05").unwrap(), [1; 32])
        .unwrap();
    let store = backend.open(&rotated).await;
    store.append_events(&events(2..4)).await.unwrap();

    let stored = store.read(0, 10).await.unwrap();
    let key_ids: Vec<_> = stored.iter().map(|s| s.key_id.as_str()).collect();
    assert_eq!(key_ids, ["2026-05", "2026-05", "2026-11", "2026-11"]);
    assert_eq!(verify_all(store.as_ref(), &rotated).await.unwrap(), 4);
    match verify(
        store.as_ref(),
        &test_keys("2026-11", 2),
        &VerifyRequest::all(),
    )
    .await
    {
        Err(VerifyError::Violation(v)) => {
            assert_eq!((v.seq, v.kind), (1, ViolationKind::UnknownKey))
        }
        other => panic!("expected an unknown key, got {other:?}"),
    }
}

pub async fn wrong_key_fails_verification(backend: &impl AuditBackend) {
    let store = backend.open(&keys()).await;
    store.append_events(&events(0..3)).await.unwrap();
    let (seq, kind) = match verify(
        store.as_ref(),
        &test_keys("conformance", 0x43),
        &VerifyRequest::all(),
    )
    .await
    {
        Err(VerifyError::Violation(v)) => (v.seq, v.kind),
        other => panic!("expected a violation, got {other:?}"),
    };
    assert_eq!((seq, kind), (3, ViolationKind::CheckpointInvalid));
}

pub async fn concurrent_writers_share_one_chain(backend: &impl AuditBackend) {
    let keys = keys();
    let writers = [backend.open(&keys).await, backend.open(&keys).await];
    let tasks: Vec<_> = writers
        .iter()
        .enumerate()
        .map(|(writer, store)| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for batch in 0..20u64 {
                    let base = writer as u64 * 1000 + batch * 5;
                    store.append_events(&events(base..base + 5)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let store = backend.open(&keys).await;
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 200);
    let mut all = numbers(&store.read(0, 1000).await.unwrap());
    all.sort_unstable();
    let expected: Vec<u64> = (0..100).chain(1000..1100).collect();
    assert_eq!(all, expected);
}

pub async fn retried_batch_is_not_duplicated(backend: &impl AuditBackend) {
    let keys = keys();
    let store = backend.open(&keys).await;
    let batch = events(0..3);
    store.append_events(&batch).await.unwrap();
    // The writer retries a batch whose commit it did not see acknowledged.
    store.append_events(&batch).await.unwrap();
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 3);
}

pub async fn purge_keeps_the_rest_verifiable(backend: &impl AuditBackend) {
    let keys = keys();
    let store = backend.open(&keys).await;
    let days: Vec<_> = (0..10)
        .map(|day| event_at(day, day as i64 * 24 * 60))
        .collect();
    store.append_events(&days).await.unwrap();
    let cutoff = T0 + Duration::days(5);
    let now = T0 + Duration::days(30);

    let report = purge_before(store.as_ref(), &keys, cutoff, now)
        .await
        .unwrap();
    assert_eq!((report.deleted, report.through_seq), (5, 5));
    let remaining = store.read(0, 100).await.unwrap();
    assert_eq!(remaining.first().map(|s| s.seq), Some(6));
    assert_eq!(
        remaining.last().unwrap().event().unwrap().action().name(),
        "audit.retention.purged"
    );
    assert_eq!(
        store.anchor().await.unwrap().map(|a| (a.kind, a.seq)),
        Some((CheckpointKind::Anchor, 5))
    );
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 6);

    let again = purge_before(store.as_ref(), &keys, cutoff, now)
        .await
        .unwrap();
    assert_eq!((again.deleted, again.through_seq), (0, 5));
}

pub async fn exports_jsonl_and_csv(backend: &impl AuditBackend) {
    let store = backend.open(&keys()).await;
    let hostile = AuditEvent::new(
        SdkAction::LoginFailed,
        Outcome::Failure,
        Actor::anonymous(Some("=HYPERLINK(\"http://x\")")),
        T0 + Duration::minutes(5),
    );
    store
        .append_events(&[event_at(0, 0), hostile, event_at(2, 10)])
        .await
        .unwrap();
    let range = TimeRange::new(T0 + Duration::minutes(1), T0 + Duration::minutes(11));

    let mut jsonl = Vec::new();
    assert_eq!(
        export(store.as_ref(), &range, ExportFormat::JsonLines, &mut jsonl)
            .await
            .unwrap(),
        2
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(jsonl)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines
            .iter()
            .map(|l| l["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3]
    );
    assert_eq!(lines[1]["event"]["metadata"]["n"], 2);
    assert_eq!(lines[0]["prev_hash"].as_str().unwrap().len(), 64);

    let mut csv = Vec::new();
    assert_eq!(
        export(store.as_ref(), &range, ExportFormat::Csv, &mut csv)
            .await
            .unwrap(),
        2
    );
    let csv = String::from_utf8(csv).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], CSV_HEADER.join(","));
    assert!(rows[1].starts_with("2,"), "{}", rows[1]);
    assert!(
        rows[1].contains(",anonymous,\"'=HYPERLINK(\"\"http://x\"\")\",auth.login.failed,"),
        "{}",
        rows[1]
    );
    assert!(
        rows[2].contains(",CC6.1,\"{\"\"n\"\":2}\",conformance,"),
        "{}",
        rows[2]
    );
}

/// Writes 5 events and returns the store, for the tamper cases.
async fn five(backend: &impl AuditBackend) -> Arc<dyn AuditStore> {
    let store = backend.open(&keys()).await;
    store.append_events(&events(0..5)).await.unwrap();
    assert_eq!(verify_all(store.as_ref(), &keys()).await.unwrap(), 5);
    store
}

pub async fn detects_modified_body(backend: &impl AuditTamper) {
    let store = five(backend).await;
    let body = store.read(2, 1).await.unwrap()[0]
        .body
        .replace("wrong password", "right password");
    backend.set_body(3, &body).await;
    assert_eq!(
        violation(store.as_ref()).await,
        (3, ViolationKind::Modified)
    );
}

pub async fn detects_modified_index_column(backend: &impl AuditTamper) {
    let store = five(backend).await;
    backend.set_action_column(3, "auth.login.succeeded").await;
    assert_eq!(
        violation(store.as_ref()).await,
        (3, ViolationKind::Modified)
    );
}

pub async fn detects_deleted_event(backend: &impl AuditTamper) {
    let store = five(backend).await;
    backend.delete(3).await;
    assert_eq!(violation(store.as_ref()).await, (3, ViolationKind::Deleted));
}

pub async fn detects_reordered_events(backend: &impl AuditTamper) {
    let store = five(backend).await;
    backend.swap(3, 4).await;
    assert_eq!(
        violation(store.as_ref()).await,
        (3, ViolationKind::Reordered)
    );
}

pub async fn detects_truncated_tail(backend: &impl AuditTamper) {
    let store = five(backend).await;
    backend.delete_after(3).await;
    assert_eq!(
        violation(store.as_ref()).await,
        (4, ViolationKind::TruncatedTail)
    );
}

pub async fn forged_head_stops_appends(backend: &impl AuditTamper) {
    let store = five(backend).await;
    backend.delete_after(3).await;
    backend.set_head_seq(3).await;
    assert_eq!(
        violation(store.as_ref()).await,
        (3, ViolationKind::CheckpointInvalid)
    );
    let refused = store.append_events(&events(5..6)).await.unwrap_err();
    assert!(matches!(refused, StoreError::Corrupt(_)), "{refused:?}");
}

pub async fn external_head_catches_a_wiped_log(backend: &impl AuditTamper) {
    let keys = keys();
    let store = five(backend).await;
    let kept_outside = store.head().await.unwrap().unwrap();
    // Without the key nothing can be re-signed; wiping events and checkpoints together leaves
    // an empty log that verifies on its own. Only a head kept outside the database shows it.
    backend.delete_after(0).await;
    backend.delete_checkpoints().await;
    assert_eq!(verify_all(store.as_ref(), &keys).await.unwrap(), 0);
    let request = VerifyRequest::all().with_expected_head(kept_outside);
    match verify(store.as_ref(), &keys, &request).await {
        Err(VerifyError::Violation(v)) => {
            assert_eq!((v.seq, v.kind), (1, ViolationKind::TruncatedTail))
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

/// Expands to one test per conformance case for the backend `$backend` (an async expression
/// yielding `Option<impl AuditBackend>`).
#[macro_export]
macro_rules! audit_store_conformance {
    ($backend:expr) => {
        $crate::audit_store_conformance!(@cases $backend;
            appends_form_one_gapless_chain,
            large_batches_are_one_atomic_append,
            stored_events_round_trip_exactly,
            reads_page_in_seq_order,
            time_ranges_are_half_open,
            rotated_keys_keep_verifying,
            wrong_key_fails_verification,
            concurrent_writers_share_one_chain,
            retried_batch_is_not_duplicated,
            purge_keeps_the_rest_verifiable,
            exports_jsonl_and_csv,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::audit::$case(&backend).await;
                    $crate::audit::AuditBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}

/// Expands to one test per tamper case for `$backend` (yielding `Option<impl AuditTamper>`).
#[macro_export]
macro_rules! audit_tamper_conformance {
    ($backend:expr) => {
        $crate::audit_store_conformance!(@cases $backend;
            detects_modified_body,
            detects_modified_index_column,
            detects_deleted_event,
            detects_reordered_events,
            detects_truncated_tail,
            forged_head_stops_appends,
            external_head_catches_a_wiped_log,
        );
    };
}
