//! Policy tests for the security team, in the Cedar CLI's `run-tests` format so either tool
//! runs the same file: a JSON array of cases, each a request, its entities (inline, or a file
//! beside the tests), the expected decision, the policy ids expected among the reasons and the
//! expected number of evaluation errors.
//!
//! ```json
//! [{ "name": "approver approves a pending change",
//!    "request": { "principal": "User::\"bob\"", "action": "Action::\"approve_change\"",
//!                 "resource": "Change::\"c1\"", "context": {} },
//!    "entities": [ ... ],
//!    "decision": "allow", "reason": ["changes.approvers-approve-pending"], "num_errors": 0 }]
//! ```
//!
//! Policy ids are this crate's `file-stem.@id`; [`PolicySnapshot::cedar_bundle`] writes the
//! set as one file with those ids for `cedar run-tests`.

mod case;
mod report;

use std::path::{Path, PathBuf};

use cedar_policy::Authorizer;
use serde_json::value::RawValue;

use crate::load::read_bounded;
use crate::{Location, PolicySnapshot};

pub use report::{CaseOutcome, CaseResult, TestReport};

/// Largest policy test file read (and largest entities file a case may name).
pub const MAX_TEST_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A test file that cannot be read as a list of cases (a case that is malformed is reported as
/// that case's [`CaseOutcome::Error`] instead, and the others still run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), location.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct TestFileError {
    file: PathBuf,
    location: Option<Location>,
    message: String,
}

impl TestFileError {
    /// The test file.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where in the file, when known.
    #[must_use]
    pub fn location(&self) -> Option<Location> {
        self.location
    }
}

/// A loaded test file: its cases, not yet parsed against a schema.
#[derive(Debug)]
pub struct PolicyTests {
    file: PathBuf,
    cases: Vec<(Location, Box<RawValue>)>,
}

impl PolicyTests {
    /// Reads the test file at `path` (at most [`MAX_TEST_FILE_BYTES`]).
    ///
    /// # Errors
    /// [`TestFileError`] when the file cannot be read, is not JSON or not an array.
    pub fn load(path: &Path) -> Result<Self, TestFileError> {
        let text =
            read_bounded(path, MAX_TEST_FILE_BYTES).map_err(|(_, message)| TestFileError {
                file: path.to_path_buf(),
                location: None,
                message,
            })?;
        Self::parse(path, &text)
    }

    /// Parses the text of a test file named `path` (entities files are found beside it).
    ///
    /// # Errors
    /// [`TestFileError`] when the text is not a JSON array.
    pub fn parse(path: &Path, text: &str) -> Result<Self, TestFileError> {
        let error = |location, message: String| TestFileError {
            file: path.to_path_buf(),
            location,
            message,
        };
        let raw: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            let location = (e.line() > 0).then(|| Location {
                line: u32::try_from(e.line()).unwrap_or(u32::MAX),
                column: u32::try_from(e.column()).unwrap_or(u32::MAX),
            });
            error(location, format!("not a JSON array of test cases: {e}"))
        })?;
        let cases = raw
            .into_iter()
            .map(|case| {
                let offset = offset_in(text, case.get());
                (Location::of_offset(text, offset), case.to_owned())
            })
            .collect();
        Ok(Self {
            file: path.to_path_buf(),
            cases,
        })
    }

    /// How many cases the file holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// Whether the file holds no case.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Runs every case against `snapshot` with Cedar's authorizer and the case's own entities
    /// (validated against the snapshot's schema), as `cedar run-tests` does.
    #[must_use]
    pub fn run(&self, snapshot: &PolicySnapshot) -> TestReport {
        let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
        let authorizer = Authorizer::new();
        let results = self
            .cases
            .iter()
            .enumerate()
            .map(|(index, (location, raw))| {
                let parsed = case::TestCase::parse(raw.get(), snapshot.cedar_schema(), dir);
                let outcome = match &parsed {
                    Ok(case) => case.check(&authorizer.is_authorized(
                        &case.request,
                        snapshot.cedar_policies(),
                        &case.entities,
                    )),
                    Err(message) => CaseOutcome::Error(message.clone()),
                };
                let name = parsed.as_ref().ok().and_then(|case| case.name.clone());
                CaseResult::new(
                    index,
                    name.or_else(|| case::name_of(raw.get())),
                    *location,
                    outcome,
                )
            })
            .collect();
        TestReport::new(self.file.clone(), results)
    }
}

/// Byte offset of `part` inside `whole` (`part` is a slice of it, from `RawValue`).
fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}
