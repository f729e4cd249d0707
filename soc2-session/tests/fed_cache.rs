//! The session cache fed by a `ChangeFeed`, driven by hand: what other instances change is
//! dropped, nothing is served while the feed is not live, and a store read overtaken by a
//! change is never cached. A counting store shows which validations read the store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_core::{
    Change, ChangeFeed, ChangePublisher, KeyId, KeyRing, ManualClock, Preset, RequestContext,
    StoreError, UserId,
};
use soc2_session::{
    Factor, MemorySessionStore, SessionError, SessionManager, SessionPolicy, SessionRecord,
    SessionStore, SessionToken, TokenDigest,
};
use time::OffsetDateTime;
use time::macros::datetime;

const STALENESS: Duration = Duration::from_secs(60);

/// What the counting store does after its next `get` has read the record: the work of
/// another instance and of another request thread, interleaved at the worst moment.
type Interleaving = Box<dyn FnOnce(TokenDigest) -> BoxedFuture + Send>;
type BoxedFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// A memory store that counts `get`s and can run an [`Interleaving`] inside one.
#[derive(Clone)]
struct CountingStore {
    inner: MemorySessionStore,
    gets: Arc<AtomicUsize>,
    interleave: Arc<Mutex<Option<Interleaving>>>,
}

impl std::fmt::Debug for CountingStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingStore")
            .field("gets", &self.gets)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for CountingStore {
    async fn insert(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.inner.insert(session).await
    }
    async fn get(&self, digest: &TokenDigest) -> Result<Option<SessionRecord>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let read = self.inner.get(digest).await?;
        let hook = self.interleave.lock().unwrap().take();
        if let Some(hook) = hook {
            hook(*digest).await;
        }
        Ok(read)
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

struct Fixture {
    clock: Arc<ManualClock>,
    store: CountingStore,
    publisher: Arc<ChangePublisher>,
    /// A manager with a cache fed by the hand-driven feed.
    sessions: SessionManager,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let store = CountingStore {
        inner: MemorySessionStore::new(),
        gets: Arc::new(AtomicUsize::new(0)),
        interleave: Arc::new(Mutex::new(None)),
    };
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("k").unwrap(), [3; 32]));
    let audit = AuditLog::start(Arc::new(audit_store), AuditLogConfig::default());
    let (feed, publisher) = ChangeFeed::new(64);
    publisher.set_live(true);
    let sessions = SessionManager::new(
        Arc::new(store.clone()),
        // Touches far apart, so that only the cache decides when the store is read.
        SessionPolicy::from_preset(Preset::Nist80063bAal2)
            .with_touch_interval(Duration::from_secs(600))
            .validate()
            .unwrap(),
        clock.clone(),
        audit,
    )
    .with_cache_fed_by(&feed, STALENESS);
    Fixture {
        clock,
        store,
        publisher: Arc::new(publisher),
        sessions,
    }
}

impl Fixture {
    async fn login(&self, user: UserId) -> Vec<u8> {
        let (token, _) = self
            .sessions
            .create(user, &[Factor::Password], &RequestContext::new())
            .await
            .unwrap();
        token.expose_secret().as_bytes().to_vec()
    }

    /// Validates `token` and says whether it was valid and whether the store was read.
    async fn validate(&self, token: &[u8]) -> (bool, bool) {
        let before = self.store.gets.load(Ordering::SeqCst);
        let valid = match self.sessions.validate(token, &RequestContext::new()).await {
            Ok(_) => true,
            Err(SessionError::Invalid) => false,
            Err(other) => panic!("unexpected {other:?}"),
        };
        (valid, self.store.gets.load(Ordering::SeqCst) > before)
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    *SessionToken::parse(token).unwrap().digest().as_bytes()
}

const FROM_CACHE: (bool, bool) = (true, false);
const FROM_STORE: (bool, bool) = (true, true);
const REFUSED_BY_STORE: (bool, bool) = (false, true);

#[tokio::test]
async fn a_published_session_change_makes_the_next_validation_read_the_store_and_fail() {
    let f = fixture();
    let user = UserId::new_v7();
    let token = f.login(user).await;
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_CACHE);

    // Another instance revokes the session: its database publishes the digest.
    f.store.inner.remove_user(user, None).await.unwrap();
    assert_eq!(
        f.validate(&token).await,
        FROM_CACHE,
        "nothing published yet"
    );
    f.publisher.publish(Change::Session(digest(&token)));
    assert_eq!(f.validate(&token).await, REFUSED_BY_STORE);
}

#[tokio::test]
async fn a_change_to_another_session_or_to_roles_keeps_the_entry() {
    let f = fixture();
    let user = UserId::new_v7();
    let token = f.login(user).await;
    assert_eq!(f.validate(&token).await, FROM_STORE);
    f.publisher.publish(Change::Session([9; 32]));
    f.publisher.publish(Change::UserRoles(user));
    f.publisher.publish(Change::RoleHierarchy);
    assert_eq!(f.validate(&token).await, FROM_CACHE);
}

#[tokio::test]
async fn while_the_feed_is_not_live_every_validation_reads_the_store() {
    let f = fixture();
    let token = f.login(UserId::new_v7()).await;
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_CACHE);

    f.publisher.set_live(false);
    for _ in 0..3 {
        assert_eq!(f.validate(&token).await, FROM_STORE);
    }
    // Live again (after the follower's resync): the entry dropped while down is read again.
    f.publisher.publish(Change::Resync);
    f.publisher.set_live(true);
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_CACHE);
}

#[tokio::test]
async fn a_read_made_while_the_feed_was_down_is_not_cached_even_if_it_comes_back_silently() {
    let f = fixture();
    let token = f.login(UserId::new_v7()).await;
    f.publisher.set_live(false);
    assert_eq!(f.validate(&token).await, FROM_STORE);
    f.publisher.set_live(true);
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_CACHE);
}

#[tokio::test]
async fn a_resync_empties_the_cache() {
    let f = fixture();
    let (first, second) = (
        f.login(UserId::new_v7()).await,
        f.login(UserId::new_v7()).await,
    );
    assert_eq!(f.validate(&first).await, FROM_STORE);
    assert_eq!(f.validate(&second).await, FROM_STORE);
    f.publisher.publish(Change::Resync);
    assert_eq!(f.validate(&first).await, FROM_STORE);
    assert_eq!(f.validate(&second).await, FROM_STORE);
    assert_eq!(f.validate(&first).await, FROM_CACHE);
}

#[tokio::test]
async fn a_dropped_publisher_turns_the_cache_off() {
    let Fixture {
        clock: _clock,
        store,
        publisher,
        sessions,
    } = fixture();
    let f = Fixture {
        clock: _clock,
        store,
        publisher: Arc::new(ChangeFeed::new(1).1),
        sessions,
    };
    let token = f.login(UserId::new_v7()).await;
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_CACHE);
    drop(publisher);
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert_eq!(f.validate(&token).await, FROM_STORE);
}

#[tokio::test]
async fn max_staleness_still_bounds_an_entry_the_feed_never_touched() {
    let f = fixture();
    let token = f.login(UserId::new_v7()).await;
    assert_eq!(f.validate(&token).await, FROM_STORE);
    f.clock.advance(Duration::from_secs(59));
    assert_eq!(f.validate(&token).await, FROM_CACHE);
    f.clock.advance(Duration::from_secs(1));
    assert_eq!(f.validate(&token).await, FROM_STORE);
}

/// The race the generation counter closes: validation A reads the session from the store;
/// before A caches it, another instance revokes it and another request's lookup applies the
/// published change; A must then not cache the record it read.
#[tokio::test]
async fn a_store_read_overtaken_by_an_applied_change_is_not_cached() {
    let f = fixture();
    let user = UserId::new_v7();
    let token = f.login(user).await;
    let other = f.login(UserId::new_v7()).await;
    let racer: Arc<OnceLock<SessionManager>> = Arc::new(OnceLock::new());
    racer.set(f.sessions.clone()).unwrap();
    let (inner, publisher) = (f.store.inner.clone(), Arc::clone(&f.publisher));
    let (racer_sessions, racer_token) = (Arc::clone(&racer), other.clone());
    let applied = Arc::new(AtomicBool::new(false));
    let applied_by_racer = Arc::clone(&applied);
    let hook: Interleaving = Box::new(move |read: TokenDigest| {
        Box::pin(async move {
            // Another instance revokes the session A just read, and its change arrives...
            inner.remove_user(user, None).await.unwrap();
            publisher.publish(Change::Session(*read.as_bytes()));
            // ...and is applied by another request's lookup (served from the cache: no get).
            let racing = racer_sessions.get().unwrap();
            racing
                .validate(&racer_token, &RequestContext::new())
                .await
                .unwrap();
            applied_by_racer.store(true, Ordering::SeqCst);
        })
    });
    assert_eq!(
        f.validate(&other).await,
        FROM_STORE,
        "the racer's session is cached"
    );
    *f.store.interleave.lock().unwrap() = Some(hook);

    // A's read predates the revocation, so A itself succeeds...
    assert_eq!(f.validate(&token).await, FROM_STORE);
    assert!(applied.load(Ordering::SeqCst), "the interleaving ran");
    // ...but did not cache what it read: the next validation asks the store, which refuses.
    assert_eq!(f.validate(&token).await, REFUSED_BY_STORE);
}

#[tokio::test]
async fn the_unfed_cache_still_serves_until_max_staleness() {
    let f = fixture();
    let unfed = f.sessions.clone().with_cache(Duration::from_secs(2));
    let user = UserId::new_v7();
    let (token, _) = unfed
        .create(user, &[Factor::Password], &RequestContext::new())
        .await
        .unwrap();
    let token = token.expose_secret().as_bytes().to_vec();
    unfed
        .validate(&token, &RequestContext::new())
        .await
        .unwrap();
    f.store.inner.remove_user(user, None).await.unwrap();
    unfed
        .validate(&token, &RequestContext::new())
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(2));
    assert!(matches!(
        unfed.validate(&token, &RequestContext::new()).await,
        Err(SessionError::Invalid)
    ));
}
