//! `--config FILE`: soc2ctl works on the database, audit keys and policy directory of the
//! reference server's configuration, `--database-url` (or `DATABASE_URL`) and
//! `SOC2_AUDIT_KEYS` win over it as they do for the server, and bad configurations exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use common::{Db, KEYS, assert_exit, run, text};
use reference_server::{App, Config};
use soc2_auth::{CredentialRecord, Username};
use soc2_core::{SystemClock, UserId};
use time::OffsetDateTime;

const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policies"
);
const POLICY_TESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policy-tests/changes.json"
);

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn copy_policies(dir: &Path) -> String {
    let policies = dir.join("policies");
    fs::create_dir(&policies).unwrap();
    for entry in fs::read_dir(POLICIES).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
    }
    policies.display().to_string()
}

/// A server started once on its configuration (creating the database, its audit key file and
/// the first administrator), then inspected and changed by soc2ctl from that file alone.
#[tokio::test]
async fn the_servers_configuration_is_all_soc2ctl_needs() {
    let dir = tempfile::tempdir().unwrap();
    let policies = copy_policies(dir.path());
    let database = dir.path().join("server.db").display().to_string();
    let config = write(
        dir.path(),
        "server.toml",
        &format!(
            "[server]\ndatabase_url = \"sqlite://{database}\"\n\
             bootstrap_admin_password = \"correct horse battery staple 19\"\n\
             policy_dir = \"{policies}\"\n"
        ),
    );
    let app = App::build(
        &Config::from_file(Path::new(&config)).unwrap(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    app.shutdown().await.unwrap();
    assert!(Path::new(&format!("{database}.audit-keys")).exists());

    let verify = run(&["audit", "verify", "--config", &config], &[]);
    assert_exit(&verify, 0);
    assert!(text(&verify.stdout).starts_with("audit chain intact: "));
    let unlock = run(&["user", "unlock", "admin", "--config", &config], &[]);
    assert_exit(&unlock, 0);
    assert_eq!(
        text(&unlock.stdout),
        "admin was not locked; its failure counter is cleared\n"
    );
    let scan = run(&["sod", "scan", "--config", &config], &[]);
    assert_exit(&scan, 0);
    assert_eq!(
        text(&scan.stdout),
        "no segregation-of-duties violations (3 rules)\n"
    );
    assert_exit(&run(&["audit", "verify", "--config", &config], &[]), 0);

    // The policy commands default to server.policy_dir; a directory given wins.
    let validate = run(&["policy", "validate", "--config", &config], &[]);
    assert_exit(&validate, 0);
    assert!(
        text(&validate.stdout).starts_with(&format!("{policies}: ")),
        "{}",
        text(&validate.stdout)
    );
    assert_exit(
        &run(&["policy", "test", "--config", &config, POLICY_TESTS], &[]),
        0,
    );
    let elsewhere = dir.path().join("nope").display().to_string();
    let given = run(
        &["policy", "validate", "--config", &config, &elsewhere],
        &[],
    );
    assert_exit(&given, 1);
    assert!(text(&given.stderr).contains(&elsewhere));

    // SOC2_AUDIT_KEYS wins over the key file, as for the server: these keys never signed.
    let other_keys = run(
        &["audit", "verify", "--config", &config],
        &[("SOC2_AUDIT_KEYS", KEYS)],
    );
    assert_exit(&other_keys, 1);
    assert!(
        text(&other_keys.stderr).contains("audit chain does not verify"),
        "{}",
        text(&other_keys.stderr)
    );
    assert_exit(&run(&["migrate", "--config", &config], &[]), 0);
}

async fn the_database_url_wins_over_the_configuration(db: &mut Db) {
    let dir = db.dir();
    let keys = write(&dir, "audit.keys", KEYS);
    let config = write(
        &dir,
        "server.toml",
        &format!(
            "[server]\ndatabase_url = \"{}\"\n[audit]\nkeys_file = \"{keys}\"\n",
            db.url
        ),
    );
    db.credentials
        .insert(&CredentialRecord::new(
            UserId::new_v7(),
            Username::parse("alice").unwrap(),
            None,
            OffsetDateTime::now_utc(),
        ))
        .await
        .unwrap();
    assert_exit(
        &run(&["user", "unlock", "alice", "--config", &config], &[]),
        0,
    );
    let verify = run(&["audit", "verify", "--config", &config], &[]);
    assert_exit(&verify, 0);
    assert_eq!(
        text(&verify.stdout),
        "audit chain intact: 1 events verified, last seq 1\n"
    );

    // A configuration naming another database: the URL given wins, the keys file still serves.
    let missing = dir.join("elsewhere.db").display().to_string();
    let elsewhere = write(
        &dir,
        "elsewhere.toml",
        &format!(
            "[server]\ndatabase_url = \"sqlite://{missing}\"\n[audit]\nkeys_file = \"{keys}\"\n"
        ),
    );
    let unavailable = run(&["audit", "verify", "--config", &elsewhere], &[]);
    assert_exit(&unavailable, 2);
    assert!(text(&unavailable.stderr).contains("storage backend unavailable"));
    assert!(!Path::new(&missing).exists());
    let flag = run(
        &[
            "audit",
            "verify",
            "--config",
            &elsewhere,
            "--database-url",
            &db.url,
        ],
        &[],
    );
    assert_exit(&flag, 0);
    let env = run(
        &["audit", "verify", "--config", &elsewhere],
        &[("DATABASE_URL", db.url.as_str())],
    );
    assert_exit(&env, 0);
}

#[test]
fn bad_configurations_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let missing = path("missing.toml");
    let unknown = write(dir.path(), "unknown.toml", "[bogus]\nx = 1\n");
    let malformed = write(dir.path(), "malformed.toml", "[server\n");
    let postgres = write(
        dir.path(),
        "postgres.toml",
        "[server]\ndatabase_url = \"postgres://nobody@127.0.0.1:1/x\"\n",
    );
    let no_key_file = write(
        dir.path(),
        "keys.toml",
        &format!("[audit]\nkeys_file = \"{}\"\n", path("absent.keys")),
    );
    let mysql = write(
        dir.path(),
        "mysql.toml",
        "[server]\ndatabase_url = \"mysql://x\"\n",
    );
    let cases: [(&[&str], String); 8] = [
        (
            &["audit", "verify", "--config", &missing],
            format!("cannot read {missing}"),
        ),
        (
            &["audit", "verify", "--config", &unknown],
            format!("{unknown}: unknown section [bogus]"),
        ),
        (
            &["audit", "head", "--config", &malformed],
            format!("{malformed}: [file]"),
        ),
        (
            &["audit", "verify", "--config", &postgres],
            "no audit keys: the configuration has no [audit] keys_file".into(),
        ),
        (
            &["user", "unlock", "alice", "--config", &no_key_file],
            format!("cannot read keys file {}", path("absent.keys")),
        ),
        (
            &["sod", "scan", "--config", &mysql],
            "unsupported database URL".into(),
        ),
        (
            &["policy", "validate", "--config", &unknown],
            "unknown section [bogus]".into(),
        ),
        (
            &["audit", "verify"],
            "the following required arguments were not provided".into(),
        ),
    ];
    for (args, expected) in cases {
        let out = run(args, &[]);
        assert_exit(&out, 2);
        assert!(
            text(&out.stderr).contains(&expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

on_every_backend!(the_database_url_wins_over_the_configuration);
