//! `soc2ctl policy …` as a process, and the cross-check against the Cedar CLI (`cedar`, crate
//! `cedar-policy-cli`): on the example policies both tools agree on validation and on every
//! policy test's verdict. Without `cedar` on the PATH the cross-check is skipped, unless
//! `SOC2_TEST_CEDAR_REQUIRED=1` (CI installs it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const POLICIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policies"
);
const TESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../soc2-rbac/examples/policy-tests"
);

fn soc2ctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soc2ctl"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of the example policies and tests in one temporary directory (`policies/`, `tests/`).
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (from, to) in [(POLICIES, "policies"), (TESTS, "tests")] {
        fs::create_dir(dir.path().join(to)).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), dir.path().join(to).join(entry.file_name())).unwrap();
        }
    }
    dir
}

fn path(dir: &Path, rel: &str) -> String {
    dir.join(rel).display().to_string()
}

/// A policy that reads an attribute the schema does not declare (strict validation fails).
fn break_policies(dir: &Path) {
    fs::write(
        dir.join("policies/extra.cedar"),
        "@id(\"bad\")\npermit (principal, action == Action::\"read_audit\", resource)\nwhen { principal.clearance > 3 };\n",
    )
    .unwrap();
}

/// Expectations the example policies do not meet: a self-approval expected to pass and an
/// approver expected to be refused.
fn wrong_expectations(dir: &Path) -> PathBuf {
    let tests = fs::read_to_string(dir.join("tests/changes.json")).unwrap();
    let mut cases: Vec<serde_json::Value> = serde_json::from_str(&tests).unwrap();
    for case in &mut cases {
        let flipped = match case["decision"].as_str().unwrap() {
            "allow" => "deny",
            _ => "allow",
        };
        if case["name"].as_str().unwrap().contains("approv") {
            case["decision"] = flipped.into();
        }
    }
    let path = dir.join("tests/wrong.json");
    fs::write(&path, serde_json::to_string_pretty(&cases).unwrap()).unwrap();
    path
}

#[test]
fn validate_reports_problems_with_positions_and_exit_1() {
    let dir = workspace();
    let ok = soc2ctl(&["policy", "validate", &path(dir.path(), "policies")]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).contains("8 policies valid, 3 SoD rules"),
        "{}",
        text(&ok.stdout)
    );

    break_policies(dir.path());
    let bad = soc2ctl(&["policy", "validate", &path(dir.path(), "policies")]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("extra.cedar:3:8: "), "{stderr}");
}

#[test]
fn test_runs_the_suite_and_fails_on_wrong_expectations() {
    let dir = workspace();
    let policies = path(dir.path(), "policies");
    let ok = soc2ctl(&[
        "policy",
        "test",
        &policies,
        &path(dir.path(), "tests/changes.json"),
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains("results: 12 passed, 0 failed"));

    let wrong = wrong_expectations(dir.path());
    let failed = soc2ctl(&["policy", "test", &policies, &wrong.display().to_string()]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stdout).contains("results: 7 passed, 5 failed"),
        "{}",
        text(&failed.stdout)
    );
    assert_eq!(
        text(&failed.stderr).trim(),
        "soc2ctl: 5 of 12 policy tests failed"
    );

    let missing = soc2ctl(&[
        "policy",
        "test",
        &policies,
        &path(dir.path(), "absent.json"),
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

/// The `cedar` program, or `None` to skip.
fn cedar() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("cedar"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() && std::env::var("SOC2_TEST_CEDAR_REQUIRED").as_deref() == Ok("1") {
        panic!("SOC2_TEST_CEDAR_REQUIRED=1 but `cedar` is not on the PATH");
    }
    found
}

/// Each case's verdict by name (`true` = passed) from either tool's `test NAME ... ok|fail`
/// lines.
fn verdicts(stdout: &str) -> Vec<(String, bool)> {
    let mut verdicts: Vec<(String, bool)> = stdout
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("test ")?;
            let (name, verdict) = rest.split_once(" ... ")?;
            Some((name.to_owned(), verdict.starts_with("ok")))
        })
        .collect();
    verdicts.sort();
    verdicts
}

#[test]
fn the_cedar_cli_agrees_on_validation_and_test_verdicts() {
    let Some(cedar) = cedar() else {
        eprintln!("skipped: `cedar` not on the PATH");
        return;
    };
    let dir = workspace();
    let policies = path(dir.path(), "policies");
    let schema = path(dir.path(), "policies/schema.cedarschema");
    let bundle = dir.path().join("bundle.cedar");
    let run_cedar = |args: &[&str]| Command::new(&cedar).args(args).output().unwrap();

    let written = soc2ctl(&["policy", "bundle", &policies]);
    assert_eq!(written.status.code(), Some(0));
    fs::write(&bundle, &written.stdout).unwrap();
    let bundle = bundle.display().to_string();
    let valid = run_cedar(&["validate", "--schema", &schema, "--policies", &bundle]);
    assert!(valid.status.success(), "{}", text(&valid.stdout));

    for tests in [
        dir.path().join("tests/changes.json"),
        wrong_expectations(dir.path()),
    ] {
        let tests = tests.display().to_string();
        let ours = soc2ctl(&["policy", "test", &policies, &tests]);
        let theirs = run_cedar(&[
            "run-tests",
            "--schema",
            &schema,
            "--policies",
            &bundle,
            "--tests",
            &tests,
        ]);
        let (ours, theirs) = (
            verdicts(&text(&ours.stdout)),
            verdicts(&text(&theirs.stdout)),
        );
        assert_eq!(ours.len(), 12);
        assert_eq!(ours, theirs, "{tests}");
    }

    break_policies(dir.path());
    let broken = dir
        .path()
        .join("policies/extra.cedar")
        .display()
        .to_string();
    let theirs = run_cedar(&["validate", "--schema", &schema, "--policies", &broken]);
    let ours = soc2ctl(&["policy", "validate", &policies]);
    assert!(!theirs.status.success());
    assert_eq!(ours.status.code(), Some(1));
}
