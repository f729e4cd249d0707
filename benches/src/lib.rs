//! Shared fixtures for the soc2-rs benchmarks.

pub mod rbac;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use soc2_audit::{Actor, AuditEvent, Outcome, SdkAction, Target};
use soc2_core::{RequestContext, UserId};
use time::OffsetDateTime;

/// The runtime every benchmark uses: two workers, as many as this machine has cores.
///
/// # Panics
/// When the runtime cannot be built.
#[must_use]
#[allow(clippy::expect_used)]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
}

/// A typical login-failure event: actor, target, reason, request context and metadata.
#[must_use]
pub fn typical_event(n: u64) -> AuditEvent {
    AuditEvent::new(
        SdkAction::LoginFailed,
        Outcome::Failure,
        Actor::anonymous(Some("alice@example.com")),
        OffsetDateTime::now_utc(),
    )
    .with_target(Target::new("user", &UserId::new_v7().to_string()))
    .with_reason("wrong password")
    .with_context(
        RequestContext::new()
            .with_client_ip(std::net::IpAddr::from([203, 0, 113, 9]))
            .with_user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
            .with_request_id("4bf92f3577b34da6a3ce929d0e0e4736"),
    )
    .with_metadata("attempt", n)
    .with_metadata("factor", "password")
}

/// A row of the audit table, ready for a raw insert that bypasses the SDK.
#[derive(Debug, Clone)]
pub struct RawRow {
    seq: i64,
    event_id: String,
    occurred_at_us: i64,
    action: String,
    outcome: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
    body: String,
}

impl RawRow {
    /// The event JSON.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// `count` rows with the same content the SDK would store for `typical_event`, numbered from
/// `first_seq` (serialization happens here, outside any timing).
#[must_use]
pub fn raw_rows(first_seq: i64, count: usize) -> Vec<RawRow> {
    (0..count)
        .map(|i| {
            let event = typical_event(i as u64);
            let prepared =
                soc2_audit::PreparedEvent::new(&event).unwrap_or_else(|_| unreachable_event());
            RawRow {
                seq: first_seq + i as i64,
                event_id: prepared.index.event_id,
                occurred_at_us: prepared.index.occurred_at_us,
                action: prepared.index.action,
                outcome: prepared.index.outcome,
                prev_hash: vec![0x11; 32],
                hash: vec![0x22; 32],
                body: prepared.body,
            }
        })
        .collect()
}

#[allow(clippy::panic)]
fn unreachable_event() -> ! {
    panic!("a typical event always serializes")
}

/// The baseline an SDK append is compared with: `events` fresh rows (numbered from
/// `next_seq`, serialized untimed) written in transactions of one multi-row `INSERT` of `batch`
/// rows each, straight through sqlx. Returns the time the inserts took.
///
/// # Panics
/// When the database refuses the insert (a broken benchmark setup).
#[allow(clippy::unwrap_used)]
pub async fn raw_round<DB>(
    pool: &sqlx::Pool<DB>,
    next_seq: &AtomicI64,
    events: usize,
    batch: usize,
) -> Duration
where
    DB: sqlx::Database,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Vec<u8>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let rows = raw_rows(next_seq.fetch_add(events as i64, Ordering::Relaxed), events);
    let start = Instant::now();
    for chunk in rows.chunks(batch) {
        let mut tx = pool.begin().await.unwrap();
        let mut insert = sqlx::QueryBuilder::<DB>::new(
            "INSERT INTO soc2_audit_events (seq, event_id, occurred_at_us, action, outcome, key_id, prev_hash, hash, body) ",
        );
        insert.push_values(chunk, |mut row, raw| {
            row.push_bind(raw.seq)
                .push_bind(raw.event_id.clone())
                .push_bind(raw.occurred_at_us)
                .push_bind(raw.action.clone())
                .push_bind(raw.outcome.clone())
                .push_bind("raw".to_owned())
                .push_bind(raw.prev_hash.clone())
                .push_bind(raw.hash.clone())
                .push_bind(raw.body.clone());
        });
        insert.build().execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
    }
    start.elapsed()
}

/// A `PasswordAuth` on the memory stores with `params`, one registered user (returned), and
/// the audit log it writes to (a memory store).
///
/// # Panics
/// When the fixture cannot be built.
#[allow(clippy::unwrap_used)]
pub async fn password_service(
    params: soc2_auth::HashParams,
    username: &str,
    password: &str,
) -> (soc2_auth::PasswordAuth, UserId, soc2_audit::AuditLog) {
    use std::sync::Arc;

    let keys = soc2_core::KeyRing::single(soc2_core::KeyId::new("bench").unwrap(), [5; 32]);
    let audit = soc2_audit::AuditLog::start(
        Arc::new(soc2_audit::MemoryAuditStore::new(&keys)),
        soc2_audit::AuditLogConfig::default()
            .with_capacity(65_536)
            .unwrap(),
    );
    let auth = soc2_auth::PasswordAuth::new(
        Arc::new(soc2_auth::MemoryCredentialStore::new()),
        Arc::new(soc2_auth::MemoryLockoutStore::new()),
        soc2_auth::PasswordHasher::new(params).unwrap(),
        audit.clone(),
        Arc::new(soc2_core::SystemClock),
    );
    let user = UserId::new_v7();
    auth.register(
        user,
        username,
        Some(password),
        &soc2_auth::password::UserContext::default(),
        &RequestContext::new(),
    )
    .await
    .unwrap();
    (auth, user, audit)
}
