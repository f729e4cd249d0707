//! The entity slice of one request: the principal with its roles and their ancestors, and the
//! resource. Nothing in it comes from the request itself.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, RestrictedExpression,
};
use soc2_core::UserId;

use crate::snapshot::{ActionEntry, PrincipalSlice, RoleSlice};
use crate::{
    AttrValue, AuthzError, PolicySnapshot, ResourceEntity, ResourceRef, RoleName, RoleNode,
    UserRoles,
};

/// Deepest nesting of sets and records in a resource attribute, so a cyclic-looking or
/// runaway value from the host cannot exhaust the stack (CWE-674).
pub const MAX_ATTR_DEPTH: usize = 32;

/// What the resource is: a user (built from the role store) or a host object.
pub(crate) enum ResourceData {
    User(UserRoles),
    Host(ResourceEntity),
}

/// Cedar uids for the SDK's own entity types.
pub(crate) fn user_uid(snapshot: &PolicySnapshot, user: UserId) -> EntityUid {
    EntityUid::from_type_name_and_id(snapshot.user_type.clone(), EntityId::new(user.to_string()))
}

fn role_uid(snapshot: &PolicySnapshot, role: &RoleName) -> EntityUid {
    EntityUid::from_type_name_and_id(snapshot.role_type.clone(), EntityId::new(role.as_str()))
}

/// The uid of a host resource; `Role` is reserved (roles come from the role store).
pub(crate) fn resource_uid(
    snapshot: &PolicySnapshot,
    resource: &ResourceRef,
) -> Result<EntityUid, AuthzError> {
    let kind = match snapshot.entity_types.get(resource.kind()) {
        Some(kind) => kind.clone(),
        // Not declared: parsed so the error says whether it is a type name at all (an
        // undeclared type is refused by the schema checks).
        None => EntityTypeName::from_str(resource.kind()).map_err(|_| {
            AuthzError::InvalidResource(format!(
                "`{}` is not a Cedar entity type name",
                resource.kind()
            ))
        })?,
    };
    if kind == snapshot.role_type {
        return Err(AuthzError::InvalidResource(
            "roles come from the role store and cannot be resources".into(),
        ));
    }
    Ok(EntityUid::from_type_name_and_id(
        kind,
        EntityId::new(resource.id()),
    ))
}

/// The entities of one request and the policies that can apply to it.
pub(crate) struct Slice {
    pub(crate) entities: Arc<Entities>,
    pub(crate) policies: Arc<PolicySet>,
}

/// The entities of one request, and the policies of `action` that can apply to its principal.
///
/// Only the host's resource is validated against the schema: its attributes and ancestors come
/// from the host. The SDK's own entities (users with their roles as parents, roles with roles
/// as parents, no attributes) have a shape [`PolicySnapshot::load`] already proved the schema
/// accepts, and the action entities come from the schema itself; validating them per request
/// would only repeat that work (and `Entities::from_entities` with a schema also rebuilds every
/// action entity). The slice is still transitively closed and checked for cycles.
///
/// Everything but the resource is built once per principal and role set and shared, so a
/// request costs one `add_entities` (the resource checked against the schema and closed over
/// that part), or none for a bare resource (no attributes, tags or parents) of a type whose
/// bare entities conform: such a resource is left out of the slice. Cedar cannot tell the two
/// apart: `has` and `hasTag` are false and `in` is equality for a missing entity as for a bare
/// one, and reading an attribute or tag fails for both (strict validation only admits those
/// reads behind a `has`, as every attribute of such a type is optional).
pub(crate) fn build(
    snapshot: &PolicySnapshot,
    principal: (UserId, &EntityUid, &UserRoles),
    resource: (&EntityUid, ResourceData),
    action: &ActionEntry,
) -> Result<Slice, AuthzError> {
    let (principal_id, principal_uid, principal_roles) = principal;
    let (resource_uid, resource_data) = resource;
    let invalid = |error: cedar_policy::entities_errors::EntitiesError| {
        AuthzError::InvalidEntity(error.to_string())
    };
    match resource_data {
        ResourceData::Host(entity) => {
            let principal = action.principal_slice(principal_id, principal_roles, || {
                principal_slice(snapshot, action, principal_uid, principal_roles)
            })?;
            let bare = entity.attributes.is_empty() && entity.ancestors.is_empty();
            let entities = if bare
                && snapshot
                    .bare_entity_types
                    .contains(resource_uid.type_name())
            {
                Arc::clone(&principal.entities)
            } else {
                let resource = host_entity(snapshot, resource_uid, &entity)?;
                Arc::new(
                    Entities::clone(&principal.entities)
                        .add_entities([resource], Some(&snapshot.schema))
                        .map_err(invalid)?,
                )
            };
            Ok(Slice {
                entities,
                policies: Arc::clone(&principal.policies),
            })
        }
        ResourceData::User(user_roles) => {
            let mut roles: HashMap<&RoleName, &[RoleName]> = HashMap::new();
            roles.extend(principal_roles.closure.iter().map(node_pair));
            roles.extend(user_roles.closure.iter().map(node_pair));
            let mut entities = vec![user_entity(
                principal_uid,
                direct_uids(snapshot, principal_roles),
            )?];
            if resource_uid != principal_uid {
                entities.push(user_entity(
                    resource_uid,
                    direct_uids(snapshot, &user_roles),
                )?);
            }
            entities.extend(role_entities(snapshot, roles.into_iter()));
            entities.extend(action.entities.iter().cloned());
            Ok(Slice {
                entities: Arc::new(Entities::from_entities(entities, None).map_err(invalid)?),
                // The principal's ancestors may pass through the resource's role entities.
                policies: select(action, [principal_roles, &user_roles])?,
            })
        }
    }
}

/// The part of a slice that depends only on the principal (see [`PrincipalSlice`]): its role
/// slice (shared by every principal with these roles) with the principal's entity added.
fn principal_slice(
    snapshot: &PolicySnapshot,
    action: &ActionEntry,
    principal: &EntityUid,
    roles: &UserRoles,
) -> Result<PrincipalSlice, AuthzError> {
    let base = action.roles_slice(roles, || role_slice(snapshot, action, roles))?;
    let user = user_entity(principal, base.user_parents.iter().cloned())?;
    let entities = base
        .entities
        .clone()
        .add_entities([user], None)
        .map_err(|error| AuthzError::InvalidEntity(error.to_string()))?;
    Ok(PrincipalSlice {
        roles: roles.clone(),
        entities: Arc::new(entities),
        policies: Arc::clone(&base.policies),
    })
}

/// The part of a slice that depends only on the principal's roles (see [`RoleSlice`]).
///
/// Only roles with parents become entities: a role entity without parents or attributes is
/// unobservable (`Role::"a" in Role::"b"` is `a == b` whether or not `a` is in the slice, and
/// a principal's membership is read from the principal's own ancestors), and every entity in
/// the slice costs each request some transitive-closure work. The principal's ancestors (its
/// direct roles and everything above them) are computed here, once per role set, and become
/// its parents, so the principal is in exactly the roles it is in with every role as an entity.
fn role_slice(
    snapshot: &PolicySnapshot,
    action: &ActionEntry,
    roles: &UserRoles,
) -> Result<RoleSlice, AuthzError> {
    let with_parents = roles.closure.iter().filter(|node| !node.parents.is_empty());
    let entities = Entities::from_entities(
        role_entities(snapshot, with_parents.map(node_pair)).chain(action.entities.iter().cloned()),
        None,
    )
    .map_err(|error| AuthzError::InvalidEntity(error.to_string()))?;
    let mut ancestors: HashSet<EntityUid> = HashSet::new();
    for role in direct_uids(snapshot, roles) {
        ancestors.extend(entities.ancestors(&role).into_iter().flatten().cloned());
        ancestors.insert(role);
    }
    Ok(RoleSlice {
        entities,
        policies: select(action, [roles])?,
        user_parents: ancestors.into_iter().collect(),
    })
}

/// The policies of `action` for a principal whose ancestors are among the roles of `roles`:
/// the direct roles and every role of the closures with its parents (a superset of what the
/// slice's transitive closure can reach, whatever the store returned).
fn select<'a>(
    action: &ActionEntry,
    roles: impl IntoIterator<Item = &'a UserRoles>,
) -> Result<Arc<PolicySet>, AuthzError> {
    let names = roles.into_iter().flat_map(|roles| {
        roles.direct().chain(
            roles
                .closure
                .iter()
                .flat_map(|node| std::iter::once(&node.role).chain(&node.parents)),
        )
    });
    action
        .policies
        .select(names.map(RoleName::as_str))
        .map(Arc::new)
        .map_err(|error| AuthzError::Selection(error.to_string()))
}

fn node_pair(node: &RoleNode) -> (&RoleName, &[RoleName]) {
    (&node.role, &node.parents)
}

/// Role entities: no attributes, their parent roles as parents.
fn role_entities<'a>(
    snapshot: &'a PolicySnapshot,
    roles: impl Iterator<Item = (&'a RoleName, &'a [RoleName])> + 'a,
) -> impl Iterator<Item = Entity> + 'a {
    roles.map(|(role, parents)| {
        Entity::new_no_attrs(
            role_uid(snapshot, role),
            parents.iter().map(|p| role_uid(snapshot, p)).collect(),
        )
    })
}

/// A user entity: no attributes, its direct roles as parents.
fn user_entity(
    uid: &EntityUid,
    parents: impl IntoIterator<Item = EntityUid>,
) -> Result<Entity, AuthzError> {
    Entity::new_with_tags(uid.clone(), [], parents, [])
        .map_err(|error| AuthzError::InvalidEntity(error.to_string()))
}

/// The uids of the roles a user is a direct member of.
fn direct_uids<'a>(
    snapshot: &'a PolicySnapshot,
    roles: &'a UserRoles,
) -> impl Iterator<Item = EntityUid> + 'a {
    roles.direct().map(|role| role_uid(snapshot, role))
}

fn host_entity(
    snapshot: &PolicySnapshot,
    uid: &EntityUid,
    entity: &ResourceEntity,
) -> Result<Entity, AuthzError> {
    let attributes = entity
        .attributes
        .iter()
        .map(|(name, value)| Ok((name.clone(), expression(snapshot, value, 0)?)))
        .collect::<Result<HashMap<_, _>, AuthzError>>()?;
    let ancestors = entity
        .ancestors
        .iter()
        .map(|ancestor| resource_uid(snapshot, ancestor))
        .collect::<Result<HashSet<_>, _>>()?;
    Entity::new(uid.clone(), attributes, ancestors)
        .map_err(|error| AuthzError::InvalidEntity(error.to_string()))
}

fn expression(
    snapshot: &PolicySnapshot,
    value: &AttrValue,
    depth: usize,
) -> Result<RestrictedExpression, AuthzError> {
    if depth > MAX_ATTR_DEPTH {
        return Err(AuthzError::InvalidEntity(format!(
            "attribute nested deeper than {MAX_ATTR_DEPTH}"
        )));
    }
    Ok(match value {
        AttrValue::Bool(value) => RestrictedExpression::new_bool(*value),
        AttrValue::Long(value) => RestrictedExpression::new_long(*value),
        AttrValue::String(value) => RestrictedExpression::new_string(value.clone()),
        AttrValue::User(user) => RestrictedExpression::new_entity_uid(user_uid(snapshot, *user)),
        AttrValue::Entity(entity) => {
            RestrictedExpression::new_entity_uid(resource_uid(snapshot, entity)?)
        }
        AttrValue::Set(values) => RestrictedExpression::new_set(
            values
                .iter()
                .map(|value| expression(snapshot, value, depth + 1))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        AttrValue::Record(fields) => RestrictedExpression::new_record(
            fields
                .iter()
                .map(|(name, value)| Ok((name.clone(), expression(snapshot, value, depth + 1)?)))
                .collect::<Result<Vec<_>, AuthzError>>()?,
        )
        .map_err(|error| AuthzError::InvalidEntity(error.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use cedar_policy::{Context, Request};

    use super::*;
    use crate::test_support::outcome;

    fn role(name: &str) -> RoleName {
        RoleName::new(name).unwrap()
    }

    /// The slice built without re-validating the SDK's entities, on a fresh and on a reused
    /// role set, holds exactly the entities (transitively closed) that schema-validated
    /// `Entities::from_entities` builds, less the actions the request does not name and the
    /// roles without parents (unobservable); the principal's ancestors are the same.
    #[test]
    fn the_slice_equals_the_schema_validated_one() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies"));
        let snapshot = PolicySnapshot::load(dir).unwrap();
        let user = UserId::new_v7();
        let principal = user_uid(&snapshot, user);
        let roles = UserRoles {
            assigned: vec![role("approver")],
            elevated: vec![role("oncall")],
            closure: vec![
                RoleNode {
                    role: role("approver"),
                    parents: vec![role("engineer")],
                },
                RoleNode {
                    role: role("engineer"),
                    parents: vec![role("staff")],
                },
                RoleNode {
                    role: role("oncall"),
                    parents: vec![],
                },
                RoleNode {
                    role: role("staff"),
                    parents: vec![],
                },
            ],
        };
        let change = resource_uid(&snapshot, &ResourceRef::new("Change", "CHG-1")).unwrap();
        let entity = ResourceEntity::new()
            .with_attribute("requester", user)
            .with_attribute("status", "pending");
        let action = &snapshot.actions["approve_change"];

        let mut reference = vec![
            user_entity(&principal, direct_uids(&snapshot, &roles)).unwrap(),
            host_entity(&snapshot, &change, &entity).unwrap(),
        ];
        reference.extend(role_entities(
            &snapshot,
            roles.closure.iter().map(node_pair),
        ));
        let reference = Entities::from_entities(reference, Some(&snapshot.schema)).unwrap();
        let mut expected: Vec<String> = reference
            .iter()
            .filter(|e| e.uid().type_name().to_string() != "Action" || e.uid() == action.uid)
            .filter(|e| {
                e.uid().type_name() != &snapshot.role_type
                    || reference.ancestors(&e.uid()).unwrap().next().is_some()
            })
            .map(|e| e.uid().to_string())
            .collect();
        expected.sort_unstable();
        assert_eq!(
            expected
                .iter()
                .filter(|uid| uid.starts_with("Role::"))
                .count(),
            2,
            "approver and engineer have parents; oncall and staff do not"
        );
        assert!(
            reference
                .ancestors(&principal)
                .unwrap()
                .any(|a| a.id().unescaped() == "staff"),
            "the reference is transitively closed"
        );
        for _ in 0..2 {
            let built = build(
                &snapshot,
                (user, &principal, &roles),
                (&change, ResourceData::Host(entity.clone())),
                action,
            )
            .unwrap()
            .entities;
            let mut uids: Vec<String> = built.iter().map(|e| e.uid().to_string()).collect();
            uids.sort_unstable();
            assert_eq!(uids, expected);
            for e in built.iter() {
                assert!(e.deep_eq(reference.get(&e.uid()).unwrap()), "{e}");
            }
        }
    }

    fn held(pairs: &[(&str, &[&str])]) -> UserRoles {
        UserRoles {
            assigned: pairs.iter().take(1).map(|(r, _)| role(r)).collect(),
            elevated: pairs.iter().skip(1).take(1).map(|(r, _)| role(r)).collect(),
            closure: pairs
                .iter()
                .map(|(r, parents)| RoleNode {
                    role: role(r),
                    parents: parents.iter().map(|p| role(p)).collect(),
                })
                .collect(),
        }
    }

    /// A bare resource of a type whose bare entities conform is left out of the slice, and the
    /// decisions (decision, determining policies, failing policies) equal Cedar's on the whole
    /// policy set with the resource in a schema-validated entity set; a bare resource of a type
    /// with required attributes is refused as before; and the principal's part, kept per
    /// principal, follows a change of its roles.
    #[test]
    fn bare_resources_are_left_out_and_decide_as_cedar_does() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policies"));
        let snapshot = PolicySnapshot::load(dir).unwrap();
        let mut bare: Vec<String> = snapshot
            .bare_entity_types
            .iter()
            .map(ToString::to_string)
            .collect();
        bare.sort_unstable();
        assert_eq!(bare, ["AuditLog", "PolicySet", "Role", "User"]);

        let user = UserId::new_v7();
        let principal = user_uid(&snapshot, user);
        let role_sets = [
            held(&[("auditor", &[])]),
            held(&[("admin", &[])]),
            held(&[("approver", &["engineer"]), ("engineer", &[])]),
            held(&[]),
        ];
        for (action, kind) in [("read_audit", "AuditLog"), ("reload_policies", "PolicySet")] {
            let entry = &snapshot.actions[action];
            let resource = resource_uid(&snapshot, &ResourceRef::new(kind, "one")).unwrap();
            // The same principal, its roles changing between requests.
            for roles in &role_sets {
                let slice = build(
                    &snapshot,
                    (user, &principal, roles),
                    (&resource, ResourceData::Host(ResourceEntity::new())),
                    entry,
                )
                .unwrap();
                assert!(slice.entities.get(&resource).is_none(), "left out");
                let direct: HashSet<EntityUid> = direct_uids(&snapshot, roles).collect();
                let ancestors: HashSet<EntityUid> = slice
                    .entities
                    .ancestors(&principal)
                    .unwrap()
                    .cloned()
                    .collect();
                assert!(ancestors.is_superset(&direct), "{action}: {roles:?}");

                let mut reference = vec![
                    user_entity(&principal, direct).unwrap(),
                    Entity::new_no_attrs(resource.clone(), HashSet::new()),
                ];
                reference.extend(role_entities(
                    &snapshot,
                    roles.closure.iter().map(node_pair),
                ));
                let reference = Entities::from_entities(reference, Some(&snapshot.schema)).unwrap();
                let request = Request::new(
                    principal.clone(),
                    entry.uid.clone(),
                    resource.clone(),
                    Context::empty(),
                    Some(&snapshot.schema),
                )
                .unwrap();
                let authorizer = cedar_policy::Authorizer::new();
                let ours = authorizer.is_authorized(&request, &slice.policies, &slice.entities);
                let cedar = authorizer.is_authorized(&request, &snapshot.policies, &reference);
                assert_eq!(outcome(&ours), outcome(&cedar), "{action}: {roles:?}");
            }
        }
        let change = resource_uid(&snapshot, &ResourceRef::new("Change", "CHG-1")).unwrap();
        let refused = build(
            &snapshot,
            (user, &principal, &role_sets[2]),
            (&change, ResourceData::Host(ResourceEntity::new())),
            &snapshot.actions["approve_change"],
        );
        assert!(matches!(refused, Err(AuthzError::InvalidEntity(_))));
    }
}
