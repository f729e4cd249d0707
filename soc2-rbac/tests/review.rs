#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Access reviews: campaigns snapshot assignments with the host's facts, reviewers take turns
//! and never review their own access, a revoke applies at once, overdue campaigns follow the
//! clock, and the CSV and JSON reports list every decision; all audited.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use common::{Fixture, fixture, role, user};
use serde_json::json;
use soc2_audit::Actor;
use soc2_core::{BoxError, Clock, RequestContext, UserId};
use soc2_rbac::review::{
    CampaignFilter, CampaignSpec, CampaignSummary, CommentError, ItemFilter, MAX_COMMENT_BYTES,
    MemoryReviewStore, REPORT_CSV_HEADER, ReviewDecision, ReviewError, ReviewItem, ReviewManager,
    ReviewScope, ReviewStore, SpecError, SubjectFacts, SubjectInfo,
};
use soc2_rbac::{ResourceEntity, ResourceRef, RoleStore};
use time::OffsetDateTime;
use time::macros::datetime;

/// The fixture clock's start.
const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);
const LAST_LOGIN: OffsetDateTime = datetime!(2026-11-20 08:30:00.123456789 UTC);

/// The host's accounts; an unknown user is an error.
#[derive(Debug, Default)]
struct Accounts(Mutex<HashMap<UserId, SubjectInfo>>);

#[async_trait]
impl SubjectFacts for Accounts {
    async fn facts(&self, user: UserId) -> Result<SubjectInfo, BoxError> {
        let accounts = self.0.lock().unwrap();
        accounts
            .get(&user)
            .cloned()
            .ok_or_else(|| "no such account".into())
    }
}

struct Setup {
    f: Fixture,
    store: MemoryReviewStore,
    accounts: Arc<Accounts>,
    reviews: ReviewManager,
}

async fn setup() -> Setup {
    let f = fixture().await;
    let store = MemoryReviewStore::new();
    let accounts = Arc::new(Accounts::default());
    let reviews = ReviewManager::new(
        Arc::new(store.clone()),
        Arc::new(f.roles.clone()),
        f.manager.clone(),
        accounts.clone(),
        f.audit.clone(),
        f.clock.clone(),
    );
    Setup {
        f,
        store,
        accounts,
        reviews,
    }
}

impl Setup {
    /// A user named `name` holding `roles`, who last logged in at `LAST_LOGIN` with MFA.
    async fn person(&self, name: &str, roles: &[&str]) -> UserId {
        let id = user();
        self.set_facts(id, name, Some(LAST_LOGIN), true);
        for name in roles {
            self.f
                .manager
                .assign(Actor::System, id, &role(name))
                .await
                .unwrap();
        }
        id
    }

    fn set_facts(&self, id: UserId, name: &str, last_login: Option<OffsetDateTime>, mfa: bool) {
        self.accounts.0.lock().unwrap().insert(
            id,
            SubjectInfo {
                username: name.into(),
                last_login,
                mfa_enabled: mfa,
            },
        );
    }

    async fn items(&self, campaign: soc2_rbac::review::CampaignId) -> Vec<ReviewItem> {
        self.store
            .items(campaign, ItemFilter::default())
            .await
            .unwrap()
    }

    async fn decide(
        &self,
        item: &ReviewItem,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<ReviewItem, ReviewError> {
        self.reviews
            .decide(item.id, item.reviewer, decision, comment, &ctx())
            .await
    }

    /// The outcome and metadata of every `rbac.review.*` event so far.
    async fn review_events(&self) -> Vec<(String, String, serde_json::Value)> {
        self.f
            .events()
            .await
            .into_iter()
            .filter(|(action, _, _)| action.starts_with("rbac.review."))
            .map(|(action, outcome, metadata)| (action, outcome, metadata.into()))
            .collect()
    }
}

fn ctx() -> RequestContext {
    RequestContext::new().with_request_id("req-1")
}

fn spec(scope: ReviewScope, reviewers: &[UserId]) -> CampaignSpec {
    CampaignSpec {
        name: " 2026-Q4 privileged access ".into(),
        scope,
        reviewers: reviewers.to_vec(),
        due_at: T0 + time::Duration::days(14),
    }
}

fn roles(names: &[&str]) -> ReviewScope {
    ReviewScope::Roles(names.iter().map(|name| role(name)).collect())
}

fn days(n: u64) -> StdDuration {
    StdDuration::from_secs(n * 86_400)
}

#[tokio::test]
async fn a_campaign_over_roles_snapshots_the_holders_with_their_facts() {
    let s = setup().await;
    let (r1, r2) = (user(), user());
    let alice = s.person("alice", &["admin"]).await;
    let bob = s.person("bob", &["approver", "engineer"]).await;
    s.set_facts(bob, "bob", None, false);
    s.person("carol", &["engineer"]).await;

    let campaign = s
        .reviews
        .start(
            spec(roles(&["approver", "admin", "approver"]), &[r1, r2, r1]),
            Actor::user(r1),
            &ctx(),
        )
        .await
        .unwrap();
    assert_eq!(campaign.name, "2026-Q4 privileged access");
    assert_eq!(campaign.scope, roles(&["admin", "approver"]));
    assert_eq!(campaign.reviewers, [r1, r2]);
    assert_eq!(campaign.started_at, T0);
    assert_eq!(campaign.due_at, datetime!(2026-12-07 09:00 UTC));
    assert_eq!(campaign.closed_at, None);
    assert_eq!(
        s.store.campaign(campaign.id).await.unwrap(),
        Some(campaign.clone())
    );

    let mut expected = vec![
        (
            alice,
            "admin",
            SubjectInfo {
                username: "alice".into(),
                last_login: Some(datetime!(2026-11-20 08:30:00.123456 UTC)),
                mfa_enabled: true,
            },
        ),
        (
            bob,
            "approver",
            SubjectInfo {
                username: "bob".into(),
                last_login: None,
                mfa_enabled: false,
            },
        ),
    ];
    expected.sort_by_key(|(id, _, _)| *id);
    let items = s.items(campaign.id).await;
    let found: Vec<_> = items
        .iter()
        .map(|i| (i.subject, i.role.as_str(), i.facts.clone()))
        .collect();
    assert_eq!(found, expected);
    let reviewers: Vec<_> = items.iter().map(|i| i.reviewer).collect();
    assert_eq!(reviewers, [r1, r2], "round-robin");
    assert!(
        items
            .iter()
            .all(|i| i.campaign == campaign.id && i.decided.is_none())
    );

    assert_eq!(
        s.review_events().await,
        [(
            "rbac.review.started".into(),
            "success".into(),
            json!({
                "name": "2026-Q4 privileged access",
                "scope": {"kind": "roles", "roles": ["admin", "approver"]},
                "items": 2,
                "reviewers": 2,
                "due_at": "2026-12-07T09:00:00Z",
            })
        )]
    );
}

#[tokio::test]
async fn a_campaign_over_all_users_pages_through_every_assignment() {
    let s = setup().await;
    let reviewers = [user(), user(), user()];
    let rules = s.f.policies.snapshot().sod().clone();
    let mut expected = Vec::new();
    for i in 0..1_005 {
        let id = user();
        s.set_facts(id, &format!("user{i}"), None, true);
        let held: &[&str] = if i == 7 {
            &["engineer", "approver"]
        } else {
            &["engineer"]
        };
        for name in held {
            s.f.roles
                .assign(id, &role(name), &rules, s.f.clock.now())
                .await
                .unwrap();
            expected.push((id, role(name)));
        }
    }
    expected.sort();

    let campaign = s
        .reviews
        .start(
            spec(ReviewScope::AllUsers, &reviewers),
            Actor::System,
            &ctx(),
        )
        .await
        .unwrap();
    let items = s.items(campaign.id).await;
    let found: Vec<_> = items.iter().map(|i| (i.subject, i.role.clone())).collect();
    assert_eq!(found, expected);
    let mut load = BTreeMap::new();
    for item in &items {
        *load.entry(item.reviewer).or_insert(0) += 1;
    }
    let mut load: Vec<_> = load.into_values().collect();
    load.sort_unstable();
    assert_eq!(load, [335, 335, 336], "1,006 items shared evenly");
}

#[tokio::test]
async fn nobody_reviews_their_own_access() {
    let s = setup().await;
    let r1 = s.person("rita", &["admin"]).await;
    let refused = s
        .reviews
        .start(spec(roles(&["admin"]), &[r1]), Actor::System, &ctx())
        .await;
    assert!(
        matches!(refused, Err(ReviewError::NoEligibleReviewer(who)) if who == r1),
        "{refused:?}"
    );
    assert!(
        s.store
            .campaigns(CampaignFilter::All)
            .await
            .unwrap()
            .is_empty()
    );

    let r2 = s.person("rob", &["approver"]).await;
    let campaign = s
        .reviews
        .start(
            spec(roles(&["admin", "approver"]), &[r1, r2]),
            Actor::System,
            &ctx(),
        )
        .await
        .unwrap();
    let items = s.items(campaign.id).await;
    for item in &items {
        assert_ne!(item.reviewer, item.subject);
    }
    let own = items.iter().find(|i| i.subject == r1).unwrap();
    let refused = s
        .reviews
        .decide(
            own.id,
            r1,
            ReviewDecision::Keep,
            Some("I still need it"),
            &ctx(),
        )
        .await;
    assert!(
        matches!(refused, Err(ReviewError::SelfReview(id)) if id == own.id),
        "{refused:?}"
    );
    assert_eq!(s.store.item(own.id).await.unwrap().unwrap().decided, None);
    let denied: Vec<_> =
        s.f.events_of("rbac.review.decided")
            .await
            .into_iter()
            .map(|(outcome, metadata)| (outcome, metadata.get("item").cloned()))
            .collect();
    assert_eq!(denied, [("denied".into(), Some(json!(own.id)))]);
}

#[tokio::test]
async fn only_the_assigned_reviewer_decides_and_only_once() {
    let s = setup().await;
    let (r1, r2) = (user(), user());
    let alice = s.person("alice", &["admin"]).await;
    let campaign = s
        .reviews
        .start(spec(roles(&["admin"]), &[r1, r2]), Actor::System, &ctx())
        .await
        .unwrap();
    let item = s.items(campaign.id).await.remove(0);
    assert_eq!((item.subject, item.reviewer), (alice, r1));

    let refused = s
        .reviews
        .decide(item.id, r2, ReviewDecision::Revoke, Some("why not"), &ctx())
        .await;
    assert!(
        matches!(refused, Err(ReviewError::NotAssigned { item: id, reviewer }) if id == item.id && reviewer == r2),
        "{refused:?}"
    );
    let unknown = soc2_rbac::review::ItemId::new_v7();
    assert!(matches!(
        s.reviews
            .decide(unknown, r1, ReviewDecision::Keep, None, &ctx())
            .await,
        Err(ReviewError::UnknownItem(id)) if id == unknown
    ));
    assert_eq!(
        s.f.roles
            .user_roles(alice, s.f.clock.now())
            .await
            .unwrap()
            .assigned,
        [role("admin")]
    );

    s.f.clock.advance(StdDuration::from_secs(3600));
    let decided = s
        .decide(&item, ReviewDecision::Keep, Some(" still on call "))
        .await
        .unwrap();
    let record = decided.decided.clone().unwrap();
    assert_eq!(
        (
            record.decision,
            record.comment.as_deref(),
            record.decided_by
        ),
        (ReviewDecision::Keep, Some("still on call"), r1)
    );
    assert_eq!(record.decided_at, datetime!(2026-11-23 10:00 UTC));
    assert_eq!(s.store.item(item.id).await.unwrap(), Some(decided));
    assert!(matches!(
        s.decide(&item, ReviewDecision::Revoke, Some("changed my mind"))
            .await,
        Err(ReviewError::AlreadyDecided(id)) if id == item.id
    ));
    assert_eq!(
        s.f.roles
            .user_roles(alice, s.f.clock.now())
            .await
            .unwrap()
            .assigned,
        [role("admin")],
        "kept"
    );

    let events: Vec<_> = s
        .review_events()
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "rbac.review.decided")
        .map(|(_, outcome, metadata)| (outcome, metadata))
        .collect();
    let about = |extra: serde_json::Value| {
        let mut metadata = json!({"campaign": campaign.id, "item": item.id, "role": "admin"});
        metadata
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        metadata
    };
    assert_eq!(
        events,
        [
            ("denied".into(), about(json!({}))),
            (
                "success".into(),
                about(json!({"decision": "keep", "comment": "still on call"}))
            ),
        ]
    );
}

#[tokio::test]
async fn a_revoke_removes_the_role_at_once() {
    let s = setup().await;
    let reviewer = user();
    let auditor = s.person("audrey", &["auditor"]).await;
    let log = ResourceRef::new("AuditLog", "main");
    s.f.add_resource(&log, ResourceEntity::new());
    let reads = || async {
        s.f.authorizer
            .authorize(auditor, "read_audit", &log, json!({}))
            .await
            .unwrap()
            .allowed()
    };
    assert!(reads().await);

    let campaign = s
        .reviews
        .start(
            spec(roles(&["auditor"]), &[reviewer]),
            Actor::System,
            &ctx(),
        )
        .await
        .unwrap();
    let item = s.items(campaign.id).await.remove(0);
    s.decide(&item, ReviewDecision::Revoke, Some("moved to sales"))
        .await
        .unwrap();
    assert!(
        s.f.roles
            .user_roles(auditor, s.f.clock.now())
            .await
            .unwrap()
            .assigned
            .is_empty()
    );
    assert!(!reads().await, "the next request is denied");

    let trail: Vec<_> = s
        .f
        .events()
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "rbac.review.decided" || action == "rbac.role.revoked")
        .map(|(action, outcome, metadata)| (action, outcome, metadata.get("role").cloned()))
        .collect();
    assert_eq!(
        trail,
        [
            (
                "rbac.review.decided".into(),
                "success".into(),
                Some(json!("auditor"))
            ),
            (
                "rbac.role.revoked".into(),
                "success".into(),
                Some(json!("auditor"))
            ),
        ]
    );
}

#[tokio::test]
async fn overdue_campaigns_follow_the_clock() {
    let s = setup().await;
    let reviewer = user();
    s.person("alice", &["admin"]).await;
    let mut soon = spec(roles(&["admin"]), &[reviewer]);
    soon.due_at = T0 + time::Duration::days(7);
    let soon = s.reviews.start(soon, Actor::System, &ctx()).await.unwrap();
    let later = s
        .reviews
        .start(spec(roles(&["admin"]), &[reviewer]), Actor::System, &ctx())
        .await
        .unwrap();
    assert!(s.reviews.overdue().await.unwrap().is_empty());

    s.f.clock.advance(days(7));
    assert!(
        s.reviews.overdue().await.unwrap().is_empty(),
        "due now, not past due"
    );
    s.f.clock.advance(StdDuration::from_micros(1));
    assert_eq!(
        s.reviews.overdue().await.unwrap(),
        [CampaignSummary {
            campaign: soon.clone(),
            items: 1,
            undecided: 1
        }]
    );

    let item = s.items(soon.id).await.remove(0);
    s.decide(&item, ReviewDecision::Keep, None).await.unwrap();
    assert!(s.reviews.overdue().await.unwrap().is_empty(), "all decided");

    s.f.clock.advance(days(8));
    let overdue = s.reviews.overdue().await.unwrap();
    assert_eq!(
        overdue
            .iter()
            .map(|o| (o.campaign.id, o.undecided))
            .collect::<Vec<_>>(),
        [(later.id, 1)]
    );
}

#[tokio::test]
async fn closing_needs_every_item_decided_and_is_audited() {
    let s = setup().await;
    let reviewer = user();
    s.person("alice", &["admin"]).await;
    s.person("bob", &["admin"]).await;
    let campaign = s
        .reviews
        .start(spec(roles(&["admin"]), &[reviewer]), Actor::System, &ctx())
        .await
        .unwrap();
    let by = Actor::user(reviewer);
    let refused = s.reviews.close(campaign.id, by.clone(), &ctx()).await;
    assert!(
        matches!(refused, Err(ReviewError::Undecided { campaign: id, remaining: 2 }) if id == campaign.id),
        "{refused:?}"
    );
    for item in s.items(campaign.id).await {
        s.decide(&item, ReviewDecision::Keep, None).await.unwrap();
    }
    s.f.clock.advance(days(15));
    let closed = s
        .reviews
        .close(campaign.id, by.clone(), &ctx())
        .await
        .unwrap();
    assert_eq!(closed.closed_at, Some(datetime!(2026-12-08 09:00 UTC)));
    assert!(matches!(
        s.reviews.close(campaign.id, by.clone(), &ctx()).await,
        Err(ReviewError::AlreadyClosed(id)) if id == campaign.id
    ));
    let unknown = soc2_rbac::review::CampaignId::new_v7();
    assert!(matches!(
        s.reviews.close(unknown, by, &ctx()).await,
        Err(ReviewError::UnknownCampaign(id)) if id == unknown
    ));
    let closes: Vec<_> = s
        .review_events()
        .await
        .into_iter()
        .filter(|(action, _, _)| action == "rbac.review.closed")
        .collect();
    assert_eq!(
        closes,
        [(
            "rbac.review.closed".into(),
            "success".into(),
            json!({
                "name": "2026-Q4 privileged access",
                "due_at": "2026-12-07T09:00:00Z",
                "late": true,
            })
        )]
    );
}

#[tokio::test]
async fn reports_list_every_decision_in_csv_and_json() {
    let s = setup().await;
    let (r1, r2) = (user(), user());
    let alice = s.person("alice", &["admin"]).await;
    let bob = s.person("bob", &["approver"]).await;
    s.set_facts(bob, "=bob", None, false);
    let campaign = s
        .reviews
        .start(
            spec(roles(&["admin", "approver"]), &[r1, r2]),
            Actor::System,
            &ctx(),
        )
        .await
        .unwrap();
    let items = s.items(campaign.id).await;
    let of = |who: UserId| items.iter().find(|i| i.subject == who).unwrap();

    s.f.clock.advance(StdDuration::from_secs(3600));
    s.decide(of(alice), ReviewDecision::Keep, None)
        .await
        .unwrap();
    s.f.clock.advance(StdDuration::from_secs(1800));
    let why = "=HYPERLINK(\"x\"), left in \"Q3\"";
    s.decide(of(bob), ReviewDecision::Revoke, Some(why))
        .await
        .unwrap();
    s.f.clock.advance(StdDuration::from_secs(60));
    let report = s.reviews.report(campaign.id).await.unwrap();
    assert_eq!(report.items, s.items(campaign.id).await);

    let row = |item: &ReviewItem| -> String {
        if item.subject == alice {
            format!(
                "{},2026-Q4 privileged access,{},{alice},alice,2026-11-20T08:30:00.123456Z,true,admin,{},keep,,{},2026-11-23T10:00:00Z",
                campaign.id, item.id, item.reviewer, item.reviewer
            )
        } else {
            format!(
                "{},2026-Q4 privileged access,{},{bob},'=bob,,false,approver,{},revoke,\"'=HYPERLINK(\"\"x\"\"), left in \"\"Q3\"\"\",{},2026-11-23T10:30:00Z",
                campaign.id, item.id, item.reviewer, item.reviewer
            )
        }
    };
    let mut expected = REPORT_CSV_HEADER.join(",") + "\n";
    for item in &report.items {
        expected += &(row(item) + "\n");
    }
    assert_eq!(report.to_csv().unwrap(), expected);
    assert_eq!(
        REPORT_CSV_HEADER.join(","),
        "campaign_id,campaign_name,item_id,subject_id,username,last_login,mfa_enabled,role,reviewer_id,decision,comment,decided_by,decided_at"
    );

    let json_item = |item: &ReviewItem| {
        if item.subject == alice {
            json!({
                "id": item.id, "campaign": campaign.id, "subject": alice, "role": "admin",
                "facts": {"username": "alice", "last_login": "2026-11-20T08:30:00.123456Z", "mfa_enabled": true},
                "reviewer": item.reviewer,
                "decided": {"decision": "keep", "comment": null, "decided_by": item.reviewer, "decided_at": "2026-11-23T10:00:00Z"},
            })
        } else {
            json!({
                "id": item.id, "campaign": campaign.id, "subject": bob, "role": "approver",
                "facts": {"username": "=bob", "last_login": null, "mfa_enabled": false},
                "reviewer": item.reviewer,
                "decided": {"decision": "revoke", "comment": why, "decided_by": item.reviewer, "decided_at": "2026-11-23T10:30:00Z"},
            })
        }
    };
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(
        json,
        json!({
            "campaign": {
                "id": campaign.id,
                "name": "2026-Q4 privileged access",
                "scope": {"kind": "roles", "roles": ["admin", "approver"]},
                "reviewers": [r1, r2],
                "started_at": "2026-11-23T09:00:00Z",
                "due_at": "2026-12-07T09:00:00Z",
                "closed_at": null,
            },
            "items": report.items.iter().map(json_item).collect::<Vec<_>>(),
            "generated_at": "2026-11-23T10:31:00Z",
        })
    );
    assert!(matches!(
        s.reviews
            .report(soc2_rbac::review::CampaignId::new_v7())
            .await,
        Err(ReviewError::UnknownCampaign(_))
    ));
}

#[tokio::test]
async fn a_bad_comment_is_refused_and_nothing_changes() {
    let s = setup().await;
    let reviewer = user();
    let alice = s.person("alice", &["admin"]).await;
    let campaign = s
        .reviews
        .start(spec(roles(&["admin"]), &[reviewer]), Actor::System, &ctx())
        .await
        .unwrap();
    let item = s.items(campaign.id).await.remove(0);
    let oversized = "x".repeat(MAX_COMMENT_BYTES + 1);
    for (comment, error) in [
        (Some(oversized.as_str()), CommentError::TooLong),
        (None, CommentError::Required),
        (Some("   "), CommentError::Required),
        (Some("ok\u{7}"), CommentError::ControlCharacter),
    ] {
        let refused = s.decide(&item, ReviewDecision::Revoke, comment).await;
        assert!(
            matches!(&refused, Err(ReviewError::InvalidComment(e)) if *e == error),
            "{refused:?}"
        );
    }
    assert_eq!(s.store.item(item.id).await.unwrap(), Some(item.clone()));
    assert_eq!(
        s.f.roles
            .user_roles(alice, s.f.clock.now())
            .await
            .unwrap()
            .assigned,
        [role("admin")]
    );
    assert!(s.f.events_of("rbac.review.decided").await.is_empty());
    assert!(s.f.events_of("rbac.role.revoked").await.is_empty());
    let longest = "é".repeat(MAX_COMMENT_BYTES / 2);
    s.decide(&item, ReviewDecision::Revoke, Some(&longest))
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_specs_and_facts_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let reviewer = user();
    let alice = s.person("alice", &["admin"]).await;
    let mut past = spec(roles(&["admin"]), &[reviewer]);
    past.due_at = T0;
    let mut control = spec(roles(&["admin"]), &[reviewer]);
    control.name = "Q4\u{1b}[2J".into();
    let mut long = spec(roles(&["admin"]), &[reviewer]);
    long.name = "n".repeat(201);
    let cases = [
        (spec(roles(&["admin"]), &[]), SpecError::Reviewers),
        (spec(roles(&[]), &[reviewer]), SpecError::Roles),
        (past, SpecError::DueDate),
        (control, SpecError::Name),
        (long, SpecError::Name),
        (
            CampaignSpec {
                name: "  ".into(),
                ..spec(ReviewScope::AllUsers, &[reviewer])
            },
            SpecError::Name,
        ),
    ];
    for (spec, error) in cases {
        let refused = s.reviews.start(spec, Actor::System, &ctx()).await;
        assert!(
            matches!(&refused, Err(ReviewError::InvalidSpec(e)) if *e == error),
            "{refused:?}"
        );
    }

    s.set_facts(alice, &"a".repeat(257), None, true);
    let refused = s
        .reviews
        .start(spec(roles(&["admin"]), &[reviewer]), Actor::System, &ctx())
        .await;
    assert!(
        matches!(&refused, Err(ReviewError::Facts { user, .. }) if *user == alice),
        "{refused:?}"
    );
    s.accounts.0.lock().unwrap().clear();
    let refused = s
        .reviews
        .start(spec(roles(&["admin"]), &[reviewer]), Actor::System, &ctx())
        .await;
    assert!(
        matches!(&refused, Err(ReviewError::Facts { user, source }) if *user == alice && source.to_string() == "no such account"),
        "{refused:?}"
    );
    assert!(
        s.store
            .campaigns(CampaignFilter::All)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.review_events().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_decisions_exactly_one_is_recorded() {
    let s = setup().await;
    let reviewer = user();
    let holders: Vec<_> = (0..20).map(|_| user()).collect();
    let rules = s.f.policies.snapshot().sod().clone();
    for (i, holder) in holders.iter().enumerate() {
        s.set_facts(*holder, &format!("user{i}"), None, true);
        s.f.roles
            .assign(*holder, &role("engineer"), &rules, s.f.clock.now())
            .await
            .unwrap();
    }
    let campaign = s
        .reviews
        .start(
            spec(roles(&["engineer"]), &[reviewer]),
            Actor::System,
            &ctx(),
        )
        .await
        .unwrap();
    for item in s.items(campaign.id).await {
        let id = item.id;
        let race = |decision: ReviewDecision| {
            let reviews = s.reviews.clone();
            tokio::spawn(async move {
                reviews
                    .decide(id, reviewer, decision, Some("race"), &ctx())
                    .await
                    .map(|decided| decided.decided.unwrap().decision)
            })
        };
        let (keep, revoke) = (race(ReviewDecision::Keep), race(ReviewDecision::Revoke));
        let outcomes = [keep.await.unwrap(), revoke.await.unwrap()];
        let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(ReviewError::AlreadyDecided(id)) if *id == item.id))
        );
        let stored = s
            .store
            .item(item.id)
            .await
            .unwrap()
            .unwrap()
            .decided
            .unwrap();
        assert_eq!(&stored.decision, winners[0]);
        let held =
            !s.f.roles
                .user_roles(item.subject, s.f.clock.now())
                .await
                .unwrap()
                .assigned
                .is_empty();
        assert_eq!(held, stored.decision == ReviewDecision::Keep);
    }
}
