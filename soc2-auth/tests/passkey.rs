#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `PasskeyAuth` end to end on the memory stores, a `ManualClock` and a real audit log, with
//! real WebAuthn ceremonies driven by webauthn-authenticator-rs's software authenticator.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Device, ORIGIN, RP_ID, options, token};
use soc2_audit::AuditStore;
use soc2_audit::{Actor, AuditEvent, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::mfa::MemoryMfaStore;
use soc2_auth::passkey::{
    MAX_RESPONSE_BYTES, MemoryPasskeyStore, NameProblem, PasskeyAuth, PasskeyCheck, PasskeyConfig,
    PasskeyError, PasskeyInfo, PasskeyRecord, PasskeyRefusal, PasskeyStore,
};
use soc2_auth::{LockoutKey, LockoutStore, MemoryLockoutStore};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, RequestContext, UserId};
use time::macros::datetime;

struct Fixture {
    clock: Arc<ManualClock>,
    store: Arc<MemoryPasskeyStore>,
    lockouts: Arc<MemoryLockoutStore>,
    audit_store: MemoryAuditStore,
    audit: AuditLog,
    passkeys: PasskeyAuth,
}

fn config() -> PasskeyConfig {
    PasskeyConfig::new(RP_ID, "Example", &[ORIGIN]).unwrap()
}

fn fixture_with(config: PasskeyConfig) -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00:10 UTC)));
    let store = Arc::new(MemoryPasskeyStore::new());
    let lockouts = Arc::new(MemoryLockoutStore::new());
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("a").unwrap(), [4; 32]));
    let audit = AuditLog::start(Arc::new(audit_store.clone()), AuditLogConfig::default());
    let passkeys = PasskeyAuth::new(
        config,
        store.clone(),
        Arc::new(MemoryMfaStore::new()),
        lockouts.clone(),
        audit.clone(),
        clock.clone(),
    );
    Fixture {
        clock,
        store,
        lockouts,
        audit_store,
        audit,
        passkeys,
    }
}

fn fixture() -> Fixture {
    fixture_with(config())
}

fn ctx() -> RequestContext {
    RequestContext::new()
}

fn refused(refusal: PasskeyRefusal) -> PasskeyCheck {
    PasskeyCheck::Refused(refusal)
}

impl Fixture {
    /// Registers a passkey on `device` for `user` under `name`.
    async fn register(&self, user: UserId, device: &mut Device, name: &str) -> PasskeyInfo {
        let prompt = self
            .passkeys
            .begin_registration(user, "alice@example.com", "Alice")
            .await
            .unwrap();
        let response = device.register(&prompt);
        self.passkeys
            .finish_registration(user, token(&prompt), name, &response, &ctx())
            .await
            .unwrap()
    }

    /// One second-factor ceremony answered by `device`.
    async fn authenticate(&self, user: UserId, device: &mut Device) -> PasskeyCheck {
        let prompt = self.passkeys.begin_authentication(user).await.unwrap();
        let response = device.assert(&prompt);
        self.passkeys
            .finish_authentication(user, token(&prompt), &response, &ctx())
            .await
            .unwrap()
    }

    async fn record(&self, credential_id: &str) -> PasskeyRecord {
        self.store.passkey(credential_id).await.unwrap().unwrap()
    }

    async fn events(&self) -> Vec<AuditEvent> {
        self.audit.flush().await.unwrap();
        self.audit_store
            .read(0, 10_000)
            .await
            .unwrap()
            .iter()
            .map(|stored| stored.event().unwrap())
            .collect()
    }

    async fn count(&self, action: &str, reason: Option<&str>) -> usize {
        self.events()
            .await
            .iter()
            .filter(|e| e.action().name() == action && (reason.is_none() || e.reason() == reason))
            .count()
    }

    async fn second_factor_failures(&self, user: UserId) -> u32 {
        self.lockouts
            .account_state(&LockoutKey::SecondFactor(user))
            .await
            .unwrap()
            .map_or(0, |state| state.failures)
    }
}

#[tokio::test]
async fn two_named_passkeys_register_and_list_without_key_material() {
    let f = fixture();
    let user = UserId::new_v7();
    let (mut laptop, mut phone) = (Device::new(), Device::new());
    let first = f.register(user, &mut laptop, "  Laptop ").await;
    f.clock.advance(Duration::from_secs(60));

    let prompt = f
        .passkeys
        .begin_registration(user, "alice@example.com", "Alice")
        .await
        .unwrap();
    let creation = options(&prompt)["publicKey"].clone();
    assert_eq!(creation["rp"]["id"], RP_ID);
    assert_eq!(creation["timeout"], 300_000);
    assert_eq!(
        creation["authenticatorSelection"]["userVerification"],
        "required"
    );
    let user_handle = base64_url(user.as_uuid().as_bytes());
    assert_eq!(creation["user"]["id"], user_handle.as_str());
    assert_eq!(
        creation["excludeCredentials"][0]["id"],
        first.credential_id.as_str(),
        "no second registration of one authenticator"
    );
    let response = phone.register(&prompt);
    let second = f
        .passkeys
        .finish_registration(user, token(&prompt), "Phone 📱", &response, &ctx())
        .await
        .unwrap();

    let listed = f.passkeys.passkeys(user).await.unwrap();
    assert_eq!(listed, [first.clone(), second.clone()]);
    assert_eq!(
        (listed[0].name.as_str(), listed[1].name.as_str()),
        ("Laptop", "Phone 📱")
    );
    assert_eq!(
        listed[0].created_at,
        f.clock.now() - Duration::from_secs(60)
    );
    assert_eq!(listed[1].created_at, f.clock.now());
    assert_eq!(listed[0].last_used_at, None);
    assert!(!listed[0].backup_eligible && !listed[0].backed_up);
    assert!(f.passkeys.has_passkeys(user).await.unwrap());
    assert!(!f.passkeys.has_passkeys(UserId::new_v7()).await.unwrap());

    let enrolled: Vec<_> = f
        .events()
        .await
        .into_iter()
        .filter(|e| e.action().name() == "auth.mfa.enrolled")
        .collect();
    assert_eq!(enrolled.len(), 2);
    let metadata = enrolled[1].metadata();
    assert_eq!(metadata["factor"], "passkey");
    assert_eq!(metadata["credential_id"], second.credential_id.as_str());
    assert_eq!(metadata["name"], "Phone 📱");
    assert_eq!(metadata.len(), 3, "no key material: {metadata:?}");
}

#[tokio::test]
async fn a_passkey_proves_the_second_factor_and_its_counter_advances() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    let registered = f.register(user, &mut device, "Laptop").await;
    assert_eq!(
        f.record(&registered.credential_id).await.passkey.sign_count,
        0
    );

    let prompt = f.passkeys.begin_authentication(user).await.unwrap();
    let request = options(&prompt)["publicKey"].clone();
    assert_eq!(request["userVerification"], "required");
    assert_eq!(
        request["allowCredentials"][0]["id"],
        registered.credential_id.as_str()
    );
    f.clock.advance(Duration::from_secs(10));
    let response = device.assert(&prompt);
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        PasskeyCheck::Accepted(user)
    );
    let used = f.record(&registered.credential_id).await;
    assert_eq!(used.passkey.sign_count, 1);
    assert_eq!(used.last_used_at, Some(f.clock.now()));

    f.clock.advance(Duration::from_secs(10));
    assert_eq!(
        f.authenticate(user, &mut device).await,
        PasskeyCheck::Accepted(user)
    );
    let used = f.record(&registered.credential_id).await;
    assert_eq!(used.passkey.sign_count, 2);
    assert_eq!(used.last_used_at, Some(f.clock.now()));
    assert_eq!(
        f.passkeys.passkeys(user).await.unwrap()[0].last_used_at,
        Some(f.clock.now())
    );
    assert_eq!(f.count("auth.mfa.verified", None).await, 2);
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    let registered = f.register(user, &mut device, "Laptop").await;

    // The same answer twice: the ceremony is spent.
    let prompt = f.passkeys.begin_authentication(user).await.unwrap();
    let response = device.assert(&prompt);
    let context = ctx();
    let finish = || {
        f.passkeys
            .finish_authentication(user, token(&prompt), &response, &context)
    };
    assert_eq!(finish().await.unwrap(), PasskeyCheck::Accepted(user));
    assert_eq!(
        finish().await.unwrap(),
        refused(PasskeyRefusal::UnknownCeremony)
    );
    // The same answer to a fresh ceremony: it signed another challenge.
    let fresh = f.passkeys.begin_authentication(user).await.unwrap();
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&fresh), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::Invalid)
    );
    // Two ceremonies answered in order, stored out of order: the older counter is refused.
    let (older, newer) = (
        f.passkeys.begin_authentication(user).await.unwrap(),
        f.passkeys.begin_authentication(user).await.unwrap(),
    );
    let (older_answer, newer_answer) = (device.assert(&older), device.assert(&newer));
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&newer), &newer_answer, &ctx())
            .await
            .unwrap(),
        PasskeyCheck::Accepted(user)
    );
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&older), &older_answer, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::Replayed)
    );
    assert_eq!(
        f.record(&registered.credential_id).await.passkey.sign_count,
        3
    );
    assert_eq!(f.count("auth.mfa.failed", Some("replayed")).await, 1);
    assert_eq!(
        f.count("auth.mfa.failed", Some("unknown_ceremony")).await,
        1
    );
    // The invalid answer counted, the accepted one cleared it, the replayed one counted.
    assert_eq!(f.second_factor_failures(user).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_answers_to_one_ceremony_let_exactly_one_through() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    let key = f.register(user, &mut device, "Laptop").await;
    let prompt = f.passkeys.begin_authentication(user).await.unwrap();
    let response = device.assert(&prompt);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (passkeys, token, response) = (
                f.passkeys.clone(),
                token(&prompt).to_owned(),
                response.clone(),
            );
            tokio::spawn(async move {
                passkeys
                    .finish_authentication(user, &token, &response, &ctx())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut checks = Vec::new();
    for task in tasks {
        checks.push(task.await.unwrap());
    }
    let accepted = checks
        .iter()
        .filter(|c| **c == PasskeyCheck::Accepted(user))
        .count();
    let spent = checks
        .iter()
        .filter(|c| **c == refused(PasskeyRefusal::UnknownCeremony))
        .count();
    assert_eq!((accepted, spent), (1, 9));
    assert_eq!(f.record(&key.credential_id).await.passkey.sign_count, 1);
}

#[tokio::test]
async fn an_answer_made_for_another_origin_is_refused() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    let registered = f.register(user, &mut device, "Laptop").await;
    for phishing in [
        "https://examp1e.com",
        "https://evil.example.com",
        "http://app.example.com",
    ] {
        let prompt = f.passkeys.begin_authentication(user).await.unwrap();
        let response = serde_json::to_string(&device.assertion(&prompt, phishing)).unwrap();
        assert_eq!(
            f.passkeys
                .finish_authentication(user, token(&prompt), &response, &ctx())
                .await
                .unwrap(),
            refused(PasskeyRefusal::WrongOrigin),
            "{phishing}"
        );
    }
    assert_eq!(f.record(&registered.credential_id).await.last_used_at, None);
    assert_eq!(f.count("auth.mfa.failed", Some("wrong_origin")).await, 3);
}

#[tokio::test]
async fn another_users_credential_is_refused() {
    let f = fixture();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let (mut alices, mut bobs) = (Device::new(), Device::new());
    let alice_key = f.register(alice, &mut alices, "Alice's key").await;
    f.register(bob, &mut bobs, "Bob's key").await;

    let prompt = f.passkeys.begin_authentication(bob).await.unwrap();
    let response = alices.assert_with(&prompt, &alice_key.credential_id);
    assert_eq!(
        f.passkeys
            .finish_authentication(bob, token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::NotUsersCredential)
    );
    assert_eq!(f.second_factor_failures(bob).await, 1);
    assert_eq!(f.second_factor_failures(alice).await, 0);
    assert_eq!(f.record(&alice_key.credential_id).await.last_used_at, None);

    // Alice's ceremony does not serve Bob either.
    let prompt = f.passkeys.begin_authentication(alice).await.unwrap();
    let response = alices.assert(&prompt);
    assert_eq!(
        f.passkeys
            .finish_authentication(bob, token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::UnknownCeremony)
    );
}

#[tokio::test]
async fn a_removed_passkey_is_refused_and_its_removal_audited() {
    let f = fixture();
    let (user, other) = (UserId::new_v7(), UserId::new_v7());
    let (mut laptop, mut phone) = (Device::new(), Device::new());
    let gone = f.register(user, &mut laptop, "Laptop").await;
    let kept = f.register(user, &mut phone, "Phone").await;
    let prompt = f.passkeys.begin_authentication(user).await.unwrap();
    assert_eq!(
        options(&prompt)["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let remove = |user: UserId, id: &str| {
        let id = id.to_owned();
        let passkeys = f.passkeys.clone();
        async move { passkeys.remove(user, &id, Actor::user(user), &ctx()).await }
    };
    assert!(
        !remove(other, &gone.credential_id).await.unwrap(),
        "not theirs"
    );
    assert!(remove(user, &gone.credential_id).await.unwrap());
    assert!(!remove(user, &gone.credential_id).await.unwrap());
    assert!(matches!(
        remove(user, "not a credential id!").await,
        Err(PasskeyError::InvalidCredentialId)
    ));
    assert!(matches!(
        remove(user, &"A".repeat(2_000)).await,
        Err(PasskeyError::InvalidCredentialId)
    ));
    assert_eq!(f.passkeys.passkeys(user).await.unwrap(), [kept]);

    // A ceremony begun before the removal still lists it; the answer is refused.
    let response = laptop.assert(&prompt);
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::NotUsersCredential)
    );
    let removed: Vec<_> = f
        .events()
        .await
        .into_iter()
        .filter(|e| e.action().name() == "auth.mfa.removed")
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        removed[0].metadata()["credential_id"],
        gone.credential_id.as_str()
    );
    assert_eq!(removed[0].metadata()["name"], "Laptop");
}

#[tokio::test]
async fn passkeys_are_renamed_with_the_same_rules_as_names() {
    let f = fixture();
    let (user, other) = (UserId::new_v7(), UserId::new_v7());
    let key = f.register(user, &mut Device::new(), "Laptop").await;
    assert!(
        f.passkeys
            .rename(
                user,
                &key.credential_id,
                " Work laptop ",
                Actor::user(user),
                &ctx()
            )
            .await
            .unwrap()
    );
    assert!(
        !f.passkeys
            .rename(
                other,
                &key.credential_id,
                "Mine",
                Actor::user(other),
                &ctx()
            )
            .await
            .unwrap()
    );
    for (name, problem) in [
        ("", NameProblem::Empty),
        ("   ", NameProblem::Empty),
        (&"x".repeat(65), NameProblem::TooLong),
        ("Lap\ntop", NameProblem::ControlCharacter),
        ("\u{1b}[31mred", NameProblem::ControlCharacter),
    ] {
        assert!(matches!(
            f.passkeys
                .rename(user, &key.credential_id, name, Actor::user(user), &ctx())
                .await,
            Err(PasskeyError::InvalidName { field: "name", problem: p }) if p == problem
        ));
    }
    assert_eq!(
        f.passkeys.passkeys(user).await.unwrap()[0].name,
        "Work laptop"
    );
    let renamed: Vec<_> = f
        .events()
        .await
        .into_iter()
        .filter(|e| e.action().name() == "auth.mfa.renamed")
        .collect();
    assert_eq!(renamed.len(), 1, "only the rename that happened is audited");
    assert_eq!(
        renamed[0].metadata()["credential_id"],
        key.credential_id.as_str()
    );
    assert_eq!(renamed[0].metadata()["name"], "Work laptop");
    assert_eq!(renamed[0].metadata()["previous_name"], "Laptop");
    assert!(
        f.passkeys
            .rename(
                user,
                &key.credential_id,
                &"é".repeat(64),
                Actor::user(user),
                &ctx()
            )
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_discoverable_credential_signs_in_without_a_username() {
    let f = fixture();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let mut device = Device::new();
    let key = f.register(alice, &mut device, "Laptop").await;
    f.register(bob, &mut Device::new(), "Bob's").await;

    let prompt = f.passkeys.begin_discoverable().await.unwrap();
    let request = options(&prompt);
    assert_eq!(
        request["publicKey"]["allowCredentials"],
        serde_json::json!([])
    );
    assert_eq!(request["mediation"], "conditional");
    let response = device.discover(&prompt, &key.credential_id, Some(alice));
    assert_eq!(
        f.passkeys
            .finish_discoverable(token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        PasskeyCheck::Accepted(alice)
    );
    assert_eq!(f.record(&key.credential_id).await.passkey.sign_count, 1);
    assert_eq!(
        f.passkeys
            .finish_discoverable(token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::UnknownCeremony),
        "single use"
    );

    // The user handle must name the credential's owner.
    for handle in [Some(bob), None] {
        let prompt = f.passkeys.begin_discoverable().await.unwrap();
        let response = device.discover(&prompt, &key.credential_id, handle);
        assert_eq!(
            f.passkeys
                .finish_discoverable(token(&prompt), &response, &ctx())
                .await
                .unwrap(),
            refused(PasskeyRefusal::NotUsersCredential)
        );
    }
    assert_eq!(f.second_factor_failures(alice).await, 2);

    // A credential no one registered.
    let mut stranger = Device::new();
    let unregistered = f
        .passkeys
        .begin_registration(UserId::new_v7(), "eve", "Eve")
        .await
        .unwrap();
    let created: serde_json::Value =
        serde_json::from_str(&stranger.register(&unregistered)).unwrap();
    let prompt = f.passkeys.begin_discoverable().await.unwrap();
    let response = stranger.discover(&prompt, created["id"].as_str().unwrap(), Some(alice));
    assert_eq!(
        f.passkeys
            .finish_discoverable(token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::UnknownCredential)
    );
    assert_eq!(
        f.count("auth.mfa.failed", Some("unknown_credential")).await,
        1
    );
}

#[tokio::test]
async fn ceremonies_are_single_use_bound_and_expire() {
    let f = fixture();
    let (user, other) = (UserId::new_v7(), UserId::new_v7());
    let mut device = Device::new();

    // Registration: spent by a finish, bound to its user, useless after the TTL.
    let prompt = f.passkeys.begin_registration(user, "u", "U").await.unwrap();
    let response = device.register(&prompt);
    let finish = |user: UserId, token: String, response: String| {
        let passkeys = f.passkeys.clone();
        async move {
            passkeys
                .finish_registration(user, &token, "Key", &response, &ctx())
                .await
        }
    };
    assert!(matches!(
        finish(other, token(&prompt).to_owned(), response.clone()).await,
        Err(PasskeyError::Refused(PasskeyRefusal::UnknownCeremony))
    ));
    assert!(
        matches!(
            finish(user, token(&prompt).to_owned(), response.clone()).await,
            Err(PasskeyError::Refused(PasskeyRefusal::UnknownCeremony))
        ),
        "spent by the other user's attempt"
    );
    let prompt = f.passkeys.begin_registration(user, "u", "U").await.unwrap();
    let response = device.register(&prompt);
    f.clock.advance(Duration::from_secs(5 * 60));
    assert!(matches!(
        finish(user, token(&prompt).to_owned(), response).await,
        Err(PasskeyError::Refused(PasskeyRefusal::UnknownCeremony))
    ));
    assert_eq!(f.store.count_passkeys(user).await.unwrap(), 0);

    let key = f.register(user, &mut device, "Key").await;
    let prompt = f.passkeys.begin_authentication(user).await.unwrap();
    let response = device.assert(&prompt);
    f.clock.advance(Duration::from_secs(5 * 60));
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&prompt), &response, &ctx())
            .await
            .unwrap(),
        refused(PasskeyRefusal::UnknownCeremony),
        "expired"
    );
    // A registration token is no assertion ceremony, and garbage tokens are nothing.
    let registration = f.passkeys.begin_registration(user, "u", "U").await.unwrap();
    let huge = format!("soc2c_{}", "A".repeat(10_000));
    for bogus in [
        token(&registration),
        "",
        "soc2c_",
        "not-a-token",
        huge.as_str(),
    ] {
        assert_eq!(
            f.passkeys
                .finish_authentication(user, bogus, &response, &ctx())
                .await
                .unwrap(),
            refused(PasskeyRefusal::UnknownCeremony)
        );
    }
    assert_eq!(f.record(&key.credential_id).await.last_used_at, None);
    assert_eq!(
        f.second_factor_failures(user).await,
        0,
        "unknown ceremonies do not count"
    );

    // A shorter lifetime, also announced to the browser.
    let short = fixture_with(config().with_ceremony_ttl(Duration::from_secs(60)).unwrap());
    let prompt = short
        .passkeys
        .begin_registration(user, "u", "U")
        .await
        .unwrap();
    assert_eq!(options(&prompt)["publicKey"]["timeout"], 60_000);
    assert_eq!(
        prompt.challenge.expires_at(),
        short.clock.now() + Duration::from_secs(60)
    );
    let response = device.register(&prompt);
    short.clock.advance(Duration::from_secs(60));
    assert!(matches!(
        short
            .passkeys
            .finish_registration(user, token(&prompt), "Key", &response, &ctx())
            .await,
        Err(PasskeyError::Refused(PasskeyRefusal::UnknownCeremony))
    ));
}

#[tokio::test]
async fn garbage_and_oversized_answers_are_typed_errors_that_change_nothing() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    let key = f.register(user, &mut device, "Laptop").await;
    let before = f.record(&key.credential_id).await;

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let oversized = format!(r#"{{"id":"{}"}}"#, "A".repeat(MAX_RESPONSE_BYTES));
    let garbage = [
        "",
        "null",
        "{",
        "[]",
        r#"{"id":1}"#,
        r#"{"id":"AAAA","rawId":"AAAA","type":"public-key"}"#,
        "\u{0}\u{1}\u{2}",
        &deep[..60_000],
    ];
    let assertion = f.passkeys.begin_authentication(user).await.unwrap();
    let discoverable = f.passkeys.begin_discoverable().await.unwrap();
    let registration = f.passkeys.begin_registration(user, "u", "U").await.unwrap();
    for (answer, oversized) in garbage
        .iter()
        .map(|g| (*g, false))
        .chain([(oversized.as_str(), true), (deep.as_str(), true)])
    {
        expect(
            f.passkeys
                .finish_authentication(user, token(&assertion), answer, &ctx())
                .await,
            oversized,
        );
        expect(
            f.passkeys
                .finish_discoverable(token(&discoverable), answer, &ctx())
                .await,
            oversized,
        );
        expect(
            f.passkeys
                .finish_registration(user, token(&registration), "Phone", answer, &ctx())
                .await,
            oversized,
        );
    }
    // Invalid names are refused before the ceremony is looked up.
    let fresh_device_answer = Device::new().register(&registration);
    for name in ["", &"n".repeat(65), "a\u{7}b"] {
        assert!(matches!(
            f.passkeys
                .finish_registration(
                    user,
                    token(&registration),
                    name,
                    &fresh_device_answer,
                    &ctx()
                )
                .await,
            Err(PasskeyError::InvalidName { field: "name", .. })
        ));
    }
    assert!(matches!(
        f.passkeys.begin_registration(user, "", "U").await,
        Err(PasskeyError::InvalidName {
            field: "username",
            problem: NameProblem::Empty
        })
    ));

    // Nothing changed, and every ceremony is still usable.
    assert_eq!(f.record(&key.credential_id).await, before);
    assert_eq!(f.second_factor_failures(user).await, 0);
    assert_eq!(f.count("auth.mfa.failed", None).await, 0);
    assert_eq!(
        f.passkeys
            .finish_authentication(user, token(&assertion), &device.assert(&assertion), &ctx())
            .await
            .unwrap(),
        PasskeyCheck::Accepted(user)
    );
    let answer = device.discover(&discoverable, &key.credential_id, Some(user));
    assert_eq!(
        f.passkeys
            .finish_discoverable(token(&discoverable), &answer, &ctx())
            .await
            .unwrap(),
        PasskeyCheck::Accepted(user)
    );
    let phone = f
        .passkeys
        .finish_registration(
            user,
            token(&registration),
            "Phone",
            &fresh_device_answer,
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(phone.name, "Phone");
}

#[tokio::test]
async fn a_registration_for_another_origin_challenge_or_a_known_credential_is_refused() {
    let f = fixture();
    let (alice, bob) = (UserId::new_v7(), UserId::new_v7());
    let register = |user: UserId, token: String, answer: String| {
        let passkeys = f.passkeys.clone();
        async move {
            passkeys
                .finish_registration(user, &token, "Key", &answer, &ctx())
                .await
        }
    };
    let prompt = f
        .passkeys
        .begin_registration(alice, "a", "A")
        .await
        .unwrap();
    let phished = Device::new().register_at(&prompt, "https://evil.example.net");
    assert!(matches!(
        register(alice, token(&prompt).to_owned(), phished).await,
        Err(PasskeyError::Refused(PasskeyRefusal::WrongOrigin))
    ));

    // Bob replays Alice's registration answer in his own ceremony: another challenge.
    let bobs = f.passkeys.begin_registration(bob, "b", "B").await.unwrap();
    let alices = f
        .passkeys
        .begin_registration(alice, "a", "A")
        .await
        .unwrap();
    let answer = Device::new().register(&alices);
    assert!(matches!(
        register(bob, token(&bobs).to_owned(), answer.clone()).await,
        Err(PasskeyError::Refused(PasskeyRefusal::Invalid))
    ));

    // A credential id someone holds already is not registered again (a rogue authenticator
    // reusing a victim's id).
    let id = serde_json::from_str::<serde_json::Value>(&answer).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let victim = f.register(bob, &mut Device::new(), "Bob's").await;
    let mut held = f.record(&victim.credential_id).await;
    held.credential_id.clone_from(&id);
    f.store.add_passkey(&held).await.unwrap();
    assert!(matches!(
        register(alice, token(&alices).to_owned(), answer).await,
        Err(PasskeyError::Refused(PasskeyRefusal::AlreadyRegistered))
    ));
    assert_eq!(f.passkeys.passkeys(alice).await.unwrap(), []);
    assert_eq!(f.record(&id).await.user_id, bob);
    assert_eq!(f.count("auth.mfa.enrolled", None).await, 1);
}

#[tokio::test]
async fn wrong_assertions_lock_the_second_factor_counter() {
    let f = fixture();
    let user = UserId::new_v7();
    let mut device = Device::new();
    f.register(user, &mut device, "Laptop").await;
    for _ in 0..5 {
        let prompt = f.passkeys.begin_authentication(user).await.unwrap();
        let phished = device.assertion(&prompt, "https://evil.example.net");
        assert_eq!(
            f.passkeys
                .finish_authentication(
                    user,
                    token(&prompt),
                    &serde_json::to_string(&phished).unwrap(),
                    &ctx()
                )
                .await
                .unwrap(),
            refused(PasskeyRefusal::WrongOrigin)
        );
    }
    assert_eq!(
        f.authenticate(user, &mut device).await,
        refused(PasskeyRefusal::Locked)
    );
    let state = f
        .lockouts
        .account_state(&LockoutKey::SecondFactor(user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.lockouts, 1);
    assert_eq!(
        f.lockouts
            .account_state(&LockoutKey::Account(user))
            .await
            .unwrap(),
        None,
        "password counter untouched"
    );
    assert_eq!(f.count("auth.lockout.locked", None).await, 1);
    assert_eq!(f.count("auth.mfa.failed", Some("locked")).await, 1);
    f.clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(
        f.authenticate(user, &mut device).await,
        PasskeyCheck::Accepted(user)
    );
    assert_eq!(
        f.second_factor_failures(user).await,
        0,
        "a success clears the failures"
    );
}

#[tokio::test]
async fn unusable_configurations_are_refused() {
    let bad: [(&str, &[&str]); 8] = [
        ("", &[ORIGIN]),
        (RP_ID, &[]),
        (RP_ID, &["not a url"]),
        (RP_ID, &["http://app.example.com"]),
        (RP_ID, &["https://example.org"]),
        (RP_ID, &["https://notexample.com"]),
        (RP_ID, &["https://app.example.com/login"]),
        (RP_ID, &[ORIGIN, "https://example.com.evil.net"]),
    ];
    for (rp_id, origins) in bad {
        assert!(
            matches!(
                PasskeyConfig::new(rp_id, "Example", origins),
                Err(PasskeyError::Config(_))
            ),
            "{rp_id} {origins:?}"
        );
    }
    assert!(matches!(
        PasskeyConfig::new(RP_ID, " ", &[ORIGIN]),
        Err(PasskeyError::Config(_))
    ));
    for ttl in [Duration::from_secs(29), Duration::from_secs(601)] {
        assert!(matches!(
            config().with_ceremony_ttl(ttl),
            Err(PasskeyError::Config(_))
        ));
    }
    let several = PasskeyConfig::new(RP_ID, "Example", &[ORIGIN, "https://example.com"]).unwrap();
    assert_eq!(several.rp_id(), RP_ID);
    assert_eq!(several.ceremony_ttl(), Duration::from_secs(300));
    PasskeyConfig::new("localhost", "Dev", &["http://localhost:8080"]).unwrap();
}

/// A typed error for a garbage (or oversized) answer.
fn expect<T: std::fmt::Debug>(result: Result<T, PasskeyError>, oversized: bool) {
    match result {
        Err(PasskeyError::ResponseTooLarge { max }) if oversized => assert_eq!(max, 65_536),
        Err(PasskeyError::MalformedResponse) if !oversized => {}
        other => panic!("expected a typed error, got {other:?}"),
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
