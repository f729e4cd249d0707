#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Passkeys in the login flow (`Authenticator`) on the memory stores: the second factor after
//! a password, and passwordless sign-in with a discoverable credential.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::login::{Fixture, PASSWORD, ctx, fixture};
use common::{Device, token};
use soc2_audit::Actor;
use soc2_auth::login::{Authenticator, LoginError, LoginOutcome, MfaMethod, MfaProof};
use soc2_auth::mfa::{MemoryMfaStore, TotpSettings};
use soc2_auth::passkey::PasskeyError;
use soc2_auth::password::UserContext;
use soc2_auth::{DenyReason, PublicDenial};
use soc2_core::{Clock, Preset, UserId};
use soc2_session::{Factor, MemorySessionStore, SessionManager, SessionPolicy};

fn denied(outcome: &LoginOutcome) -> DenyReason {
    let LoginOutcome::Denied(denied) = outcome else {
        panic!("expected a denial, got {outcome:?}");
    };
    denied.reason().clone()
}

fn session_factors(outcome: &LoginOutcome) -> Vec<Factor> {
    let LoginOutcome::Authenticated { session, .. } = outcome else {
        panic!("expected a session, got {outcome:?}");
    };
    session.auth().factors.clone()
}

impl Fixture {
    /// A user with a password and, on `device`, a passkey.
    async fn user(&self, name: &str, device: &mut Device) -> (UserId, String) {
        let user = UserId::new_v7();
        self.passwords
            .register(user, name, Some(PASSWORD), &UserContext::default(), &ctx())
            .await
            .unwrap();
        let prompt = self
            .passkeys
            .begin_registration(user, name, name)
            .await
            .unwrap();
        let response = device.register(&prompt);
        let key = self
            .passkeys
            .finish_registration(user, token(&prompt), "Laptop", &response, &ctx())
            .await
            .unwrap();
        (user, key.credential_id)
    }

    /// The MFA challenge of a password login, and the methods offered.
    async fn challenge(&self, name: &str) -> (String, Vec<MfaMethod>) {
        match self.login.login(name, PASSWORD, &ctx()).await.unwrap() {
            LoginOutcome::MfaRequired { challenge, methods } => {
                (challenge.token().expose_secret().clone(), methods)
            }
            other => panic!("expected MFA, got {other:?}"),
        }
    }

    /// A passwordless sign-in by `user`'s discoverable credential `key` on `device`.
    async fn passwordless(&self, device: &mut Device, key: &str, user: UserId) -> LoginOutcome {
        let prompt = self.login.begin_passkey_login().await.unwrap();
        let response = device.discover(&prompt, key, Some(user));
        self.login
            .finish_passkey_login(token(&prompt), &response, &ctx())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_passkey_finishes_a_password_login() {
    let f = fixture();
    let mut device = Device::new();
    let (user, _) = f.user("ann", &mut device).await;
    let (first, methods) = f.challenge("ann").await;
    assert_eq!(
        methods,
        [MfaMethod::Passkey],
        "a passkey alone asks for MFA"
    );
    assert_eq!(MfaMethod::Passkey.name(), "passkey");

    let prompt = f.login.passkey_options(&first).await.unwrap().unwrap();
    assert!(
        f.login.passkey_options(&first).await.unwrap().is_none(),
        "the first challenge is spent"
    );
    let response = device.assert(&prompt);
    let proof = MfaProof::Passkey(&response);
    assert_eq!(format!("{proof:?}"), "MfaProof::Passkey([redacted])");
    let outcome = f
        .login
        .complete_mfa(token(&prompt), proof, &ctx())
        .await
        .unwrap();
    assert_eq!(
        session_factors(&outcome),
        [Factor::Password, Factor::WebAuthn]
    );
    let LoginOutcome::Authenticated { session, .. } = outcome else {
        unreachable!()
    };
    assert_eq!(session.user_id(), user);
    assert_eq!(session.auth().mfa_verified_at, Some(f.clock.now()));
    assert_eq!(
        denied(
            &f.login
                .complete_mfa(token(&prompt), MfaProof::Passkey(&response), &ctx())
                .await
                .unwrap()
        ),
        DenyReason::WrongPassword,
        "the challenge is single use"
    );
    assert_eq!(f.count("auth.mfa.verified", None).await, 1);
    assert_eq!(f.count("auth.login.succeeded", None).await, 1);
}

#[tokio::test]
async fn passkey_answers_need_a_passkey_challenge_and_a_wellformed_answer() {
    let f = fixture();
    let mut device = Device::new();
    f.user("bea", &mut device).await;
    // A challenge that never started a passkey ceremony.
    let (plain, _) = f.challenge("bea").await;
    let prompt = f
        .login
        .passkey_options(&f.challenge("bea").await.0)
        .await
        .unwrap()
        .unwrap();
    let response = device.assert(&prompt);
    assert_eq!(
        denied(
            &f.login
                .complete_mfa(&plain, MfaProof::Passkey(&response), &ctx())
                .await
                .unwrap()
        ),
        DenyReason::WrongPassword
    );
    assert_eq!(
        f.count("auth.mfa.failed", Some("unknown_ceremony")).await,
        1
    );

    // Garbage is a typed error.
    assert!(matches!(
        f.login
            .complete_mfa(token(&prompt), MfaProof::Passkey("{not json"), &ctx())
            .await,
        Err(LoginError::Passkey(PasskeyError::MalformedResponse))
    ));
    assert!(
        f.login
            .passkey_options("soc2c_unknown")
            .await
            .unwrap()
            .is_none()
    );
    f.clock.advance(Duration::from_secs(5 * 60));
    let (late, _) = f.challenge("bea").await;
    let prompt = f.login.passkey_options(&late).await.unwrap().unwrap();
    f.clock.advance(Duration::from_secs(5 * 60));
    let response = device.assert(&prompt);
    assert_eq!(
        denied(
            &f.login
                .complete_mfa(token(&prompt), MfaProof::Passkey(&response), &ctx())
                .await
                .unwrap()
        ),
        DenyReason::WrongPassword,
        "expired"
    );
}

#[tokio::test]
async fn totp_and_passkey_are_both_offered() {
    let f = fixture();
    let mut device = Device::new();
    let (user, _) = f.user("cid", &mut device).await;
    let enrollment = f.mfa.begin_totp(user, "cid@example.com").await.unwrap();
    let seed = totp_rs::Secret::try_from_base32(enrollment.secret_base32.expose_secret())
        .unwrap()
        .as_bytes()
        .to_vec();
    let now = u64::try_from(f.clock.now().unix_timestamp()).unwrap();
    let code = TotpSettings::new("Acme").code_at(&seed, now);
    f.mfa
        .confirm_totp(user, &code, &ctx())
        .await
        .unwrap()
        .unwrap();
    let (_, methods) = f.challenge("cid").await;
    assert_eq!(
        methods,
        [MfaMethod::Totp, MfaMethod::Passkey, MfaMethod::RecoveryCode]
    );
}

#[tokio::test]
async fn a_discoverable_passkey_signs_in_without_a_password() {
    let f = fixture();
    let mut device = Device::new();
    let (user, key) = f.user("dee", &mut device).await;
    let prompt = f.login.begin_passkey_login().await.unwrap();
    let response = device.discover(&prompt, &key, Some(user));
    let outcome = f
        .login
        .finish_passkey_login(token(&prompt), &response, &ctx())
        .await
        .unwrap();
    assert_eq!(session_factors(&outcome), [Factor::WebAuthn]);
    let LoginOutcome::Authenticated { session, .. } = outcome else {
        unreachable!()
    };
    assert_eq!(session.user_id(), user);
    assert_eq!(session.auth().mfa_verified_at, Some(f.clock.now()));
    assert_eq!(
        denied(
            &f.login
                .finish_passkey_login(token(&prompt), &response, &ctx())
                .await
                .unwrap()
        ),
        DenyReason::WrongPassword,
        "single use"
    );
    assert!(matches!(
        f.login
            .finish_passkey_login(token(&prompt), "", &ctx())
            .await,
        Err(LoginError::Passkey(PasskeyError::MalformedResponse))
    ));
}

#[tokio::test]
async fn a_disabled_or_locked_account_does_not_sign_in_with_a_passkey() {
    let f = fixture();
    let mut device = Device::new();
    let (user, key) = f.user("eve", &mut device).await;
    f.passwords
        .set_disabled(user, true, Actor::System, &ctx())
        .await
        .unwrap();
    assert_eq!(
        denied(&f.passwordless(&mut device, &key, user).await),
        DenyReason::Disabled
    );
    assert_eq!(f.count("auth.login.failed", Some("disabled")).await, 1);
    f.passwords
        .set_disabled(user, false, Actor::System, &ctx())
        .await
        .unwrap();

    for _ in 0..5 {
        denied(&f.login.login("eve", "wrong horse", &ctx()).await.unwrap());
    }
    let locked = f.passwordless(&mut device, &key, user).await;
    let DenyReason::Locked { until: Some(until) } = denied(&locked) else {
        panic!("expected a timed lock, got {locked:?}");
    };
    let LoginOutcome::Denied(refusal) = &locked else {
        unreachable!()
    };
    assert_eq!(
        refusal.public(),
        PublicDenial::InvalidCredentials,
        "locks not revealed"
    );
    f.clock.advance((until - f.clock.now()).unsigned_abs());
    assert_eq!(
        session_factors(&f.passwordless(&mut device, &key, user).await),
        [Factor::WebAuthn]
    );
}

#[tokio::test]
async fn without_passkeys_configured_the_steps_say_so() {
    let f = fixture();
    let plain = Authenticator::new(
        f.passwords.clone(),
        f.mfa.clone(),
        SessionManager::new(
            Arc::new(MemorySessionStore::new()),
            SessionPolicy::from_preset(Preset::Soc2Strict),
            f.clock.clone(),
            f.audit.clone(),
        ),
        Arc::new(MemoryMfaStore::new()),
        f.audit.clone(),
        f.clock.clone(),
    );
    assert!(matches!(
        plain.begin_passkey_login().await,
        Err(LoginError::PasskeysNotConfigured)
    ));
    assert!(matches!(
        plain.passkey_options("soc2c_x").await,
        Err(LoginError::PasskeysNotConfigured)
    ));
    // Passkeys are not offered: a user with one logs in with the password alone.
    let mut device = Device::new();
    f.user("fay", &mut device).await;
    assert!(matches!(
        plain.login("fay", PASSWORD, &ctx()).await.unwrap(),
        LoginOutcome::Authenticated { .. }
    ));
}
