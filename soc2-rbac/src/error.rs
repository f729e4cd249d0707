//! `PolicyError`: every problem found in a policy directory, each with file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Location;

/// What kind of problem a [`Problem`] is, for hosts and tests that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The directory or a file could not be read, or is not UTF-8.
    Io,
    /// A limit was exceeded (file size, number of files or policies).
    TooLarge,
    /// No `*.cedarschema` file.
    MissingSchema,
    /// More than one `*.cedarschema` file.
    MultipleSchemas,
    /// The schema does not parse, or lacks the `User` and `Role` entity types this crate needs.
    Schema,
    /// A policy file does not parse.
    Syntax,
    /// A policy template (with `?principal` or `?resource` slots); only static policies are
    /// supported.
    Template,
    /// A policy has no `@id("...")` annotation.
    MissingId,
    /// A policy id or file name uses characters outside `a-z 0-9 _ -`.
    InvalidId,
    /// Two policies have the same id.
    DuplicateId,
    /// A policy does not validate against the schema (strict mode).
    Validation,
    /// `sod.toml` does not parse or a rule is malformed.
    Sod,
}

/// One problem in a policy directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    file: PathBuf,
    location: Option<Location>,
    kind: ProblemKind,
    message: String,
}

impl Problem {
    pub(crate) fn new(
        file: &Path,
        location: Option<Location>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_path_buf(),
            location,
            kind,
            message: message.into(),
        }
    }

    /// The file the problem is in (the directory itself for directory-wide problems).
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where in the file, when known.
    #[must_use]
    pub fn location(&self) -> Option<Location> {
        self.location
    }

    /// What kind of problem.
    #[must_use]
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// What is wrong, in words.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Problem {
    /// `file:line:col: message`, the format editors and CI annotate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(location) => write!(f, "{}:{location}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// A policy directory that cannot be loaded, with every problem found (not just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the policy directory:{}", problems.len(), DisplayList(problems))]
pub struct PolicyError {
    problems: Vec<Problem>,
}

impl PolicyError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        Self { problems }
    }

    /// Every problem, in file order.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

struct DisplayList<'a>(&'a [Problem]);

impl fmt::Display for DisplayList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0
            .iter()
            .try_for_each(|problem| write!(f, "\n  {problem}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_display_as_file_line_column() {
        let error = PolicyError::new(vec![
            Problem::new(
                Path::new("p/a.cedar"),
                Some(Location { line: 3, column: 7 }),
                ProblemKind::Syntax,
                "unexpected token",
            ),
            Problem::new(
                Path::new("p"),
                None,
                ProblemKind::MissingSchema,
                "no schema",
            ),
        ]);
        assert_eq!(
            error.to_string(),
            "2 problem(s) in the policy directory:\n  p/a.cedar:3:7: unexpected token\n  p: no schema"
        );
        assert_eq!(error.problems()[0].kind(), ProblemKind::Syntax);
    }
}
