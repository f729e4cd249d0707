//! The audit log through a real store outage: events buffer to the bound, `record` then fails
//! closed, and when the database returns everything is written in order with the chain intact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use soc2_audit::{AuditError, AuditLog, AuditLogConfig, AuditStore, VerifyRequest, verify};
use soc2_core::KeyRing;
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::audit::event_at;
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Capacity 4, batches of 2, retries only when asked (flush), so the steps are deterministic.
fn config() -> AuditLogConfig {
    AuditLogConfig::default()
        .with_capacity(4)
        .unwrap()
        .with_max_batch(2)
        .unwrap()
        .with_retry(Duration::from_secs(3600), Duration::from_secs(3600))
}

/// Drives the log through an outage that `go_down` starts and `come_back` ends.
async fn survive_outage(
    store: Arc<dyn AuditStore>,
    keys: &KeyRing,
    go_down: impl AsyncFnOnce(),
    come_back: impl AsyncFnOnce(),
) {
    let log = AuditLog::start(store.clone(), config());
    log.record(event_at(0, 0)).unwrap();
    log.flush().await.unwrap();

    go_down().await;
    log.record(event_at(1, 0)).unwrap();
    assert_eq!(
        log.flush().await,
        Err(AuditError::Unavailable { buffered: 1 })
    );
    // Buffered: the channel (capacity 4) plus at most the batch being retried and the next one
    // the writer prepares meanwhile (2 each); then `record` fails closed.
    let mut accepted = vec![0, 1];
    for n in 2.. {
        match log.record(event_at(n, 0)) {
            Ok(()) => accepted.push(n),
            Err(error) => {
                assert_eq!(error, AuditError::BufferFull { capacity: 4 });
                break;
            }
        }
        assert!(n < 100, "the buffer never filled");
    }
    let buffered = accepted.len() - 1;
    assert!((4..=4 + 2 * 2).contains(&buffered), "{buffered} buffered");

    come_back().await;
    // The first write after the outage may still meet a dead pooled connection; each flush
    // retries at once, and within a few the pool has reconnected.
    let mut flushed = log.flush().await;
    for _ in 0..5 {
        if flushed.is_ok() {
            break;
        }
        flushed = log.flush().await;
    }
    flushed.unwrap();
    log.record(event_at(1000, 0)).unwrap();
    accepted.push(1000);
    log.shutdown().await.unwrap();

    let stored = store.read(0, 100).await.unwrap();
    let numbers: Vec<u64> = stored
        .iter()
        .map(|s| s.event().unwrap().metadata()["n"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, accepted);
    let verified = verify(store.as_ref(), keys, &VerifyRequest::all())
        .await
        .unwrap();
    assert_eq!(verified.checked, accepted.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_outage_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("audit.db").display());
    sqlite::migrate(&sqlite::connect(&url).await.unwrap())
        .await
        .unwrap();
    // Short busy timeout, so a write blocked by the outage fails quickly instead of waiting.
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .busy_timeout(Duration::from_millis(100));
    let pool = SqlitePoolOptions::new()
        .connect_with(options.clone())
        .await
        .unwrap();
    let keys = test_keys("outage", 3);
    let store = Arc::new(sqlite::SqliteAuditStore::new(pool, &keys));

    // The outage: another connection holds the database's write lock.
    let blocker = tokio::sync::Mutex::new(SqliteConnection::connect_with(&options).await.unwrap());
    survive_outage(
        store,
        &keys,
        async || {
            let mut blocker = blocker.lock().await;
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut *blocker)
                .await
                .unwrap();
        },
        async || {
            let mut blocker = blocker.lock().await;
            sqlx::query("ROLLBACK")
                .execute(&mut *blocker)
                .await
                .unwrap();
        },
    )
    .await;
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    links: Arc<tokio::sync::Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let links = Arc::new(tokio::sync::Mutex::new(JoinSet::new()));
        let (accept_up, accept_links) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    continue; // dropping the socket refuses the connection
                }
                accept_links.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { addr, up, links }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.links.lock().await.abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_loses_nothing() {
    let Some(schema) = TestSchema::create("outage::postgres_outage_loses_nothing").await else {
        return;
    };
    postgres::migrate(&schema.pool().await).await.unwrap();
    let options = schema.options();
    let upstream = tokio::net::lookup_host((options.get_host(), options.get_port()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(500))
        .connect_with(options.host("127.0.0.1").port(proxy.addr.port()))
        .await
        .unwrap();
    let keys = test_keys("outage", 4);
    let store = Arc::new(postgres::PgAuditStore::new(pool, &keys));

    survive_outage(
        store,
        &keys,
        async || proxy.cut().await,
        async || proxy.restore(),
    )
    .await;
    schema.drop_schema().await;
}
