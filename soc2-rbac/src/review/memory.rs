//! An in-memory `ReviewStore`, for tests and single-instance hosts.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use super::{
    Campaign, CampaignFilter, CampaignId, CampaignSummary, CloseOutcome, DecisionRecord,
    ItemFilter, ItemId, ReviewItem, ReviewStore,
};
use crate::RoleName;

#[derive(Debug, Default)]
struct Reviews {
    campaigns: BTreeMap<CampaignId, Campaign>,
    items: BTreeMap<ItemId, ReviewItem>,
    /// Each campaign's item ids by subject and role (the listing order).
    by_campaign: BTreeMap<CampaignId, BTreeMap<(UserId, RoleName), ItemId>>,
}

impl Reviews {
    fn items_of(&self, campaign: CampaignId) -> impl Iterator<Item = &ReviewItem> {
        self.by_campaign
            .get(&campaign)
            .into_iter()
            .flat_map(BTreeMap::values)
            .filter_map(|id| self.items.get(id))
    }

    /// The number of items of `campaign`, and of those undecided.
    fn progress(&self, campaign: CampaignId) -> (u64, u64) {
        self.items_of(campaign)
            .fold((0, 0), |(items, undecided), item| {
                (items + 1, undecided + u64::from(item.decided.is_none()))
            })
    }

    fn summary(&self, campaign: &Campaign) -> CampaignSummary {
        let (items, undecided) = self.progress(campaign.id);
        CampaignSummary {
            campaign: campaign.clone(),
            items,
            undecided,
        }
    }
}

/// Campaigns and items in maps behind one lock; clones share them. Lost on restart.
#[derive(Debug, Clone, Default)]
pub struct MemoryReviewStore {
    reviews: Arc<RwLock<Reviews>>,
}

impl MemoryReviewStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, Reviews> {
        self.reviews.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Reviews> {
        self.reviews.write().unwrap_or_else(PoisonError::into_inner)
    }
}

fn conflict(what: &str) -> StoreError {
    StoreError::Conflict(what.to_owned())
}

#[async_trait]
impl ReviewStore for MemoryReviewStore {
    async fn create(&self, campaign: &Campaign, items: &[ReviewItem]) -> Result<(), StoreError> {
        let mut reviews = self.write();
        if reviews.campaigns.contains_key(&campaign.id) {
            return Err(conflict("campaign id already stored"));
        }
        let mut ids = BTreeSet::new();
        let mut keys = BTreeMap::new();
        for item in items {
            if item.campaign != campaign.id {
                return Err(conflict("item of another campaign"));
            }
            if reviews.items.contains_key(&item.id) || !ids.insert(item.id) {
                return Err(conflict("item id already stored"));
            }
            if keys
                .insert((item.subject, item.role.clone()), item.id)
                .is_some()
            {
                return Err(conflict("two items for one user and role"));
            }
        }
        reviews.campaigns.insert(campaign.id, campaign.clone());
        reviews.by_campaign.insert(campaign.id, keys);
        reviews
            .items
            .extend(items.iter().map(|item| (item.id, item.clone())));
        Ok(())
    }

    async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        Ok(self.read().campaigns.get(&id).cloned())
    }

    async fn campaigns(&self, filter: CampaignFilter) -> Result<Vec<CampaignSummary>, StoreError> {
        let reviews = self.read();
        Ok(reviews
            .campaigns
            .values()
            .map(|campaign| reviews.summary(campaign))
            .filter(|summary| {
                let open = summary.campaign.closed_at.is_none();
                match filter {
                    CampaignFilter::All => true,
                    CampaignFilter::Open => open,
                    CampaignFilter::OverdueAt(now) => {
                        open && summary.campaign.due_at < now && summary.undecided > 0
                    }
                }
            })
            .collect())
    }

    async fn items(
        &self,
        campaign: CampaignId,
        filter: ItemFilter,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        Ok(self
            .read()
            .items_of(campaign)
            .filter(|item| {
                filter
                    .reviewer
                    .is_none_or(|reviewer| item.reviewer == reviewer)
            })
            .filter(|item| !filter.undecided || item.decided.is_none())
            .cloned()
            .collect())
    }

    async fn item(&self, id: ItemId) -> Result<Option<ReviewItem>, StoreError> {
        Ok(self.read().items.get(&id).cloned())
    }

    async fn decide(&self, id: ItemId, decision: &DecisionRecord) -> Result<bool, StoreError> {
        let mut reviews = self.write();
        match reviews.items.get_mut(&id) {
            Some(item) if item.decided.is_none() && item.reviewer == decision.decided_by => {
                item.decided = Some(decision.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn close(&self, id: CampaignId, at: OffsetDateTime) -> Result<CloseOutcome, StoreError> {
        let mut reviews = self.write();
        let (_, undecided) = reviews.progress(id);
        let Some(campaign) = reviews.campaigns.get_mut(&id) else {
            return Ok(CloseOutcome::Unknown);
        };
        if campaign.closed_at.is_some() {
            return Ok(CloseOutcome::AlreadyClosed);
        }
        if undecided > 0 {
            return Ok(CloseOutcome::Undecided(undecided));
        }
        campaign.closed_at = Some(at);
        Ok(CloseOutcome::Closed(campaign.clone()))
    }
}
