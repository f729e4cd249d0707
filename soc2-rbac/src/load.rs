//! Loading a policy directory: one `*.cedarschema`, policies in `*.cedar`, optional `sod.toml`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId, PolicySet,
    Request, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;
use ring::digest;

use crate::index::ActionPolicies;
use crate::role::is_identifier;
use crate::snapshot::{ACTION_TYPE, ActionEntry, ROLE_TYPE, USER_TYPE};
use crate::{Location, PolicyError, PolicySnapshot, PolicyVersion, Problem, ProblemKind, SodRules};

/// Largest file read, in bytes. Policy files are hand-written text; the bound keeps a stray
/// dump or an attacker-controlled file from exhausting memory (CWE-400, OWASP ASVS 5.0 V1.3).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Most policy files in a directory (same rationale as [`MAX_FILE_BYTES`]).
pub const MAX_FILES: usize = 256;
/// Most policies in a set (same rationale as [`MAX_FILE_BYTES`]; Cedar evaluates every policy
/// whose scope matches, so a runaway set also slows every decision).
pub const MAX_POLICIES: usize = 10_000;

/// The file holding the segregation-of-duties rules.
pub const SOD_FILE: &str = "sod.toml";

/// One file read from the directory.
struct Source {
    path: PathBuf,
    name: String,
    text: String,
}

/// Where each policy came from, to locate validation errors and duplicate ids.
struct Origin<'a> {
    source: &'a Source,
    location: Option<Location>,
}

impl PolicySnapshot {
    /// Loads and validates the policy directory `dir`: parses the schema and every policy file,
    /// names each policy `file-stem.@id`, validates the set against the schema in strict mode
    /// and parses `sod.toml`. Blocking file I/O; async callers use
    /// [`crate::PolicyStore`], which runs it on the blocking pool.
    ///
    /// # Errors
    /// [`PolicyError`] listing every problem found, each with file, line and column.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let mut problems = Vec::new();
        let sources = read_sources(dir, &mut problems);
        let version = version_of(&sources);
        let schema = load_schema(dir, &sources, &mut problems);
        let user_type = type_name(USER_TYPE);
        let role_type = type_name(ROLE_TYPE);
        let (policies, origins) = load_policies(&sources, &mut problems);
        let sod = match sources.iter().find(|s| s.name == SOD_FILE) {
            Some(source) => SodRules::parse(&source.path, &source.text).unwrap_or_else(|found| {
                problems.extend(found);
                SodRules::none()
            }),
            None => SodRules::none(),
        };
        let Some((schema, user_type, role_type)) = schema
            .zip(user_type)
            .zip(role_type)
            .map(|((schema, user_type), role_type)| (schema, user_type, role_type))
        else {
            return Err(PolicyError::new(problems));
        };
        if let Err(message) = check_structure(&schema, &user_type, &role_type) {
            let path = sources.iter().find(|s| s.name.ends_with(".cedarschema"));
            let path = path.map_or(dir, |s| s.path.as_path());
            problems.push(Problem::new(path, None, ProblemKind::Schema, message));
        }
        validate(&schema, &policies, &origins, &mut problems);
        if !problems.is_empty() {
            return Err(PolicyError::new(problems));
        }
        let mut policy_ids: Vec<String> = origins.into_keys().collect();
        policy_ids.sort_unstable();
        let actions = match action_entries(&schema, &policies, &user_type, &role_type) {
            Ok(actions) => actions,
            Err(message) => {
                let path = sources.iter().find(|s| s.name.ends_with(".cedarschema"));
                let path = path.map_or(dir, |s| s.path.as_path());
                return Err(PolicyError::new(vec![Problem::new(
                    path,
                    None,
                    ProblemKind::Schema,
                    message,
                )]));
            }
        };
        let entity_types = schema
            .entity_types()
            .map(|ty| (ty.to_string(), ty.clone()))
            .collect();
        let bare_entity_types = bare_entity_types(&schema);
        Ok(Self {
            version,
            schema,
            policies,
            sod,
            actions,
            policy_ids,
            user_type,
            role_type,
            entity_types,
            bare_entity_types,
        })
    }
}

/// The entity types whose entities may have no attributes, tags or parents: a bare entity of
/// such a type (under an id no enumerated type lists) conforms to the schema.
fn bare_entity_types(schema: &Schema) -> HashSet<EntityTypeName> {
    schema
        .entity_types()
        .filter(|ty| {
            let uid = EntityUid::from_type_name_and_id((*ty).clone(), EntityId::new(PROBE_ID));
            Entities::empty()
                .add_entities([Entity::new_no_attrs(uid, HashSet::new())], Some(schema))
                .is_ok()
        })
        .cloned()
        .collect()
}

/// The id the load-time probes ([`bare_entity_types`], [`checked_resource_types`]) use: an
/// enumerated entity type never lists it, so such types are left out.
const PROBE_ID: &str = "\u{0}soc2-bare-probe";

fn type_name(name: &str) -> Option<EntityTypeName> {
    EntityTypeName::from_str(name).ok()
}

/// True for the names of the files a policy directory is loaded from: `*.cedar`,
/// `*.cedarschema` and `sod.toml`, not hidden (editor swap files and the like).
pub(crate) fn is_policy_file(name: &str) -> bool {
    !name.starts_with('.')
        && (name == SOD_FILE || name.ends_with(".cedar") || name.ends_with(".cedarschema"))
}

/// Reads the relevant files (bounded), sorted by name so the version is stable.
fn read_sources(dir: &Path, problems: &mut Vec<Problem>) -> Vec<Source> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Problem::new(
                dir,
                None,
                ProblemKind::Io,
                format!("cannot read the directory: {error}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            is_policy_file(&name).then(|| (name, entry.path()))
        })
        .collect();
    paths.sort_unstable();
    if paths.len() > MAX_FILES {
        problems.push(Problem::new(
            dir,
            None,
            ProblemKind::TooLarge,
            format!("{} policy files; at most {MAX_FILES} are read", paths.len()),
        ));
        return Vec::new();
    }
    paths
        .into_iter()
        .filter_map(|(name, path)| match read_bounded(&path, MAX_FILE_BYTES) {
            Ok(text) => Some(Source { path, name, text }),
            Err((kind, message)) => {
                problems.push(Problem::new(&path, None, kind, message));
                None
            }
        })
        .collect()
}

/// Reads a UTF-8 file of at most `limit` bytes.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<String, (ProblemKind, String)> {
    let io = |error: std::io::Error| (ProblemKind::Io, format!("cannot read the file: {error}"));
    let mut bytes = Vec::new();
    fs::File::open(path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err((ProblemKind::TooLarge, format!("larger than {limit} bytes")));
    }
    String::from_utf8(bytes).map_err(|error| {
        (
            ProblemKind::Io,
            format!(
                "not UTF-8 (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            ),
        )
    })
}

/// SHA-256 over every file's name, length and contents, in name order.
fn version_of(sources: &[Source]) -> PolicyVersion {
    let mut context = digest::Context::new(&digest::SHA256);
    for source in sources {
        context.update(source.name.as_bytes());
        context.update(&[0]);
        context.update(&(source.text.len() as u64).to_be_bytes());
        context.update(source.text.as_bytes());
    }
    let mut bytes = [0; 32];
    bytes.copy_from_slice(context.finish().as_ref());
    PolicyVersion::from_digest(bytes)
}

fn load_schema(dir: &Path, sources: &[Source], problems: &mut Vec<Problem>) -> Option<Schema> {
    let mut schemas = sources.iter().filter(|s| s.name.ends_with(".cedarschema"));
    let Some(source) = schemas.next() else {
        problems.push(Problem::new(
            dir,
            None,
            ProblemKind::MissingSchema,
            "no `*.cedarschema` file",
        ));
        return None;
    };
    for extra in schemas {
        problems.push(Problem::new(
            &extra.path,
            None,
            ProblemKind::MultipleSchemas,
            format!(
                "a second schema file; keep the schema in `{}` only",
                source.name
            ),
        ));
    }
    match Schema::from_cedarschema_str(&source.text) {
        Ok((schema, warnings)) => {
            for warning in warnings {
                tracing::warn!(target: "soc2::rbac", file = %source.path.display(), %warning, "schema warning");
            }
            Some(schema)
        }
        Err(error) => {
            problems.extend(diagnostic_problems(source, ProblemKind::Schema, &error));
            None
        }
    }
}

/// The SDK builds `User` entities whose parents are `Role`s, and `Role`s inside `Role`s, with
/// no attributes: a schema that does not allow that would fail every decision, so it is
/// refused at load.
fn check_structure(
    schema: &Schema,
    user: &EntityTypeName,
    role: &EntityTypeName,
) -> Result<(), String> {
    let uid = |ty: &EntityTypeName, id: &str| {
        EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
    };
    let probe = [
        Entity::new_no_attrs(uid(user, "probe"), HashSet::from([uid(role, "child")])),
        Entity::new_no_attrs(uid(role, "child"), HashSet::from([uid(role, "parent")])),
        Entity::new_no_attrs(uid(role, "parent"), HashSet::new()),
    ];
    Entities::from_entities(probe, Some(schema)).map(drop).map_err(|error| {
        format!(
            "the schema must declare `entity Role in [Role];` and `entity User in [Role];` (no required attributes): {error}"
        )
    })
}

/// The schema's actions by name, each with its entity, its groups' entities and the policies
/// that can apply to it, built once so decisions do not regenerate the action entities from
/// the schema nor evaluate policies written for other actions.
fn action_entries(
    schema: &Schema,
    policies: &PolicySet,
    user_type: &EntityTypeName,
    role_type: &EntityTypeName,
) -> Result<HashMap<String, ActionEntry>, String> {
    let entities = schema
        .action_entities()
        .map_err(|error| format!("cannot build the action entities: {error}"))?;
    schema
        .actions()
        .filter(|uid| uid.type_name().to_string() == ACTION_TYPE)
        .filter_map(|uid| {
            // An external action (no definition) has no entity; no request can use it.
            let entity = entities.get(uid)?.clone();
            let groups: Vec<EntityUid> = entities
                .ancestors(uid)
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let group_entities = groups.iter().map(|group| {
                entities
                    .get(group)
                    .cloned()
                    .ok_or_else(|| format!("action group `{group}` has no entity"))
            });
            let entries = std::iter::once(Ok(entity))
                .chain(group_entities)
                .collect::<Result<Vec<_>, String>>();
            Some(entries.map(|entities| {
                let index = ActionPolicies::new(policies, uid, &groups, role_type);
                let checked = checked_resource_types(schema, uid, user_type);
                let entry = ActionEntry::new(uid.clone(), entities, index, checked);
                (uid.id().unescaped().to_owned(), entry)
            }))
        })
        .collect()
}

/// The resource types for which a request by a user for `action` with an empty context
/// conforms to the schema whatever the ids: those the action applies to (with users as
/// principals), less enumerated types (whose ids the schema lists), and none when the action's
/// context has required attributes. Probed once with the schema's own request validation.
fn checked_resource_types(
    schema: &Schema,
    action: &EntityUid,
    user_type: &EntityTypeName,
) -> HashSet<EntityTypeName> {
    let probe =
        |ty: &EntityTypeName| EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(PROBE_ID));
    schema
        .entity_types()
        .filter(|ty| {
            Request::new(
                probe(user_type),
                action.clone(),
                probe(ty),
                Context::empty(),
                Some(schema),
            )
            .is_ok()
        })
        .cloned()
        .collect()
}

/// Parses every `*.cedar` file on its own (so error offsets are offsets in that file) and
/// gathers the policies, renamed `file-stem.@id`, into one set.
fn load_policies<'a>(
    sources: &'a [Source],
    problems: &mut Vec<Problem>,
) -> (PolicySet, HashMap<String, Origin<'a>>) {
    let mut set = PolicySet::new();
    let mut origins: HashMap<String, Origin<'a>> = HashMap::new();
    for source in sources.iter().filter(|s| s.name.ends_with(".cedar")) {
        let stem = source.name.trim_end_matches(".cedar");
        if !is_identifier(stem) {
            problems.push(Problem::new(
                &source.path,
                None,
                ProblemKind::InvalidId,
                format!("file name `{stem}` must be 1-64 characters of a-z 0-9 _ - (it prefixes the policy ids)"),
            ));
            continue;
        }
        let parsed = match PolicySet::from_str(&source.text) {
            Ok(parsed) => parsed,
            Err(error) => {
                problems.extend(diagnostic_problems(source, ProblemKind::Syntax, &error));
                continue;
            }
        };
        for template in parsed.templates() {
            let location = locate(&source.text, 0, &template.to_string()).map(|(_, at)| at);
            problems.push(Problem::new(
                &source.path,
                location,
                ProblemKind::Template,
                "policy templates (`?principal`, `?resource`) are not supported; write a static policy",
            ));
        }
        if origins.len() + parsed.num_of_policies() > MAX_POLICIES {
            problems.push(Problem::new(
                &source.path,
                None,
                ProblemKind::TooLarge,
                format!("more than {MAX_POLICIES} policies in the directory"),
            ));
            break;
        }
        let mut cursor = 0;
        for policy in in_file_order(&parsed) {
            let location = locate(&source.text, cursor, &policy.to_string()).map(|(end, at)| {
                cursor = end;
                at
            });
            let mut problem = |kind, message: String| {
                problems.push(Problem::new(&source.path, location, kind, message));
            };
            let Some(id) = policy.annotation("id") else {
                problem(ProblemKind::MissingId, "policy has no `@id(\"...\")` annotation; add one, e.g. `@id(\"engineers-request\")`".into());
                continue;
            };
            if !is_identifier(id) {
                problem(
                    ProblemKind::InvalidId,
                    format!("policy id `{id}` must be 1-64 characters of a-z 0-9 _ -"),
                );
                continue;
            }
            let full = format!("{stem}.{id}");
            if let Some(first) = origins.get(&full) {
                let at = first
                    .location
                    .map(|at| format!(":{at}"))
                    .unwrap_or_default();
                problem(
                    ProblemKind::DuplicateId,
                    format!(
                        "duplicate policy id `{full}` (first defined at {}{at})",
                        first.source.path.display()
                    ),
                );
                continue;
            }
            if let Err(error) = set.add(policy.new_id(PolicyId::new(&full))) {
                problem(ProblemKind::DuplicateId, error.to_string());
                continue;
            }
            origins.insert(full, Origin { source, location });
        }
    }
    (set, origins)
}

/// The policies of a set parsed from one file, in the order they appear (Cedar numbers them
/// `policy0`, `policy1`, ...).
fn in_file_order(parsed: &PolicySet) -> Vec<&Policy> {
    let mut policies: Vec<(u64, &Policy)> = parsed
        .policies()
        .map(|policy| {
            let index = policy
                .id()
                .to_string()
                .trim_start_matches("policy")
                .parse()
                .unwrap_or(u64::MAX);
            (index, policy)
        })
        .collect();
    policies.sort_unstable_by_key(|(index, _)| *index);
    policies.into_iter().map(|(_, policy)| policy).collect()
}

/// Finds a policy's source text (Cedar keeps it verbatim) at or after `from`: its end offset
/// and its location.
fn locate(text: &str, from: usize, policy_source: &str) -> Option<(usize, Location)> {
    let start = from + text.get(from..)?.find(policy_source)?;
    Some((
        start + policy_source.len(),
        Location::of_offset(text, start),
    ))
}

fn validate(
    schema: &Schema,
    policies: &PolicySet,
    origins: &HashMap<String, Origin<'_>>,
    problems: &mut Vec<Problem>,
) {
    let result = Validator::new(schema.clone()).validate(policies, ValidationMode::Strict);
    let mut found: Vec<Problem> = result
        .validation_errors()
        .filter_map(|error| {
            let origin = origins.get(&error.policy_id().to_string())?;
            let location = first_offset(error)
                .map(|offset| Location::of_offset(&origin.source.text, offset))
                .or(origin.location);
            Some(Problem::new(
                &origin.source.path,
                location,
                ProblemKind::Validation,
                message_of(error),
            ))
        })
        .collect();
    found.sort_by(|a, b| (a.file(), a.location()).cmp(&(b.file(), b.location())));
    problems.extend(found);
}

/// One problem per diagnostic (the error and every related one), located by its first label.
fn diagnostic_problems(source: &Source, kind: ProblemKind, error: &dyn Diagnostic) -> Vec<Problem> {
    let problem = |diagnostic: &dyn Diagnostic| {
        let location =
            first_offset(diagnostic).map(|offset| Location::of_offset(&source.text, offset));
        Problem::new(&source.path, location, kind, message_of(diagnostic))
    };
    let mut found = vec![problem(error)];
    if let Some(related) = error.related() {
        found.extend(related.map(problem));
    }
    found
}

fn first_offset(diagnostic: &dyn Diagnostic) -> Option<usize> {
    diagnostic.labels()?.next().map(|label| label.offset())
}

fn message_of(diagnostic: &dyn Diagnostic) -> String {
    match diagnostic.help() {
        Some(help) => format!("{diagnostic} (help: {help})"),
        None => diagnostic.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SCHEMA: &str = r#"
        entity Role in [Role];
        entity User in [Role];
        entity Doc = { owner: User };
        entity Folder;
        entity Status enum ["open", "closed"];
        action read appliesTo { principal: [User], resource: [Doc, Folder, Status] };
        action sign appliesTo { principal: [User], resource: [Doc], context: { ticket: String } };
        action note appliesTo { principal: [User], resource: [Folder], context: { ticket?: String } };
    "#;

    fn ty(name: &str) -> EntityTypeName {
        EntityTypeName::from_str(name).unwrap()
    }

    /// A type is skipped from per-request validation exactly when the schema accepts a user's
    /// empty-context request on it with any id: declared for the action, not enumerated, and
    /// no required context attribute.
    #[test]
    fn requests_known_to_conform_are_exactly_those_the_schema_accepts_with_any_id() {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
        let uid = |t: &str, id: &str| EntityUid::from_type_name_and_id(ty(t), EntityId::new(id));
        for (action, expected) in [
            ("read", vec!["Doc", "Folder"]),
            ("sign", vec![]),
            ("note", vec!["Folder"]),
        ] {
            let action = uid("Action", action);
            let checked = checked_resource_types(&schema, &action, &ty("User"));
            let mut names: Vec<String> = checked.iter().map(ToString::to_string).collect();
            names.sort_unstable();
            assert_eq!(names, expected, "{action}");
            for resource in ["Doc", "Folder", "User", "Role"] {
                let validated = Request::new(
                    uid("User", "0190b6f4-0000-7000-8000-000000000001"),
                    action.clone(),
                    uid(resource, "any id at all"),
                    Context::empty(),
                    Some(&schema),
                );
                assert_eq!(
                    validated.is_ok(),
                    checked.contains(&ty(resource)),
                    "{action} on {resource}"
                );
            }
        }
    }
}
