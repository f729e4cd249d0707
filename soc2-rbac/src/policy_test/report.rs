//! The outcome of a policy test run.

use std::fmt;
use std::path::PathBuf;

use crate::Location;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseOutcome {
    /// The decision, reasons and error count were as expected.
    Pass,
    /// Cedar answered otherwise: what differed.
    Fail(String),
    /// The case could not be run (malformed request, entities that do not match the schema,
    /// an unreadable entities file): why.
    Error(String),
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// Position of the case in the file, from 0.
    pub index: usize,
    /// The case's `name`, when it has one.
    pub name: Option<String>,
    /// Where the case starts in the test file.
    pub location: Location,
    /// How it ended.
    pub outcome: CaseOutcome,
}

impl CaseResult {
    pub(super) fn new(
        index: usize,
        name: Option<String>,
        location: Location,
        outcome: CaseOutcome,
    ) -> Self {
        Self {
            index,
            name,
            location,
            outcome,
        }
    }
}

/// Every case's result, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    file: PathBuf,
    results: Vec<CaseResult>,
}

impl TestReport {
    pub(super) fn new(file: PathBuf, results: Vec<CaseResult>) -> Self {
        Self { file, results }
    }

    /// Each case's result.
    #[must_use]
    pub fn results(&self) -> &[CaseResult] {
        &self.results
    }

    /// Whether every case passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures() == 0
    }

    /// How many cases failed or could not be run.
    #[must_use]
    pub fn failures(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome != CaseOutcome::Pass)
            .count()
    }
}

impl fmt::Display for TestReport {
    /// One line per case, `file:line:col: test NAME ... ok|fail: why|error: why`, then a
    /// summary line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            let name = result
                .name
                .clone()
                .unwrap_or_else(|| format!("#{}", result.index));
            write!(
                f,
                "{}:{}: test {name} ... ",
                self.file.display(),
                result.location
            )?;
            match &result.outcome {
                CaseOutcome::Pass => writeln!(f, "ok")?,
                CaseOutcome::Fail(why) => writeln!(f, "fail: {why}")?,
                CaseOutcome::Error(why) => writeln!(f, "error: {why}")?,
            }
        }
        let failed = self.failures();
        write!(
            f,
            "results: {} passed, {failed} failed",
            self.results.len() - failed
        )
    }
}
