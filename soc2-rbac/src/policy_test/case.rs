//! One test case: parsed against the schema, then checked against Cedar's response (the same
//! rules as `cedar run-tests`: same decision, the expected reasons among the actual ones, and
//! exactly the expected number of evaluation errors).

use std::collections::BTreeSet;
use std::path::Path;

use cedar_policy::{Context, Decision, Entities, EntityUid, PolicyId, Request, Response, Schema};
use serde::Deserialize;

use super::{CaseOutcome, MAX_TEST_FILE_BYTES};
use crate::load::read_bounded;

/// The expected decision, spelled as the Cedar CLI spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expected {
    Allow,
    Deny,
}

#[derive(Debug, Deserialize)]
struct RawRequest {
    principal: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    context: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct RawCase {
    #[serde(default)]
    name: Option<String>,
    request: RawRequest,
    entities: serde_json::Value,
    decision: Expected,
    reason: Vec<String>,
    num_errors: usize,
}

/// A case ready to run.
#[derive(Debug)]
pub(super) struct TestCase {
    pub(super) name: Option<String>,
    pub(super) request: Request,
    pub(super) entities: Entities,
    decision: Expected,
    reason: Vec<String>,
    num_errors: usize,
}

/// The `name` of a case that did not parse, if it has one.
pub(super) fn name_of(raw: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        name: Option<String>,
    }
    serde_json::from_str::<Named>(raw).ok()?.name
}

impl TestCase {
    /// Parses a case, validating its request and entities against `schema`; an entities file
    /// is read from `dir` and may not lie outside it.
    pub(super) fn parse(raw: &str, schema: &Schema, dir: &Path) -> Result<Self, String> {
        let case: RawCase =
            serde_json::from_str(raw).map_err(|e| format!("malformed test case: {e}"))?;
        let uid = |field: &str, value: Option<String>| -> Result<EntityUid, String> {
            let value = value.ok_or_else(|| format!("missing field `{field}`"))?;
            value
                .parse()
                .map_err(|e| format!("failed to parse {field} `{value}`: {e}"))
        };
        let principal = uid("principal", case.request.principal)?;
        let action = uid("action", case.request.action)?;
        let resource = uid("resource", case.request.resource)?;
        let context = Context::from_json_value(case.request.context, Some((schema, &action)))
            .map_err(|e| format!("failed to parse context: {e}"))?;
        let request = Request::new(principal, action, resource, context, Some(schema))
            .map_err(|e| format!("failed to create request: {e}"))?;
        let entities = match case.entities {
            serde_json::Value::String(file) => entities_file(dir, &file, schema)?,
            value => Entities::from_json_value(value, Some(schema))
                .map_err(|e| format!("failed to parse entities: {e}"))?,
        };
        Ok(Self {
            name: case.name,
            request,
            entities,
            decision: case.decision,
            reason: case.reason,
            num_errors: case.num_errors,
        })
    }

    /// Compares Cedar's response with the expectation.
    pub(super) fn check(&self, response: &Response) -> CaseOutcome {
        let actual = match response.decision() {
            Decision::Allow => Expected::Allow,
            Decision::Deny => Expected::Deny,
        };
        if actual != self.decision {
            return CaseOutcome::Fail(format!(
                "expected {}, got {}",
                decision_name(self.decision),
                decision_name(actual)
            ));
        }
        let reasons: BTreeSet<&PolicyId> = response.diagnostics().reason().collect();
        let missing: Vec<String> = self
            .reason
            .iter()
            .filter(|id| !reasons.contains(&PolicyId::new(id.as_str())))
            .map(|id| format!("`{id}`"))
            .collect();
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing reason(s): {}", missing.join(", ")));
        }
        let errors: Vec<String> = response
            .diagnostics()
            .errors()
            .map(ToString::to_string)
            .collect();
        if errors.len() != self.num_errors {
            problems.push(format!(
                "expected {} error(s), got {}{}",
                self.num_errors,
                errors.len(),
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {}", errors.join(", "))
                }
            ));
        }
        if problems.is_empty() {
            CaseOutcome::Pass
        } else {
            CaseOutcome::Fail(problems.join("; "))
        }
    }
}

const fn decision_name(decision: Expected) -> &'static str {
    match decision {
        Expected::Allow => "allow",
        Expected::Deny => "deny",
    }
}

/// Reads an entities file named by a case, confined to the test file's directory.
fn entities_file(dir: &Path, file: &str, schema: &Schema) -> Result<Entities, String> {
    let path = dir.join(file);
    let inside = path
        .canonicalize()
        .ok()
        .zip(dir.canonicalize().ok())
        .is_some_and(|(path, dir)| path.starts_with(dir));
    if !inside {
        return Err(format!(
            "entities file `{file}` is missing or outside the test file's directory"
        ));
    }
    let text = read_bounded(&path, MAX_TEST_FILE_BYTES)
        .map_err(|(_, message)| format!("entities file `{file}`: {message}"))?;
    Entities::from_json_str(&text, Some(schema))
        .map_err(|e| format!("failed to parse entities from `{file}`: {e}"))
}
