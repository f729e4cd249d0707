#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `MfaAuth` end to end on the memory stores, a `ManualClock`, real AES-GCM sealing and a
//! real audit log; a cross-check against the `oathtool` program.

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::mfa::{
    MemoryMfaStore, MfaAuth, MfaCheck, MfaError, MfaRefusal, MfaStore, RECOVERY_CODES, TotpRecord,
    TotpSettings,
};
use soc2_auth::{LockoutKey, LockoutStore, MemoryLockoutStore, SealError, Sealer};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, RequestContext, UserId};
use time::macros::datetime;

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<MemoryMfaStore>,
    lockouts: Arc<MemoryLockoutStore>,
    audit_store: MemoryAuditStore,
    audit: AuditLog,
    mfa: MfaAuth,
    settings: TotpSettings,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00:10 UTC)));
    let store = Arc::new(MemoryMfaStore::new());
    let lockouts = Arc::new(MemoryLockoutStore::new());
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("a").unwrap(), [4; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let settings = TotpSettings::new("Acme Deploy");
    let sealer = Sealer::new(KeyRing::single(KeyId::new("seal-1").unwrap(), [8; 32]));
    let mfa = MfaAuth::new(
        store.clone(),
        lockouts.clone(),
        sealer,
        settings.clone(),
        audit.clone(),
        clock.clone(),
    );
    Fixture {
        clock,
        store,
        lockouts,
        audit_store,
        audit,
        mfa,
        settings,
    }
}

fn ctx() -> RequestContext {
    RequestContext::new()
}

/// The seed behind an enrolment, read back the way an authenticator app would: from base32.
fn seed(enrollment: &soc2_auth::mfa::TotpEnrollment) -> Vec<u8> {
    totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
        .unwrap()
        .as_bytes()
        .to_vec()
}

impl Fixture {
    fn unix(&self) -> u64 {
        u64::try_from(self.clock.now().unix_timestamp()).unwrap()
    }

    fn code(&self, seed: &[u8]) -> String {
        self.settings.code_at(seed, self.unix())
    }

    /// Enrols and confirms TOTP for a new user; returns the user, the seed and the codes.
    async fn enrolled(&self) -> (UserId, Vec<u8>, Vec<String>) {
        let user = UserId::new_v7();
        let enrollment = self
            .mfa
            .begin_totp(user, "alice@example.com")
            .await
            .unwrap();
        let seed = seed(&enrollment);
        let codes = self
            .mfa
            .confirm_totp(user, &self.code(&seed), &ctx())
            .await
            .unwrap()
            .unwrap();
        self.clock.advance(Duration::from_secs(30));
        let codes = codes.iter().map(|c| c.expose_secret().clone()).collect();
        (user, seed, codes)
    }

    async fn count(&self, action: &str, reason: Option<&str>) -> usize {
        soc2_testkit::audit::actions_and_reasons(&self.audit, &self.audit_store)
            .await
            .iter()
            .filter(|(a, r)| a == action && (reason.is_none() || r.as_deref() == reason))
            .count()
    }
}

#[tokio::test]
async fn enrolment_counts_only_after_a_confirmed_code_which_is_then_spent() {
    let f = fixture();
    let user = UserId::new_v7();
    let enrollment = f.mfa.begin_totp(user, "alice@example.com").await.unwrap();
    assert_eq!(seed(&enrollment).len(), 20, "160-bit seed");
    let uri = enrollment.otpauth_uri.expose_secret();
    assert!(
        uri.starts_with("otpauth://totp/Acme%20Deploy:alice%40example.com?"),
        "{uri}"
    );
    assert!(enrollment.qr_svg.expose_secret().contains("<svg"));
    assert_eq!(&enrollment.qr_png[1..4], b"PNG");
    assert_eq!(format!("{enrollment:?}"), "TotpEnrollment([redacted])");
    let seed = seed(&enrollment);

    assert!(!f.mfa.has_totp(user).await.unwrap());
    assert_eq!(
        f.mfa
            .verify_totp(user, &f.code(&seed), &ctx())
            .await
            .unwrap(),
        MfaCheck::Refused(MfaRefusal::NotEnrolled)
    );
    assert_eq!(
        f.mfa.confirm_totp(user, "000000", &ctx()).await.unwrap(),
        Err(MfaRefusal::Wrong)
    );
    let code = f.code(&seed);
    let codes = f
        .mfa
        .confirm_totp(user, &code, &ctx())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(codes.len(), RECOVERY_CODES);
    assert!(f.mfa.has_totp(user).await.unwrap());
    // The confirmation code cannot log in afterwards (same time step).
    assert_eq!(
        f.mfa.verify_totp(user, &code, &ctx()).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Replayed)
    );
    assert!(matches!(
        f.mfa.begin_totp(user, "alice@example.com").await,
        Err(MfaError::AlreadyEnrolled)
    ));
    assert!(matches!(
        f.mfa.confirm_totp(user, &code, &ctx()).await,
        Err(MfaError::NotPending)
    ));
    assert_eq!(f.count("auth.mfa.enrolled", None).await, 1);
}

#[tokio::test]
async fn a_code_works_once_and_only_within_one_step_of_server_time() {
    let f = fixture();
    let (user, seed, _) = f.enrolled().await;
    let code = f.code(&seed);
    assert_eq!(
        f.mfa.verify_totp(user, &code, &ctx()).await.unwrap(),
        MfaCheck::Accepted
    );
    assert_eq!(
        f.mfa.verify_totp(user, &code, &ctx()).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Replayed)
    );
    // A code from one step ago is refused: its step is not newer than the last accepted.
    let earlier = f.settings.code_at(&seed, f.unix() - 30);
    assert_eq!(
        f.mfa.verify_totp(user, &earlier, &ctx()).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Replayed)
    );
    // The next step's code is accepted early (skew), two steps ahead is not.
    let two_ahead = f.settings.code_at(&seed, f.unix() + 60);
    assert_eq!(
        f.mfa.verify_totp(user, &two_ahead, &ctx()).await.unwrap(),
        MfaCheck::Refused(MfaRefusal::Wrong)
    );
    let next = f.settings.code_at(&seed, f.unix() + 30);
    assert_eq!(
        f.mfa.verify_totp(user, &next, &ctx()).await.unwrap(),
        MfaCheck::Accepted
    );
    assert_eq!(f.count("auth.mfa.verified", None).await, 2);
    assert_eq!(f.count("auth.mfa.failed", Some("replayed")).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submissions_of_one_code_let_exactly_one_through() {
    let f = fixture();
    let (user, seed, _) = f.enrolled().await;
    let code = f.code(&seed);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (mfa, code) = (f.mfa.clone(), code.clone());
            tokio::spawn(async move { mfa.verify_totp(user, &code, &ctx()).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap() == MfaCheck::Accepted);
    }
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn wrong_codes_lock_the_second_factor_on_its_own_counter() {
    let f = fixture();
    let (user, seed, _) = f.enrolled().await;
    for _ in 0..5 {
        assert_eq!(
            f.mfa.verify_totp(user, "000000", &ctx()).await.unwrap(),
            MfaCheck::Refused(MfaRefusal::Wrong)
        );
    }
    assert_eq!(
        f.mfa
            .verify_totp(user, &f.code(&seed), &ctx())
            .await
            .unwrap(),
        MfaCheck::Refused(MfaRefusal::Locked)
    );
    let mfa_state = f
        .lockouts
        .account_state(&LockoutKey::SecondFactor(user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mfa_state.lockouts, 1);
    assert_eq!(
        f.lockouts
            .account_state(&LockoutKey::Account(user))
            .await
            .unwrap(),
        None,
        "password counter untouched"
    );
    assert_eq!(f.count("auth.lockout.locked", None).await, 1);
    f.clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(
        f.mfa
            .verify_totp(user, &f.code(&seed), &ctx())
            .await
            .unwrap(),
        MfaCheck::Accepted
    );
}

#[tokio::test]
async fn malformed_codes_are_refused_without_counting() {
    let f = fixture();
    let (user, _, _) = f.enrolled().await;
    for code in [
        "",
        "12345",
        "1234567",
        "12a456",
        "١٢٣٤٥٦",
        "１２３４５６",
        &"9".repeat(10_000),
    ] {
        assert_eq!(
            f.mfa.verify_totp(user, code, &ctx()).await.unwrap(),
            MfaCheck::Refused(MfaRefusal::Malformed),
            "{code:.20}"
        );
    }
    let state = f
        .lockouts
        .account_state(&LockoutKey::SecondFactor(user))
        .await
        .unwrap();
    assert!(state.as_ref().is_none_or(|s| s.failures == 0), "{state:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recovery_codes_are_single_use_even_under_concurrency() {
    let f = fixture();
    let (user, _, codes) = f.enrolled().await;
    assert_eq!(
        f.mfa.recovery_codes_left(user).await.unwrap(),
        RECOVERY_CODES
    );
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (mfa, code) = (f.mfa.clone(), codes[0].clone());
            tokio::spawn(async move { mfa.use_recovery_code(user, &code, &ctx()).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(task.await.unwrap() == MfaCheck::Accepted);
    }
    assert_eq!(accepted, 1);
    assert_eq!(
        f.mfa.recovery_codes_left(user).await.unwrap(),
        RECOVERY_CODES - 1
    );
    // The nine spent-code attempts counted as failures and locked the second factor.
    f.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(
        f.mfa
            .use_recovery_code(user, &codes[1].to_lowercase(), &ctx())
            .await
            .unwrap(),
        MfaCheck::Accepted
    );
    let fresh = f.mfa.regenerate_recovery_codes(user, &ctx()).await.unwrap();
    assert_eq!(
        f.mfa.recovery_codes_left(user).await.unwrap(),
        RECOVERY_CODES
    );
    assert_eq!(
        f.mfa
            .use_recovery_code(user, &codes[2], &ctx())
            .await
            .unwrap(),
        MfaCheck::Refused(MfaRefusal::Wrong),
        "the old set is void"
    );
    assert_eq!(
        f.mfa
            .use_recovery_code(user, fresh[0].expose_secret(), &ctx())
            .await
            .unwrap(),
        MfaCheck::Accepted
    );
    assert_eq!(
        f.mfa
            .use_recovery_code(user, "not a code", &ctx())
            .await
            .unwrap(),
        MfaCheck::Refused(MfaRefusal::Malformed)
    );
}

#[tokio::test]
async fn a_sealed_seed_moved_to_another_user_does_not_open() {
    let f = fixture();
    let (alice, _, _) = f.enrolled().await;
    let stolen = f.store.totp(alice).await.unwrap().unwrap();
    assert!(stolen.sealed_secret.starts_with("v1.seal-1."));
    let mallory = UserId::new_v7();
    f.store
        .put_pending_totp(&TotpRecord::pending(
            mallory,
            stolen.sealed_secret,
            f.clock.now(),
        ))
        .await
        .unwrap();
    assert!(matches!(
        f.mfa.confirm_totp(mallory, "123456", &ctx()).await,
        Err(MfaError::Seal(SealError::Rejected))
    ));
}

#[tokio::test]
async fn removing_the_factor_is_audited() {
    let f = fixture();
    let (user, seed, _) = f.enrolled().await;
    assert!(
        f.mfa
            .remove_totp(user, Actor::user(user), &ctx())
            .await
            .unwrap()
    );
    assert!(
        !f.mfa
            .remove_totp(user, Actor::user(user), &ctx())
            .await
            .unwrap()
    );
    assert_eq!(
        f.mfa
            .verify_totp(user, &f.code(&seed), &ctx())
            .await
            .unwrap(),
        MfaCheck::Refused(MfaRefusal::NotEnrolled)
    );
    assert_eq!(f.count("auth.mfa.removed", None).await, 1);
}

/// A code computed by `oathtool` (Debian package `oathtool`) for an enrolled seed is accepted.
/// CI installs the program and sets `SOC2_TEST_OATHTOOL_REQUIRED=1`.
#[tokio::test]
async fn a_code_from_oathtool_is_accepted() {
    let f = fixture();
    let user = UserId::new_v7();
    let enrollment = f.mfa.begin_totp(user, "alice@example.com").await.unwrap();
    let now = f
        .clock
        .now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let output = std::process::Command::new("oathtool")
        .args(["--totp", "--base32", "--now", &now])
        .arg(enrollment.secret_base32.expose_secret())
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) if std::env::var_os("SOC2_TEST_OATHTOOL_REQUIRED").is_none() => {
            eprintln!("oathtool not available ({error}); skipping the cross-check");
            return;
        }
        Err(error) => panic!("oathtool is required: {error}"),
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let code = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        f.mfa
            .confirm_totp(user, &code, &ctx())
            .await
            .unwrap()
            .is_ok(),
        "{code}"
    );
}

#[tokio::test]
async fn rotating_the_sealing_key_reseals_in_batches_and_guards_retirement() {
    let f = fixture();
    let mut users = Vec::new();
    for _ in 0..5 {
        users.push(f.enrolled().await);
    }
    let k1 = KeyId::new("seal-1").unwrap();
    let k2 = KeyId::new("seal-2").unwrap();
    let rotated = KeyRing::single(k1.clone(), [8; 32])
        .with_key(k2.clone(), [9; 32])
        .unwrap()
        .with_active(&k2)
        .unwrap();
    let mfa = MfaAuth::new(
        f.store.clone(),
        f.lockouts.clone(),
        Sealer::new(rotated),
        f.settings.clone(),
        f.audit.clone(),
        f.clock.clone(),
    );
    assert!(matches!(
        mfa.check_retirable(&k1).await,
        Err(MfaError::KeyInUse { count: 5, .. })
    ));
    assert_eq!(mfa.reseal(2).await.unwrap(), 2);
    assert_eq!(mfa.reseal(2).await.unwrap(), 2);
    assert_eq!(mfa.reseal(2).await.unwrap(), 1);
    assert_eq!(mfa.reseal(2).await.unwrap(), 0);
    mfa.check_retirable(&k1).await.unwrap();
    // Every factor still works under the new key alone.
    let only_k2 = Sealer::new(KeyRing::single(k2, [9; 32]));
    let mfa = MfaAuth::new(
        f.store.clone(),
        f.lockouts.clone(),
        only_k2,
        f.settings.clone(),
        f.audit.clone(),
        f.clock.clone(),
    );
    for (user, seed, _) in &users {
        assert_eq!(
            mfa.verify_totp(*user, &f.code(seed), &ctx()).await.unwrap(),
            MfaCheck::Accepted
        );
    }
}

/// A second instance over the same stores (its own cache of sealed seeds).
impl Fixture {
    fn other_instance(&self) -> MfaAuth {
        MfaAuth::new(
            self.store.clone(),
            self.lockouts.clone(),
            Sealer::new(KeyRing::single(KeyId::new("seal-1").unwrap(), [8; 32])),
            self.settings.clone(),
            self.audit.clone(),
            self.clock.clone(),
        )
    }
}

#[tokio::test]
async fn a_factor_changed_on_another_instance_is_judged_by_the_stored_seed() {
    let f = fixture();
    let other = f.other_instance();
    let (user, old_seed, _) = f.enrolled().await;
    let verify = |mfa: &MfaAuth, code: String| {
        let mfa = mfa.clone();
        async move { mfa.verify_totp(user, &code, &ctx()).await.unwrap() }
    };
    assert_eq!(
        verify(&f.mfa, f.code(&old_seed)).await,
        MfaCheck::Accepted,
        "cached now"
    );

    // Re-enrolled elsewhere: the cached (old) seed must neither refuse the new code nor
    // accept the old one.
    assert!(
        other
            .remove_totp(user, Actor::user(user), &ctx())
            .await
            .unwrap()
    );
    let enrollment = other.begin_totp(user, "alice@example.com").await.unwrap();
    let new_seed = seed(&enrollment);
    f.clock.advance(Duration::from_secs(30));
    let confirmed = other
        .confirm_totp(user, &f.code(&new_seed), &ctx())
        .await
        .unwrap();
    assert!(confirmed.is_ok());
    f.clock.advance(Duration::from_secs(30));
    assert_eq!(
        verify(&f.mfa, f.code(&old_seed)).await,
        MfaCheck::Refused(MfaRefusal::Wrong)
    );
    f.clock.advance(Duration::from_secs(30));
    assert_eq!(verify(&f.mfa, f.code(&new_seed)).await, MfaCheck::Accepted);

    // Removed elsewhere: a code of the removed seed is refused as not enrolled.
    assert!(
        other
            .remove_totp(user, Actor::user(user), &ctx())
            .await
            .unwrap()
    );
    f.clock.advance(Duration::from_secs(30));
    assert_eq!(
        verify(&f.mfa, f.code(&new_seed)).await,
        MfaCheck::Refused(MfaRefusal::NotEnrolled)
    );
}
