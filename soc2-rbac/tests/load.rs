#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Loading policy directories: the example set, and every kind of problem with its location.

use std::fs;
use std::path::{Path, PathBuf};

use soc2_rbac::{Location, PolicySnapshot, ProblemKind};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies");

/// A copy of the example directory to edit.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(EXAMPLE).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// One problem as (file name, (line, column), kind, message).
type Found = (String, Option<(u32, u32)>, ProblemKind, String);

/// The problems of a directory that must fail.
fn problems(dir: &Path) -> Vec<Found> {
    let error = PolicySnapshot::load(dir).expect_err("the directory must be refused");
    error
        .problems()
        .iter()
        .map(|p| {
            (
                p.file().file_name().unwrap().to_string_lossy().into_owned(),
                p.location().map(|Location { line, column }| (line, column)),
                p.kind(),
                p.message().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_example_directory_loads_with_readable_policy_ids() {
    let snapshot = PolicySnapshot::load(Path::new(EXAMPLE)).unwrap();
    assert_eq!(
        snapshot.policy_ids(),
        [
            "admin.admins-manage-users",
            "admin.admins-reload-policies",
            "admin.self-administration-forbidden",
            "audit.auditors-read",
            "changes.approve-own-forbidden",
            "changes.approvers-approve-pending",
            "changes.engineers-deploy-approved",
            "changes.engineers-request",
        ]
    );
    assert_eq!(
        snapshot.actions(),
        [
            "approve_change",
            "deploy_change",
            "manage_users",
            "read_audit",
            "reload_policies",
            "request_change"
        ]
    );
    let rules: Vec<&str> = snapshot.sod().rules().iter().map(|r| r.name()).collect();
    assert_eq!(
        rules,
        ["admin-auditor", "approver-auditor", "admin-approver"]
    );
    assert_eq!(snapshot.cedar_policies().num_of_policies(), 8);
}

#[test]
fn the_version_is_the_digest_of_the_files() {
    let dir = example_copy();
    let first = PolicySnapshot::load(dir.path()).unwrap().version();
    assert_eq!(PolicySnapshot::load(dir.path()).unwrap().version(), first);
    assert_eq!(first.to_string().len(), 64);
    // Unrelated files do not count; a comment in a policy file does.
    write(dir.path(), "README.md", "notes");
    assert_eq!(PolicySnapshot::load(dir.path()).unwrap().version(), first);
    let audit = fs::read_to_string(dir.path().join("audit.cedar")).unwrap();
    write(dir.path(), "audit.cedar", &format!("{audit}// reviewed\n"));
    assert_ne!(PolicySnapshot::load(dir.path()).unwrap().version(), first);
}

#[test]
fn a_syntax_error_is_located_in_its_own_file() {
    let dir = example_copy();
    write(
        dir.path(),
        "extra.cedar",
        "@id(\"ok\")\npermit (principal, action == Action::\"read_audit\", resource);\n\n@id(\"broken\")\npermit (principal, action, resource) when { principal. };\n",
    );
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    let (file, at, kind, _) = &found[0];
    // Line 5, column 56: the `}` where an attribute name was expected.
    assert_eq!(
        (file.as_str(), *at, *kind),
        ("extra.cedar", Some((5, 56)), ProblemKind::Syntax)
    );
}

#[test]
fn validation_errors_name_file_line_and_column() {
    let dir = example_copy();
    write(
        dir.path(),
        "zz.cedar",
        "// second file: offsets are this file's\n@id(\"typo\")\npermit (principal, action == Action::\"approve_change\", resource)\nwhen { resource.statuss == \"pending\" };\n\n@id(\"unknown-action\")\npermit (principal, action == Action::\"delete_everything\", resource);\n",
    );
    let found = problems(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2),
        ("zz.cedar", Some((4, 8)), ProblemKind::Validation)
    );
    assert!(found[0].3.contains("statuss"), "{}", found[0].3);
    assert!(found[0].3.contains("zz.typo"), "{}", found[0].3);
    assert_eq!(
        (found[1].0.as_str(), found[1].1, found[1].2),
        ("zz.cedar", Some((7, 30)), ProblemKind::Validation)
    );
    assert!(found[1].3.contains("delete_everything"), "{}", found[1].3);
}

#[test]
fn ids_are_required_unique_and_plain() {
    let dir = example_copy();
    write(
        dir.path(),
        "ids.cedar",
        "@id(\"a\")\npermit (principal, action == Action::\"read_audit\", resource);\n\
         permit (principal, action == Action::\"read_audit\", resource);\n\
         @id(\"a\")\nforbid (principal, action == Action::\"read_audit\", resource);\n\
         @id(\"Bad Id\")\nforbid (principal, action == Action::\"read_audit\", resource);\n",
    );
    write(dir.path(), "Bad.cedar", "");
    let found = problems(dir.path());
    let summary: Vec<_> = found
        .iter()
        .map(|(f, at, kind, _)| (f.as_str(), *at, *kind))
        .collect();
    assert_eq!(
        summary,
        [
            ("Bad.cedar", None, ProblemKind::InvalidId),
            ("ids.cedar", Some((3, 1)), ProblemKind::MissingId),
            ("ids.cedar", Some((4, 1)), ProblemKind::DuplicateId),
            ("ids.cedar", Some((6, 1)), ProblemKind::InvalidId),
        ]
    );
    assert!(
        found[2]
            .3
            .starts_with("duplicate policy id `ids.a` (first defined at "),
        "{}",
        found[2].3
    );
    assert!(found[2].3.ends_with("ids.cedar:1:1)"), "{}", found[2].3);
}

#[test]
fn templates_are_refused() {
    let dir = example_copy();
    write(
        dir.path(),
        "tpl.cedar",
        "\n@id(\"t\")\npermit (principal == ?principal, action == Action::\"read_audit\", resource);\n",
    );
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2),
        ("tpl.cedar", Some((2, 1)), ProblemKind::Template)
    );
}

#[test]
fn the_schema_must_exist_once_parse_and_declare_users_and_roles() {
    let dir = example_copy();
    fs::remove_file(dir.path().join("schema.cedarschema")).unwrap();
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].1, found[0].2), (None, ProblemKind::MissingSchema));

    write(
        dir.path(),
        "a.cedarschema",
        "entity Role in [Role];\nentity User in [Role];\nentity Change = { status: Strin };\n",
    );
    let found = problems(dir.path());
    assert_eq!(found[0].0, "a.cedarschema");
    // Column 27: the unknown type `Strin`.
    assert_eq!(
        (found[0].1, found[0].2),
        (Some((3, 27)), ProblemKind::Schema)
    );

    write(dir.path(), "a.cedarschema", "entity Role;\nentity User;\n");
    write(dir.path(), "b.cedarschema", "entity Other;\n");
    let kinds: Vec<_> = problems(dir.path())
        .into_iter()
        .map(|(f, _, k, _)| (f, k))
        .collect();
    assert!(
        kinds.contains(&("b.cedarschema".into(), ProblemKind::MultipleSchemas)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("a.cedarschema".into(), ProblemKind::Schema)),
        "{kinds:?}"
    );
}

#[test]
fn sod_problems_are_reported_with_the_policy_problems() {
    let dir = example_copy();
    write(
        dir.path(),
        "sod.toml",
        "[[rule]]\nname = \"x\"\nroles = [\"admin\"]\n",
    );
    write(
        dir.path(),
        "bad.cedar",
        "permit (principal, action, resource)\n",
    );
    let found = problems(dir.path());
    let summary: Vec<_> = found
        .iter()
        .map(|(f, at, kind, _)| (f.as_str(), *at, *kind))
        .collect();
    assert_eq!(
        summary,
        [
            ("bad.cedar", Some((1, 37)), ProblemKind::Syntax),
            ("sod.toml", Some((3, 9)), ProblemKind::Sod)
        ]
    );
}

#[test]
fn oversized_unreadable_and_non_utf8_files_are_typed_problems() {
    let dir = example_copy();
    write(dir.path(), "huge.cedar", &" ".repeat(1024 * 1024 + 1));
    fs::write(dir.path().join("latin1.cedar"), b"// caf\xe9\n").unwrap();
    let found = problems(dir.path());
    let summary: Vec<_> = found
        .iter()
        .map(|(f, at, kind, _)| (f.as_str(), *at, *kind))
        .collect();
    assert_eq!(
        summary,
        [
            ("huge.cedar", None, ProblemKind::TooLarge),
            ("latin1.cedar", None, ProblemKind::Io)
        ]
    );
    let missing = problems(&dir.path().join("nope"));
    assert_eq!(missing[0].2, ProblemKind::Io);
}

#[test]
fn a_huge_policy_set_is_refused() {
    let dir = example_copy();
    let one = "@id(\"p{}\")\npermit (principal, action == Action::\"read_audit\", resource);\n";
    let text: String = (0..=soc2_rbac::MAX_POLICIES)
        .map(|i| one.replace("{}", &i.to_string()))
        .collect();
    write(dir.path(), "many.cedar", &text);
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].2),
        ("many.cedar", ProblemKind::TooLarge)
    );
}
