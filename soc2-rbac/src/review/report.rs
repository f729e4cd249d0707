//! The campaign report an auditor samples: every item with its decision, as JSON or CSV.

use serde::Serialize;
use soc2_audit::neutralize_formula;
use soc2_core::BoxError;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Campaign, ReviewItem};

/// The report's CSV columns, in order: one row per item.
pub const REPORT_CSV_HEADER: [&str; 13] = [
    "campaign_id",
    "campaign_name",
    "item_id",
    "subject_id",
    "username",
    "last_login",
    "mfa_enabled",
    "role",
    "reviewer_id",
    "decision",
    "comment",
    "decided_by",
    "decided_at",
];

/// A report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("access-review report could not be written")]
pub struct ReportError(#[source] BoxError);

/// A campaign and every one of its items (sorted by subject then role), as read at
/// `generated_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewReport {
    /// The campaign.
    pub campaign: Campaign,
    /// Every item, decided or not.
    pub items: Vec<ReviewItem>,
    /// When the report was read from the store.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
}

impl ReviewReport {
    /// The report as one pretty-printed JSON document (times in RFC 3339, an undecided item's
    /// `decided` is `null`).
    ///
    /// # Errors
    /// [`ReportError`] when serialization fails.
    pub fn to_json(&self) -> Result<String, ReportError> {
        serde_json::to_string_pretty(self).map_err(|e| ReportError(e.into()))
    }

    /// The report as CSV: [`REPORT_CSV_HEADER`], then one row per item (times in RFC 3339,
    /// empty cells for what is not known or not decided). Cells a spreadsheet would run as a
    /// formula are prefixed with `'` (OWASP CSV injection).
    ///
    /// # Errors
    /// [`ReportError`] when writing fails.
    pub fn to_csv(&self) -> Result<String, ReportError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(REPORT_CSV_HEADER)
            .map_err(|e| ReportError(e.into()))?;
        for item in &self.items {
            writer
                .write_record(self.row(item).map(neutralize_formula))
                .map_err(|e| ReportError(e.into()))?;
        }
        let bytes = writer.into_inner().map_err(|e| ReportError(e.into()))?;
        String::from_utf8(bytes).map_err(|e| ReportError(e.into()))
    }

    fn row(&self, item: &ReviewItem) -> [String; 13] {
        let decided = item.decided.as_ref();
        [
            self.campaign.id.to_string(),
            self.campaign.name.clone(),
            item.id.to_string(),
            item.subject.to_string(),
            item.facts.username.clone(),
            item.facts.last_login.map(rfc3339).unwrap_or_default(),
            item.facts.mfa_enabled.to_string(),
            item.role.to_string(),
            item.reviewer.to_string(),
            decided
                .map(|d| d.decision.name().to_owned())
                .unwrap_or_default(),
            decided.and_then(|d| d.comment.clone()).unwrap_or_default(),
            decided
                .map(|d| d.decided_by.to_string())
                .unwrap_or_default(),
            decided.map(|d| rfc3339(d.decided_at)).unwrap_or_default(),
        ]
    }
}

/// `at` in RFC 3339, as reports and audit metadata write times.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}
