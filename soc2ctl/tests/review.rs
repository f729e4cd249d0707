//! `soc2ctl review report` as a process on SQLite and PostgreSQL: every item of a campaign
//! with its decision, as CSV or JSON, to standard output or a file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use common::{Db, assert_exit, soc2ctl, text};
use serde_json::Value;
use soc2_core::UserId;
use soc2_rbac::RoleName;
use soc2_rbac::review::{
    Campaign, CampaignId, DecisionRecord, ItemId, ReviewDecision, ReviewItem, ReviewScope,
    SubjectInfo,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-23 09:00 UTC);

fn item(campaign: &Campaign, subject: UserId, name: &str, role: &str) -> ReviewItem {
    ReviewItem {
        id: ItemId::new_v7(),
        campaign: campaign.id,
        subject,
        role: RoleName::new(role).unwrap(),
        facts: SubjectInfo {
            username: name.into(),
            last_login: (name != "bob").then(|| T0 - Duration::days(3)),
            mfa_enabled: name == "alice",
        },
        reviewer: campaign.reviewers[0],
        decided: None,
    }
}

fn decision(decision: ReviewDecision, by: UserId, comment: Option<&str>) -> DecisionRecord {
    DecisionRecord {
        decision,
        comment: comment.map(str::to_owned),
        decided_by: by,
        decided_at: T0 + Duration::hours(1),
    }
}

async fn the_report_lists_every_item_with_its_decision(db: &mut Db) {
    let [rita, alice, bob, mallory] = [(); 4].map(|()| UserId::new_v7());
    let campaign = Campaign {
        id: CampaignId::new_v7(),
        name: "2026-Q4 privileged access".into(),
        scope: ReviewScope::AllUsers,
        reviewers: vec![rita],
        started_at: T0,
        due_at: T0 + Duration::days(14),
        closed_at: None,
    };
    let items = [
        item(&campaign, alice, "alice", "admin"),
        item(&campaign, bob, "bob", "approver"),
        item(&campaign, mallory, "mallory", "admin"),
    ];
    db.reviews.create(&campaign, &items).await.unwrap();
    let keep = decision(ReviewDecision::Keep, rita, None);
    let revoke = decision(
        ReviewDecision::Revoke,
        rita,
        Some("=1+1, no longer on the team"),
    );
    assert!(db.reviews.decide(items[0].id, &keep).await.unwrap());
    assert!(db.reviews.decide(items[2].id, &revoke).await.unwrap());
    let id = campaign.id.to_string();

    let csv = soc2ctl(&["review", "report", &id, "--database-url", &db.url]);
    assert_exit(&csv, 0);
    let [a, b, m] = [&items[0], &items[1], &items[2]].map(|item| item.id);
    assert_eq!(
        text(&csv.stdout),
        format!(
            "campaign_id,campaign_name,item_id,subject_id,username,last_login,mfa_enabled,role,reviewer_id,decision,comment,decided_by,decided_at\n\
             {id},2026-Q4 privileged access,{a},{alice},alice,2026-11-20T09:00:00Z,true,admin,{rita},keep,,{rita},2026-11-23T10:00:00Z\n\
             {id},2026-Q4 privileged access,{b},{bob},bob,,false,approver,{rita},,,,\n\
             {id},2026-Q4 privileged access,{m},{mallory},mallory,2026-11-20T09:00:00Z,false,admin,{rita},revoke,\"'=1+1, no longer on the team\",{rita},2026-11-23T10:00:00Z\n"
        )
    );

    let path = db.dir().join("report.json");
    let json = soc2ctl(&[
        "review",
        "report",
        &id,
        "--database-url",
        &db.url,
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_exit(&json, 0);
    assert_eq!(text(&json.stdout), "");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(report["campaign"]["id"], id);
    assert_eq!(report["campaign"]["name"], "2026-Q4 privileged access");
    let decisions: Vec<_> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["facts"]["username"].clone(),
                item["decided"]["decision"].clone(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("alice".into(), "keep".into()),
            ("bob".into(), Value::Null),
            ("mallory".into(), "revoke".into()),
        ]
    );
    assert_eq!(
        report["items"][2]["decided"]["comment"],
        "=1+1, no longer on the team"
    );

    let unwritable = soc2ctl(&[
        "review",
        "report",
        &id,
        "--database-url",
        &db.url,
        "--output",
        "/nonexistent/dir/report.csv",
    ]);
    assert_exit(&unwritable, 2);
    assert!(text(&unwritable.stderr).contains("cannot create /nonexistent/dir/report.csv"));
}

async fn unknown_or_malformed_campaigns_exit_2(db: &mut Db) {
    let unknown = CampaignId::new_v7().to_string();
    let out = soc2ctl(&["review", "report", &unknown, "--database-url", &db.url]);
    assert_exit(&out, 2);
    assert_eq!(
        text(&out.stderr),
        format!("soc2ctl: unknown campaign {unknown}\n")
    );
    assert_eq!(text(&out.stdout), "");
    let malformed = soc2ctl(&["review", "report", "42", "--database-url", &db.url]);
    assert_exit(&malformed, 2);
    assert!(text(&malformed.stderr).contains("invalid value '42' for '<CAMPAIGN>'"));
    let format = soc2ctl(&[
        "review",
        "report",
        &unknown,
        "--database-url",
        &db.url,
        "--format",
        "xlsx",
    ]);
    assert_exit(&format, 2);
    // No report, no file.
    let path = db.dir().join("report.csv");
    let out = soc2ctl(&[
        "review",
        "report",
        &unknown,
        "--database-url",
        &db.url,
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_exit(&out, 2);
    assert!(!path.exists());
}

on_every_backend!(
    the_report_lists_every_item_with_its_decision,
    unknown_or_malformed_campaigns_exit_2
);
