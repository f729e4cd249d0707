//! `soc2ctl sod scan` as a process on SQLite and PostgreSQL: assignments made before a rule
//! existed are found once it is added, each audited, and nothing is revoked.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::fs;
use std::path::Path;

use common::{Db, assert_exit, soc2ctl, text};
use serde_json::json;
use soc2_auth::{CredentialRecord, Username};
use soc2_core::UserId;
use soc2_rbac::{Assignment, RoleName, SodRules};
use time::OffsetDateTime;

const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policies"
);

/// The example rules without `admin-approver`.
const TWO_RULES: &str = r#"
[[rule]]
name = "admin-auditor"
roles = ["admin", "auditor"]

[[rule]]
name = "approver-auditor"
roles = ["approver", "auditor"]
"#;

const ADMIN_APPROVER: &str = r#"
[[rule]]
name = "admin-approver"
roles = ["admin", "approver"]
"#;

/// A copy of the example policies with `sod` as `sod.toml`.
fn policies(dir: &Path, sod: &str) -> String {
    let policies = dir.join("policies");
    fs::create_dir_all(&policies).unwrap();
    for entry in fs::read_dir(POLICIES).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    fs::write(policies.join("sod.toml"), sod).unwrap();
    policies.display().to_string()
}

async fn grant(db: &Db, user: UserId, roles: &[&str]) {
    for role in roles {
        let granted = db
            .roles
            .assign(
                user,
                &RoleName::new(role).unwrap(),
                &SodRules::none(),
                OffsetDateTime::now_utc(),
            )
            .await
            .unwrap();
        assert_eq!(granted, Assignment::Granted);
    }
}

async fn a_rule_added_later_finds_the_holders(db: &mut Db) {
    let dir = policies(&db.dir(), TWO_RULES);
    let [alice, bob, carol] = [UserId::new_v7(), UserId::new_v7(), UserId::new_v7()];
    db.credentials
        .insert(&CredentialRecord::new(
            alice,
            Username::parse("alice").unwrap(),
            None,
            OffsetDateTime::now_utc(),
        ))
        .await
        .unwrap();
    grant(db, alice, &["admin", "approver"]).await;
    grant(db, bob, &["approver", "admin"]).await;
    grant(db, carol, &["auditor"]).await;
    let scan = [
        "sod",
        "scan",
        "--database-url",
        &db.url,
        "--policy-dir",
        &dir,
    ];

    let clean = soc2ctl(&scan);
    assert_exit(&clean, 0);
    assert_eq!(
        text(&clean.stdout),
        "no segregation-of-duties violations (2 rules)\n"
    );
    assert!(db.events_of("rbac.sod.violation").await.is_empty());

    fs::write(
        Path::new(&dir).join("sod.toml"),
        format!("{TWO_RULES}{ADMIN_APPROVER}"),
    )
    .unwrap();
    let found = soc2ctl(&[&scan[..], &["--operator", "jane"]].concat());
    assert_exit(&found, 1);
    assert_eq!(
        text(&found.stdout),
        format!(
            "alice ({alice}): rule `admin-approver` forbids holding admin + approver\n\
             {bob}: rule `admin-approver` forbids holding admin + approver\n"
        )
    );
    assert_eq!(
        text(&found.stderr),
        "soc2ctl: 2 segregation-of-duties violations\n"
    );

    let audited = db.events_of("rbac.sod.violation").await;
    assert_eq!(audited.len(), 2);
    for (event, user) in audited.iter().zip([alice, bob]) {
        assert_eq!(
            event["actor"],
            json!({"kind": "service", "name": "soc2ctl:jane"})
        );
        assert_eq!(
            event["target"],
            json!({"kind": "user", "id": user.to_string()})
        );
        assert_eq!(event["metadata"]["rule"], "admin-approver");
        assert_eq!(event["metadata"]["roles"], json!(["admin", "approver"]));
    }
    assert_eq!(db.events_of("rbac.policy.reloaded").await.len(), 2);
    // A scan reports; it revokes nothing.
    let held = db.roles.assignments(None, 10).await.unwrap();
    assert_eq!(held.len(), 3);
    assert_exit(&soc2ctl(&["audit", "verify", "--database-url", &db.url]), 0);
}

async fn bad_policy_directories_exit_2(db: &mut Db) {
    let dir = policies(
        &db.dir(),
        "[[rule]]\nname = \"lonely\"\nroles = [\"admin\"]\n",
    );
    let missing = db.dir().join("nope").display().to_string();
    let cases: [(&[&str], &str); 3] = [
        (&[], "no policy directory: pass --policy-dir or --config"),
        (&["--policy-dir", &dir], "policy directory"),
        (&["--policy-dir", &missing], "policy directory"),
    ];
    for (extra, expected) in cases {
        let out = soc2ctl(&[&["sod", "scan", "--database-url", &db.url], extra].concat());
        assert_exit(&out, 2);
        assert!(
            text(&out.stderr).contains(expected),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(db.events_of("rbac.sod.violation").await.is_empty());
}

on_every_backend!(
    a_rule_added_later_finds_the_holders,
    bad_policy_directories_exit_2
);
