//! The review store conformance suite on SQLite, and hand-edited rows read as typed errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::SqlBackend;
use soc2_core::{StoreError, UserId};
use soc2_rbac::RoleName;
use soc2_rbac::review::{
    Campaign, CampaignFilter, CampaignId, ItemFilter, ItemId, ReviewItem, ReviewScope, ReviewStore,
    SubjectInfo,
};
use soc2_sqlx::sqlite::{self, SqliteReviewStore};
use time::macros::datetime;

soc2_testkit::review_store_conformance!(SqlBackend::sqlite().await);

#[tokio::test]
async fn hand_edited_rows_are_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let pool = sqlite::connect(&url).await.unwrap();
    sqlite::migrate(&pool).await.unwrap();
    let store = SqliteReviewStore::new(pool.clone());
    let reviewer = UserId::new_v7();
    let campaign = Campaign {
        id: CampaignId::new_v7(),
        name: "Q4".into(),
        scope: ReviewScope::AllUsers,
        reviewers: vec![reviewer],
        started_at: datetime!(2026-11-23 09:00 UTC),
        due_at: datetime!(2026-12-07 09:00 UTC),
        closed_at: None,
    };
    let item = ReviewItem {
        id: ItemId::new_v7(),
        campaign: campaign.id,
        subject: UserId::new_v7(),
        role: RoleName::new("admin").unwrap(),
        facts: SubjectInfo {
            username: "alice".into(),
            last_login: None,
            mfa_enabled: true,
        },
        reviewer,
        decided: None,
    };
    store
        .create(&campaign, std::slice::from_ref(&item))
        .await
        .unwrap();

    let edit = |sql: &'static str| {
        let pool = pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    edit("UPDATE soc2_review_campaigns SET scope = '{\"kind\":\"everyone\"}'").await;
    assert!(matches!(
        store.campaign(campaign.id).await,
        Err(StoreError::Corrupt(message)) if message == "review campaign row: scope"
    ));
    assert!(matches!(
        store.campaigns(CampaignFilter::All).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("UPDATE soc2_review_items SET role = 'Admin!'").await;
    assert!(matches!(
        store.item(item.id).await,
        Err(StoreError::Corrupt(message)) if message == "review item row: role"
    ));
    edit("UPDATE soc2_review_items SET role = 'admin', reviewer_id = 'nobody'").await;
    assert!(matches!(
        store.items(campaign.id, ItemFilter::default()).await,
        Err(StoreError::Corrupt(message)) if message == "review item row: reviewer_id"
    ));
}
