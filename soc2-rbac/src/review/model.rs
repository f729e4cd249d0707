//! Campaigns, their items and decisions: the records an auditor samples.

use serde::{Deserialize, Serialize};
use soc2_core::UserId;
use time::OffsetDateTime;

use super::{CampaignId, ItemId};
use crate::RoleName;

/// Which role assignments a campaign reviews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "roles", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReviewScope {
    /// Every role assigned to any user.
    AllUsers,
    /// The holders of these roles (direct assignments), e.g. the privileged ones.
    Roles(Vec<RoleName>),
}

/// What [`ReviewManager::start`](super::ReviewManager::start) is asked to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSpec {
    /// A name people recognise, e.g. `2026-Q4 privileged access`.
    pub name: String,
    /// The assignments under review.
    pub scope: ReviewScope,
    /// Who reviews; items are shared among them round-robin, never to the item's own user.
    pub reviewers: Vec<UserId>,
    /// When every item should be decided.
    pub due_at: OffsetDateTime,
}

/// A started campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// Its name.
    pub name: String,
    /// The assignments it reviews.
    pub scope: ReviewScope,
    /// Its reviewers, in assignment order.
    pub reviewers: Vec<UserId>,
    /// When the assignments were snapshotted.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When every item should be decided.
    #[serde(with = "time::serde::rfc3339")]
    pub due_at: OffsetDateTime,
    /// When it was closed; `None` while open.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
}

/// A campaign with its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSummary {
    /// The campaign.
    pub campaign: Campaign,
    /// Its number of items.
    pub items: u64,
    /// Its items without a decision.
    pub undecided: u64,
}

/// What the host knows about a reviewed user, as of the campaign's start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectInfo {
    /// The user's login name.
    pub username: String,
    /// The user's last successful login; `None` when never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login: Option<OffsetDateTime>,
    /// Whether the user has a second factor enrolled.
    pub mfa_enabled: bool,
}

/// A reviewer's verdict on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReviewDecision {
    /// The user keeps the role.
    Keep,
    /// The role is revoked at once.
    Revoke,
}

impl ReviewDecision {
    /// The stored name: `keep` or `revoke`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Revoke => "revoke",
        }
    }

    /// The decision named `name`, if any.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "keep" => Some(Self::Keep),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    /// Keep or revoke.
    pub decision: ReviewDecision,
    /// Why (required for a revoke).
    pub comment: Option<String>,
    /// The reviewer who decided.
    pub decided_by: UserId,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// One user's one directly assigned role, under review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    /// Its id.
    pub id: ItemId,
    /// The campaign it belongs to.
    pub campaign: CampaignId,
    /// The user holding the role.
    pub subject: UserId,
    /// The role.
    pub role: RoleName,
    /// The user's facts when the campaign started.
    pub facts: SubjectInfo,
    /// Who must decide it (never the subject).
    pub reviewer: UserId,
    /// The decision, once made; an item is decided once.
    pub decided: Option<DecisionRecord>,
}
