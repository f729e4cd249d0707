//! The entity slice of one request: the principal with its roles and their ancestors, and the
//! resource. Nothing in it comes from the request itself.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use soc2_core::UserId;

use crate::{
    AttrValue, AuthzError, PolicySnapshot, ResourceEntity, ResourceRef, RoleName, UserRoles,
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
    let kind = EntityTypeName::from_str(resource.kind()).map_err(|_| {
        AuthzError::InvalidResource(format!(
            "`{}` is not a Cedar entity type name",
            resource.kind()
        ))
    })?;
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

/// The entities of one request, validated against the schema.
pub(crate) fn build(
    snapshot: &PolicySnapshot,
    principal: (&EntityUid, &UserRoles),
    resource: (&EntityUid, ResourceData),
) -> Result<Entities, AuthzError> {
    let (principal_uid, principal_roles) = principal;
    let (resource_uid, resource_data) = resource;
    let mut roles: HashMap<&RoleName, &[RoleName]> = HashMap::new();
    let mut entities = Vec::with_capacity(principal_roles.closure.len() + 2);
    entities.push(user_entity(snapshot, principal_uid, principal_roles));
    for node in &principal_roles.closure {
        roles.insert(&node.role, &node.parents);
    }
    match &resource_data {
        ResourceData::User(user_roles) => {
            if resource_uid != principal_uid {
                entities.push(user_entity(snapshot, resource_uid, user_roles));
            }
            for node in &user_roles.closure {
                roles.insert(&node.role, &node.parents);
            }
        }
        ResourceData::Host(entity) => entities.push(host_entity(snapshot, resource_uid, entity)?),
    }
    entities.extend(roles.into_iter().map(|(role, parents)| {
        Entity::new_no_attrs(
            role_uid(snapshot, role),
            parents.iter().map(|p| role_uid(snapshot, p)).collect(),
        )
    }));
    Entities::from_entities(entities, Some(&snapshot.schema))
        .map_err(|error| AuthzError::InvalidEntity(error.to_string()))
}

fn user_entity(snapshot: &PolicySnapshot, uid: &EntityUid, roles: &UserRoles) -> Entity {
    let parents = roles
        .assigned
        .iter()
        .map(|role| role_uid(snapshot, role))
        .collect();
    Entity::new_no_attrs(uid.clone(), parents)
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
