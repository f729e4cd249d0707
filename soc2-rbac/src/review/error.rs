//! `ReviewError`: why a review step did not happen.

use soc2_audit::AuditError;
use soc2_core::{BoxError, StoreError, UserId};

use super::{CampaignId, CommentError, ItemId, SpecError};
use crate::RoleError;

/// Why a review step did not happen. Unless a variant says otherwise, nothing changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// The campaign spec was refused.
    #[error("invalid campaign: {0}")]
    InvalidSpec(#[from] SpecError),
    /// Every reviewer of the campaign is this user, who holds a role in scope: nobody else
    /// can review that access.
    #[error("no reviewer other than user {0} is available to review their access")]
    NoEligibleReviewer(UserId),
    /// The host's [`SubjectFacts`](super::SubjectFacts) failed, or answered facts that
    /// cannot be stored, for this user.
    #[error("no usable facts for user {user}")]
    Facts {
        /// The user.
        user: UserId,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
    /// No such campaign.
    #[error("no access-review campaign {0}")]
    UnknownCampaign(CampaignId),
    /// No such item.
    #[error("no access-review item {0}")]
    UnknownItem(ItemId),
    /// The reviewer is the item's own user: nobody reviews their own access (audited).
    #[error("nobody reviews their own access (item {0})")]
    SelfReview(ItemId),
    /// The item is assigned to another reviewer (audited).
    #[error("item {item} is not assigned to reviewer {reviewer}")]
    NotAssigned {
        /// The item.
        item: ItemId,
        /// Who tried to decide it.
        reviewer: UserId,
    },
    /// The comment was refused.
    #[error("invalid comment: {0}")]
    InvalidComment(#[from] CommentError),
    /// The item was decided already (perhaps by a concurrent call); the first decision stands.
    #[error("item {0} is decided already")]
    AlreadyDecided(ItemId),
    /// The campaign was closed already.
    #[error("campaign {0} is closed already")]
    AlreadyClosed(CampaignId),
    /// The campaign still has undecided items, so it cannot be closed.
    #[error("campaign {campaign} has {remaining} undecided item(s)")]
    Undecided {
        /// The campaign.
        campaign: CampaignId,
        /// How many items are undecided.
        remaining: u64,
    },
    /// The revoke decision **was recorded** (and audited), but revoking the role failed: the
    /// user still holds it. Revoke it with [`RoleManager::revoke`](crate::RoleManager::revoke).
    #[error("revoke decision recorded, but the role is still held: {0}")]
    Revocation(#[source] RoleError),
    /// The review store failed.
    #[error("review store failed")]
    Store(#[from] StoreError),
    /// The step could not be audited, so it was not taken (fail closed).
    #[error("review step not audited: {0}")]
    Audit(#[from] AuditError),
}
