//! The change feed on a real Redis (`SOC2_TEST_REDIS_URL`): a follower on its own connections
//! sees exactly the session changes that stores on other connections (other "instances") make
//! under its prefix, in order; it survives losing its pub/sub connection (not live, then
//! `Resync`, then live), killed or silently dead (heartbeats); and a fed session cache drops a
//! session another instance revoked.
//!
//! "Nothing else" is checked without sleeping: after the action under test, a marker session
//! is removed, and everything received before the marker's change is what the action published.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use common::RedisBackend;
use soc2_audit::{Actor, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_core::{
    Change, ChangeSubscription, KeyId, KeyRing, Preset, RequestContext, StoreError, SystemClock,
    UserId,
};
use soc2_redis::{ChangeFollower, FollowConfig, RedisSessionStore, follow_changes};
use soc2_session::{
    Factor, SessionError, SessionManager, SessionPolicy, SessionRecord, SessionStore, SessionToken,
    TokenDigest,
};
use soc2_testkit::net::{StallingProxy, wait_until};
use soc2_testkit::session::session;
use time::OffsetDateTime;
use time::macros::datetime;

/// How long a change may take to arrive before the test fails (far above the real latency of
/// a pub/sub message).
const DEADLINE: Duration = Duration::from_secs(5);
const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

/// A prefix with a follower on its own connections, and a store on another.
struct Feed {
    follower: ChangeFollower,
    changes: ChangeSubscription,
    sessions: RedisSessionStore,
    backend: RedisBackend,
}

impl Feed {
    /// `None` (skip) when no server is configured.
    async fn open(test: &str) -> Option<Self> {
        let backend = RedisBackend::new(test)?;
        let client = redis::Client::open(backend.test.url()).unwrap();
        Some(Self::with_client(backend, client, FollowConfig::default()).await)
    }

    async fn with_client(
        backend: RedisBackend,
        client: redis::Client,
        config: FollowConfig,
    ) -> Self {
        let follower = follow_changes(client, backend.test.prefix(), config)
            .await
            .unwrap();
        assert!(follower.feed().is_live(), "live once subscribed");
        Self {
            changes: follower.feed().subscribe(),
            follower,
            sessions: backend.sessions().await,
            backend,
        }
    }

    /// The next change, failing the test after [`DEADLINE`].
    async fn next(&mut self) -> Change {
        tokio::time::timeout(DEADLINE, self.changes.next())
            .await
            .expect("no change within the deadline")
            .expect("the follower stopped")
    }

    /// Everything published before a marker change made after the action under test.
    async fn published(&mut self) -> Vec<Change> {
        let marker = session(UserId::new_v7(), 0);
        self.sessions.insert(&marker).await.unwrap();
        self.sessions.remove(&marker.digest).await.unwrap();
        let marker = digest_of(&marker);
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                change if change == marker => return seen,
                change => seen.push(change),
            }
        }
    }

    async fn finish(self) {
        assert!(self.follower.feed().is_live());
        let feed = self.follower.feed().clone();
        self.follower.stop().await;
        assert!(!feed.is_live(), "a stopped follower's feed is not live");
        self.backend.delete_all().await;
    }
}

fn digest_of(record: &SessionRecord) -> Change {
    Change::Session(*record.digest.as_bytes())
}

/// Sorted by debug text, for changes whose order Redis does not define (set members).
fn sorted(mut changes: Vec<Change>) -> Vec<Change> {
    changes.sort_by_key(|change| format!("{change:?}"));
    changes
}

#[tokio::test]
async fn a_removed_session_publishes_its_digest_once() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let record = session(UserId::new_v7(), 0);
    feed.sessions.insert(&record).await.unwrap();
    assert!(
        feed.sessions
            .remove(&record.digest)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        feed.sessions
            .remove(&record.digest)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(feed.published().await, vec![digest_of(&record)]);
    feed.finish().await;
}

#[tokio::test]
async fn a_rotation_publishes_the_old_digest_only() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let old = session(UserId::new_v7(), 0);
    feed.sessions.insert(&old).await.unwrap();
    let new = session(old.user_id, 0);
    assert!(feed.sessions.rotate(&old.digest, &new).await.unwrap());
    assert_eq!(feed.published().await, vec![digest_of(&old)]);
    feed.finish().await;
}

#[tokio::test]
async fn removing_a_users_sessions_publishes_each_digest() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let user = UserId::new_v7();
    let (first, second, kept) = (session(user, 0), session(user, 1), session(user, 2));
    let other = session(UserId::new_v7(), 0);
    for record in [&first, &second, &kept, &other] {
        feed.sessions.insert(record).await.unwrap();
    }
    let removed = feed
        .sessions
        .remove_user(user, Some(&kept.digest))
        .await
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(
        sorted(feed.published().await),
        sorted(vec![digest_of(&first), digest_of(&second)])
    );
    feed.finish().await;
}

#[tokio::test]
async fn the_sweep_publishes_each_expired_digest() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let user = UserId::new_v7();
    let (expired, live) = (session(user, 0), session(user, 10));
    feed.sessions.insert(&expired).await.unwrap();
    feed.sessions.insert(&live).await.unwrap();
    let now = T0 + time::Duration::minutes(35);
    let swept = feed.sessions.remove_expired(now, 10).await.unwrap();
    assert_eq!(swept, vec![expired.clone()]);
    assert_eq!(feed.published().await, vec![digest_of(&expired)]);
    feed.finish().await;
}

#[tokio::test]
async fn inserts_and_touches_publish_nothing() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let record = session(UserId::new_v7(), 0);
    feed.sessions.insert(&record).await.unwrap();
    let later = T0 + time::Duration::minutes(5);
    assert!(
        feed.sessions
            .touch(&record.digest, later, later + time::Duration::minutes(30))
            .await
            .unwrap()
    );
    assert_eq!(feed.published().await, vec![]);
    feed.finish().await;
}

#[tokio::test]
async fn another_prefixs_changes_are_not_seen() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let Some(other) = Feed::open(module_path!()).await else {
        return;
    };
    assert_ne!(feed.backend.test.prefix(), other.backend.test.prefix());
    let record = session(UserId::new_v7(), 0);
    other.sessions.insert(&record).await.unwrap();
    other.sessions.remove(&record.digest).await.unwrap();
    assert_eq!(feed.published().await, vec![]);
    other.finish().await;
    feed.finish().await;
}

#[tokio::test]
async fn an_unknown_payload_is_a_resync() {
    let Some(mut feed) = Feed::open(module_path!()).await else {
        return;
    };
    let channel = format!("{}changes", feed.backend.test.prefix());
    let mut conn = feed.backend.connect().await;
    for payload in [
        "session:zz".to_owned(),
        "hello".to_owned(),
        "heartbeat".to_owned(),
    ] {
        let receivers: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(payload)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(receivers, 1, "only this test's follower listens");
    }
    assert_eq!(
        feed.published().await,
        vec![Change::Resync, Change::Resync],
        "two unknown payloads; the heartbeat is no change"
    );
    feed.finish().await;
}

/// The follower connects as a Redis user of its own, so that the test can find its pub/sub
/// connection in `CLIENT LIST` and kill exactly that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_subscription_turns_the_feed_off_then_resyncs_and_follows_again() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let mut admin = backend.connect().await;
    let user = format!("soc2t-feed-{}", UserId::new_v7());
    redis::cmd("ACL")
        .arg(&["SETUSER", &user, "on", ">feed-test", "~*", "&*", "+@all"])
        .exec_async(&mut admin)
        .await
        .unwrap();
    let _user_deleted_at_end = AclUser {
        url: backend.test.url().to_owned(),
        name: user.clone(),
    };
    let url = backend.test.url().to_owned();
    let rest = url.strip_prefix("redis://").expect("a redis:// test URL");
    assert!(!rest.contains('@'), "a test URL without credentials");
    let client = redis::Client::open(format!("redis://{user}:feed-test@{rest}")).unwrap();
    let mut feed = Feed::with_client(backend, client, FollowConfig::default()).await;

    let list: String = redis::cmd("CLIENT")
        .arg(&["LIST", "TYPE", "pubsub"])
        .query_async(&mut admin)
        .await
        .unwrap();
    let ids: Vec<String> = list
        .lines()
        .filter(|line| line.split(' ').any(|field| field == format!("user={user}")))
        .filter_map(|line| {
            line.split(' ')
                .find_map(|field| field.strip_prefix("id="))
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "one pub/sub connection of the follower: {list}"
    );
    let killed: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "ID", &ids[0]])
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);

    wait_until(|| !feed.follower.feed().is_live(), DEADLINE).await;
    assert_eq!(feed.next().await, Change::Resync);
    wait_until(|| feed.follower.feed().is_live(), DEADLINE).await;
    let record = session(UserId::new_v7(), 0);
    feed.sessions.insert(&record).await.unwrap();
    feed.sessions.remove(&record.digest).await.unwrap();
    assert_eq!(feed.published().await, vec![digest_of(&record)]);
    feed.finish().await;
}

/// A test's Redis user, deleted (with its connections) when the test ends, passing or not.
struct AclUser {
    url: String,
    name: String,
}

impl Drop for AclUser {
    fn drop(&mut self) {
        let deleted = redis::Client::open(self.url.as_str())
            .and_then(|client| client.get_connection())
            .and_then(|mut conn| {
                redis::cmd("ACL")
                    .arg(&["DELUSER", &self.name])
                    .exec(&mut conn)
            });
        if let Err(error) = deleted {
            eprintln!("cannot delete the test's Redis user {}: {error}", self.name);
        }
    }
}

/// A network that silently stops carrying packets (no reset, no close) between the follower
/// and Redis: the subscription hears no heartbeat, counts its connection as lost, and once the
/// network is back reconnects and resyncs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_dead_connection_is_caught_by_heartbeats() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let url = backend.test.url().to_owned();
    let rest = url.strip_prefix("redis://").expect("a redis:// test URL");
    assert!(!rest.contains('@'), "a test URL without credentials");
    let (host_port, db) = rest.split_once('/').unwrap_or((rest, ""));
    let upstream = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = StallingProxy::start(upstream).await;
    let client = redis::Client::open(format!("redis://{}/{db}", proxy.addr())).unwrap();
    let config = FollowConfig::default()
        .with_heartbeat(Duration::from_millis(50), Duration::from_millis(300));
    let mut feed = Feed::with_client(backend, client, config).await;
    assert_eq!(feed.published().await, vec![]);

    proxy.stall(true);
    wait_until(|| !feed.follower.feed().is_live(), DEADLINE).await;
    proxy.stall(false);
    assert_eq!(feed.next().await, Change::Resync);
    wait_until(|| feed.follower.feed().is_live(), DEADLINE).await;
    let record = session(UserId::new_v7(), 0);
    feed.sessions.insert(&record).await.unwrap();
    feed.sessions.remove(&record.digest).await.unwrap();
    assert_eq!(feed.published().await, vec![digest_of(&record)]);
    feed.finish().await;
}

/// A Redis session store that counts `get`s: which validations read Redis.
#[derive(Debug, Clone)]
struct CountingStore {
    inner: Arc<RedisSessionStore>,
    gets: Arc<AtomicUsize>,
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.inner.insert(session).await
    }
    async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(digest).await
    }
    async fn touch(
        &self,
        digest: &TokenDigest,
        seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.inner.touch(digest, seen_at, idle_expires_at).await
    }
    async fn rotate(&self, old: &TokenDigest, new: &SessionRecord) -> Result<bool, StoreError> {
        self.inner.rotate(old, new).await
    }
    async fn remove(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        self.inner.remove(digest).await
    }
    async fn list_user(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.list_user(user).await
    }
    async fn remove_user(
        &self,
        user: UserId,
        keep: Option<&TokenDigest>,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.remove_user(user, keep).await
    }
    async fn remove_expired(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        self.inner.remove_expired(now, limit).await
    }
}

/// An app instance: a session manager on its own Redis connection, its cache fed by its own
/// follower.
async fn instance(backend: &RedisBackend) -> (SessionManager, CountingStore, ChangeFollower) {
    let client = redis::Client::open(backend.test.url()).unwrap();
    let follower = follow_changes(client, backend.test.prefix(), FollowConfig::default())
        .await
        .unwrap();
    let store = CountingStore {
        inner: Arc::new(
            RedisSessionStore::new(backend.connect().await).with_prefix(backend.test.prefix()),
        ),
        gets: Arc::new(AtomicUsize::new(0)),
    };
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("k").unwrap(), [3; 32]));
    let audit = AuditLog::start(Arc::new(audit_store), AuditLogConfig::default());
    let manager = SessionManager::new(
        Arc::new(store.clone()),
        // Touches far apart, so that only the cache decides when the store is read.
        SessionPolicy::from_preset(Preset::Nist80063bAal2)
            .with_touch_interval(Duration::from_secs(600))
            .validate()
            .unwrap(),
        Arc::new(SystemClock),
        audit,
    )
    .with_cache_fed_by(follower.feed(), Duration::from_secs(60));
    (manager, store, follower)
}

/// Validates `token` on `manager` and says whether it was valid and whether Redis was read.
async fn validate(manager: &SessionManager, store: &CountingStore, token: &[u8]) -> (bool, bool) {
    let before = store.gets.load(Ordering::SeqCst);
    let valid = match manager.validate(token, &RequestContext::new()).await {
        Ok(_) => true,
        Err(SessionError::Invalid) => false,
        Err(other) => panic!("unexpected {other:?}"),
    };
    (valid, store.gets.load(Ordering::SeqCst) > before)
}

const FROM_CACHE: (bool, bool) = (true, false);
const FROM_STORE: (bool, bool) = (true, true);
const REFUSED_BY_STORE: (bool, bool) = (false, true);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_revoked_through_another_instance_is_refused_once_the_change_arrives() {
    let Some(backend) = RedisBackend::new(module_path!()) else {
        return;
    };
    let (a, a_store, a_follower) = instance(&backend).await;
    let (b, _, b_follower) = instance(&backend).await;
    let user = UserId::new_v7();
    let (token, _) = a
        .create(user, &[Factor::Password], &RequestContext::new())
        .await
        .unwrap();
    let token = token.expose_secret().as_bytes().to_vec();
    assert_eq!(validate(&a, &a_store, &token).await, FROM_STORE);
    assert_eq!(validate(&a, &a_store, &token).await, FROM_CACHE);

    // B revokes the session: A's follower hears of it, and A's cache drops it.
    let mut changes = a_follower.feed().subscribe();
    assert!(
        b.revoke(
            &token,
            Actor::service("admin-console"),
            &RequestContext::new()
        )
        .await
        .unwrap()
    );
    let digest = *SessionToken::parse(&token).unwrap().digest().as_bytes();
    let change = tokio::time::timeout(DEADLINE, changes.next())
        .await
        .expect("no change within the deadline")
        .expect("the follower stopped");
    assert_eq!(change, Change::Session(digest));
    assert_eq!(validate(&a, &a_store, &token).await, REFUSED_BY_STORE);
    assert_eq!(validate(&a, &a_store, &token).await, REFUSED_BY_STORE);
    a_follower.stop().await;
    b_follower.stop().await;
    backend.delete_all().await;
}
