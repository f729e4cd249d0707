#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The login flow (`Authenticator`) on the memory stores: password, second factor, required
//! password change, single-use expiring challenges, and the audit trail.

use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::login::{Authenticator, LoginError, LoginOutcome, MfaMethod, MfaProof};
use soc2_auth::mfa::{MemoryMfaStore, MfaAuth, TotpSettings};
use soc2_auth::password::{PasswordChecker, PasswordPolicy, UserContext, ViolationCode};
use soc2_auth::{
    AuthError, ChangeReason, HashParams, MemoryCredentialStore, MemoryLockoutStore, PasswordAuth,
    PasswordHasher, PublicDenial, Sealer,
};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
use soc2_session::{Factor, MemorySessionStore, SessionManager, SessionPolicy};
use time::macros::datetime;

const PASSWORD: &str = "Gl4cier-Turbine-Sonnet";

struct Fixture {
    clock: Arc<ManualClock>,
    audit_store: MemoryAuditStore,
    audit: AuditLog,
    passwords: PasswordAuth,
    mfa: MfaAuth,
    login: Authenticator,
}

fn fixture() -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00:10 UTC)));
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("a").unwrap(), [4; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let lockouts = Arc::new(MemoryLockoutStore::new());
    let mfa_store = Arc::new(MemoryMfaStore::new());
    let passwords = PasswordAuth::new(
        Arc::new(MemoryCredentialStore::new()),
        lockouts.clone(),
        PasswordHasher::new(HashParams::new(256, 1, 1).unwrap()).unwrap(),
        audit.clone(),
        clock.clone(),
    )
    .with_checker(PasswordChecker::new(PasswordPolicy::from_preset(
        Preset::Pci4,
    )));
    let mfa = MfaAuth::new(
        mfa_store.clone(),
        lockouts,
        Sealer::new(KeyRing::single(KeyId::new("s").unwrap(), [8; 32])),
        TotpSettings::new("Acme"),
        audit.clone(),
        clock.clone(),
    );
    let sessions = SessionManager::new(
        Arc::new(MemorySessionStore::new()),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        clock.clone(),
        audit.clone(),
    );
    let login = Authenticator::new(
        passwords.clone(),
        mfa.clone(),
        sessions,
        mfa_store,
        audit.clone(),
        clock.clone(),
    );
    Fixture {
        clock,
        audit_store,
        audit,
        passwords,
        mfa,
        login,
    }
}

fn ctx() -> RequestContext {
    RequestContext::new()
}

impl Fixture {
    async fn user(&self, name: &str) -> UserId {
        let user = UserId::new_v7();
        self.passwords
            .register(user, name, Some(PASSWORD), &UserContext::default(), &ctx())
            .await
            .unwrap();
        user
    }

    /// Enrols TOTP for `user`; returns the seed and the recovery codes.
    async fn with_totp(&self, user: UserId) -> (Vec<u8>, Vec<String>) {
        let enrollment = self.mfa.begin_totp(user, "user@example.com").await.unwrap();
        let seed = totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
            .unwrap()
            .as_bytes()
            .to_vec();
        let codes = self
            .mfa
            .confirm_totp(user, &self.code(&seed), &ctx())
            .await
            .unwrap()
            .unwrap();
        self.clock.advance(Duration::from_secs(30));
        (
            seed,
            codes.iter().map(|c| c.expose_secret().clone()).collect(),
        )
    }

    fn code(&self, seed: &[u8]) -> String {
        let now = u64::try_from(self.clock.now().unix_timestamp()).unwrap();
        TotpSettings::new("Acme").code_at(seed, now)
    }

    async fn mfa_challenge(&self, name: &str) -> String {
        match self.login.login(name, PASSWORD, &ctx()).await.unwrap() {
            LoginOutcome::MfaRequired { challenge, methods } => {
                assert_eq!(methods, [MfaMethod::Totp, MfaMethod::RecoveryCode]);
                assert!(challenge.token().expose_secret().starts_with("soc2c_"));
                assert!(!format!("{challenge:?}").contains("soc2c_"));
                challenge.token().expose_secret().clone()
            }
            other => panic!("expected MFA, got {other:?}"),
        }
    }

    async fn count(&self, action: &str, reason: Option<&str>) -> usize {
        soc2_testkit::audit::actions_and_reasons(&self.audit, &self.audit_store)
            .await
            .iter()
            .filter(|(a, r)| a == action && (reason.is_none() || r.as_deref() == reason))
            .count()
    }
}

fn denied(outcome: &LoginOutcome) {
    let LoginOutcome::Denied(denied) = outcome else {
        panic!("expected a denial, got {outcome:?}");
    };
    assert_eq!(denied.public(), PublicDenial::InvalidCredentials);
}

#[tokio::test]
async fn without_a_second_factor_the_password_gives_the_session() {
    let f = fixture();
    let user = f.user("ann").await;
    let LoginOutcome::Authenticated { session, .. } =
        f.login.login("Ann", PASSWORD, &ctx()).await.unwrap()
    else {
        panic!("expected a session");
    };
    assert_eq!(session.user_id(), user);
    assert_eq!(session.auth().factors, [Factor::Password]);
    assert_eq!(session.auth().mfa_verified_at, None);
    denied(&f.login.login("ann", "wrong horse", &ctx()).await.unwrap());
    denied(&f.login.login("nobody", PASSWORD, &ctx()).await.unwrap());
    assert_eq!(f.count("auth.login.succeeded", None).await, 1);
    assert_eq!(
        f.count("auth.login.failed", Some("wrong_password")).await,
        1
    );
    assert_eq!(f.count("auth.login.failed", Some("unknown_user")).await, 1);
}

#[tokio::test]
async fn an_enrolled_user_finishes_with_totp_and_the_challenge_is_single_use() {
    let f = fixture();
    let user = f.user("bea").await;
    let (seed, _) = f.with_totp(user).await;
    let challenge = f.mfa_challenge("bea").await;
    let code = f.code(&seed);
    let LoginOutcome::Authenticated { session, .. } = f
        .login
        .complete_mfa(&challenge, MfaProof::Totp(&code), &ctx())
        .await
        .unwrap()
    else {
        panic!("expected a session");
    };
    assert_eq!(session.user_id(), user);
    assert_eq!(session.auth().factors, [Factor::Password, Factor::Totp]);
    assert_eq!(session.auth().mfa_verified_at, Some(f.clock.now()));
    f.clock.advance(Duration::from_secs(30));
    let fresh = f.code(&seed);
    denied(
        &f.login
            .complete_mfa(&challenge, MfaProof::Totp(&fresh), &ctx())
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn a_wrong_code_spends_the_challenge() {
    let f = fixture();
    let user = f.user("cid").await;
    let (seed, _) = f.with_totp(user).await;
    let challenge = f.mfa_challenge("cid").await;
    denied(
        &f.login
            .complete_mfa(&challenge, MfaProof::Totp("000000"), &ctx())
            .await
            .unwrap(),
    );
    let code = f.code(&seed);
    denied(
        &f.login
            .complete_mfa(&challenge, MfaProof::Totp(&code), &ctx())
            .await
            .unwrap(),
    );
    assert_eq!(f.count("auth.mfa.failed", Some("wrong_code")).await, 1);
}

#[tokio::test]
async fn a_recovery_code_finishes_a_login_once() {
    let f = fixture();
    let user = f.user("dee").await;
    let (_, codes) = f.with_totp(user).await;
    let challenge = f.mfa_challenge("dee").await;
    let outcome = f
        .login
        .complete_mfa(&challenge, MfaProof::RecoveryCode(&codes[0]), &ctx())
        .await
        .unwrap();
    let LoginOutcome::Authenticated { session, .. } = outcome else {
        panic!("expected a session, got {outcome:?}");
    };
    assert_eq!(
        session.auth().factors,
        [Factor::Password, Factor::RecoveryCode]
    );
    let again = f.mfa_challenge("dee").await;
    denied(
        &f.login
            .complete_mfa(&again, MfaProof::RecoveryCode(&codes[0]), &ctx())
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn challenges_expire_and_garbage_is_refused() {
    let f = fixture();
    let user = f.user("eli").await;
    let (seed, _) = f.with_totp(user).await;
    let challenge = f.mfa_challenge("eli").await;
    f.clock.advance(Duration::from_secs(5 * 60));
    let code = f.code(&seed);
    denied(
        &f.login
            .complete_mfa(&challenge, MfaProof::Totp(&code), &ctx())
            .await
            .unwrap(),
    );
    let huge = format!("soc2c_{}", "A".repeat(100_000));
    for garbage in ["", "soc2c_", "not-a-challenge", huge.as_str()] {
        denied(
            &f.login
                .complete_mfa(garbage, MfaProof::Totp(&code), &ctx())
                .await
                .unwrap(),
        );
    }
}

#[tokio::test]
async fn when_mfa_is_required_a_user_without_a_factor_gets_an_enrolment_session() {
    let f = fixture();
    let login = f.login.clone().with_mfa_required(true);
    f.user("fay").await;
    let outcome = login.login("fay", PASSWORD, &ctx()).await.unwrap();
    let LoginOutcome::EnrollmentRequired { session, .. } = outcome else {
        panic!("expected an enrolment session, got {outcome:?}");
    };
    assert_eq!(session.auth().factors, [Factor::Password]);
}

#[tokio::test]
async fn a_required_password_change_comes_first_and_obeys_the_history() {
    let f = fixture();
    let user = f.user("gus").await;
    f.passwords
        .require_change(user, true, Actor::System, &ctx())
        .await
        .unwrap();
    let take_challenge = |outcome: LoginOutcome| match outcome {
        LoginOutcome::PasswordChangeRequired { challenge, reason } => {
            assert_eq!(reason, ChangeReason::AdministratorRequired);
            challenge.token().expose_secret().clone()
        }
        other => panic!("expected a password change, got {other:?}"),
    };
    let challenge = take_challenge(f.login.login("gus", PASSWORD, &ctx()).await.unwrap());
    let reused = f
        .login
        .complete_password_change(&challenge, PASSWORD, &UserContext::default(), &ctx())
        .await;
    assert!(matches!(
        reused,
        Err(LoginError::Password(AuthError::Rejected(r))) if r.has(ViolationCode::Reused)
    ));
    let challenge = take_challenge(f.login.login("gus", PASSWORD, &ctx()).await.unwrap());
    let outcome = f
        .login
        .complete_password_change(
            &challenge,
            "Velvet-Canyon-Orbit-31",
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, LoginOutcome::Authenticated { .. }),
        "{outcome:?}"
    );
    denied(&f.login.login("gus", PASSWORD, &ctx()).await.unwrap());
    assert!(matches!(
        f.login
            .login("gus", "Velvet-Canyon-Orbit-31", &ctx())
            .await
            .unwrap(),
        LoginOutcome::Authenticated { .. }
    ));
}
