//! `CachedRoleStore`: users' roles served from memory, dropped when the store's change feed
//! says they changed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use soc2_core::{Change, ChangeFeed, ElevationId, FedCache, Invalidation, StoreError, UserId};
use time::OffsetDateTime;

use crate::{
    Assignment, Elevation, ElevationChange, ElevationUpdate, RoleName, RoleNode, RoleStore,
    SodRules, UserRoles,
};

/// Most users whose roles are kept; a full cache is emptied rather than grown.
pub const ROLE_CACHE_CAPACITY: usize = 100_000;

/// The default longest an entry is served after its read, whatever the feed says: one minute,
/// a backstop should a change ever be missed without the feed noticing (the role-change bound
/// of OWASP ASVS 4.0.3 V4.1.3 "least privilege" is the next request; this caps a lapse).
pub const DEFAULT_ROLE_CACHE_STALENESS: Duration = Duration::from_secs(60);

/// One user's roles as read at `read_at`, valid until the first of their elevations expires.
#[derive(Debug, Clone)]
struct Entry {
    roles: UserRoles,
    read_at: OffsetDateTime,
    valid_until: Option<OffsetDateTime>,
}

impl Entry {
    fn serves(&self, at: OffsetDateTime, max_staleness: Duration) -> bool {
        self.read_at <= at
            && at - self.read_at < max_staleness
            && self.valid_until.is_none_or(|until| at < until)
    }
}

/// What a change means to users' roles: session changes say nothing about them.
fn invalidation(change: Change) -> Invalidation<UserId> {
    match change {
        Change::UserRoles(user) => Invalidation::Entry(user),
        Change::RoleHierarchy | Change::Resync => Invalidation::All,
        _ => Invalidation::Nothing,
    }
}

/// A [`RoleStore`] that keeps each user's roles in memory, so an authorization decision does not
/// read the database. Every write goes to the inner store.
///
/// An entry is dropped when the [`ChangeFeed`] reports a change to the user's roles or
/// elevations, or to the hierarchy (whoever made it: this instance, another one, `soc2ctl`), and
/// is never served past the expiry of an elevation it includes. While the feed is not live
/// (connection lost, not caught up), every read goes to the store. So a role change takes
/// effect on the next request once the feed has delivered it: at once through this instance,
/// within the feed's delay through others; and no entry is served longer than its
/// `max_staleness` after it was read.
#[derive(Debug)]
pub struct CachedRoleStore {
    inner: Arc<dyn RoleStore>,
    max_staleness: Duration,
    entries: FedCache<UserId, Entry>,
}

impl CachedRoleStore {
    /// Caches `inner`'s users' roles, following `feed`, each for at most
    /// [`DEFAULT_ROLE_CACHE_STALENESS`].
    #[must_use]
    pub fn new(inner: Arc<dyn RoleStore>, feed: &ChangeFeed) -> Self {
        Self {
            inner,
            max_staleness: DEFAULT_ROLE_CACHE_STALENESS,
            entries: FedCache::new(Some(feed), ROLE_CACHE_CAPACITY, invalidation),
        }
    }

    /// Serves an entry for at most `max_staleness` after it was read.
    #[must_use]
    pub fn with_max_staleness(mut self, max_staleness: Duration) -> Self {
        self.max_staleness = max_staleness;
        self
    }

    /// Users whose roles are cached now (after applying the feed).
    #[must_use]
    pub fn cached_users(&self) -> usize {
        self.entries.len()
    }

    fn forget(&self, user: Option<UserId>) {
        match user {
            Some(user) => self.entries.remove(&user),
            None => self.entries.clear(),
        }
    }

    /// Reads `user`'s roles at `at` and when its first elevation active then expires.
    async fn read(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<(UserRoles, Option<OffsetDateTime>), StoreError> {
        let roles = self.inner.user_roles(user, at).await?;
        if roles.elevated.is_empty() {
            return Ok((roles, None));
        }
        let until = self
            .inner
            .open_elevations(user, at)
            .await?
            .iter()
            .map(|elevation| elevation.expires_at)
            .min();
        Ok((roles, until))
    }
}

#[async_trait]
impl RoleStore for CachedRoleStore {
    async fn user_roles(&self, user: UserId, at: OffsetDateTime) -> Result<UserRoles, StoreError> {
        let (cached, ticket) = self
            .entries
            .get(&user, |entry| entry.serves(at, self.max_staleness));
        if let Some(entry) = cached {
            return Ok(entry.roles);
        }
        let (roles, valid_until) = self.read(user, at).await?;
        let entry = Entry {
            roles: roles.clone(),
            read_at: at,
            valid_until,
        };
        self.entries.put(user, entry, ticket);
        Ok(roles)
    }

    async fn assign(
        &self,
        user: UserId,
        role: &RoleName,
        rules: &SodRules,
        at: OffsetDateTime,
    ) -> Result<Assignment, StoreError> {
        let result = self.inner.assign(user, role, rules, at).await;
        self.forget(Some(user));
        result
    }

    async fn revoke(&self, user: UserId, role: &RoleName) -> Result<bool, StoreError> {
        let result = self.inner.revoke(user, role).await;
        self.forget(Some(user));
        result
    }

    async fn holders(&self, role: &RoleName) -> Result<Vec<UserId>, StoreError> {
        self.inner.holders(role).await
    }

    async fn set_parents(&self, role: &RoleName, parents: &[RoleName]) -> Result<(), StoreError> {
        let result = self.inner.set_parents(role, parents).await;
        self.forget(None);
        result
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
        let result = self.inner.add_elevation(elevation, rules).await;
        self.forget(Some(elevation.user));
        result
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
        let result = self.inner.change_elevation(id, change, at).await;
        match &result {
            Ok(ElevationUpdate::Applied(elevation)) => self.forget(Some(elevation.user)),
            Ok(_) => {}
            // Whether it applied is unknown.
            Err(_) => self.forget(None),
        }
        result
    }

    async fn open_elevations(
        &self,
        user: UserId,
        at: OffsetDateTime,
    ) -> Result<Vec<Elevation>, StoreError> {
        self.inner.open_elevations(user, at).await
    }
}
