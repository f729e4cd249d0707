#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The login flow (`Authenticator`) on the memory stores: password, second factor, required
//! password change, single-use expiring challenges, and the audit trail.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::login::{Fixture, PASSWORD, ctx, fixture};
use soc2_audit::Actor;
use soc2_auth::login::{
    LoginError, LoginOutcome, MfaMethod, MfaPolicy, MfaProof, ResetOutcome, RoleLookup,
};
use soc2_auth::mfa::TotpSettings;
use soc2_auth::password::{UserContext, ViolationCode};
use soc2_auth::{AuthError, ChangeReason, PublicDenial};
use soc2_core::{Clock, UserId};
use soc2_session::Factor;

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

const NEW_PASSWORD: &str = "Velvet-Canyon-Orbit-31";

impl Fixture {
    async fn reset_token(&self, name: &str) -> String {
        let ticket = self
            .login
            .request_password_reset(name, &ctx())
            .await
            .unwrap()
            .expect("a ticket for a known account");
        let token = ticket.token().expose_secret().clone();
        assert!(
            token.starts_with("soc2r_") && token.len() == 6 + 43,
            "{token}"
        );
        assert!(!format!("{ticket:?}").contains(&token));
        assert_eq!(
            ticket.expires_at(),
            self.clock.now() + Duration::from_secs(15 * 60)
        );
        token
    }

    async fn reset(&self, token: &str, password: &str) -> Result<ResetOutcome, LoginError> {
        self.login
            .reset_password(token, password, &UserContext::default(), &ctx())
            .await
    }
}

#[tokio::test]
async fn a_reset_sets_the_password_revokes_sessions_and_is_single_use() {
    let f = fixture();
    let user = f.user("hal").await;
    assert!(matches!(
        f.login.login("hal", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::Authenticated { .. }
    ));
    let token = f.reset_token("HAL").await;
    assert_eq!(
        f.reset(&token, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::Reset(user)
    );
    assert_eq!(f.count("session.revoked", None).await, 1);
    assert_eq!(f.count("auth.password.reset", None).await, 1);
    denied(&f.login.login("hal", PASSWORD, &ctx()).await.unwrap());
    assert!(matches!(
        f.login.login("hal", NEW_PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::Authenticated { .. }
    ));
    assert_eq!(
        f.reset(&token, "Another-Fine-Passphrase-9").await.unwrap(),
        ResetOutcome::InvalidToken
    );
}

#[tokio::test]
async fn a_reset_neither_skips_mfa_nor_clears_a_lockout() {
    let f = fixture();
    let user = f.user("ida").await;
    f.with_totp(user).await;
    let token = f.reset_token("ida").await;
    assert_eq!(
        f.reset(&token, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::Reset(user)
    );
    assert!(matches!(
        f.login.login("ida", NEW_PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::MfaRequired { .. }
    ));

    let locked = f.user("jon").await;
    for _ in 0..10 {
        f.login.login("jon", "wrong horse", &ctx()).await.unwrap();
    }
    assert!(
        f.passwords
            .lock_state(locked)
            .await
            .unwrap()
            .is_some_and(|s| s.is_locked(f.clock.now()))
    );
    let token = f.reset_token("jon").await;
    assert_eq!(
        f.reset(&token, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::Reset(locked)
    );
    denied(&f.login.login("jon", NEW_PASSWORD, &ctx()).await.unwrap());
    assert!(
        f.passwords
            .lock_state(locked)
            .await
            .unwrap()
            .is_some_and(|s| s.is_locked(f.clock.now()))
    );
}

#[tokio::test]
async fn reset_tokens_expire_and_die_with_a_newer_token_or_a_password_change() {
    let f = fixture();
    let user = f.user("kit").await;
    let expired = f.reset_token("kit").await;
    f.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(
        f.reset(&expired, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::InvalidToken
    );

    let older = f.reset_token("kit").await;
    let newer = f.reset_token("kit").await;
    assert_eq!(
        f.reset(&older, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::InvalidToken
    );

    f.passwords
        .set_password(user, "Marble-Falcon-Drift-77", false, Actor::System, &ctx())
        .await
        .unwrap();
    assert_eq!(
        f.reset(&newer, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::InvalidToken
    );
    assert_eq!(
        f.count("auth.password.reset", Some("password_changed"))
            .await,
        1
    );
    assert_eq!(
        f.count("auth.password.reset", Some("unknown_token")).await,
        2
    );
}

#[tokio::test]
async fn a_reset_answers_alike_for_unknown_accounts_and_refuses_garbage() {
    let f = fixture();
    let user = f.user("lea").await;
    for name in ["nobody", "", "\u{0}bad"] {
        assert!(
            f.login
                .request_password_reset(name, &ctx())
                .await
                .unwrap()
                .is_none()
        );
    }
    f.passwords
        .set_disabled(user, true, Actor::System, &ctx())
        .await
        .unwrap();
    assert!(
        f.login
            .request_password_reset("lea", &ctx())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        f.count("auth.password.reset_requested", Some("unknown_or_disabled"))
            .await,
        4
    );
    let huge = format!("soc2r_{}", "A".repeat(100_000));
    for garbage in ["", "soc2r_", "soc2c_abc", huge.as_str()] {
        assert_eq!(
            f.reset(garbage, NEW_PASSWORD).await.unwrap(),
            ResetOutcome::InvalidToken
        );
    }
}

#[tokio::test]
async fn a_reset_password_obeys_the_policy_and_history_and_spends_the_token() {
    let f = fixture();
    f.user("max").await;
    let token = f.reset_token("max").await;
    assert!(matches!(
        f.reset(&token, PASSWORD).await,
        Err(LoginError::Password(AuthError::Rejected(r))) if r.has(ViolationCode::Reused)
    ));
    assert_eq!(
        f.reset(&token, NEW_PASSWORD).await.unwrap(),
        ResetOutcome::InvalidToken
    );
    let token = f.reset_token("max").await;
    assert!(matches!(
        f.reset(&token, "short").await,
        Err(LoginError::Password(AuthError::Rejected(r))) if r.has(ViolationCode::TooShort)
    ));
    assert!(matches!(
        f.login.login("max", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::Authenticated { .. }
    ));
}

/// Roles by user, as a host's role store would answer; `None` fails the lookup.
#[derive(Debug, Default)]
struct Roles(std::sync::Mutex<Option<std::collections::HashMap<UserId, Vec<String>>>>);

#[async_trait::async_trait]
impl RoleLookup for Roles {
    async fn roles(&self, user: UserId) -> Result<Vec<String>, soc2_core::BoxError> {
        let roles = self.0.lock().unwrap();
        let roles = roles.as_ref().ok_or("role store down")?;
        Ok(roles.get(&user).cloned().unwrap_or_default())
    }
}

#[tokio::test]
async fn mfa_by_role_grants_a_grace_period_then_only_enrolment() {
    let f = fixture();
    let roles = Arc::new(Roles::default());
    let login = f.login.clone().with_mfa_policy(
        MfaPolicy::for_roles(["admin"], roles.clone())
            .with_grace_period(Duration::from_secs(7 * 86_400)),
    );
    let created = f.clock.now();
    let admin = f.user("nia").await;
    f.user("oli").await;
    *roles.0.lock().unwrap() =
        Some([(admin, vec!["engineer".to_owned(), "admin".to_owned()])].into());

    let outcome = login.login("nia", PASSWORD, &ctx()).await.unwrap();
    let LoginOutcome::EnrollmentDue {
        deadline, session, ..
    } = outcome
    else {
        panic!("expected a grace-period session, got {outcome:?}");
    };
    assert_eq!(deadline, created + Duration::from_secs(7 * 86_400));
    assert_eq!(session.auth().factors, [Factor::Password]);
    assert!(matches!(
        login.login("oli", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::Authenticated { .. }
    ));

    f.clock.advance(Duration::from_secs(7 * 86_400));
    assert!(matches!(
        login.login("nia", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::EnrollmentRequired { .. }
    ));
    let (seed, _) = f.with_totp(admin).await;
    assert!(!seed.is_empty());
    assert!(matches!(
        login.login("nia", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::MfaRequired { .. }
    ));
}

#[tokio::test]
async fn without_roles_the_login_fails_closed() {
    let f = fixture();
    let login = f
        .login
        .clone()
        .with_mfa_policy(MfaPolicy::for_roles(["admin"], Arc::new(Roles::default())));
    f.user("pam").await;
    assert!(matches!(
        login.login("pam", PASSWORD, &ctx()).await,
        Err(LoginError::Roles(_))
    ));
    assert_eq!(f.count("auth.login.succeeded", None).await, 0);
}
