//! Access reviews (SOC 2 CC6.2, CC6.3): periodic campaigns in which reviewers confirm or
//! revoke each user's roles, with the evidence an auditor samples.
//!
//! A campaign snapshots the direct role assignments in its [`ReviewScope`] (every user, or the
//! holders of given roles) as one [`ReviewItem`] per user and role, with the user's
//! [`SubjectInfo`] (username, last login, MFA status) from the host's [`SubjectFacts`]. Items
//! are shared among the reviewers round-robin, never to the item's own user. Each item is
//! decided once, keep or revoke; a revoke needs a comment and removes the role at once.
//! [`ReviewManager::overdue`] finds campaigns past due with undecided items, and
//! [`ReviewReport`] lists every decision with reviewer, time and comment as JSON or CSV.

mod assign;
mod error;
mod facts;
mod id;
mod manager;
mod memory;
mod model;
mod report;
mod scope;
mod store;
mod validate;

pub use error::ReviewError;
pub use facts::SubjectFacts;
pub use id::{CampaignId, ItemId};
pub use manager::ReviewManager;
pub use memory::MemoryReviewStore;
pub use model::{
    Campaign, CampaignSpec, CampaignSummary, DecisionRecord, ReviewDecision, ReviewItem,
    ReviewScope, SubjectInfo,
};
pub use report::{REPORT_CSV_HEADER, ReportError, ReviewReport};
pub use store::{CampaignFilter, CloseOutcome, ItemFilter, ReviewStore};
pub use validate::{
    CommentError, MAX_CAMPAIGN_NAME_BYTES, MAX_COMMENT_BYTES, MAX_REVIEWERS, MAX_SCOPE_ROLES,
    MAX_USERNAME_BYTES, SpecError,
};
