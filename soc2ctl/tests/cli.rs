//! `soc2ctl` run as a process against real SQLite (and PostgreSQL when configured) logs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

use soc2_audit::{Actor, AuditEvent, AuditSink, Outcome, SdkAction};
use soc2_core::KeyRing;
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use time::macros::datetime;

const KEYS: &str = "ctl-1=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

fn soc2ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc2ctl"))
        .args(args)
        .env("SOC2_AUDIT_KEYS", KEYS)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Five events from 2026-10-01, `spacing` days apart.
fn events(spacing: i64) -> Vec<AuditEvent> {
    (0..5)
        .map(|n| {
            AuditEvent::new(
                SdkAction::LoginFailed,
                Outcome::Failure,
                Actor::anonymous(Some("mallory")),
                datetime!(2026-10-01 00:00 UTC) + time::Duration::days(n * spacing),
            )
        })
        .collect()
}

/// A SQLite log of five events, one a day from 2026-10-01.
async fn sqlite_log(dir: &tempfile::TempDir) -> String {
    sqlite_log_spaced(dir, 1).await
}

/// A SQLite log of five events from 2026-10-01, `spacing` days apart.
async fn sqlite_log_spaced(dir: &tempfile::TempDir, spacing: i64) -> String {
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    let pool = sqlite::connect(&url).await.unwrap();
    sqlite::migrate(&pool).await.unwrap();
    let store = sqlite::SqliteAuditStore::new(pool, &KeyRing::parse(KEYS).unwrap());
    store.append_events(&events(spacing)).await.unwrap();
    url
}

#[tokio::test]
async fn verify_reports_intact_then_the_first_tampered_seq() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_log(&dir).await;
    let ok = soc2ctl(&["audit", "verify", "--database-url", &url]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert_eq!(
        text(&ok.stdout),
        "audit chain intact: 5 events verified, last seq 5\n"
    );

    let pool = sqlite::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE soc2_audit_events SET body = replace(body, 'mallory', 'alice') WHERE seq = 3",
    )
    .execute(&pool)
    .await
    .unwrap();
    let bad = soc2ctl(&["audit", "verify", "--database-url", &url]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("first bad seq 3: modified"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn export_writes_the_time_range_as_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_log(&dir).await;
    let csv = soc2ctl(&[
        "audit",
        "export",
        "--database-url",
        &url,
        "--from",
        "2026-10-02",
        "--to",
        "2026-10-04T00:00:00Z",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.status.code(), Some(0), "{}", text(&csv.stderr));
    let out = text(&csv.stdout);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("seq,event_id,occurred_at,"));
    assert!(
        lines[1].starts_with("2,") && lines[2].starts_with("3,"),
        "{out}"
    );
    assert!(lines[1].contains(",2026-10-02T00:00:00Z,anonymous,mallory,auth.login.failed,"));

    let path = dir.path().join("sample.jsonl");
    let jsonl = soc2ctl(&[
        "audit",
        "export",
        "--database-url",
        &url,
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-01",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(jsonl.status.code(), Some(0));
    assert_eq!(text(&jsonl.stderr), "exported 5 events\n");
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 5);
}

#[tokio::test]
async fn head_kept_outside_detects_a_wiped_log() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_log(&dir).await;
    let head = soc2ctl(&["audit", "head", "--database-url", &url]);
    assert_eq!(head.status.code(), Some(0));
    let head_file = dir.path().join("head.json");
    std::fs::write(&head_file, &head.stdout).unwrap();

    let pool = sqlite::connect(&url).await.unwrap();
    sqlx::raw_sql("DELETE FROM soc2_audit_events; DELETE FROM soc2_audit_checkpoints;")
        .execute(&pool)
        .await
        .unwrap();
    let bad = soc2ctl(&[
        "audit",
        "verify",
        "--database-url",
        &url,
        "--expected-head",
        head_file.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("first bad seq 1: truncated tail"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn bad_inputs_get_clear_errors_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}", dir.path().join("nope.db").display());
    let cases: [(&[&str], &str); 5] = [
        (
            &["audit", "verify", "--database-url", "mysql://x"],
            "unsupported database URL",
        ),
        (
            &["audit", "verify", "--database-url", &missing],
            "storage backend unavailable",
        ),
        (
            &[
                "audit",
                "export",
                "--database-url",
                &missing,
                "--from",
                "yesterday",
                "--to",
                "2026-01-01",
            ],
            "not an RFC 3339 time",
        ),
        (
            &[
                "audit",
                "export",
                "--database-url",
                &missing,
                "--from",
                "2026-02-01",
                "--to",
                "2026-01-01",
            ],
            "--from must be before --to",
        ),
        (&["audit", "keygen", "--id", "bad id"], "invalid key id"),
    ];
    for (args, expected) in cases {
        let out = soc2ctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }

    // A database without the soc2 tables: the message says to migrate.
    let empty = format!("sqlite://{}", dir.path().join("empty.db").display());
    drop(sqlite::connect(&empty).await.unwrap());
    let out = soc2ctl(&["audit", "verify", "--database-url", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("run `soc2ctl migrate"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        soc2ctl(&["migrate", "--database-url", &empty])
            .status
            .code(),
        Some(0)
    );
    let out = soc2ctl(&["audit", "verify", "--database-url", &empty]);
    assert_eq!(
        text(&out.stdout),
        "audit chain intact: 0 events verified, last seq 0\n"
    );
}

#[tokio::test]
async fn purge_keeps_the_retention_period_and_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    // Events on 10-01, 10-11, 10-21, 10-31 and 11-10; whatever the time of day, keeping the
    // days since 10-16 puts the cutoff on 10-16 or 10-17.
    let url = sqlite_log_spaced(&dir, 10).await;
    let days = (time::OffsetDateTime::now_utc() - datetime!(2026-10-16 00:00 UTC)).whole_days();
    let out = soc2ctl(&[
        "audit",
        "purge",
        "--database-url",
        &url,
        "--older-than-days",
        &days.to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "purged 2 events; the log now starts after seq 2\n"
    );
    let ok = soc2ctl(&["audit", "verify", "--database-url", &url]);
    assert_eq!(
        text(&ok.stdout),
        "audit chain intact: 4 events verified, last seq 6\n"
    );

    // A tampered chain is never purged: the evidence stays for the investigation.
    let pool = sqlite::connect(&url).await.unwrap();
    sqlx::query(
        "UPDATE soc2_audit_events SET body = replace(body, 'mallory', 'alice') WHERE seq = 4",
    )
    .execute(&pool)
    .await
    .unwrap();
    let refused = soc2ctl(&[
        "audit",
        "purge",
        "--database-url",
        &url,
        "--older-than-days",
        "1",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("refusing to purge"),
        "{}",
        text(&refused.stderr)
    );
    let zero = soc2ctl(&[
        "audit",
        "purge",
        "--database-url",
        &url,
        "--older-than-days",
        "0",
    ]);
    assert_eq!(zero.status.code(), Some(2));
}

#[test]
fn keygen_prints_a_loadable_key() {
    let out = soc2ctl(&["audit", "keygen", "--id", "2026-11"]);
    assert_eq!(out.status.code(), Some(0));
    let line = text(&out.stdout);
    let ring = KeyRing::parse(&line).unwrap();
    assert_eq!(ring.active_id().as_str(), "2026-11");
    assert_ne!(
        line,
        text(&soc2ctl(&["audit", "keygen", "--id", "2026-11"]).stdout)
    );
}

#[tokio::test]
async fn verify_works_on_postgres() {
    let Some(schema) = TestSchema::create("soc2ctl::verify_works_on_postgres").await else {
        return;
    };
    let pool = schema.pool().await;
    postgres::migrate(&pool).await.unwrap();
    postgres::PgAuditStore::new(pool, &KeyRing::parse(KEYS).unwrap())
        .append_events(&events(1))
        .await
        .unwrap();
    let url = format!(
        "{}?options=-c%20search_path%3D{}",
        schema.url(),
        schema.name()
    );
    let out = soc2ctl(&["audit", "verify", "--database-url", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "audit chain intact: 5 events verified, last seq 5\n"
    );
    schema.drop_schema().await;
}
