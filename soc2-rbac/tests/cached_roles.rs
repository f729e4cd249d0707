//! `CachedRoleStore` over the memory store, its feed driven by hand: roles are served from
//! memory until the feed reports a change, never while the feed is not live, never past an
//! elevation's expiry, and a read that raced a change is not kept.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{role, user};
use soc2_core::{
    Change, ChangeFeed, ChangePublisher, ElevationId, StoreError, UserId, from_unix_micros,
};
use soc2_rbac::{
    Assignment, CachedRoleStore, Elevation, ElevationChange, ElevationStatus, ElevationUpdate,
    MemoryRoleStore, RoleName, RoleNode, RoleStore, SodRules,
};
use time::OffsetDateTime;

fn at(seconds: i64) -> OffsetDateTime {
    from_unix_micros(1_800_000_000_000_000 + seconds * 1_000_000).unwrap()
}

/// The names of the roles `user` is a direct member of, as `store` reports them at `when`.
async fn direct(store: &dyn RoleStore, user: UserId, when: OffsetDateTime) -> Vec<String> {
    let roles = store.user_roles(user, when).await.unwrap();
    roles.direct().map(|r| r.as_str().to_owned()).collect()
}

struct Fixture {
    inner: Arc<MemoryRoleStore>,
    cached: CachedRoleStore,
    feed: ChangeFeed,
    publisher: ChangePublisher,
}

fn fixture() -> Fixture {
    let inner = Arc::new(MemoryRoleStore::new());
    let (feed, publisher) = ChangeFeed::new(16);
    publisher.set_live(true);
    let cached = CachedRoleStore::new(inner.clone(), &feed);
    Fixture {
        inner,
        cached,
        feed,
        publisher,
    }
}

async fn assign(store: &dyn RoleStore, user: UserId, name: &str) {
    let granted = store
        .assign(user, &role(name), &SodRules::none(), at(0))
        .await
        .unwrap();
    assert_eq!(granted, Assignment::Granted);
}

#[tokio::test]
async fn roles_are_served_from_memory_until_the_feed_reports_a_change() {
    let f = fixture();
    let (alice, bob) = (user(), user());
    assign(&*f.inner, alice, "auditor").await;
    assign(&*f.inner, bob, "engineer").await;
    assert_eq!(direct(&f.cached, alice, at(1)).await, ["auditor"]);
    assert_eq!(direct(&f.cached, bob, at(1)).await, ["engineer"]);
    assert_eq!(f.cached.cached_users(), 2);

    // Another instance changes both users: this one still serves what it read.
    assign(&*f.inner, alice, "approver").await;
    assign(&*f.inner, bob, "admin").await;
    assert_eq!(direct(&f.cached, alice, at(2)).await, ["auditor"]);

    // The feed reports Alice: only her entry is dropped.
    f.publisher.publish(Change::UserRoles(alice));
    assert_eq!(
        direct(&f.cached, alice, at(3)).await,
        ["approver", "auditor"]
    );
    assert_eq!(direct(&f.cached, bob, at(3)).await, ["engineer"]);

    // A session change says nothing about roles; a hierarchy change drops everyone.
    f.publisher.publish(Change::Session([1; 32]));
    assert_eq!(direct(&f.cached, bob, at(4)).await, ["engineer"]);
    f.publisher.publish(Change::RoleHierarchy);
    assert_eq!(f.cached.cached_users(), 0);
    assert_eq!(direct(&f.cached, bob, at(5)).await, ["admin", "engineer"]);

    f.inner.revoke(bob, &role("admin")).await.unwrap();
    f.publisher.publish(Change::Resync);
    assert_eq!(direct(&f.cached, bob, at(6)).await, ["engineer"]);
}

#[tokio::test]
async fn nothing_is_served_while_the_feed_is_not_live() {
    let f = fixture();
    let alice = user();
    assign(&*f.inner, alice, "auditor").await;
    assert_eq!(direct(&f.cached, alice, at(1)).await, ["auditor"]);
    f.publisher.set_live(false);
    assign(&*f.inner, alice, "engineer").await;
    assert_eq!(
        direct(&f.cached, alice, at(2)).await,
        ["auditor", "engineer"]
    );
    f.inner.revoke(alice, &role("engineer")).await.unwrap();
    assert_eq!(direct(&f.cached, alice, at(3)).await, ["auditor"]);
    assert_eq!(
        f.cached.cached_users(),
        0,
        "dropped, and no read made while not live is kept"
    );
    // Back without a resync: nothing from before the outage is served.
    assign(&*f.inner, alice, "engineer").await;
    f.publisher.set_live(true);
    assert_eq!(
        direct(&f.cached, alice, at(4)).await,
        ["auditor", "engineer"]
    );
    drop(f.publisher);
    assign(&*f.inner, alice, "admin").await;
    assert_eq!(
        direct(&f.cached, alice, at(5)).await,
        ["admin", "auditor", "engineer"]
    );
}

#[tokio::test]
async fn writes_through_the_cache_take_effect_at_once_without_the_feed() {
    let f = fixture();
    let alice = user();
    assign(&f.cached, alice, "auditor").await;
    assert_eq!(direct(&f.cached, alice, at(1)).await, ["auditor"]);
    assign(&f.cached, alice, "engineer").await;
    assert_eq!(
        direct(&f.cached, alice, at(2)).await,
        ["auditor", "engineer"]
    );
    f.cached.revoke(alice, &role("auditor")).await.unwrap();
    assert_eq!(direct(&f.cached, alice, at(3)).await, ["engineer"]);
    f.cached
        .set_parents(&role("engineer"), &[role("staff")])
        .await
        .unwrap();
    let roles = f.cached.user_roles(alice, at(4)).await.unwrap();
    assert_eq!(
        roles.closure,
        [
            RoleNode {
                role: role("engineer"),
                parents: vec![role("staff")]
            },
            RoleNode {
                role: role("staff"),
                parents: vec![]
            }
        ]
    );
}

#[tokio::test]
async fn an_elevation_is_not_served_past_its_expiry() {
    let f = fixture();
    let (alice, approver) = (user(), user());
    let elevation = Elevation {
        id: ElevationId::new_v7(),
        user: alice,
        role: role("admin"),
        reason: "INC-7".into(),
        requested_by: alice,
        requested_at: at(0),
        expires_at: at(600),
        break_glass: false,
        status: ElevationStatus::Pending,
        decided_by: None,
        decided_at: None,
        revoked_at: None,
    };
    f.inner
        .add_elevation(&elevation, &SodRules::none())
        .await
        .unwrap();
    assert!(direct(&f.cached, alice, at(1)).await.is_empty());
    let rules = SodRules::none();
    let approve = ElevationChange::Approve {
        by: approver,
        rules: &rules,
    };
    let approved = f
        .cached
        .change_elevation(elevation.id, approve, at(2))
        .await
        .unwrap();
    assert!(matches!(approved, ElevationUpdate::Applied(_)));
    assert_eq!(direct(&f.cached, alice, at(3)).await, ["admin"]);
    assert_eq!(direct(&f.cached, alice, at(599)).await, ["admin"]);
    assert!(direct(&f.cached, alice, at(600)).await.is_empty());
    assert!(
        direct(&f.cached, alice, at(1)).await.is_empty(),
        "an entry read later does not answer for an earlier instant"
    );
}

#[tokio::test]
async fn an_entry_the_feed_never_touched_is_read_again_after_max_staleness() {
    let f = fixture();
    let cached = CachedRoleStore::new(f.inner.clone(), &f.feed)
        .with_max_staleness(std::time::Duration::from_secs(30));
    let alice = user();
    assign(&*f.inner, alice, "auditor").await;
    assert_eq!(direct(&cached, alice, at(0)).await, ["auditor"]);
    assign(&*f.inner, alice, "engineer").await;
    assert_eq!(direct(&cached, alice, at(29)).await, ["auditor"]);
    assert_eq!(
        direct(&cached, alice, at(30)).await,
        ["auditor", "engineer"]
    );
}

/// A memory store whose next `user_roles` read lets a "concurrent" change land (in the store
/// and on the feed) before it returns.
#[derive(Debug)]
struct ChangeDuringRead {
    inner: MemoryRoleStore,
    during: Mutex<Option<(UserId, RoleName, Arc<ChangePublisher>)>>,
}

#[async_trait]
impl RoleStore for ChangeDuringRead {
    async fn user_roles(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<soc2_rbac::UserRoles, StoreError> {
        let roles = self.inner.user_roles(user, at).await?;
        let during = self.during.lock().unwrap().take();
        if let Some((user, role, publisher)) = during {
            self.inner.revoke(user, &role).await?;
            publisher.publish(Change::UserRoles(user));
        }
        Ok(roles)
    }
    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
        at: OffsetDateTime,
    ) -> Result<Assignment, StoreError> {
        self.inner.assign(user, role, rules, at).await
    }
    async fn revoke(&self, user: UserId, role: &RoleName) -> Result<bool, StoreError> {
        self.inner.revoke(user, role).await
    }
    async fn holders(&self, role: &RoleName) -> Result<Vec<UserId>, StoreError> {
        self.inner.holders(role).await
    }
    async fn set_parents(&self, role: &RoleName, parents: &[RoleName]) -> Result<(), StoreError> {
        self.inner.set_parents(role, parents).await
    }
    async fn hierarchy(&self) -> Result<Vec<RoleNode>, StoreError> {
        self.inner.hierarchy().await
    }
    async fn assignments(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> Result<Vec<(UserId, Vec<RoleName>)>, StoreError> {
        self.inner.assignments(after, limit).await
    }
    async fn add_elevation(
        &self,
        elevation: &Elevation,
        rules: &SodRules,
    ) -> Result<Assignment, StoreError> {
        self.inner.add_elevation(elevation, rules).await
    }
    async fn elevation(&self, id: ElevationId) -> Result<Option<Elevation>, StoreError> {
        self.inner.elevation(id).await
    }
    async fn change_elevation(
        &self,
        id: ElevationId,
        change: ElevationChange<'_>,
        at: OffsetDateTime,
    ) -> Result<ElevationUpdate, StoreError> {
        self.inner.change_elevation(id, change, at).await
    }
    async fn open_elevations(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<Elevation>, StoreError> {
        self.inner.open_elevations(user, at).await
    }
}

#[tokio::test]
async fn a_read_that_raced_a_change_is_not_kept() {
    let (feed, publisher) = ChangeFeed::new(16);
    publisher.set_live(true);
    let publisher = Arc::new(publisher);
    let store = Arc::new(ChangeDuringRead {
        inner: MemoryRoleStore::new(),
        during: Mutex::new(None),
    });
    let cached = CachedRoleStore::new(store.clone(), &feed);
    let alice = user();
    assign(&*store, alice, "admin").await;
    *store.during.lock().unwrap() = Some((alice, role("admin"), Arc::clone(&publisher)));
    assert_eq!(
        direct(&cached, alice, at(1)).await,
        ["admin"],
        "the read saw the store before the revocation"
    );
    assert_eq!(cached.cached_users(), 0, "and was not kept");
    assert!(direct(&cached, alice, at(2)).await.is_empty());
}
