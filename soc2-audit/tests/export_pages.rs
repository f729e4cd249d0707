//! `ExportPages`: a large export handed out one bounded page at a time.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use soc2_audit::{
    Actor, AuditEvent, AuditSink as _, CSV_HEADER, ExportFormat, ExportPages, MemoryAuditStore,
    Outcome, SdkAction, TimeRange, export,
};
use soc2_core::{KeyId, KeyRing};
use time::OffsetDateTime;
use time::macros::datetime;

const EVENTS: u64 = 2500;

async fn store_with_events() -> MemoryAuditStore {
    let store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("test").unwrap(), [3; 32]));
    let events: Vec<_> = (0..EVENTS)
        .map(|n| {
            AuditEvent::new(
                SdkAction::LoginFailed,
                Outcome::Failure,
                Actor::System,
                datetime!(2026-11-23 12:00 UTC),
            )
            .with_metadata("n", n)
        })
        .collect();
    store.append_events(&events).await.unwrap();
    store
}

fn everything() -> TimeRange {
    TimeRange::new(OffsetDateTime::UNIX_EPOCH, datetime!(2100-01-01 0:00 UTC))
}

async fn chunks(store: &MemoryAuditStore, range: TimeRange, format: ExportFormat) -> Vec<String> {
    let mut pages = ExportPages::new(range, format);
    let mut chunks = Vec::new();
    while let Some(chunk) = pages.next_chunk(store).await.unwrap() {
        chunks.push(String::from_utf8(chunk).unwrap());
    }
    assert!(pages.next_chunk(store).await.unwrap().is_none());
    chunks
}

fn seqs(jsonl: &str) -> Vec<u64> {
    jsonl
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            line["seq"].as_u64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn json_lines_come_one_page_per_chunk_and_match_export() {
    let store = store_with_events().await;
    let chunks = chunks(&store, everything(), ExportFormat::JsonLines).await;
    let sizes: Vec<usize> = chunks.iter().map(|c| c.lines().count()).collect();
    assert_eq!(sizes, [1000, 1000, 500]);
    let joined = chunks.concat();
    assert_eq!(seqs(&joined), (1..=EVENTS).collect::<Vec<_>>());

    let mut written = Vec::new();
    let count = export(&store, &everything(), ExportFormat::JsonLines, &mut written)
        .await
        .unwrap();
    assert_eq!(count, EVENTS);
    assert_eq!(String::from_utf8(written).unwrap(), joined);
}

#[tokio::test]
async fn csv_header_comes_with_the_first_chunk_only() {
    let store = store_with_events().await;
    let chunks = chunks(&store, everything(), ExportFormat::Csv).await;
    assert_eq!(chunks.len(), 3);
    let header = CSV_HEADER.join(",");
    assert_eq!(chunks[0].lines().next(), Some(header.as_str()));
    assert_eq!(chunks[0].lines().count(), 1001);
    assert!(chunks[1].lines().next().unwrap().starts_with("1001,"));
    assert!(chunks[2].lines().last().unwrap().starts_with("2500,"));
    assert!(chunks[1..].iter().all(|c| !c.contains(&header)));
}

#[tokio::test]
async fn an_empty_range_is_no_chunk_or_the_csv_header_alone() {
    let store = store_with_events().await;
    let before = TimeRange::new(OffsetDateTime::UNIX_EPOCH, datetime!(2000-01-01 0:00 UTC));
    assert!(
        chunks(&store, before, ExportFormat::JsonLines)
            .await
            .is_empty()
    );
    let csv = chunks(&store, before, ExportFormat::Csv).await;
    assert_eq!(csv, [format!("{}\n", CSV_HEADER.join(","))]);
    let mut pages = ExportPages::new(before, ExportFormat::Csv);
    pages.next_chunk(&store).await.unwrap();
    assert_eq!(pages.written(), 0);
}
