#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Policy tests in the Cedar CLI's `run-tests` format: the example suite passes, and every
//! kind of failure and malformed case is reported with its location.

use std::fs;
use std::path::Path;

use soc2_rbac::policy_test::{CaseOutcome, PolicyTests};
use soc2_rbac::{Location, PolicySnapshot};

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies");
const TESTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/policy-tests/changes.json"
);

fn snapshot() -> PolicySnapshot {
    PolicySnapshot::load(Path::new(POLICIES)).unwrap()
}

/// A case on the example entities file, as a JSON text.
fn case(
    name: &str,
    principal: &str,
    action: &str,
    resource: &str,
    decision: &str,
    reason: &str,
) -> String {
    format!(
        r#"{{"name": "{name}", "request": {{"principal": "User::\"{principal}\"", "action": "Action::\"{action}\"", "resource": "{resource}", "context": {{}}}}, "entities": "entities.json", "decision": "{decision}", "reason": [{reason}], "num_errors": 0}}"#
    )
}

/// A test file beside a copy of the example entities.
fn tests_file(cases: &[String]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let entities = Path::new(TESTS).with_file_name("entities.json");
    fs::copy(entities, dir.path().join("entities.json")).unwrap();
    let path = dir.path().join("tests.json");
    fs::write(&path, format!("[\n{}\n]\n", cases.join(",\n"))).unwrap();
    (dir, path)
}

#[test]
fn the_example_suite_passes() {
    let report = PolicyTests::load(Path::new(TESTS))
        .unwrap()
        .run(&snapshot());
    assert_eq!(report.results().len(), 12);
    assert!(report.passed(), "{report}");
    assert!(report.to_string().ends_with("results: 12 passed, 0 failed"));
}

#[test]
fn a_wrong_expectation_fails_with_what_differed_and_where() {
    let (_dir, path) = tests_file(&[
        case(
            "ok",
            "alice",
            "request_change",
            r#"Change::\"c1\""#,
            "allow",
            r#""changes.engineers-request""#,
        ),
        case(
            "self approval",
            "bob",
            "approve_change",
            r#"Change::\"c2\""#,
            "allow",
            "",
        ),
        case(
            "wrong reason",
            "bob",
            "approve_change",
            r#"Change::\"c1\""#,
            "allow",
            r#""changes.engineers-request""#,
        ),
    ]);
    let report = PolicyTests::load(&path).unwrap().run(&snapshot());
    let outcomes: Vec<_> = report.results().iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            CaseOutcome::Pass,
            CaseOutcome::Fail("expected allow, got deny".into()),
            CaseOutcome::Fail("missing reason(s): `changes.engineers-request`".into()),
        ]
    );
    assert_eq!(
        report.results()[1].location,
        Location { line: 3, column: 1 }
    );
    assert_eq!(report.failures(), 2);
    let text = report.to_string();
    assert!(
        text.contains(&format!(
            "{}:3:1: test self approval ... fail: expected allow, got deny",
            path.display()
        )),
        "{text}"
    );
}

#[test]
fn malformed_cases_are_errors_and_the_others_still_run() {
    let (_dir, path) = tests_file(&[
        case("unknown action", "alice", "launch_rockets", r#"Change::\"c1\""#, "deny", ""),
        case("bad uid", "alice", "request_change", "not a uid", "deny", ""),
        r#"{"name": "no decision", "request": {"principal": "User::\"alice\"", "action": "Action::\"request_change\"", "resource": "Change::\"c1\"", "context": {}}, "entities": [], "reason": [], "num_errors": 0}"#.into(),
        r#"{"name": "entities escape", "request": {"principal": "User::\"alice\"", "action": "Action::\"request_change\"", "resource": "Change::\"c1\"", "context": {}}, "entities": "../../../etc/passwd", "decision": "deny", "reason": [], "num_errors": 0}"#.into(),
        r#"{"name": "entity off schema", "request": {"principal": "User::\"alice\"", "action": "Action::\"request_change\"", "resource": "Change::\"c9\"", "context": {}}, "entities": [{"uid": {"type": "Change", "id": "c9"}, "attrs": {"status": 3}, "parents": []}], "decision": "deny", "reason": [], "num_errors": 0}"#.into(),
        case("ok", "alice", "request_change", r#"Change::\"c1\""#, "allow", ""),
    ]);
    let report = PolicyTests::load(&path).unwrap().run(&snapshot());
    let results = report.results();
    let errors: Vec<&str> = results[..5]
        .iter()
        .map(|r| match &r.outcome {
            CaseOutcome::Error(why) => why.as_str(),
            other => panic!("{:?}: expected an error, got {other:?}", r.name),
        })
        .collect();
    assert!(
        errors[0].contains(r#"action `Action::"launch_rockets"` is not defined"#),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("failed to parse resource `not a uid`"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("missing field `decision`"),
        "{}",
        errors[2]
    );
    assert_eq!(
        errors[3],
        "entities file `../../../etc/passwd` is missing or outside the test file's directory"
    );
    assert!(
        errors[4].starts_with("failed to parse entities"),
        "{}",
        errors[4]
    );
    assert_eq!(results[2].name.as_deref(), Some("no decision"));
    assert_eq!(results[5].outcome, CaseOutcome::Pass);
    assert_eq!(report.failures(), 5);
}

#[test]
fn a_file_that_is_not_a_list_of_cases_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tests.json");
    fs::write(&path, "[\n  {\"name\": \"x\",\n  oops\n]").unwrap();
    let error = PolicyTests::load(&path).unwrap_err();
    assert_eq!(error.location(), Some(Location { line: 3, column: 3 }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}:3:3: not a JSON array", path.display()))
    );

    fs::write(&path, "{}").unwrap();
    assert!(PolicyTests::load(&path).is_err());
    assert!(PolicyTests::load(&dir.path().join("absent.json")).is_err());
    fs::write(&path, "[]").unwrap();
    assert!(PolicyTests::load(&path).unwrap().is_empty());
}

#[test]
fn the_bundle_names_policies_as_the_sdk_does() {
    let snapshot = snapshot();
    let bundle = snapshot.cedar_bundle().unwrap();
    let reparsed: cedar_policy::PolicySet = bundle.parse().unwrap();
    let mut annotated: Vec<String> = reparsed
        .policies()
        .map(|p| p.annotation("id").unwrap().to_owned())
        .collect();
    annotated.sort();
    assert_eq!(annotated, snapshot.policy_ids());
    assert!(
        bundle.contains(r#"@id("changes.approve-own-forbidden")"#),
        "{bundle}"
    );
}
