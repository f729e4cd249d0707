//! Cases for `MfaStore::accept_totp_step_if_clear`: a store sharing its database with the
//! lockout store accepts a login's step only while the second-factor counter is clear, and
//! the login built on it counts, clears and locks exactly as the two-part path does.

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::mfa::{MfaAuth, MfaCheck, MfaRefusal, MfaStore, TotpRecord, TotpSettings};
use soc2_auth::{AccountOp, LockoutKey, LockoutPolicy, LockoutStore, Sealer};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
use time::OffsetDateTime;

use super::{MfaBackend, T0};

/// Three failures lock the counter for ten minutes.
fn three_strikes() -> LockoutPolicy {
    LockoutPolicy::from_preset(Preset::Soc2Strict)
        .with_threshold(3)
        .with_duration(Duration::from_secs(600), 1, Duration::from_secs(600))
}

async fn confirmed(store: &dyn MfaStore, user: UserId) -> String {
    let sealed = format!("v1.k1.c2VhbGVk-{user}");
    store
        .put_pending_totp(&TotpRecord::pending(user, sealed.clone(), T0))
        .await
        .unwrap();
    assert!(
        store
            .accept_totp_step(user, &sealed, 100, true)
            .await
            .unwrap()
    );
    sealed
}

async fn fail(lockouts: &dyn LockoutStore, user: UserId, at: OffsetDateTime) {
    let key = LockoutKey::SecondFactor(user);
    lockouts
        .apply_account(&key, AccountOp::Fail, at, &three_strikes())
        .await
        .unwrap();
}

pub async fn a_store_without_the_counter_declines_the_fast_path(backend: &impl MfaBackend) {
    let store = backend.open().await;
    let user = UserId::new_v7();
    let sealed = confirmed(store.as_ref(), user).await;
    let counter = LockoutKey::SecondFactor(user).storage_key();
    assert_eq!(
        store
            .accept_totp_step_if_clear(user, &sealed, 101, &counter, T0)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .accept_totp_step(user, &sealed, 101, false)
            .await
            .unwrap(),
        "declining changed nothing"
    );
}

pub async fn the_fast_path_accepts_only_while_the_counter_is_clear(backend: &impl MfaBackend) {
    let Some((store, lockouts)) = backend.open_sharing_counters().await else {
        return;
    };
    let user = UserId::new_v7();
    let sealed = confirmed(store.as_ref(), user).await;
    let counter = LockoutKey::SecondFactor(user).storage_key();
    let if_clear = |step: u64, at: OffsetDateTime| {
        let (store, sealed, counter) = (store.clone(), sealed.clone(), counter.clone());
        async move {
            store
                .accept_totp_step_if_clear(user, &sealed, step, &counter, at)
                .await
                .unwrap()
        }
    };

    assert_eq!(if_clear(101, T0).await, Some(true), "no counter row");
    assert_eq!(if_clear(101, T0).await, Some(false), "replayed step");
    assert_eq!(
        store
            .accept_totp_step_if_clear(user, "v1.k1.other", 102, &counter, T0)
            .await
            .unwrap(),
        Some(false),
        "stale seed"
    );

    fail(lockouts.as_ref(), user, T0).await;
    assert_eq!(if_clear(102, T0).await, Some(false), "a failure on record");
    assert!(
        store
            .accept_totp_step(user, &sealed, 102, false)
            .await
            .unwrap(),
        "the declined step was not spent"
    );

    let key = LockoutKey::SecondFactor(user);
    lockouts
        .apply_account(&key, AccountOp::Succeed, T0, &three_strikes())
        .await
        .unwrap();
    assert_eq!(if_clear(103, T0).await, Some(true), "failures cleared");

    for _ in 0..3 {
        fail(lockouts.as_ref(), user, T0).await;
    }
    let lock_ends = T0 + Duration::from_secs(600);
    assert_eq!(
        if_clear(104, lock_ends - Duration::from_micros(1)).await,
        Some(false),
        "locked"
    );
    assert_eq!(if_clear(104, lock_ends).await, Some(true), "lock over");
}

pub async fn a_login_on_the_fast_path_counts_clears_and_locks(backend: &impl MfaBackend) {
    let Some((store, lockouts)) = backend.open_sharing_counters().await else {
        return;
    };
    let clock = Arc::new(ManualClock::new(T0));
    let keys = KeyRing::single(KeyId::new("audit").unwrap(), [4; 32]);
    let audit = AuditLog::start(
        Arc::new(MemoryAuditStore::new(&keys)),
        AuditLogConfig::default(),
    );
    let settings = TotpSettings::new("Acme Deploy");
    let sealer = Sealer::new(KeyRing::single(KeyId::new("seal-1").unwrap(), [8; 32]));
    let mfa = MfaAuth::new(
        store,
        lockouts.clone(),
        sealer,
        settings.clone(),
        audit,
        clock.clone(),
    )
    .with_lockout_policy(three_strikes());
    let ctx = RequestContext::new();
    let user = UserId::new_v7();
    let enrollment = mfa.begin_totp(user, "alice").await.unwrap();
    let seed = totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
        .unwrap()
        .as_bytes()
        .to_vec();
    let code_at = |unix: u64| settings.code_at(&seed, unix);
    let unix = |clock: &ManualClock| u64::try_from(clock.now().unix_timestamp()).unwrap();
    let code = |clock: &ManualClock| code_at(unix(clock));
    // A code matching no step of the skew window.
    let wrong = |clock: &ManualClock| {
        let window = [
            code_at(unix(clock) - 30),
            code(clock),
            code_at(unix(clock) + 30),
        ];
        (0..4)
            .map(|n| format!("{n:06}"))
            .find(|candidate| !window.contains(candidate))
            .unwrap()
    };
    let next_step = |clock: &ManualClock| clock.advance(Duration::from_secs(30));
    assert!(
        mfa.confirm_totp(user, &code(&clock), &ctx)
            .await
            .unwrap()
            .is_ok()
    );
    let key = LockoutKey::SecondFactor(user);
    let failures = || async {
        lockouts
            .account_state(&key)
            .await
            .unwrap()
            .map(|s| s.failures)
    };

    next_step(&clock);
    let right = code(&clock);
    assert_eq!(
        mfa.verify_totp(user, &right, &ctx).await.unwrap(),
        MfaCheck::Accepted
    );
    assert_eq!(
        mfa.verify_totp(user, &right, &ctx).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Replayed)
    );
    assert_eq!(failures().await, Some(1), "a replay counts");

    next_step(&clock);
    assert_eq!(
        mfa.verify_totp(user, &code(&clock), &ctx).await.unwrap(),
        MfaCheck::Accepted
    );
    assert_eq!(failures().await, Some(0), "a right code clears the counter");

    for _ in 0..3 {
        assert_eq!(
            mfa.verify_totp(user, &wrong(&clock), &ctx).await.unwrap(),
            MfaCheck::Refused(MfaRefusal::Wrong)
        );
    }
    next_step(&clock);
    assert_eq!(
        mfa.verify_totp(user, &code(&clock), &ctx).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Locked),
        "a locked counter refuses a right code"
    );
}
