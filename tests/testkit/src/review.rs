//! The `ReviewStore` conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::sync::Arc;

use async_trait::async_trait;
use soc2_core::{StoreError, UserId};
use soc2_rbac::RoleName;
use soc2_rbac::review::{
    Campaign, CampaignFilter, CampaignId, CampaignSummary, CloseOutcome, DecisionRecord,
    ItemFilter, ItemId, ReviewDecision, ReviewItem, ReviewScope, ReviewStore, SubjectInfo,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// A backend under test.
#[async_trait]
pub trait ReviewBackend: Send + Sync + 'static {
    /// A store handle on this backend's database. Each call opens a separate pool, like a
    /// separate app instance; handles on one database share every campaign.
    async fn open(&self) -> Arc<dyn ReviewStore>;

    /// Releases the database after a passing case.
    async fn cleanup(&self) {}
}

const T0: OffsetDateTime = datetime!(2026-11-23 09:00:00.123456 UTC);

fn role(name: &str) -> RoleName {
    RoleName::new(name).unwrap()
}

fn users(n: usize) -> Vec<UserId> {
    (0..n).map(|_| UserId::new_v7()).collect()
}

fn campaign(reviewers: &[UserId], due_in_days: i64) -> Campaign {
    Campaign {
        id: CampaignId::new_v7(),
        name: "2026-Q4 privileged access".into(),
        scope: ReviewScope::Roles(vec![role("admin"), role("approver")]),
        reviewers: reviewers.to_vec(),
        started_at: T0,
        due_at: T0 + Duration::days(due_in_days),
        closed_at: None,
    }
}

fn item(campaign: &Campaign, subject: UserId, role_name: &str, reviewer: UserId) -> ReviewItem {
    ReviewItem {
        id: ItemId::new_v7(),
        campaign: campaign.id,
        subject,
        role: role(role_name),
        facts: SubjectInfo {
            username: format!("user-{subject}"),
            last_login: Some(T0 - Duration::days(3)),
            mfa_enabled: true,
        },
        reviewer,
        decided: None,
    }
}

fn record(decision: ReviewDecision, by: UserId, comment: Option<&str>) -> DecisionRecord {
    DecisionRecord {
        decision,
        comment: comment.map(str::to_owned),
        decided_by: by,
        decided_at: T0 + Duration::hours(1),
    }
}

fn summary(campaign: &Campaign, items: u64, undecided: u64) -> CampaignSummary {
    CampaignSummary {
        campaign: campaign.clone(),
        items,
        undecided,
    }
}

/// `items` sorted as stores list them: by subject, then role.
fn sorted(mut items: Vec<ReviewItem>) -> Vec<ReviewItem> {
    items.sort_by(|a, b| (a.subject, &a.role).cmp(&(b.subject, &b.role)));
    items
}

pub async fn campaigns_and_items_round_trip(backend: &impl ReviewBackend) {
    let stores = [backend.open().await, backend.open().await];
    let [alice, bob, reviewer] = users(3).try_into().unwrap();
    let first = campaign(&[reviewer], 14);
    // Roles that sort differently bytewise than in a natural-language collation.
    let items = vec![
        item(&first, bob, "approver", reviewer),
        item(&first, alice, "ab", reviewer),
        item(&first, alice, "a_b", reviewer),
        item(&first, alice, "a0", reviewer),
        item(&first, alice, "a-b", reviewer),
    ];
    stores[0].create(&first, &items).await.unwrap();
    let mut empty = campaign(&[alice, bob], 7);
    empty.scope = ReviewScope::AllUsers;
    stores[0].create(&empty, &[]).await.unwrap();

    assert_eq!(
        stores[1].campaign(first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        stores[1].campaign(empty.id).await.unwrap(),
        Some(empty.clone())
    );
    assert_eq!(
        stores[1].campaign(CampaignId::new_v7()).await.unwrap(),
        None
    );
    let listed = stores[1]
        .items(first.id, ItemFilter::default())
        .await
        .unwrap();
    assert_eq!(listed, sorted(items.clone()));
    let roles: Vec<_> = listed
        .iter()
        .filter(|i| i.subject == alice)
        .map(|i| i.role.as_str())
        .collect();
    assert_eq!(roles, ["a-b", "a0", "a_b", "ab"], "bytewise order");
    assert_eq!(
        stores[1].item(items[2].id).await.unwrap(),
        Some(items[2].clone())
    );
    assert_eq!(stores[1].item(ItemId::new_v7()).await.unwrap(), None);
    assert!(
        stores[1]
            .items(CampaignId::new_v7(), ItemFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        stores[1].campaigns(CampaignFilter::All).await.unwrap(),
        [summary(&first, 5, 5), summary(&empty, 0, 0)]
    );
}

pub async fn creation_is_all_or_nothing(backend: &impl ReviewBackend) {
    let store = backend.open().await;
    let [alice, bob, reviewer] = users(3).try_into().unwrap();
    let nothing_stored = |campaign: CampaignId| {
        let store = Arc::clone(&store);
        async move {
            assert_eq!(store.campaign(campaign).await.unwrap(), None);
            assert!(
                store
                    .items(campaign, ItemFilter::default())
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
    };

    let twice = campaign(&[reviewer], 14);
    let same_access = [
        item(&twice, alice, "admin", reviewer),
        item(&twice, alice, "admin", reviewer),
    ];
    assert!(matches!(
        store.create(&twice, &same_access).await,
        Err(StoreError::Conflict(_))
    ));
    nothing_stored(twice.id).await;

    let reused = campaign(&[reviewer], 14);
    let mut second = item(&reused, bob, "admin", reviewer);
    let first = item(&reused, alice, "admin", reviewer);
    second.id = first.id;
    assert!(matches!(
        store.create(&reused, &[first, second]).await,
        Err(StoreError::Conflict(_))
    ));
    nothing_stored(reused.id).await;

    let mixed = campaign(&[reviewer], 14);
    let other = campaign(&[reviewer], 14);
    assert!(matches!(
        store
            .create(&mixed, &[item(&other, alice, "admin", reviewer)])
            .await,
        Err(StoreError::Conflict(_))
    ));
    nothing_stored(mixed.id).await;

    let stored = campaign(&[reviewer], 14);
    let items = vec![item(&stored, alice, "admin", reviewer)];
    store.create(&stored, &items).await.unwrap();
    assert!(matches!(
        store
            .create(&stored, &[item(&stored, bob, "admin", reviewer)])
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.items(stored.id, ItemFilter::default()).await.unwrap(),
        items
    );

    let later = campaign(&[reviewer], 14);
    let mut clash = item(&later, bob, "admin", reviewer);
    clash.id = items[0].id;
    assert!(matches!(
        store
            .create(&later, &[item(&later, alice, "admin", reviewer), clash])
            .await,
        Err(StoreError::Conflict(_))
    ));
    nothing_stored(later.id).await;
    assert_eq!(
        store.campaigns(CampaignFilter::All).await.unwrap(),
        [summary(&stored, 1, 1)]
    );
}

pub async fn items_filter_by_reviewer_and_undecided(backend: &impl ReviewBackend) {
    let store = backend.open().await;
    let [a, b, c, d, r1, r2] = users(6).try_into().unwrap();
    let review = campaign(&[r1, r2], 14);
    let items = sorted(vec![
        item(&review, a, "admin", r1),
        item(&review, b, "admin", r2),
        item(&review, c, "admin", r1),
        item(&review, d, "admin", r2),
    ]);
    store.create(&review, &items).await.unwrap();
    let of_r1: Vec<_> = items.iter().filter(|i| i.reviewer == r1).cloned().collect();
    assert!(
        store
            .decide(of_r1[0].id, &record(ReviewDecision::Keep, r1, None))
            .await
            .unwrap()
    );
    let filter = |reviewer: Option<UserId>, undecided: bool| ItemFilter {
        reviewer,
        undecided,
    };
    let ids = |items: Vec<ReviewItem>| items.into_iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .items(review.id, filter(Some(r1), false))
            .await
            .unwrap()),
        ids(of_r1.clone())
    );
    assert_eq!(
        ids(store
            .items(review.id, filter(Some(r1), true))
            .await
            .unwrap()),
        [of_r1[1].id]
    );
    let undecided: Vec<_> = items
        .iter()
        .filter(|i| i.id != of_r1[0].id)
        .map(|i| i.id)
        .collect();
    assert_eq!(
        ids(store.items(review.id, filter(None, true)).await.unwrap()),
        undecided
    );
    assert!(
        store
            .items(review.id, filter(Some(a), false))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_decision_is_recorded_once_by_the_assigned_reviewer(backend: &impl ReviewBackend) {
    let stores = [backend.open().await, backend.open().await];
    let [alice, bob, reviewer, other] = users(4).try_into().unwrap();
    let review = campaign(&[reviewer, other], 14);
    let items = sorted(vec![
        item(&review, alice, "admin", reviewer),
        item(&review, bob, "approver", reviewer),
    ]);
    stores[0].create(&review, &items).await.unwrap();
    let (first, second) = (&items[0], &items[1]);

    let revoke = record(ReviewDecision::Revoke, reviewer, Some("left the team"));
    assert!(
        !stores[0]
            .decide(
                first.id,
                &record(ReviewDecision::Revoke, other, Some("not mine"))
            )
            .await
            .unwrap(),
        "not the assigned reviewer"
    );
    assert_eq!(stores[1].item(first.id).await.unwrap(), Some(first.clone()));
    assert!(stores[0].decide(first.id, &revoke).await.unwrap());
    assert!(
        !stores[1]
            .decide(first.id, &record(ReviewDecision::Keep, reviewer, None))
            .await
            .unwrap(),
        "decided once"
    );
    let decided = stores[1].item(first.id).await.unwrap().unwrap();
    assert_eq!(decided.decided, Some(revoke));
    assert_eq!(
        ReviewItem {
            decided: None,
            ..decided
        },
        first.clone()
    );

    let keep = record(ReviewDecision::Keep, reviewer, None);
    assert!(stores[1].decide(second.id, &keep).await.unwrap());
    assert_eq!(
        stores[0].item(second.id).await.unwrap().unwrap().decided,
        Some(keep.clone())
    );
    assert!(!stores[0].decide(ItemId::new_v7(), &keep).await.unwrap());
}

pub async fn racing_decisions_let_exactly_one_win(backend: &impl ReviewBackend) {
    let stores = [backend.open().await, backend.open().await];
    let [alice, reviewer] = users(2).try_into().unwrap();
    let review = campaign(&[reviewer], 14);
    let contested = item(&review, alice, "admin", reviewer);
    stores[0]
        .create(&review, std::slice::from_ref(&contested))
        .await
        .unwrap();
    let id = contested.id;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let decision = if i % 2 == 0 {
                ReviewDecision::Keep
            } else {
                ReviewDecision::Revoke
            };
            let mine = record(decision, reviewer, Some(&format!("task {i}")));
            tokio::spawn(async move {
                let won = store.decide(id, &mine).await.unwrap();
                won.then_some(mine)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(
        stores[1].item(contested.id).await.unwrap().unwrap().decided,
        winners.pop()
    );
}

pub async fn closing_needs_every_item_decided(backend: &impl ReviewBackend) {
    let stores = [backend.open().await, backend.open().await];
    let [alice, bob, reviewer] = users(3).try_into().unwrap();
    let review = campaign(&[reviewer], 14);
    let items = vec![
        item(&review, alice, "admin", reviewer),
        item(&review, bob, "admin", reviewer),
    ];
    stores[0].create(&review, &items).await.unwrap();
    let closed_at = T0 + Duration::days(15);

    assert_eq!(
        stores[0]
            .close(CampaignId::new_v7(), closed_at)
            .await
            .unwrap(),
        CloseOutcome::Unknown
    );
    assert_eq!(
        stores[0].close(review.id, closed_at).await.unwrap(),
        CloseOutcome::Undecided(2)
    );
    let keep = record(ReviewDecision::Keep, reviewer, None);
    assert!(stores[1].decide(items[0].id, &keep).await.unwrap());
    assert_eq!(
        stores[0].close(review.id, closed_at).await.unwrap(),
        CloseOutcome::Undecided(1)
    );
    assert_eq!(
        stores[1].campaign(review.id).await.unwrap(),
        Some(review.clone())
    );
    assert!(stores[1].decide(items[1].id, &keep).await.unwrap());

    let id = review.id;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            tokio::spawn(async move { store.close(id, closed_at).await.unwrap() })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let closed = Campaign {
        closed_at: Some(closed_at),
        ..review.clone()
    };
    let won: Vec<_> = outcomes
        .iter()
        .filter(|outcome| **outcome != CloseOutcome::AlreadyClosed)
        .collect();
    assert_eq!(won, [&CloseOutcome::Closed(closed.clone())]);
    assert_eq!(stores[1].campaign(review.id).await.unwrap(), Some(closed));

    let empty = campaign(&[reviewer], 14);
    stores[0].create(&empty, &[]).await.unwrap();
    assert!(matches!(
        stores[1].close(empty.id, T0).await.unwrap(),
        CloseOutcome::Closed(Campaign { closed_at: Some(at), .. }) if at == T0
    ));
}

pub async fn campaign_lists_select_open_and_overdue(backend: &impl ReviewBackend) {
    let store = backend.open().await;
    let [alice, reviewer] = users(2).try_into().unwrap();
    let keep = record(ReviewDecision::Keep, reviewer, None);

    let late = campaign(&[reviewer], 1);
    store
        .create(&late, &[item(&late, alice, "admin", reviewer)])
        .await
        .unwrap();
    let done = campaign(&[reviewer], 1);
    let done_item = item(&done, alice, "admin", reviewer);
    store
        .create(&done, std::slice::from_ref(&done_item))
        .await
        .unwrap();
    assert!(store.decide(done_item.id, &keep).await.unwrap());
    let later = campaign(&[reviewer], 10);
    store
        .create(&later, &[item(&later, alice, "admin", reviewer)])
        .await
        .unwrap();
    let empty = campaign(&[reviewer], 1);
    store.create(&empty, &[]).await.unwrap();
    let closed = campaign(&[reviewer], 1);
    store.create(&closed, &[]).await.unwrap();
    let CloseOutcome::Closed(closed) = store.close(closed.id, T0).await.unwrap() else {
        panic!("an empty campaign closes");
    };

    let list = |filter| {
        let store = Arc::clone(&store);
        async move { store.campaigns(filter).await.unwrap() }
    };
    let day = |n| T0 + Duration::days(n);
    assert_eq!(
        list(CampaignFilter::All).await,
        [
            summary(&late, 1, 1),
            summary(&done, 1, 0),
            summary(&later, 1, 1),
            summary(&empty, 0, 0),
            summary(&closed, 0, 0),
        ]
    );
    assert_eq!(
        list(CampaignFilter::Open).await,
        [
            summary(&late, 1, 1),
            summary(&done, 1, 0),
            summary(&later, 1, 1),
            summary(&empty, 0, 0),
        ]
    );
    assert_eq!(
        list(CampaignFilter::OverdueAt(day(1))).await,
        [],
        "due, not past due"
    );
    assert_eq!(
        list(CampaignFilter::OverdueAt(
            day(1) + Duration::microseconds(1)
        ))
        .await,
        [summary(&late, 1, 1)]
    );
    assert_eq!(
        list(CampaignFilter::OverdueAt(day(11))).await,
        [summary(&late, 1, 1), summary(&later, 1, 1)]
    );
}

pub async fn text_and_times_round_trip_exactly(backend: &impl ReviewBackend) {
    let store = backend.open().await;
    let [alice, r1, r2, r3] = users(4).try_into().unwrap();
    let mut odd = campaign(&[r3, r1, r2], 14);
    odd.name = "Q4 \"privileged\" — ünïcode, 'quotes'; DROP TABLE x".into();
    odd.scope = ReviewScope::Roles((0..50).map(|i| role(&format!("role-{i:02}"))).collect());
    odd.started_at = datetime!(2026-11-23 09:00:00.000001 UTC);
    odd.due_at = datetime!(2027-02-28 23:59:59.999999 UTC);
    let mut first = item(&odd, alice, "admin", r3);
    first.facts = SubjectInfo {
        username: format!("{}\"é\n,", "x".repeat(250)),
        last_login: None,
        mfa_enabled: false,
    };
    first.role = role(&"r".repeat(64));
    store.create(&odd, &[first.clone()]).await.unwrap();
    assert_eq!(store.campaign(odd.id).await.unwrap(), Some(odd.clone()));
    assert_eq!(store.item(first.id).await.unwrap(), Some(first.clone()));

    let comment = format!("line one\nline \"two\", {}", "é".repeat(985));
    let decision = DecisionRecord {
        decision: ReviewDecision::Revoke,
        comment: Some(comment),
        decided_by: r3,
        decided_at: datetime!(2026-12-01 00:00:00.999999 UTC),
    };
    assert!(store.decide(first.id, &decision).await.unwrap());
    assert_eq!(
        store.item(first.id).await.unwrap().unwrap().decided,
        Some(decision)
    );
}

/// Expands to one `#[tokio::test]` per `ReviewStore` case for a backend expression yielding
/// `Option<impl ReviewBackend>`.
#[macro_export]
macro_rules! review_store_conformance {
    ($backend:expr) => {
        $crate::review_store_conformance!(@cases $backend;
            campaigns_and_items_round_trip,
            creation_is_all_or_nothing,
            items_filter_by_reviewer_and_undecided,
            a_decision_is_recorded_once_by_the_assigned_reviewer,
            racing_decisions_let_exactly_one_win,
            closing_needs_every_item_decided,
            campaign_lists_select_open_and_overdue,
            text_and_times_round_trip_exactly,
        );
    };
    (@cases $backend:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(backend) = $backend {
                    $crate::review::$case(&backend).await;
                    $crate::review::ReviewBackend::cleanup(&backend).await;
                }
            }
        )*
    };
}
