//! The full server stack beside the same trivial axum handler without middleware, over real
//! HTTP on 127.0.0.1 (hyper client, keep-alive connections, `TCP_NODELAY` on both sides).
//!
//! Targets, each its own server on the same runtime:
//! - `bare`: `GET /records` answering `ok`, no middleware;
//! - `<db>/session`: the `SessionLayer` over the database's session store, the handler reading
//!   `CurrentUser` (what every signed-in route pays);
//! - `<db>/authz`: the session layer and `RequireAction("read_audit")` asking the Cedar
//!   `Authorizer`, the handler reading `CurrentUser`;
//! - `<db>/full`: the session layer, `RequireAction("read_audit")` asking the Cedar
//!   `Authorizer` (roles from the database's role store) and the handler enqueueing one audit
//!   event (`records.read`) into an `AuditLog` whose writer persists to the database's
//!   hash-chained audit store;
//!
//! Both as the reference server runs them: sessions and roles served from the in-process
//! caches that follow the database's change log (`SessionManager::with_cache_fed_by`,
//! `CachedRoleStore`, fed by soc2-sqlx's follower for that database). `<db>/full-uncached`
//! reads both from the database on every request, for comparison.
//!
//! `<db>` is SQLite (a file) and, with `SOC2_TEST_POSTGRES_URL`, PostgreSQL. Criterion times
//! one request on one idle connection per target; then the targets take turns (round-robin,
//! [`ROUNDS`] rounds of [`WINDOW`] each) under [`CONNECTIONS`] connections sending
//! back-to-back, and the bench prints each target's requests per second and p50, its ratio to
//! `bare` and the p50 it adds (target: >= 0.85x and <= 20 us), and the unloaded p50s of
//! [`SEQUENTIAL`] alternating single requests.
//!
//! For a profiler, `SERVER_STACK_PROFILE=<target>` (e.g. `sqlite/full`) only sends
//! [`PROFILE_REQUESTS`] single requests to that target:
//! `SERVER_STACK_PROFILE=sqlite/full valgrind --tool=callgrind target/release/deps/server_stack-* --bench`;
//! with `SERVER_STACK_PROFILE_LOADED=1` it loads that target as the loaded phase does, for
//! [`ROUNDS`] windows (for `perf record`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use criterion::{Criterion, criterion_group};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{COOKIE, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use soc2_audit::{Actor, AuditEvent, AuditLog, AuditLogConfig, AuditSink, HostAction, Outcome};
use soc2_core::{BoxError, ChangeFeed, Clock, Preset, RequestContext, SystemClock, UserId};
use soc2_rbac::{
    Authorizer, CachedRoleStore, EntityProvider, PolicyStore, ResourceEntity, ResourceRef,
    RoleName, RoleStore, SodRules,
};
use soc2_session::{Factor, SessionManager, SessionPolicy, SessionStore};
use soc2_sqlx::{postgres, sqlite};
use soc2_testkit::postgres::TestSchema;
use soc2_testkit::test_keys;
use soc2_tower::{ClientContext, CurrentUser, RequireAction, SessionLayer};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policies"
);
/// Keep-alive connections sending at once in the loaded phase.
const CONNECTIONS: usize = 8;
/// Turns each target takes in the loaded phase.
const ROUNDS: usize = 12;
/// How long one turn lasts.
const WINDOW: Duration = Duration::from_millis(500);
/// Single requests per target in the unloaded phase (alternating).
const SEQUENTIAL: usize = 3000;

/// The caches' backstop bound, as the reference server's default.
const CACHE_STALENESS: Duration = Duration::from_secs(60);
/// Longest the `full` handler waits for room in the audit buffer.
const AUDIT_WAIT: Duration = Duration::from_secs(1);
/// Requests sent in the `SERVER_STACK_PROFILE` mode.
const PROFILE_REQUESTS: usize = 2000;

/// One server under test and the cookie its requests carry.
struct Target {
    name: String,
    addr: SocketAddr,
    cookie: Option<String>,
}

/// Serves `router` on an ephemeral port of `rt`, as the reference server does (peer address
/// for the layer), with `TCP_NODELAY`.
fn serve(rt: &Runtime, router: Router) -> SocketAddr {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        addr
    })
}

fn bare() -> Router {
    Router::new().route("/records", get(|| async { "ok" }))
}

/// The audit log as a Cedar resource; no attributes.
#[derive(Debug)]
struct AuditLogResource;

#[async_trait]
impl EntityProvider for AuditLogResource {
    async fn resource(&self, _: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError> {
        Ok(Some(ResourceEntity::new()))
    }
}

/// The resource every `read_audit` request is about.
fn the_audit_log(_: &axum::http::request::Parts) -> ResourceRef {
    ResourceRef::new("AuditLog", "log")
}

/// The stores of one database, for the stack targets.
struct Stores {
    sessions: Arc<dyn SessionStore>,
    roles: Arc<dyn RoleStore>,
    audit: Arc<dyn AuditSink>,
}

/// The `session`, `authz`, `full` and `full-uncached` targets on `stores`, their caches following
/// `feed`, with one auditor's session cookie.
fn stack_targets(rt: &Runtime, backend: &str, stores: Stores, feed: &ChangeFeed) -> Vec<Target> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (routers, cookie) = rt.block_on(async {
        let audit = AuditLog::start(stores.audit, AuditLogConfig::default());
        let policy = SessionPolicy::from_preset(Preset::Soc2Strict)
            .validate()
            .unwrap();
        let sessions =
            SessionManager::new(stores.sessions, policy, Arc::clone(&clock), audit.clone());
        let user = UserId::new_v7();
        let auditor = RoleName::new("auditor").unwrap();
        stores
            .roles
            .assign(user, &auditor, &SodRules::none(), clock.now())
            .await
            .unwrap();
        let (token, _) = sessions
            .create(user, &[Factor::Password], &RequestContext::new())
            .await
            .unwrap();
        let policies = Arc::new(
            PolicyStore::open(POLICIES, audit.clone(), Arc::clone(&clock))
                .await
                .unwrap(),
        );
        let authorizer = |roles: Arc<dyn RoleStore>| {
            Authorizer::new(
                Arc::clone(&policies),
                roles,
                Arc::new(AuditLogResource),
                audit.clone(),
                Arc::clone(&clock),
            )
        };
        let cached = sessions.clone().with_cache_fed_by(feed, CACHE_STALENESS);
        let cached_roles: Arc<dyn RoleStore> =
            Arc::new(CachedRoleStore::new(Arc::clone(&stores.roles), feed));
        let read_user = || {
            get(|CurrentUser(user): CurrentUser| async move {
                std::hint::black_box(user.user_id());
                "ok"
            })
        };
        let session = Router::new()
            .route("/records", read_user())
            .layer(SessionLayer::new(cached.clone(), Arc::clone(&clock)));
        let authz = Router::new()
            .route("/records", read_user())
            .route_layer(RequireAction::new("read_audit", the_audit_log))
            .layer(
                SessionLayer::new(cached.clone(), Arc::clone(&clock))
                    .with_authorizer(authorizer(Arc::clone(&cached_roles))),
            );
        let full = |sessions: SessionManager, authorizer: Authorizer| {
            Router::new()
                .route("/records", get(read_records))
                .route_layer(RequireAction::new("read_audit", the_audit_log))
                .with_state((audit.clone(), Arc::clone(&clock)))
                .layer(SessionLayer::new(sessions, Arc::clone(&clock)).with_authorizer(authorizer))
        };
        let routers = vec![
            ("session", session),
            ("authz", authz),
            ("full", full(cached, authorizer(cached_roles))),
            ("full-uncached", full(sessions, authorizer(stores.roles))),
        ];
        let cookie = format!("__Host-soc2_session={}", token.expose_secret());
        (routers, cookie)
    });
    routers
        .into_iter()
        .map(|(name, router)| Target {
            name: format!("{backend}/{name}"),
            addr: serve(rt, router),
            cookie: Some(cookie.clone()),
        })
        .collect()
}

/// The `full` handler: one audit event per read, enqueued (the writer persists it later) with
/// `record_within`, so a burst beyond the writer's pace slows requests instead of failing them.
async fn read_records(
    State((audit, clock)): State<(AuditLog, Arc<dyn Clock>)>,
    CurrentUser(user): CurrentUser,
    ClientContext(context): ClientContext,
) -> &'static str {
    let event = AuditEvent::new(
        HostAction::new("records.read").unwrap(),
        Outcome::Success,
        Actor::user(user.user_id()),
        clock.now(),
    )
    .with_context(context);
    // Waits for room rather than failing when requests outpace the writer for a moment.
    audit.record_within(event, AUDIT_WAIT).await.unwrap();
    "ok"
}

async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    sender
}

/// One `GET /records`, read whole; panics unless it answers 200 `ok`.
async fn request(sender: &mut SendRequest<Empty<Bytes>>, target: &Target) {
    sender.ready().await.unwrap();
    let mut request = Request::get("/records").header(HOST, "127.0.0.1");
    if let Some(cookie) = &target.cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = sender
        .send_request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{}", target.name);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
}

/// Requests and latencies of one target under load.
#[derive(Default)]
struct Load {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// [`CONNECTIONS`] connections to `target` sending back-to-back for [`WINDOW`].
async fn turn(target: Arc<Target>, load: &mut Load) {
    let mut senders = Vec::new();
    for _ in 0..CONNECTIONS {
        senders.push(connect(target.addr).await);
    }
    let start = Instant::now();
    let deadline = start + WINDOW;
    let tasks: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            let target = Arc::clone(&target);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    request(&mut sender, &target).await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    for task in tasks {
        let latencies = task.await.unwrap();
        load.requests += latencies.len();
        load.latencies.extend(latencies);
    }
    load.elapsed += start.elapsed();
}

fn p50(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn server_stack(c: &mut Criterion) {
    let server = soc2_benches::runtime();
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let keys = test_keys("bench", 1);
    let mut targets = vec![Target {
        name: "bare".into(),
        addr: serve(&server, bare()),
        cookie: None,
    }];

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stack.db").display());
    let (pool, changes) = server.block_on(async {
        let pool = sqlite::connect(&url).await.unwrap();
        sqlite::migrate(&pool).await.unwrap();
        let changes = sqlite::follow_changes(&pool, sqlite::PollConfig::default())
            .await
            .unwrap();
        (pool, changes)
    });
    let stores = Stores {
        sessions: Arc::new(sqlite::SqliteSessionStore::new(pool.clone())),
        roles: Arc::new(sqlite::SqliteRoleStore::new(pool.clone())),
        audit: Arc::new(sqlite::SqliteAuditStore::new(pool, &keys)),
    };
    targets.extend(stack_targets(&server, "sqlite", stores, changes.feed()));
    // Kept until the end: a dropped follower turns the caches off.
    let mut followers = vec![changes];

    let schema = server.block_on(TestSchema::create("bench::server_stack"));
    if let Some(schema) = &schema {
        let (pool, changes) = server.block_on(async {
            let pool = postgres::connect_with(schema.options()).await.unwrap();
            postgres::migrate(&pool).await.unwrap();
            let changes = postgres::follow_changes(&pool).await.unwrap();
            (pool, changes)
        });
        let stores = Stores {
            sessions: Arc::new(postgres::PgSessionStore::new(pool.clone())),
            roles: Arc::new(postgres::PgRoleStore::new(pool.clone())),
            audit: Arc::new(postgres::PgAuditStore::new(pool, &keys)),
        };
        targets.extend(stack_targets(&server, "postgres", stores, changes.feed()));
        followers.push(changes);
    } else {
        eprintln!("PostgreSQL skipped: set SOC2_TEST_POSTGRES_URL");
    }

    match std::env::var("SERVER_STACK_PROFILE") {
        Ok(name) => profile(&client, &targets, &name),
        Err(_) => measure(c, &client, targets),
    }
    for follower in followers {
        assert!(follower.feed().is_live(), "the caches were on throughout");
        server.block_on(follower.stop());
    }
    if let Some(schema) = schema {
        server.block_on(schema.drop_schema());
    }
}

/// [`PROFILE_REQUESTS`] single requests to the target called `name` (or, with
/// `SERVER_STACK_PROFILE_LOADED`, [`ROUNDS`] loaded windows), nothing else.
fn profile(client: &Runtime, targets: &[Target], name: &str) {
    let target = targets.iter().find(|t| t.name == name).unwrap();
    if std::env::var_os("SERVER_STACK_PROFILE_LOADED").is_some() {
        let target = Arc::new(Target {
            name: target.name.clone(),
            addr: target.addr,
            cookie: target.cookie.clone(),
        });
        let mut load = Load::default();
        client.block_on(async {
            for _ in 0..ROUNDS {
                turn(Arc::clone(&target), &mut load).await;
            }
        });
        println!("{name}: {:.0} req/s", load.rps());
        return;
    }
    client.block_on(async {
        let mut sender = connect(target.addr).await;
        for _ in 0..PROFILE_REQUESTS {
            request(&mut sender, target).await;
        }
    });
}

/// Criterion's single requests, then the unloaded and loaded phases, and the report.
fn measure(c: &mut Criterion, client: &Runtime, targets: Vec<Target>) {
    let mut group = c.benchmark_group("server_stack");
    for target in &targets {
        let mut sender = client.block_on(connect(target.addr));
        group.bench_function(format!("{}/one_request", target.name), |b| {
            b.iter(|| client.block_on(request(&mut sender, target)));
        });
    }
    group.finish();

    // Unloaded: one request at a time, the targets alternating.
    let mut single: Vec<Vec<Duration>> = vec![Vec::new(); targets.len()];
    client.block_on(async {
        let mut senders = Vec::new();
        for target in &targets {
            senders.push(connect(target.addr).await);
        }
        for _ in 0..SEQUENTIAL {
            for ((target, sender), samples) in targets.iter().zip(&mut senders).zip(&mut single) {
                let start = Instant::now();
                request(sender, target).await;
                samples.push(start.elapsed());
            }
        }
    });

    // Loaded: the targets take turns.
    let targets: Vec<Arc<Target>> = targets.into_iter().map(Arc::new).collect();
    let mut loads: Vec<Load> = targets.iter().map(|_| Load::default()).collect();
    client.block_on(async {
        for _ in 0..ROUNDS {
            for (target, load) in targets.iter().zip(&mut loads) {
                turn(Arc::clone(target), load).await;
            }
        }
    });

    let bare_rps = loads[0].rps();
    let bare_loaded = p50(&mut loads[0].latencies);
    let bare_single = p50(&mut single[0]);
    println!(
        "server_stack: {CONNECTIONS} keep-alive connections, {ROUNDS} alternating turns of {WINDOW:?} per target; unloaded p50 of {SEQUENTIAL} alternating single requests"
    );
    for ((target, load), samples) in targets.iter().zip(&mut loads).zip(&mut single) {
        let loaded = p50(&mut load.latencies);
        let unloaded = p50(samples);
        println!(
            "{:<18} {:>8.0} req/s = {:.2}x bare | loaded p50 {:>7.1} us (+{:.1} us) | unloaded p50 {:>6.1} us (+{:.1} us)",
            target.name,
            load.rps(),
            load.rps() / bare_rps,
            micros(loaded),
            micros(loaded) - micros(bare_loaded),
            micros(unloaded),
            micros(unloaded) - micros(bare_single),
        );
    }
}

criterion_group!(benches, server_stack);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
