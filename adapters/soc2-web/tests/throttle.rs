//! `LoginThrottle` over the lockout store's per-IP window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use soc2_auth::{
    AccountLockState, AccountOp, AccountOutcome, IpOp, IpOutcome, LockoutKey, LockoutPolicy,
    LockoutStore,
};
use soc2_core::{Clock, RequestContext, StoreError};
use soc2_testkit::web::{IP_THRESHOLD, IP_WINDOW, WebApp};
use soc2_web::{LoginThrottle, RejectionKind};
use time::OffsetDateTime;

fn throttle(app: &WebApp, store: Arc<dyn LockoutStore>) -> LoginThrottle {
    LoginThrottle::new(
        store,
        app.lockout_policy.clone(),
        app.audit.clone(),
        app.clock.clone(),
    )
}

fn from(ip: &str) -> RequestContext {
    RequestContext::new().with_client_ip(ip.parse().unwrap())
}

#[tokio::test]
async fn an_exhausted_window_throttles_until_it_slides_past() {
    let app = WebApp::new().await;
    let throttle = throttle(&app, app.lockouts.clone());
    let attacker: IpAddr = "198.51.100.7".parse().unwrap();
    for _ in 0..IP_THRESHOLD - 1 {
        app.lockouts
            .apply_ip(attacker, IpOp::Fail, app.clock.now(), &app.lockout_policy)
            .await
            .unwrap();
    }
    assert_eq!(throttle.check(Some(&from("198.51.100.7"))).await, Ok(()));
    app.lockouts
        .apply_ip(attacker, IpOp::Fail, app.clock.now(), &app.lockout_policy)
        .await
        .unwrap();
    app.clock.advance(Duration::from_secs(60));
    assert_eq!(
        throttle.check(Some(&from("198.51.100.7"))).await,
        Err(RejectionKind::Throttled {
            retry_after: IP_WINDOW - Duration::from_secs(60)
        })
    );
    assert_eq!(throttle.check(Some(&from("198.51.100.8"))).await, Ok(()));
    let events = app.events_of("auth.login.throttled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["retry_after_secs"], 14 * 60);
    app.clock.advance(IP_WINDOW * 2);
    assert_eq!(throttle.check(Some(&from("198.51.100.7"))).await, Ok(()));
}

#[tokio::test]
async fn without_an_address_or_a_store_it_fails_closed() {
    let app = WebApp::new().await;
    let throttle_ok = throttle(&app, app.lockouts.clone());
    assert_eq!(
        throttle_ok.check(None).await,
        Err(RejectionKind::MissingLayer)
    );
    assert_eq!(
        throttle_ok.check(Some(&RequestContext::new())).await,
        Err(RejectionKind::UnknownClientAddress)
    );
    let broken = throttle(&app, Arc::new(Unavailable));
    assert_eq!(
        broken.check(Some(&from("198.51.100.7"))).await,
        Err(RejectionKind::ThrottleUnavailable)
    );
}

/// A lockout store whose database is down.
#[derive(Debug)]
struct Unavailable;

fn down() -> StoreError {
    StoreError::Unavailable("connection refused".into())
}

#[async_trait]
impl LockoutStore for Unavailable {
    async fn apply_account(
        &self,
        _: &LockoutKey,
        _: AccountOp,
        _: OffsetDateTime,
        _: &LockoutPolicy,
    ) -> Result<AccountOutcome, StoreError> {
        Err(down())
    }

    async fn apply_ip(
        &self,
        _: IpAddr,
        _: IpOp,
        _: OffsetDateTime,
        _: &LockoutPolicy,
    ) -> Result<IpOutcome, StoreError> {
        Err(down())
    }

    async fn account_state(&self, _: &LockoutKey) -> Result<Option<AccountLockState>, StoreError> {
        Err(down())
    }

    async fn remove_idle(&self, _: OffsetDateTime) -> Result<u64, StoreError> {
        Err(down())
    }
}
