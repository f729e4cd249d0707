//! Static segregation of duties: conflicting role sets from `sod.toml`.
//!
//! The model is the static separation-of-duty relation of the NIST RBAC standard
//! (ANSI/INCITS 359-2004, section 6.3.1): a rule names a role set and a cardinality `n`, and no
//! user may hold `n` or more roles of the set, counting inherited roles (SSD with hierarchies).

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::role::is_identifier;
use crate::{Location, PolicyError, Problem, ProblemKind, RoleName, SOD_FILE};

/// The cardinality of a rule that does not set one: holding any two roles of the set conflicts
/// (the common "mutually exclusive roles" case of ANSI/INCITS 359-2004, section 6.3.1).
pub const DEFAULT_CARDINALITY: usize = 2;

/// One segregation-of-duties rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodRule {
    name: String,
    roles: BTreeSet<RoleName>,
    cardinality: usize,
    description: Option<String>,
}

impl SodRule {
    /// The rule's name, e.g. `admin-auditor`: what audit events and errors cite.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The conflicting roles.
    #[must_use]
    pub fn roles(&self) -> &BTreeSet<RoleName> {
        &self.roles
    }

    /// How many roles of the set a user may not reach (at least 2).
    #[must_use]
    pub fn cardinality(&self) -> usize {
        self.cardinality
    }

    /// Why the duties conflict, for people reading the evidence.
    #[must_use]
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The roles of this rule among `held`, when they reach the cardinality (a violation).
    #[must_use]
    pub fn conflict<'a>(
        &self,
        held: impl IntoIterator<Item = &'a RoleName>,
    ) -> Option<Vec<RoleName>> {
        let mut hits: Vec<RoleName> = held
            .into_iter()
            .filter(|role| self.roles.contains(*role))
            .cloned()
            .collect();
        hits.sort_unstable();
        hits.dedup();
        (hits.len() >= self.cardinality).then_some(hits)
    }
}

/// A violated rule: its name and the roles of its set the user holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SodConflict {
    /// The rule's name.
    pub rule: String,
    /// The roles of the rule's set the user holds or would hold, sorted.
    pub roles: Vec<RoleName>,
}

impl fmt::Display for SodConflict {
    /// `rule `admin-auditor` forbids holding admin + auditor`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule `{}` forbids holding ", self.rule)?;
        for (i, role) in self.roles.iter().enumerate() {
            if i > 0 {
                f.write_str(" + ")?;
            }
            f.write_str(role.as_str())?;
        }
        Ok(())
    }
}

/// Every segregation-of-duties rule of a policy directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SodRules {
    rules: Vec<SodRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SodFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    roles: Spanned<Vec<RoleName>>,
    cardinality: Option<Spanned<usize>>,
    description: Option<String>,
}

impl SodRules {
    /// No rules.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// The rules, in file order.
    #[must_use]
    pub fn rules(&self) -> &[SodRule] {
        &self.rules
    }

    /// Every rule violated by a user holding `held` (assigned and inherited roles).
    #[must_use]
    pub fn conflicts(&self, held: &BTreeSet<RoleName>) -> Vec<SodConflict> {
        self.rules
            .iter()
            .filter_map(|rule| {
                rule.conflict(held).map(|roles| SodConflict {
                    rule: rule.name.clone(),
                    roles,
                })
            })
            .collect()
    }

    /// Parses rules in the form of `sod.toml`, for hosts and tests that keep them elsewhere
    /// than a policy directory.
    ///
    /// # Errors
    /// [`PolicyError`] listing every malformed rule, located in `sod.toml`.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        Self::parse(Path::new(SOD_FILE), text).map_err(PolicyError::new)
    }

    /// Parses `sod.toml` (`file` names it in problems).
    ///
    /// ```toml
    /// [[rule]]
    /// name = "admin-auditor"
    /// roles = ["admin", "auditor"]
    /// cardinality = 2            # optional, default 2
    /// description = "..."        # optional
    /// ```
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, Vec<Problem>> {
        let problem = |offset: usize, message: String| {
            Problem::new(
                file,
                Some(Location::of_offset(text, offset)),
                ProblemKind::Sod,
                message,
            )
        };
        let parsed: SodFile = toml::from_str(text).map_err(|error| {
            let offset = error.span().map_or(0, |span| span.start);
            vec![problem(offset, error.message().to_owned())]
        })?;
        let mut problems = Vec::new();
        let mut names = HashSet::new();
        let mut rules = Vec::new();
        for raw in parsed.rule {
            let raw = raw.into_inner();
            let name_at = raw.name.span().start;
            let name = raw.name.into_inner();
            if !is_identifier(&name) {
                problems.push(problem(
                    name_at,
                    format!("rule name `{name}` must be 1-64 characters of a-z 0-9 _ -"),
                ));
            } else if !names.insert(name.clone()) {
                problems.push(problem(name_at, format!("duplicate rule name `{name}`")));
            }
            let roles_at = raw.roles.span().start;
            let roles: BTreeSet<RoleName> = raw.roles.into_inner().into_iter().collect();
            let (cardinality_at, cardinality) = raw
                .cardinality
                .map_or((roles_at, DEFAULT_CARDINALITY), |c| {
                    (c.span().start, *c.get_ref())
                });
            if roles.len() < 2 {
                problems.push(problem(
                    roles_at,
                    format!("rule `{name}` needs at least two distinct roles"),
                ));
            } else if !(2..=roles.len()).contains(&cardinality) {
                problems.push(problem(
                    cardinality_at,
                    format!(
                        "rule `{name}`: cardinality must be between 2 and the number of roles ({})",
                        roles.len()
                    ),
                ));
            }
            rules.push(SodRule {
                name,
                roles,
                cardinality,
                description: raw.description,
            });
        }
        if problems.is_empty() {
            Ok(Self { rules })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> BTreeSet<RoleName> {
        names.iter().map(|n| RoleName::new(n).unwrap()).collect()
    }

    fn parse(text: &str) -> Result<SodRules, Vec<Problem>> {
        SodRules::parse(Path::new("sod.toml"), text)
    }

    #[test]
    fn rules_flag_users_reaching_the_cardinality() {
        let rules = parse(
            "[[rule]]\nname = \"admin-auditor\"\nroles = [\"admin\", \"auditor\"]\n\n\
             [[rule]]\nname = \"trio\"\nroles = [\"a\", \"b\", \"c\"]\ncardinality = 3\n",
        )
        .unwrap();
        assert_eq!(rules.rules().len(), 2);
        assert!(rules.conflicts(&roles(&["admin", "engineer"])).is_empty());
        assert_eq!(
            rules.conflicts(&roles(&["admin", "auditor", "a", "b"])),
            vec![SodConflict {
                rule: "admin-auditor".into(),
                roles: roles(&["admin", "auditor"]).into_iter().collect(),
            }]
        );
        assert_eq!(rules.conflicts(&roles(&["a", "b", "c"]))[0].rule, "trio");
    }

    fn only_problem(text: &str) -> (Location, String) {
        let problems = parse(text).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].kind(), ProblemKind::Sod);
        (
            problems[0].location().unwrap(),
            problems[0].message().to_owned(),
        )
    }

    #[test]
    fn malformed_rules_are_located() {
        let (at, message) = only_problem("[[rule]]\nname = \"x\"\nroles = [\"a\"]\n");
        assert_eq!((at.line, at.column), (3, 9));
        assert_eq!(message, "rule `x` needs at least two distinct roles");

        let (at, message) =
            only_problem("[[rule]]\nname = \"x\"\nroles = [\"a\", \"b\"]\ncardinality = 3\n");
        assert_eq!((at.line, at.column), (4, 15));
        assert!(
            message.contains("cardinality must be between 2 and"),
            "{message}"
        );

        let (at, message) = only_problem(
            "[[rule]]\nname = \"x\"\nroles = [\"a\", \"b\"]\n[[rule]]\nname = \"x\"\nroles = [\"a\", \"c\"]\n",
        );
        assert_eq!((at.line, at.column), (5, 8));
        assert_eq!(message, "duplicate rule name `x`");

        let (at, _) = only_problem("[[rule]]\nname = \"Bad Name\"\nroles = [\"a\", \"b\"]\n");
        assert_eq!((at.line, at.column), (2, 8));

        let (at, message) = only_problem("[[rule]]\nname = \"x\"\nroles = [\"Admin\", \"b\"]\n");
        assert_eq!(at.line, 3);
        assert!(message.contains("invalid role name `Admin`"), "{message}");

        let (at, message) = only_problem("[[rule]]\nname = \"x\"\nrole = [\"a\"]\n");
        assert_eq!(at.line, 3);
        assert!(message.contains("unknown field `role`"), "{message}");

        let (at, _) = only_problem("[[rule]\n");
        assert_eq!(at.line, 1);
    }

    #[test]
    fn an_empty_file_has_no_rules() {
        assert_eq!(parse("").unwrap(), SodRules::none());
    }

    #[test]
    fn rules_parse_from_text_with_problems_in_sod_toml() {
        let rules =
            SodRules::from_toml("[[rule]]\nname = \"x\"\nroles = [\"a\", \"b\"]\n").unwrap();
        assert_eq!(rules.rules()[0].name(), "x");
        let error = SodRules::from_toml("[[rule]]\nname = \"x\"\n").unwrap_err();
        assert_eq!(error.problems()[0].file(), Path::new("sod.toml"));
        assert_eq!(error.problems()[0].kind(), ProblemKind::Sod);
    }

    #[test]
    fn conflicts_display_their_rule_and_roles() {
        let conflict = SodConflict {
            rule: "admin-auditor".into(),
            roles: roles(&["admin", "auditor"]).into_iter().collect(),
        };
        assert_eq!(
            conflict.to_string(),
            "rule `admin-auditor` forbids holding admin + auditor"
        );
    }
}
