//! Where campaigns and their items live: the `ReviewStore` trait.

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};
use time::OffsetDateTime;

use super::{Campaign, CampaignId, CampaignSummary, DecisionRecord, ItemId, ReviewItem};

/// Which campaigns [`ReviewStore::campaigns`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CampaignFilter {
    /// Every campaign.
    All,
    /// Campaigns not closed.
    Open,
    /// Open campaigns due before this instant with at least one undecided item.
    OverdueAt(OffsetDateTime),
}

/// Which items of a campaign [`ReviewStore::items`] lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemFilter {
    /// Only the items assigned to this reviewer.
    pub reviewer: Option<UserId>,
    /// Only the items not yet decided.
    pub undecided: bool,
}

/// What a [`ReviewStore::close`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseOutcome {
    /// The campaign is now closed (as returned).
    Closed(Campaign),
    /// It was closed already; nothing changed.
    AlreadyClosed,
    /// This many items are still undecided; nothing changed.
    Undecided(u64),
    /// No such campaign.
    Unknown,
}

/// Storage for access-review campaigns. Every method is one atomic operation, safe with many
/// app instances on one store.
#[async_trait]
pub trait ReviewStore: Debug + Send + Sync + 'static {
    /// Stores `campaign` with all its `items` (each of `campaign`), all or nothing. An id
    /// already stored, or two items for one user and role, is a [`StoreError::Conflict`] and
    /// stores nothing.
    async fn create(&self, campaign: &Campaign, items: &[ReviewItem]) -> Result<(), StoreError>;

    /// The campaign `id`, if stored.
    async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError>;

    /// The campaigns `filter` selects with their progress, oldest first (by id).
    async fn campaigns(&self, filter: CampaignFilter) -> Result<Vec<CampaignSummary>, StoreError>;

    /// The items of `campaign` that `filter` selects, sorted by subject then role.
    async fn items(
        &self,
        campaign: CampaignId,
        filter: ItemFilter,
    ) -> Result<Vec<ReviewItem>, StoreError>;

    /// The item `id`, if stored.
    async fn item(&self, id: ItemId) -> Result<Option<ReviewItem>, StoreError>;

    /// Records `decision` on item `id` if it is undecided and assigned to
    /// `decision.decided_by` (compare-and-set); false otherwise. Of concurrent decisions on
    /// one item, exactly one is recorded.
    async fn decide(&self, id: ItemId, decision: &DecisionRecord) -> Result<bool, StoreError>;

    /// Closes campaign `id` at `at` if it is open and every item is decided.
    async fn close(&self, id: CampaignId, at: OffsetDateTime) -> Result<CloseOutcome, StoreError>;
}
