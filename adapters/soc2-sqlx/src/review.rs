//! `ReviewStore` on SQL, written once and expanded per database by [`sql_review_store!`].
//!
//! A campaign and its items are inserted in one write transaction (`begin_write`). A decision
//! is one conditional statement (`UPDATE … WHERE decision IS NULL AND reviewer_id = $4`), so
//! of racing decisions on any number of pools exactly one sees its row change. Closing is a
//! conditional update too (`WHERE closed_at_us IS NULL`), after a read of the undecided
//! count; decisions only ever lower that count, so the read cannot go stale.

/// Defines `$store`, the `ReviewStore` for one database.
macro_rules! sql_review_store {
    ($(#[$doc:meta])* $store:ident, $pool:ty) => {
        mod review_store {
        use async_trait::async_trait;
        use soc2_core::{StoreError, unix_micros};
        use soc2_rbac::review::{
            Campaign, CampaignFilter, CampaignId, CampaignSummary, CloseOutcome, DecisionRecord,
            ItemFilter, ItemId, ReviewItem, ReviewStore,
        };
        use time::OffsetDateTime;

        use super::begin_write;
        use $crate::error::store_error;
        use $crate::review_rows::{
            CampaignRow, ItemRow, SummaryRow, campaign_columns, item_columns,
        };
        use $crate::rows::convert;

        pool_store!($(#[$doc])* $store, $pool);

        #[async_trait]
        impl ReviewStore for $store {
            async fn create(
                &self,
                campaign: &Campaign,
                items: &[ReviewItem],
            ) -> Result<(), StoreError> {
                if items.iter().any(|item| item.campaign != campaign.id) {
                    return Err(StoreError::Conflict("item of another campaign".into()));
                }
                let row = CampaignRow::try_from(campaign)?;
                let mut tx = begin_write(&self.pool).await.map_err(store_error)?;
                sqlx::query(concat!(
                    "INSERT INTO soc2_review_campaigns (", campaign_columns!(), ")",
                    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                ))
                .bind(row.campaign_id)
                .bind(row.name)
                .bind(row.scope)
                .bind(row.reviewers)
                .bind(row.started_at_us)
                .bind(row.due_at_us)
                .bind(row.closed_at_us)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                for item in items {
                    let row = ItemRow::from(item);
                    sqlx::query(concat!(
                        "INSERT INTO soc2_review_items (", item_columns!(), ")",
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .bind(row.item_id)
                    .bind(row.campaign_id)
                    .bind(row.subject_id)
                    .bind(row.role)
                    .bind(row.username)
                    .bind(row.last_login_us)
                    .bind(row.mfa_enabled)
                    .bind(row.reviewer_id)
                    .bind(row.decision)
                    .bind(row.comment)
                    .bind(row.decided_by)
                    .bind(row.decided_at_us)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_error)?;
                }
                tx.commit().await.map_err(store_error)
            }

            async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
                let row: Option<CampaignRow> = sqlx::query_as(concat!(
                    "SELECT ", campaign_columns!(), " FROM soc2_review_campaigns",
                    " WHERE campaign_id = $1"
                ))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(Campaign::try_from).transpose()
            }

            async fn campaigns(
                &self,
                filter: CampaignFilter,
            ) -> Result<Vec<CampaignSummary>, StoreError> {
                let (open, overdue_at) = match filter {
                    CampaignFilter::OverdueAt(now) => (true, Some(unix_micros(now))),
                    CampaignFilter::Open => (true, None),
                    // `All` (the filter enum is non-exhaustive).
                    _ => (false, None),
                };
                let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
                    "SELECT ", campaign_columns!(), ",",
                    " (SELECT COUNT(*) FROM soc2_review_items i",
                    " WHERE i.campaign_id = c.campaign_id) AS items,",
                    " (SELECT COUNT(*) FROM soc2_review_items i",
                    " WHERE i.campaign_id = c.campaign_id AND i.decision IS NULL) AS undecided",
                    " FROM soc2_review_campaigns c",
                    " WHERE ($1 = FALSE OR c.closed_at_us IS NULL)",
                    " AND ($2 IS NULL OR (c.due_at_us < $2 AND EXISTS (",
                    " SELECT 1 FROM soc2_review_items i",
                    " WHERE i.campaign_id = c.campaign_id AND i.decision IS NULL)))",
                    " ORDER BY c.campaign_id"
                ))
                .bind(open)
                .bind(overdue_at)
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn items(
                &self,
                campaign: CampaignId,
                filter: ItemFilter,
            ) -> Result<Vec<ReviewItem>, StoreError> {
                let rows: Vec<ItemRow> = sqlx::query_as(concat!(
                    "SELECT ", item_columns!(), " FROM soc2_review_items",
                    " WHERE campaign_id = $1 AND ($2 IS NULL OR reviewer_id = $2)",
                    " AND ($3 = FALSE OR decision IS NULL)",
                    " ORDER BY subject_id, role"
                ))
                .bind(campaign.to_string())
                .bind(filter.reviewer.map(|reviewer| reviewer.to_string()))
                .bind(filter.undecided)
                .fetch_all(&self.pool)
                .await
                .map_err(store_error)?;
                convert(rows)
            }

            async fn item(&self, id: ItemId) -> Result<Option<ReviewItem>, StoreError> {
                let row: Option<ItemRow> = sqlx::query_as(concat!(
                    "SELECT ", item_columns!(), " FROM soc2_review_items WHERE item_id = $1"
                ))
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                row.map(ReviewItem::try_from).transpose()
            }

            async fn decide(
                &self,
                id: ItemId,
                decision: &DecisionRecord,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(concat!(
                    "UPDATE soc2_review_items SET decision = $2, comment = $3, decided_by = $4,",
                    " decided_at_us = $5",
                    " WHERE item_id = $1 AND reviewer_id = $4 AND decision IS NULL"
                ))
                .bind(id.to_string())
                .bind(decision.decision.name())
                .bind(decision.comment.as_deref())
                .bind(decision.decided_by.to_string())
                .bind(unix_micros(decision.decided_at))
                .execute(&self.pool)
                .await
                .map_err(store_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn close(
                &self,
                id: CampaignId,
                at: OffsetDateTime,
            ) -> Result<CloseOutcome, StoreError> {
                let id = id.to_string();
                let state: Option<(Option<i64>, i64)> = sqlx::query_as(concat!(
                    "SELECT closed_at_us, (SELECT COUNT(*) FROM soc2_review_items",
                    " WHERE campaign_id = $1 AND decision IS NULL)",
                    " FROM soc2_review_campaigns WHERE campaign_id = $1"
                ))
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                match state {
                    None => return Ok(CloseOutcome::Unknown),
                    Some((Some(_), _)) => return Ok(CloseOutcome::AlreadyClosed),
                    Some((None, undecided)) if undecided > 0 => {
                        return Ok(CloseOutcome::Undecided(undecided.unsigned_abs()));
                    }
                    Some((None, _)) => {}
                }
                let row: Option<CampaignRow> = sqlx::query_as(concat!(
                    "UPDATE soc2_review_campaigns SET closed_at_us = $2",
                    " WHERE campaign_id = $1 AND closed_at_us IS NULL",
                    " RETURNING ", campaign_columns!()
                ))
                .bind(id.as_str())
                .bind(unix_micros(at))
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
                match row {
                    Some(row) => Ok(CloseOutcome::Closed(row.try_into()?)),
                    None => Ok(CloseOutcome::AlreadyClosed),
                }
            }
        }
        }
        pub use review_store::$store;
    };
}

pub(crate) use sql_review_store;
