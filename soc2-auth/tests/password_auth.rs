#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `PasswordAuth` end to end on the memory stores, a `ManualClock` and a real audit log.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use soc2_audit::{Actor, AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::password::{PasswordChecker, PasswordPolicy, UserContext, ViolationCode};
use soc2_auth::{
    AuthError, ChangeReason, CredentialStore, DenyReason, HashError, HashParams, LockoutPolicy,
    MemoryCredentialStore, MemoryLockoutStore, PasswordAuth, PasswordCheck, PasswordHasher,
    PublicDenial, StoredHash, Username,
};
use soc2_core::{Clock, KeyId, KeyRing, ManualClock, Preset, RequestContext, UserId};
use time::macros::datetime;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);
const GOOD: &str = "correct horse battery staple";
const OTHER_GOOD: &str = "quantum lemur tapestry 48";

struct Fixture {
    clock: Arc<ManualClock>,
    credentials: Arc<MemoryCredentialStore>,
    lockouts: Arc<MemoryLockoutStore>,
    audit_store: MemoryAuditStore,
    audit: AuditLog,
    auth: PasswordAuth,
}

/// Cheap argon2 parameters so the suites run fast; the benches use the real ones.
fn test_params() -> HashParams {
    HashParams::new(256, 1, 1).unwrap()
}

fn fixture() -> Fixture {
    fixture_with(Preset::Soc2Strict, test_params())
}

fn fixture_with(preset: Preset, params: HashParams) -> Fixture {
    let clock = Arc::new(ManualClock::new(datetime!(2026-11-23 09:00 UTC)));
    let credentials = Arc::new(MemoryCredentialStore::new());
    let lockouts = Arc::new(MemoryLockoutStore::new());
    let audit_store = MemoryAuditStore::new(&KeyRing::single(KeyId::new("k").unwrap(), [3; 32]));
    let audit = AuditLog::start(
        Arc::new(audit_store.clone()),
        AuditLogConfig::default().with_capacity(4096).unwrap(),
    );
    let auth = PasswordAuth::new(
        credentials.clone(),
        lockouts.clone(),
        PasswordHasher::new(params).unwrap(),
        audit.clone(),
        clock.clone(),
    )
    .with_checker(PasswordChecker::new(PasswordPolicy::from_preset(preset)))
    .with_lockout_policy(LockoutPolicy::from_preset(preset))
    .with_app_name("Acme Deploy");
    Fixture {
        clock,
        credentials,
        lockouts,
        audit_store,
        audit,
        auth,
    }
}

fn ctx() -> RequestContext {
    RequestContext::new().with_client_ip("203.0.113.7".parse::<IpAddr>().unwrap())
}

fn ctx_from(ip: &str) -> RequestContext {
    RequestContext::new().with_client_ip(ip.parse::<IpAddr>().unwrap())
}

impl Fixture {
    async fn register(&self, username: &str, password: &str) -> UserId {
        let user = UserId::new_v7();
        self.auth
            .register(
                user,
                username,
                Some(password),
                &UserContext::default(),
                &ctx(),
            )
            .await
            .unwrap();
        user
    }

    async fn login(&self, username: &str, password: &str) -> PasswordCheck {
        self.auth.verify(username, password, &ctx()).await.unwrap()
    }

    async fn denial(&self, username: &str, password: &str) -> DenyReason {
        match self.login(username, password).await {
            PasswordCheck::Denied(denied) => denied.reason().clone(),
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    /// (action, reason) of every audit event so far.
    async fn events(&self) -> Vec<(String, Option<String>)> {
        soc2_testkit::audit::actions_and_reasons(&self.audit, &self.audit_store).await
    }

    async fn count(&self, action: &str, reason: Option<&str>) -> usize {
        self.events()
            .await
            .iter()
            .filter(|(a, r)| a == action && (reason.is_none() || r.as_deref() == reason))
            .count()
    }
}

fn verified(check: &PasswordCheck) -> &soc2_auth::VerifiedPassword {
    match check {
        PasswordCheck::Verified(verified) => verified,
        other => panic!("expected a verified password, got {other:?}"),
    }
}

#[tokio::test]
async fn a_registered_user_logs_in_and_wrong_or_unknown_logins_look_alike() {
    let f = fixture();
    let user = f.register("Alice", GOOD).await;
    let ok = f.login("alice", GOOD).await;
    let ok = verified(&ok);
    assert_eq!((ok.user_id, ok.username.as_str()), (user, "alice"));
    assert_eq!(ok.change_required, None);

    for (name, password, reason) in [
        (
            "alice",
            "wrong horse battery staple",
            DenyReason::WrongPassword,
        ),
        ("bob", GOOD, DenyReason::UnknownUser),
    ] {
        let PasswordCheck::Denied(denied) = f.login(name, password).await else {
            panic!("{name} must be refused");
        };
        assert_eq!(denied.reason(), &reason);
        assert_eq!(denied.public(), PublicDenial::InvalidCredentials);
    }
    assert_eq!(f.count("auth.password.set", Some("registration")).await, 1);
    assert_eq!(f.count("auth.password.verified", None).await, 1);
    assert_eq!(
        f.count("auth.password.failed", Some("wrong_password"))
            .await,
        1
    );
    assert_eq!(
        f.count("auth.password.failed", Some("unknown_user")).await,
        1
    );
    let bodies = format!("{:?}", f.events().await);
    assert!(!bodies.contains("horse"), "no password in audit events");
}

#[tokio::test]
async fn a_weak_password_is_refused_with_every_violation_and_audited() {
    let f = fixture();
    let error = f
        .auth
        .register(
            UserId::new_v7(),
            "carol",
            Some("carol"),
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap_err();
    let AuthError::Rejected(rejected) = error else {
        panic!("expected a policy rejection, got {error:?}");
    };
    assert!(rejected.has(ViolationCode::TooShort));
    assert!(rejected.violations().len() >= 2, "{rejected:?}");
    assert_eq!(f.count("auth.password.rejected", None).await, 1);
    assert!(
        f.credentials
            .find(&Username::parse("carol").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn usernames_are_unique_after_normalisation() {
    let f = fixture();
    f.register("Dave", GOOD).await;
    let error = f
        .auth
        .register(
            UserId::new_v7(),
            "ＤＡＶＥ",
            Some(OTHER_GOOD),
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::UsernameTaken), "{error:?}");
}

#[tokio::test]
async fn threshold_failures_lock_the_account_which_then_answers_like_a_wrong_password() {
    let f = fixture();
    let user = f.register("erin", GOOD).await;
    for _ in 0..5 {
        assert_eq!(f.denial("Erin", "nope").await, DenyReason::WrongPassword);
    }
    let until = f.clock.now() + 30 * MINUTE;
    let PasswordCheck::Denied(denied) = f.login("erin", GOOD).await else {
        panic!("a locked account refuses even the right password");
    };
    assert_eq!(denied.reason(), &DenyReason::Locked { until: Some(until) });
    assert_eq!(denied.public(), PublicDenial::InvalidCredentials);
    assert_eq!(f.count("auth.lockout.locked", None).await, 1);

    f.clock.advance(30 * MINUTE);
    verified(&f.login("erin", GOOD).await);
    assert_eq!(
        f.count("auth.lockout.unlocked", Some("lock expired")).await,
        1
    );
    let state = f.auth.lock_state(user).await.unwrap().unwrap();
    assert_eq!((state.failures, state.lockouts), (0, 0));
}

#[tokio::test]
async fn hosts_may_reveal_locks() {
    let f = fixture();
    let auth = f
        .auth
        .clone()
        .with_lockout_policy(LockoutPolicy::from_preset(Preset::Soc2Strict).with_reveal_lock(true));
    f.register("frank", GOOD).await;
    for _ in 0..5 {
        auth.verify("frank", "nope", &ctx()).await.unwrap();
    }
    let PasswordCheck::Denied(denied) = auth.verify("frank", GOOD, &ctx()).await.unwrap() else {
        panic!("locked");
    };
    assert!(matches!(
        denied.public(),
        PublicDenial::Locked { until: Some(_) }
    ));
}

#[tokio::test]
async fn an_administrator_unlock_clears_lock_and_counter() {
    let f = fixture();
    let user = f.register("gina", GOOD).await;
    for _ in 0..5 {
        f.login("gina", "nope").await;
    }
    let admin = Actor::user(UserId::new_v7());
    assert!(f.auth.unlock(user, admin.clone(), &ctx()).await.unwrap());
    assert_eq!(f.auth.lock_state(user).await.unwrap().unwrap().failures, 0);
    verified(&f.login("gina", GOOD).await);
    assert!(!f.auth.unlock(user, admin, &ctx()).await.unwrap());
    assert_eq!(
        f.count("auth.lockout.unlocked", Some("administrator unlock"))
            .await,
        2
    );
}

#[tokio::test]
async fn unknown_names_are_counted_by_normalised_name() {
    let f = fixture();
    for name in ["Mallory", "MALLORY", "mallory", "ｍａｌｌｏｒｙ", "Mallory"] {
        assert_eq!(f.denial(name, "guess").await, DenyReason::UnknownUser);
    }
    assert!(matches!(
        f.denial("mallory", "guess").await,
        DenyReason::Locked { .. }
    ));
}

#[tokio::test]
async fn malformed_input_is_refused_without_work_or_counting() {
    let f = fixture();
    let user = f.register("hank", GOOD).await;
    let huge = "x".repeat(10 * 1024 * 1024);
    let started = std::time::Instant::now();
    for (name, password) in [
        ("", GOOD),
        ("   ", GOOD),
        ("hank", huge.as_str()),
        ("hank", ""),
        ("ha\0nk", GOOD),
        ("hank", "pass\0word"),
        (huge.as_str(), GOOD),
    ] {
        assert_eq!(f.denial(name, password).await, DenyReason::MalformedInput);
    }
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(f.auth.lock_state(user).await.unwrap(), None);
}

#[tokio::test]
async fn one_ip_is_throttled_after_its_failures_without_touching_accounts() {
    let f = fixture();
    let auth = f.auth.clone().with_lockout_policy(
        LockoutPolicy::from_preset(Preset::Soc2Strict).with_ip_throttle(3, 10 * MINUTE),
    );
    f.register("ivy", GOOD).await;
    let attacker = ctx_from("198.51.100.9");
    for name in ["a1", "a2", "a3"] {
        auth.verify(name, "guess", &attacker).await.unwrap();
    }
    let PasswordCheck::Denied(denied) = auth.verify("ivy", GOOD, &attacker).await.unwrap() else {
        panic!("throttled");
    };
    assert!(matches!(
        denied.public(),
        PublicDenial::TryLater { retry_after } if retry_after <= 10 * MINUTE
    ));
    // Another address is unaffected; successes never count.
    for _ in 0..5 {
        verified(
            &auth
                .verify("ivy", GOOD, &ctx_from("192.0.2.1"))
                .await
                .unwrap(),
        );
    }
    assert_eq!(f.count("auth.login.throttled", None).await, 1);
    f.clock.advance(20 * MINUTE);
    verified(&auth.verify("ivy", GOOD, &attacker).await.unwrap());
}

#[tokio::test]
async fn changing_a_password_needs_the_current_one_and_refuses_reuse() {
    let f = fixture_with(Preset::Pci4, test_params());
    let user = f.register("jack", "Gl4cier-Turbine-Sonnet").await;
    let change = |current: &'static str, new: &'static str| {
        let auth = f.auth.clone();
        async move {
            auth.change_password(user, current, new, &UserContext::default(), &ctx())
                .await
        }
    };
    f.clock.advance(2 * DAY);
    assert!(matches!(
        change("wrong", "Harbor-Quill-Ember-77").await,
        Err(AuthError::WrongCurrentPassword)
    ));
    assert_eq!(f.auth.lock_state(user).await.unwrap().unwrap().failures, 1);

    let Err(AuthError::Rejected(rejected)) =
        change("Gl4cier-Turbine-Sonnet", "Gl4cier-Turbine-Sonnet").await
    else {
        panic!("the current password is part of the history");
    };
    assert_eq!(
        rejected
            .violations()
            .iter()
            .map(|v| v.code())
            .collect::<Vec<_>>(),
        [ViolationCode::Reused]
    );
    change("Gl4cier-Turbine-Sonnet", "Harbor-Quill-Ember-77")
        .await
        .unwrap();
    assert_eq!(f.count("auth.password.changed", None).await, 1);
    assert!(matches!(
        f.login("jack", "Gl4cier-Turbine-Sonnet").await,
        PasswordCheck::Denied(_)
    ));
    verified(&f.login("jack", "Harbor-Quill-Ember-77").await);

    // The minimum age stops an immediate change back...
    let Err(AuthError::Rejected(rejected)) =
        change("Harbor-Quill-Ember-77", "Gl4cier-Turbine-Sonnet").await
    else {
        panic!("too recent and reused");
    };
    assert!(rejected.has(ViolationCode::TooRecent) && rejected.has(ViolationCode::Reused));
    // ... and the history (4 with the current one) stops cycling back later.
    let passwords = [
        "Velvet-Canyon-Orbit-31",
        "Maple-Signal-Drift-82",
        "Copper-Lantern-Fjord-19",
    ];
    let mut current = "Harbor-Quill-Ember-77";
    for next in passwords {
        f.clock.advance(2 * DAY);
        change(current, next).await.unwrap();
        current = next;
    }
    f.clock.advance(2 * DAY);
    assert!(matches!(
        change(current, "Harbor-Quill-Ember-77").await,
        Err(AuthError::Rejected(r)) if r.has(ViolationCode::Reused)
    ));
    // The first password fell out of the history of 4.
    change(current, "Gl4cier-Turbine-Sonnet").await.unwrap();
    let record = f.credentials.get(user).await.unwrap().unwrap();
    assert_eq!(record.history.len(), 3);
}

#[tokio::test]
async fn expiry_and_the_administrator_flag_require_a_change() {
    let f = fixture_with(Preset::Pci4, test_params());
    let user = f.register("kim", "Gl4cier-Turbine-Sonnet").await;
    f.clock.advance(89 * DAY);
    assert_eq!(
        verified(&f.login("kim", "Gl4cier-Turbine-Sonnet").await).change_required,
        None
    );
    f.clock.advance(DAY);
    assert_eq!(
        verified(&f.login("kim", "Gl4cier-Turbine-Sonnet").await).change_required,
        Some(ChangeReason::Expired)
    );

    let admin = Actor::user(UserId::new_v7());
    f.auth
        .set_password(user, "Harbor-Quill-Ember-77", true, admin, &ctx())
        .await
        .unwrap();
    assert_eq!(
        verified(&f.login("kim", "Harbor-Quill-Ember-77").await).change_required,
        Some(ChangeReason::AdministratorRequired)
    );
    // A required change is allowed at once, despite the minimum age.
    f.auth
        .change_password(
            user,
            "Harbor-Quill-Ember-77",
            "Velvet-Canyon-Orbit-31",
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(
        verified(&f.login("kim", "Velvet-Canyon-Orbit-31").await).change_required,
        None
    );
    assert_eq!(f.count("auth.password.set", None).await, 2);
}

#[tokio::test]
async fn a_password_the_tightened_policy_refuses_must_be_changed() {
    let f = fixture_with(Preset::Nist80063bAal2, test_params());
    f.register("lena", "Gl4cier-42").await;
    let strict = f
        .auth
        .clone()
        .with_checker(PasswordChecker::new(PasswordPolicy::from_preset(
            Preset::Soc2Strict,
        )));
    let check = strict.verify("lena", "Gl4cier-42", &ctx()).await.unwrap();
    let Some(ChangeReason::PolicyChanged(codes)) = &verified(&check).change_required else {
        panic!("expected a policy change, got {check:?}");
    };
    assert!(codes.contains(&ViolationCode::TooShort), "{codes:?}");
}

#[tokio::test]
async fn disabled_and_password_less_accounts_answer_like_wrong_passwords() {
    let f = fixture();
    let user = f.register("mona", GOOD).await;
    f.auth
        .set_disabled(user, true, Actor::System, &ctx())
        .await
        .unwrap();
    assert_eq!(f.denial("mona", GOOD).await, DenyReason::Disabled);
    f.auth
        .register(
            UserId::new_v7(),
            "nina",
            None,
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap();
    let PasswordCheck::Denied(denied) = f.login("nina", GOOD).await else {
        panic!("no password");
    };
    assert_eq!(denied.reason(), &DenyReason::NoPassword);
    assert_eq!(denied.public(), PublicDenial::InvalidCredentials);
    assert_eq!(f.count("auth.account.updated", None).await, 1);
}

#[tokio::test]
async fn outdated_hashes_are_upgraded_at_login() {
    let f = fixture();
    let user = f.register("olga", GOOD).await;
    let before = f.credentials.get(user).await.unwrap().unwrap();
    let stronger = HashParams::new(512, 2, 1).unwrap();
    let pepper = || KeyRing::single(KeyId::new("p1").unwrap(), [9; 32]);
    let upgraded = f.auth.clone();
    let upgraded = PasswordAuth::new(
        f.credentials.clone(),
        f.lockouts.clone(),
        PasswordHasher::new(stronger)
            .unwrap()
            .with_pepper(pepper())
            .unwrap(),
        f.audit.clone(),
        f.clock.clone(),
    )
    .with_checker(PasswordChecker::new(upgraded.password_policy().clone()));
    verified(&upgraded.verify("olga", GOOD, &ctx()).await.unwrap());
    let after = f.credentials.get(user).await.unwrap().unwrap();
    let phc = after.password.as_ref().unwrap().as_str();
    assert!(
        phc.starts_with("$argon2id$v=19$m=512,t=2,p=1,keyid="),
        "{phc}"
    );
    assert_eq!(after.history, before.history);
    assert_eq!(after.password_changed_at, before.password_changed_at);
    assert_eq!(f.count("auth.password.rehashed", None).await, 1);
    // Once upgraded, no further rehash; the old hasher cannot verify a peppered hash.
    verified(&upgraded.verify("olga", GOOD, &ctx()).await.unwrap());
    assert_eq!(f.count("auth.password.rehashed", None).await, 1);
    assert!(matches!(
        f.auth.verify("olga", GOOD, &ctx()).await,
        Err(AuthError::Hash(HashError::UnknownPepper(id))) if id == "p1"
    ));

    // Rotating the pepper: the old key still verifies, and the hash moves to the new one.
    let rotated = pepper()
        .with_key(KeyId::new("p2").unwrap(), [7; 32])
        .unwrap()
        .with_active(&KeyId::new("p2").unwrap())
        .unwrap();
    let rotated = PasswordAuth::new(
        f.credentials.clone(),
        f.lockouts.clone(),
        PasswordHasher::new(stronger)
            .unwrap()
            .with_pepper(rotated)
            .unwrap(),
        f.audit.clone(),
        f.clock.clone(),
    );
    verified(&rotated.verify("olga", GOOD, &ctx()).await.unwrap());
    let phc = f
        .credentials
        .get(user)
        .await
        .unwrap()
        .unwrap()
        .password
        .unwrap();
    assert!(phc.as_str().contains("keyid=cDI"), "{phc:?}");
    assert!(StoredHash::parse(phc.as_str()).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_correct_logins_are_never_blocked_by_the_counter() {
    let f = fixture();
    f.register("quinn", GOOD).await;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let auth = f.auth.clone();
            tokio::spawn(async move { auth.verify("quinn", GOOD, &ctx()).await.unwrap() })
        })
        .collect();
    for task in tasks {
        verified(&task.await.unwrap());
    }
}

/// Without the dummy hash a refusal would take a hundredth of a wrong password's time; the
/// wide band keeps the test stable while other tests hash in parallel.
#[tokio::test]
async fn refusals_cost_the_same_argon2_work_as_a_wrong_password() {
    let f = fixture_with(Preset::Soc2Strict, HashParams::new(8 * 1024, 2, 1).unwrap());
    f.register("rita", GOOD).await;
    let median_of = |mut samples: Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let timed = |name: String, password: String| {
        let f = &f;
        async move {
            let started = std::time::Instant::now();
            let reason = f.denial(&name, &password).await;
            (started.elapsed(), reason)
        }
    };
    let (mut wrong, mut unknown, mut locked) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..4 {
        let (took, reason) = timed("rita".into(), format!("nope-{i}")).await;
        assert_eq!(reason, DenyReason::WrongPassword);
        wrong.push(took);
        let (took, reason) = timed(format!("ghost-{i}"), "nope".into()).await;
        assert_eq!(reason, DenyReason::UnknownUser);
        unknown.push(took);
    }
    f.login("rita", "nope-4").await;
    for _ in 0..5 {
        let (took, reason) = timed("rita".into(), GOOD.into()).await;
        assert!(matches!(reason, DenyReason::Locked { .. }));
        locked.push(took);
    }
    let wrong = median_of(wrong).as_secs_f64();
    for (what, samples) in [("unknown", unknown), ("locked", locked)] {
        let ratio = median_of(samples).as_secs_f64() / wrong;
        assert!(
            (0.25..4.0).contains(&ratio),
            "{what}: {ratio:.2}x a wrong password"
        );
    }
}

#[tokio::test]
async fn without_audit_nothing_happens() {
    let f = fixture();
    f.audit.shutdown().await.unwrap();
    let error = f
        .auth
        .register(
            UserId::new_v7(),
            "sam",
            Some(GOOD),
            &UserContext::default(),
            &ctx(),
        )
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::Audit(_)), "{error:?}");
    assert!(
        f.credentials
            .find(&Username::parse("sam").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}
