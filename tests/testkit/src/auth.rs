//! Checks of `PasswordAuth` over real stores: the lockout guarantees must hold end to end on
//! every backend, with one or several app instances sharing it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use soc2_audit::{AuditLog, AuditLogConfig, MemoryAuditStore};
use soc2_auth::password::UserContext;
use soc2_auth::{
    CredentialStore, HashParams, LockoutStore, PasswordAuth, PasswordCheck, PasswordHasher,
};
use soc2_core::{RequestContext, SystemClock, UserId};

use crate::credential::CredentialBackend;
use crate::lockout::LockoutBackend;

const PASSWORD: &str = "correct horse battery staple";

/// 200 concurrent wrong passwords for one account, split between two app instances (each with
/// its own store handles: separate pools on SQL backends), under the `Soc2Strict` lockout
/// (threshold 5): exactly 5 are checked against the stored hash, the other 195 are refused as
/// locked, one lockout starts, and then the right password is refused too. Counted through the
/// audit events.
pub async fn two_hundred_wrong_passwords_check_the_hash_threshold_times(
    backend: &(impl CredentialBackend + LockoutBackend),
) {
    let mut instances = Vec::new();
    for _ in 0..2 {
        let credentials: Arc<dyn CredentialStore> = CredentialBackend::open(backend).await;
        let lockouts: Arc<dyn LockoutStore> = LockoutBackend::open(backend).await;
        instances.push((credentials, lockouts));
    }
    let audit_store = MemoryAuditStore::new(&crate::test_keys("audit", 1));
    let audit = AuditLog::start(
        Arc::new(audit_store.clone()),
        AuditLogConfig::default().with_capacity(4096).unwrap(),
    );
    let hasher = PasswordHasher::new(HashParams::new(256, 1, 1).unwrap()).unwrap();
    let services: Vec<_> = instances
        .iter()
        .map(|(credentials, lockouts)| {
            PasswordAuth::new(
                Arc::clone(credentials),
                Arc::clone(lockouts),
                hasher.clone(),
                audit.clone(),
                Arc::new(SystemClock),
            )
        })
        .collect();
    let user = UserId::new_v7();
    let name = format!("pat-{user}");
    services[0]
        .register(
            user,
            &name,
            Some(PASSWORD),
            &UserContext::default(),
            &RequestContext::new(),
        )
        .await
        .unwrap();

    let attempts: Vec<_> = (0..200)
        .map(|i| {
            let service = services[i % services.len()].clone();
            let name = name.clone();
            tokio::spawn(async move {
                service
                    .verify(&name, &format!("wrong-{i}"), &RequestContext::new())
                    .await
                    .unwrap()
            })
        })
        .collect();
    for attempt in attempts {
        assert!(matches!(attempt.await.unwrap(), PasswordCheck::Denied(_)));
    }
    let refused = services[services.len() - 1]
        .verify(&name, PASSWORD, &RequestContext::new())
        .await
        .unwrap();
    assert!(
        matches!(refused, PasswordCheck::Denied(_)),
        "locked: {refused:?}"
    );

    let events = crate::audit::actions_and_reasons(&audit, &audit_store).await;
    let count = |action: &str, reason: Option<&str>| {
        events
            .iter()
            .filter(|(a, r)| a == action && (reason.is_none() || r.as_deref() == reason))
            .count()
    };
    assert_eq!(count("auth.password.failed", Some("wrong_password")), 5);
    assert_eq!(count("auth.password.failed", Some("locked")), 196);
    assert_eq!(count("auth.lockout.locked", None), 1);
    let state = services[0].lock_state(user).await.unwrap().unwrap();
    assert_eq!((state.pending, state.lockouts), (0, 1));
}

/// Expands to one multi-threaded `#[tokio::test]` per `PasswordAuth` case for a backend
/// expression yielding `Option<impl CredentialBackend + LockoutBackend>`.
#[macro_export]
macro_rules! password_auth_conformance {
    ($backend:expr) => {
        $crate::password_auth_conformance!(@cases $backend;
            two_hundred_wrong_passwords_check_the_hash_threshold_times,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::auth::$case(&backend).await;
                    $crate::lockout::LockoutBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
