//! The access-review row shapes shared by both databases.

use soc2_core::{StoreError, UserId, unix_micros};
use soc2_rbac::RoleName;
use soc2_rbac::review::{
    Campaign, CampaignSummary, DecisionRecord, ReviewDecision, ReviewItem, SubjectInfo,
};

use crate::rows::{corrupt, instant};

/// The columns of `soc2_review_campaigns`, in `CampaignRow` order.
macro_rules! campaign_columns {
    () => {
        "campaign_id, name, scope, reviewers, started_at_us, due_at_us, closed_at_us"
    };
}
pub(crate) use campaign_columns;

/// The columns of `soc2_review_items`, in `ItemRow` order.
macro_rules! item_columns {
    () => {
        concat!(
            "item_id, campaign_id, subject_id, role, username, last_login_us, mfa_enabled,",
            " reviewer_id, decision, comment, decided_by, decided_at_us"
        )
    };
}
pub(crate) use item_columns;

const CAMPAIGN_ROW: &str = "review campaign";
const ITEM_ROW: &str = "review item";

/// A [`Campaign`] as stored: scope and reviewers as JSON.
#[derive(sqlx::FromRow)]
pub(crate) struct CampaignRow {
    pub(crate) campaign_id: String,
    pub(crate) name: String,
    pub(crate) scope: String,
    pub(crate) reviewers: String,
    pub(crate) started_at_us: i64,
    pub(crate) due_at_us: i64,
    pub(crate) closed_at_us: Option<i64>,
}

impl TryFrom<&Campaign> for CampaignRow {
    type Error = StoreError;

    fn try_from(campaign: &Campaign) -> Result<Self, StoreError> {
        Ok(Self {
            campaign_id: campaign.id.to_string(),
            name: campaign.name.clone(),
            scope: serde_json::to_string(&campaign.scope).map_err(json_error)?,
            reviewers: serde_json::to_string(&campaign.reviewers).map_err(json_error)?,
            started_at_us: unix_micros(campaign.started_at),
            due_at_us: unix_micros(campaign.due_at),
            closed_at_us: campaign.closed_at.map(unix_micros),
        })
    }
}

/// A JSON column that would not serialize.
fn json_error(error: serde_json::Error) -> StoreError {
    StoreError::Backend(error.into())
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;

    fn try_from(row: CampaignRow) -> Result<Self, StoreError> {
        Ok(Campaign {
            id: row
                .campaign_id
                .parse()
                .map_err(|_| corrupt(CAMPAIGN_ROW, "campaign_id"))?,
            name: row.name,
            scope: serde_json::from_str(&row.scope).map_err(|_| corrupt(CAMPAIGN_ROW, "scope"))?,
            reviewers: serde_json::from_str(&row.reviewers)
                .map_err(|_| corrupt(CAMPAIGN_ROW, "reviewers"))?,
            started_at: instant(row.started_at_us, CAMPAIGN_ROW)?,
            due_at: instant(row.due_at_us, CAMPAIGN_ROW)?,
            closed_at: row
                .closed_at_us
                .map(|at| instant(at, CAMPAIGN_ROW))
                .transpose()?,
        })
    }
}

/// A [`CampaignSummary`] as selected: the campaign and two counts.
#[derive(sqlx::FromRow)]
pub(crate) struct SummaryRow {
    #[sqlx(flatten)]
    pub(crate) campaign: CampaignRow,
    pub(crate) items: i64,
    pub(crate) undecided: i64,
}

impl TryFrom<SummaryRow> for CampaignSummary {
    type Error = StoreError;

    fn try_from(row: SummaryRow) -> Result<Self, StoreError> {
        let count = |n: i64| u64::try_from(n).map_err(|_| corrupt(CAMPAIGN_ROW, "count"));
        Ok(CampaignSummary {
            campaign: row.campaign.try_into()?,
            items: count(row.items)?,
            undecided: count(row.undecided)?,
        })
    }
}

/// A [`ReviewItem`] as stored: the decision columns are all set or all null.
#[derive(sqlx::FromRow)]
pub(crate) struct ItemRow {
    pub(crate) item_id: String,
    pub(crate) campaign_id: String,
    pub(crate) subject_id: String,
    pub(crate) role: String,
    pub(crate) username: String,
    pub(crate) last_login_us: Option<i64>,
    pub(crate) mfa_enabled: bool,
    pub(crate) reviewer_id: String,
    pub(crate) decision: Option<String>,
    pub(crate) comment: Option<String>,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at_us: Option<i64>,
}

impl From<&ReviewItem> for ItemRow {
    fn from(item: &ReviewItem) -> Self {
        let decided = item.decided.as_ref();
        Self {
            item_id: item.id.to_string(),
            campaign_id: item.campaign.to_string(),
            subject_id: item.subject.to_string(),
            role: item.role.to_string(),
            username: item.facts.username.clone(),
            last_login_us: item.facts.last_login.map(unix_micros),
            mfa_enabled: item.facts.mfa_enabled,
            reviewer_id: item.reviewer.to_string(),
            decision: decided.map(|d| d.decision.name().to_owned()),
            comment: decided.and_then(|d| d.comment.clone()),
            decided_by: decided.map(|d| d.decided_by.to_string()),
            decided_at_us: decided.map(|d| unix_micros(d.decided_at)),
        }
    }
}

impl TryFrom<ItemRow> for ReviewItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<Self, StoreError> {
        let user = |id: &str, column: &str| -> Result<UserId, StoreError> {
            id.parse().map_err(|_| corrupt(ITEM_ROW, column))
        };
        let decided = match (row.decision, row.decided_by, row.decided_at_us) {
            (None, None, None) => None,
            (Some(decision), Some(decided_by), Some(decided_at_us)) => Some(DecisionRecord {
                decision: ReviewDecision::from_name(&decision)
                    .ok_or_else(|| corrupt(ITEM_ROW, "decision"))?,
                comment: row.comment,
                decided_by: user(&decided_by, "decided_by")?,
                decided_at: instant(decided_at_us, ITEM_ROW)?,
            }),
            _ => return Err(corrupt(ITEM_ROW, "partial decision")),
        };
        Ok(ReviewItem {
            id: row
                .item_id
                .parse()
                .map_err(|_| corrupt(ITEM_ROW, "item_id"))?,
            campaign: row
                .campaign_id
                .parse()
                .map_err(|_| corrupt(ITEM_ROW, "campaign_id"))?,
            subject: user(&row.subject_id, "subject_id")?,
            role: RoleName::new(&row.role).map_err(|_| corrupt(ITEM_ROW, "role"))?,
            facts: SubjectInfo {
                username: row.username,
                last_login: row
                    .last_login_us
                    .map(|at| instant(at, ITEM_ROW))
                    .transpose()?,
                mfa_enabled: row.mfa_enabled,
            },
            reviewer: user(&row.reviewer_id, "reviewer_id")?,
            decided,
        })
    }
}
