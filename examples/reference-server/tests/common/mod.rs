//! A reference server in process on an ephemeral port, and a small HTTP client for it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

pub mod flows;
pub mod mfa;
pub mod passkey;
pub mod rbac;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reference_server::{App, Config};
use serde_json::{Value, json};
use soc2_core::{Clock as _, ManualClock};
use time::macros::datetime;

/// The origin the tests' "browser" pages come from.
pub const ORIGIN: &str = "https://app.test";
/// The bootstrap administrator's password in [`settings`].
pub const ADMIN_PASSWORD: &str = "correct horse battery staple 19";
/// The test auditor's username (see [`TestServer::auditor`]).
pub const AUDITOR: &str = "audrey";
/// A password the Soc2Strict policy accepts.
pub const STRONG: &str = "plinth quasar tundra 42 marmot";

/// A running server in this process; its HTTP client methods come through `Deref`.
pub struct TestServer {
    pub clock: Arc<ManualClock>,
    pub app: Arc<App>,
    /// The database the server was started on.
    pub database_url: String,
    http: Http,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestServer {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

/// An HTTP client bound to one server address (in this process or a child process).
pub struct Http {
    pub addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// The `[mfa]` lines of most tests: administrators (who must use MFA) get a 30-day grace
/// period, so they log in with a password alone.
pub const ADMIN_GRACE: &str = r#"grace_period = "30d""#;

/// The test configuration: short timeouts, a lockout threshold of 3, origins for CSRF, and
/// `mfa` as the `[mfa]` section.
pub fn settings(database_url: &str, extra_server: &str, lockout: &str, mfa: &str) -> String {
    format!(
        r#"
[server]
database_url = "{database_url}"
allowed_origins = ["{ORIGIN}"]
{extra_server}

[password]
min_age = "none"

[lockout]
threshold = 3
{lockout}

[session]
idle_timeout = "5m"
absolute_timeout = "1h"
touch_interval = "1m"

[mfa]
{mfa}
"#
    )
}

impl TestServer {
    /// A server on a fresh SQLite file with the bootstrap administrator's password set.
    pub async fn sqlite() -> Self {
        Self::sqlite_with(
            &format!(r#"bootstrap_admin_password = "{ADMIN_PASSWORD}""#),
            "",
        )
        .await
    }

    /// A server on a fresh SQLite file with extra `[server]` and `[lockout]` lines.
    pub async fn sqlite_with(server: &str, lockout: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("reference.db").display());
        let mut started = Self::start(&settings(&url, server, lockout, ADMIN_GRACE)).await;
        started._dir = Some(dir);
        started
    }

    /// A server with `config_text`.
    pub async fn start(config_text: &str) -> Self {
        let config = Config::from_toml(config_text).unwrap();
        let database_url = config.database_url().to_owned();
        let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
        let app = Arc::new(App::build(&config, clock.clone()).await.unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = app.router();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self {
            clock,
            app,
            database_url,
            http: Http::new(addr),
            _dir: None,
        }
    }

    /// The current TOTP code for `seed` on the server's clock.
    pub fn totp_code(&self, seed: &[u8]) -> String {
        let now = u64::try_from(self.clock.now().unix_timestamp()).unwrap();
        soc2_auth::mfa::TotpSettings::new("test").code_at(seed, now)
    }
}

impl Http {
    /// A client for the server at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends a request; `body` as JSON, `headers` as given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let bytes = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let response = self
            .client
            .request(request.body(Full::new(bytes)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// `GET` as `session` (or anonymously).
    pub async fn get(&self, path: &str, session: Option<&Browser>) -> Reply {
        let headers = session.map(Browser::cookie_only).unwrap_or_default();
        self.send(Method::GET, path, None, &as_refs(&headers)).await
    }

    /// Sends `GET path` as `session` (every 2 ms) until the answer is `wanted`, every answer
    /// before it being the first one's; fails after `deadline`: a change made elsewhere (another
    /// instance, another process) has not reached this server's caches.
    pub async fn get_until(
        &self,
        path: &str,
        session: &Browser,
        wanted: StatusCode,
        deadline: Duration,
    ) -> Reply {
        let started = Instant::now();
        let before = self.get(path, Some(session)).await.status;
        loop {
            let reply = self.get(path, Some(session)).await;
            if reply.status == wanted {
                eprintln!("{path} answered {wanted} after {:?}", started.elapsed());
                return reply;
            }
            assert_eq!(reply.status, before, "{}", reply.text());
            assert!(
                started.elapsed() < deadline,
                "{path} still answers {before}: a change made elsewhere did not arrive"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// An unsafe request as `session` with cookie, origin and CSRF token.
    pub async fn unsafe_request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        session: &Browser,
    ) -> Reply {
        self.send(method, path, body, &as_refs(&session.full_headers()))
            .await
    }

    /// Registers `username` with `password`.
    pub async fn register(&self, username: &str, password: &str) -> Reply {
        let body = json!({"username": username, "password": password});
        self.send(
            Method::POST,
            "/api/auth/register",
            Some(body),
            &[("origin", ORIGIN)],
        )
        .await
    }

    /// Registers `username` with [`STRONG`], which must succeed.
    pub async fn create_user(&self, username: &str) {
        let reply = self.register(username, STRONG).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }

    /// Registers `username` with [`STRONG`] and logs in.
    pub async fn sign_up(&self, username: &str) -> Browser {
        self.create_user(username).await;
        self.login(username, STRONG).await
    }

    /// Logs in; the raw reply.
    pub async fn login_reply(&self, username: &str, password: &str) -> Reply {
        let body = json!({"username": username, "password": password});
        self.send(
            Method::POST,
            "/api/auth/login",
            Some(body),
            &[("origin", ORIGIN)],
        )
        .await
    }

    /// Logs in and expects a session.
    pub async fn login(&self, username: &str, password: &str) -> Browser {
        Browser::from_reply(&self.login_reply(username, password).await, "authenticated")
    }

    /// Logs in and expects an `mfa_required` answer; returns the challenge.
    pub async fn login_challenge(&self, username: &str, password: &str) -> String {
        let reply = self.login_reply(username, password).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert!(reply.header("set-cookie").is_none());
        let body = reply.json();
        assert_eq!(body["status"], "mfa_required", "{body}");
        body["challenge"].as_str().unwrap().to_owned()
    }

    /// `POST /api/auth/mfa`; the raw reply.
    pub async fn mfa_reply(&self, challenge: &str, method: &str, code: &str) -> Reply {
        let body = json!({"challenge": challenge, "method": method, "code": code});
        self.send(
            Method::POST,
            "/api/auth/mfa",
            Some(body),
            &[("origin", ORIGIN)],
        )
        .await
    }

    /// Asserts that each of `actions` was audited at least once.
    pub async fn assert_audited(&self, actions: &[&str]) {
        let audited = self.audit_actions().await;
        for action in actions {
            assert!(
                audited.iter().any(|a| a == action),
                "{action} missing: {audited:?}"
            );
        }
    }

    /// A user holding the `auditor` role (in the example policies only auditors read the
    /// audit log), created by the administrator on first use.
    pub async fn auditor(&self) -> Browser {
        let created = self.register(AUDITOR, STRONG).await.status;
        assert!(matches!(
            created,
            StatusCode::CREATED | StatusCode::CONFLICT
        ));
        let admin = self.login("admin", ADMIN_PASSWORD).await;
        let path = format!("/api/admin/users/{AUDITOR}/roles/auditor");
        let granted = self.unsafe_request(Method::PUT, &path, None, &admin).await;
        assert_eq!(granted.status, StatusCode::NO_CONTENT, "{}", granted.text());
        self.login(AUDITOR, STRONG).await
    }

    /// Every audit action recorded so far, in order.
    async fn audit_actions(&self) -> Vec<String> {
        self.audit_events()
            .await
            .iter()
            .map(|event| event["action"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Every audit event recorded so far, in order (through the audit export).
    pub async fn audit_events(&self) -> Vec<Value> {
        let auditor = self.auditor().await;
        let reply = self
            .get("/api/admin/audit?format=jsonl", Some(&auditor))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply
            .text()
            .lines()
            .map(|line| {
                let mut record: Value = serde_json::from_str(line).unwrap();
                record["event"].take()
            })
            .collect()
    }
}

/// A logged-in browser: its cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    /// The session a login step answered with `status` (`authenticated` or
    /// `enrollment_required`).
    pub fn from_reply(reply: &Reply, status: &str) -> Self {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["status"], status, "{body}");
        let set_cookie = reply.header("set-cookie").unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        Self {
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The session token inside the cookie.
    pub fn token(&self) -> &str {
        self.cookie.split_once('=').unwrap().1
    }

    pub fn cookie_only(&self) -> Vec<(&'static str, String)> {
        vec![("cookie", self.cookie.clone())]
    }

    pub fn full_headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cookie", self.cookie.clone()),
            ("origin", ORIGIN.to_owned()),
            ("x-csrf-token", self.csrf.clone()),
        ]
    }
}

pub fn as_refs<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl TestServer {
    /// A server on a fresh PostgreSQL schema, or `None` when no test server is configured.
    pub async fn postgres(test: &str) -> Option<(Self, soc2_testkit::postgres::TestSchema)> {
        let schema = soc2_testkit::postgres::TestSchema::create(test).await?;
        let dir = tempfile::tempdir().unwrap();
        let mut started = Self::start(&postgres_settings(&schema, dir.path(), "")).await;
        started._dir = Some(dir);
        Some((started, schema))
    }
}

/// The test configuration on `schema`, with the bootstrap administrator's password, extra
/// `[server]` lines, and audit and sealing key files written into `dir` (every server given
/// the same `dir` shares the keys, like instances of one deployment).
pub fn postgres_settings(
    schema: &soc2_testkit::postgres::TestSchema,
    dir: &std::path::Path,
    extra_server: &str,
) -> String {
    let separator = if schema.url().contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{separator}options[search_path]={}",
        schema.url(),
        schema.name()
    );
    let keys = dir.join("audit.keys");
    std::fs::write(&keys, test_audit_keys()).unwrap();
    let sealing = dir.join("sealing.keys");
    std::fs::write(&sealing, test_sealing_keys()).unwrap();
    let mfa = format!(
        "{ADMIN_GRACE}\nsealing_keys_file = \"{}\"",
        sealing.display()
    );
    settings(
        &url,
        &format!("bootstrap_admin_password = \"{ADMIN_PASSWORD}\"\n{extra_server}"),
        "",
        &mfa,
    ) + &format!("\n[audit]\nkeys_file = \"{}\"\n", keys.display())
}

fn test_sealing_keys() -> String {
    format!(
        "pg-seal={}",
        soc2_core::KeyRing::encode_key(&[9; soc2_core::KEY_LEN])
    )
}

fn test_audit_keys() -> String {
    format!(
        "pg-test={}",
        soc2_core::KeyRing::encode_key(&[7; soc2_core::KEY_LEN])
    )
}

/// Waits on `changes` until the change that ended the session of `browser` comes by, skipping
/// others; fails when none comes within `deadline` or the feed ends.
pub async fn await_session_change(
    changes: &mut soc2_core::ChangeSubscription,
    browser: &Browser,
    deadline: Duration,
) {
    let digest = *soc2_session::SessionToken::parse(browser.token().as_bytes())
        .unwrap()
        .digest()
        .as_bytes();
    loop {
        let change = tokio::time::timeout(deadline, changes.next())
            .await
            .unwrap()
            .unwrap();
        if change == soc2_core::Change::Session(digest) {
            return;
        }
    }
}
