//! The session lifecycle against a `ManualClock`, with every audit event checked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditLog, AuditLogConfig, AuditStore, MemoryAuditStore};
use soc2_core::{KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
use soc2_session::{
    Expiry, Factor, MemorySessionStore, OnSessionLimit, SessionError, SessionManager,
    SessionPolicy, SessionStore,
};
use time::macros::datetime;

const MINUTE: Duration = Duration::from_secs(60);

struct Fixture {
    clock: Arc<ManualClock>,
    store: MemorySessionStore,
    audit_store: MemoryAuditStore,
    audit: AuditLog,
    sessions: SessionManager,
}

fn fixture(policy: SessionPolicy) -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let store = MemorySessionStore::new();
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("k").unwrap(), [3; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let sessions = SessionManager::new(
        Arc::new(store.clone()),
        policy.validate().unwrap(),
        clock.clone(),
        audit.clone(),
    );
    Fixture {
        clock,
        store,
        audit_store,
        audit,
        sessions,
    }
}

fn nist() -> SessionPolicy {
    SessionPolicy::from_preset(Preset::Nist80063bAal2)
}

impl Fixture {
    /// (action, outcome, reason) of every audit event so far.
    async fn events(&self) -> Vec<(String, String, Option<String>)> {
        self.audit.flush().await.unwrap();
        self.audit_store
            .read(0, 1000)
            .await
            .unwrap()
            .iter()
            .map(|stored| {
                let event = stored.event().unwrap();
                (
                    event.action().name().to_owned(),
                    event.outcome().name().to_owned(),
                    event.reason().map(str::to_owned),
                )
            })
            .collect()
    }

    /// How many audit events of `action` were recorded.
    async fn count(&self, action: &str) -> usize {
        self.events().await.iter().filter(|e| e.0 == action).count()
    }

    async fn bodies(&self) -> String {
        self.audit.flush().await.unwrap();
        let stored = self.audit_store.read(0, 1000).await.unwrap();
        stored
            .iter()
            .map(|s| s.body.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Logs `user` in with a password through `sessions` and returns the session token's bytes.
async fn login(sessions: &SessionManager, user: UserId) -> Vec<u8> {
    let (token, _) = sessions
        .create(user, &[Factor::Password], &ctx())
        .await
        .unwrap();
    token.expose_secret().as_bytes().to_vec()
}

/// Asserts that `token` is refused as invalid (unknown, revoked or rotated away).
async fn assert_invalid(sessions: &SessionManager, token: &[u8]) {
    assert!(matches!(
        sessions.validate(token, &ctx()).await,
        Err(SessionError::Invalid)
    ));
}

fn ctx() -> RequestContext {
    RequestContext::new()
        .with_client_ip("192.0.2.10".parse().unwrap())
        .with_user_agent("test")
}

#[tokio::test]
async fn created_sessions_validate_and_never_leak_the_token() {
    let f = fixture(nist());
    let user = UserId::new_v7();
    let (token, created) = f
        .sessions
        .create(user, &[Factor::Password, Factor::Totp], &ctx())
        .await
        .unwrap();
    let session = f
        .sessions
        .validate(token.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
    assert_eq!(session.id(), created.id());
    assert_eq!(session.user_id(), user);
    assert_eq!(session.auth().factors, [Factor::Password, Factor::Totp]);
    assert_eq!(
        session.auth().mfa_verified_at,
        Some(datetime!(2026-11-23 09:00 UTC))
    );
    assert_eq!(
        f.events().await,
        [("session.created".into(), "success".into(), None)]
    );
    let bodies = f.bodies().await;
    assert!(!bodies.contains(token.expose_secret()));
    assert!(bodies.contains(token.digest().session_ref().as_str()));
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_invalid() {
    let f = fixture(nist());
    for presented in [&b""[..], b"soc2s_short", &[0xFF; 49], &vec![b'a'; 1 << 20]] {
        assert_invalid(&f.sessions, presented).await;
    }
    let (unknown, _) = fixture(nist())
        .sessions
        .create(UserId::new_v7(), &[Factor::Password], &ctx())
        .await
        .unwrap();
    assert_invalid(&f.sessions, unknown.expose_secret().as_bytes()).await;
}

#[tokio::test]
async fn idle_timeout_fires_within_one_touch_interval_of_the_last_request() {
    let f = fixture(nist());
    let token = login(&f.sessions, UserId::new_v7()).await;
    // A request 59 s in is not written (coalesced): the stored last_seen stays at creation.
    f.clock.advance(Duration::from_secs(59));
    f.sessions.validate(&token, &ctx()).await.unwrap();
    f.clock.advance(29 * MINUTE);
    let record = f
        .store
        .get(&soc2_session::SessionToken::parse(&token).unwrap().digest())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.last_seen_at, datetime!(2026-11-23 09:00 UTC));
    // 29 min 1 s after the last request, 30 min after the last stored touch: expired, which is
    // inside the documented bound [idle - interval, idle].
    f.clock.advance(Duration::from_secs(1));
    assert!(matches!(
        f.sessions.validate(&token, &ctx()).await,
        Err(SessionError::Expired(Expiry::Idle))
    ));
    assert_invalid(&f.sessions, &token).await;
    let events = f.events().await;
    assert_eq!(
        events[1],
        (
            "session.expired".into(),
            "success".into(),
            Some("idle timeout".into())
        )
    );
}

#[tokio::test]
async fn activity_keeps_a_session_until_its_absolute_lifetime() {
    let f = fixture(nist());
    let token = login(&f.sessions, UserId::new_v7()).await;
    for _ in 0..71 {
        f.clock.advance(10 * MINUTE);
        f.sessions.validate(&token, &ctx()).await.unwrap();
    }
    f.clock.advance(10 * MINUTE); // 12 h after creation
    assert!(matches!(
        f.sessions.validate(&token, &ctx()).await,
        Err(SessionError::Expired(Expiry::Absolute))
    ));
    assert_eq!(
        f.events().await.last().unwrap().2.as_deref(),
        Some("absolute lifetime")
    );
}

#[tokio::test]
async fn rotation_kills_the_old_token_and_records_step_up() {
    let f = fixture(nist());
    let (old, _) = f
        .sessions
        .create(UserId::new_v7(), &[Factor::Password], &ctx())
        .await
        .unwrap();
    f.clock.advance(20 * MINUTE);
    let old = old.expose_secret().as_bytes().to_vec();
    let (new, session) = f
        .sessions
        .rotate(&old, Some(&[Factor::Password, Factor::WebAuthn]), &ctx())
        .await
        .unwrap();
    assert_invalid(&f.sessions, &old).await;
    f.sessions
        .validate(new.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
    let now = datetime!(2026-11-23 09:20 UTC);
    assert_eq!(session.auth().authenticated_at, now);
    assert_eq!(session.auth().mfa_verified_at, Some(now));
    session.require_fresh(5 * MINUTE, now + 5 * MINUTE).unwrap();
    assert!(matches!(
        session.require_fresh(5 * MINUTE, now + 6 * MINUTE),
        Err(SessionError::StepUpRequired)
    ));
    assert_eq!(f.events().await[1].0, "session.rotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_of_one_token_have_one_winner() {
    let f = fixture(nist());
    let token = login(&f.sessions, UserId::new_v7()).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (sessions, token) = (f.sessions.clone(), token.clone());
            tokio::spawn(async move { sessions.rotate(&token, None, &ctx()).await.is_ok() })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(f.count("session.rotated").await, 1);
}

#[tokio::test]
async fn logout_and_revocation_end_sessions_server_side() {
    let f = fixture(nist());
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(
            f.sessions
                .create(alice, &[Factor::Password], &ctx())
                .await
                .unwrap()
                .0,
        );
    }
    let bob_token = f
        .sessions
        .create(bob, &[Factor::Password], &ctx())
        .await
        .unwrap()
        .0;

    assert!(
        f.sessions
            .revoke(
                tokens[0].expose_secret().as_bytes(),
                Actor::user(alice),
                &ctx()
            )
            .await
            .unwrap()
    );
    assert!(
        !f.sessions
            .revoke(
                tokens[0].expose_secret().as_bytes(),
                Actor::user(alice),
                &ctx()
            )
            .await
            .unwrap()
    );
    assert_invalid(&f.sessions, tokens[0].expose_secret().as_bytes()).await;

    let devices = f
        .sessions
        .list(alice, Some(&tokens[1].digest()))
        .await
        .unwrap();
    assert_eq!(
        devices.iter().map(|d| d.current).collect::<Vec<_>>(),
        [true, false]
    );

    assert_eq!(
        f.sessions
            .revoke_others(tokens[1].expose_secret().as_bytes(), &ctx())
            .await
            .unwrap(),
        1
    );
    f.sessions
        .validate(tokens[1].expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
    assert_eq!(
        f.sessions
            .revoke_user(alice, Actor::service("admin-console"), &ctx())
            .await
            .unwrap(),
        1
    );
    assert!(f.sessions.list(alice, None).await.unwrap().is_empty());
    f.sessions
        .validate(bob_token.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
    let revoked = f
        .events()
        .await
        .iter()
        .filter(|e| e.0 == "session.revoked")
        .count();
    assert_eq!(revoked, 3);
}

#[tokio::test]
async fn a_refusing_limit_denies_the_extra_login() {
    let f = fixture(nist().with_max_concurrent(Some((2, OnSessionLimit::Refuse))));
    let user = UserId::new_v7();
    for _ in 0..2 {
        f.sessions
            .create(user, &[Factor::Password], &ctx())
            .await
            .unwrap();
    }
    assert!(matches!(
        f.sessions.create(user, &[Factor::Password], &ctx()).await,
        Err(SessionError::LimitReached { limit: 2 })
    ));
    assert_eq!(f.sessions.list(user, None).await.unwrap().len(), 2);
    assert_eq!(f.events().await.last().unwrap().0, "session.limit_reached");
}

#[tokio::test]
async fn an_evicting_limit_ends_the_least_recently_used_session() {
    let f = fixture(nist().with_max_concurrent(Some((2, OnSessionLimit::EvictOldest))));
    let user = UserId::new_v7();
    let first = f
        .sessions
        .create(user, &[Factor::Password], &ctx())
        .await
        .unwrap()
        .0;
    f.clock.advance(MINUTE);
    let second = f
        .sessions
        .create(user, &[Factor::Password], &ctx())
        .await
        .unwrap()
        .0;
    f.clock.advance(2 * MINUTE);
    f.sessions
        .validate(first.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap(); // first is now the more recent
    f.sessions
        .create(user, &[Factor::Password], &ctx())
        .await
        .unwrap();
    assert_invalid(&f.sessions, second.expose_secret().as_bytes()).await;
    f.sessions
        .validate(first.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
}

#[tokio::test]
async fn the_sweeper_deletes_and_audits_expired_sessions() {
    let f = fixture(nist());
    for _ in 0..3 {
        f.sessions
            .create(UserId::new_v7(), &[Factor::Password], &ctx())
            .await
            .unwrap();
    }
    f.clock.advance(31 * MINUTE);
    f.sessions
        .create(UserId::new_v7(), &[Factor::Password], &ctx())
        .await
        .unwrap();
    assert_eq!(f.sessions.sweep(2).await.unwrap(), 2);
    assert_eq!(f.sessions.sweep(2).await.unwrap(), 1);
    assert_eq!(f.sessions.sweep(2).await.unwrap(), 0);
    assert_eq!(f.count("session.expired").await, 3);
}

#[tokio::test]
async fn no_session_exists_when_its_creation_cannot_be_audited() {
    let f = fixture(nist());
    f.audit.shutdown().await.unwrap();
    let user = UserId::new_v7();
    assert!(matches!(
        f.sessions.create(user, &[Factor::Password], &ctx()).await,
        Err(SessionError::Audit(_))
    ));
    assert!(f.store.list_user(user).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_cache_bounds_how_long_a_foreign_revocation_goes_unseen() {
    let f = fixture(nist());
    let cached = f.sessions.clone().with_cache(Duration::from_secs(2));
    let user = UserId::new_v7();
    let token = login(&cached, user).await;
    cached.validate(&token, &ctx()).await.unwrap();

    // Another instance revokes the session straight in the shared store.
    f.store.remove_user(user, None).await.unwrap();
    f.clock.advance(Duration::from_millis(1999));
    cached.validate(&token, &ctx()).await.unwrap(); // served from the cache, within the bound
    assert_invalid(&f.sessions, &token).await;
    f.clock.advance(Duration::from_millis(1));
    assert_invalid(&cached, &token).await;
}

#[tokio::test]
async fn revocation_through_a_caching_manager_takes_effect_at_once() {
    let f = fixture(nist());
    let cached = f.sessions.clone().with_cache(Duration::from_secs(5));
    let user = UserId::new_v7();
    let first = login(&cached, user).await;
    let second = login(&cached, user).await;
    cached.validate(&first, &ctx()).await.unwrap();
    cached.validate(&second, &ctx()).await.unwrap();

    cached
        .revoke(&first, Actor::user(user), &ctx())
        .await
        .unwrap();
    assert_invalid(&cached, &first).await;
    let (rotated, _) = cached.rotate(&second, None, &ctx()).await.unwrap();
    assert_invalid(&cached, &second).await;
    cached
        .validate(rotated.expose_secret().as_bytes(), &ctx())
        .await
        .unwrap();
    cached
        .revoke_user(user, Actor::System, &ctx())
        .await
        .unwrap();
    assert_invalid(&cached, rotated.expose_secret().as_bytes()).await;
}

#[tokio::test]
async fn a_user_ends_one_of_their_sessions_by_id_but_never_anothers() {
    let f = fixture(nist());
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let first = login(&f.sessions, alice).await;
    let second = login(&f.sessions, alice).await;
    let bobs = login(&f.sessions, bob).await;
    let id_of = |token: &[u8]| {
        let sessions = f.sessions.clone();
        let token = token.to_vec();
        async move { sessions.validate(&token, &ctx()).await.unwrap().id() }
    };
    let (first_id, bobs_id) = (id_of(&first).await, id_of(&bobs).await);
    let by = Actor::user(alice);
    assert!(
        !f.sessions
            .revoke_id(alice, bobs_id, by.clone(), &ctx())
            .await
            .unwrap()
    );
    assert!(
        f.sessions
            .revoke_id(alice, first_id, by.clone(), &ctx())
            .await
            .unwrap()
    );
    assert!(
        !f.sessions
            .revoke_id(alice, first_id, by, &ctx())
            .await
            .unwrap()
    );
    assert_invalid(&f.sessions, &first).await;
    f.sessions.validate(&second, &ctx()).await.unwrap();
    f.sessions.validate(&bobs, &ctx()).await.unwrap();
    assert_eq!(f.count("session.revoked").await, 1);
}
