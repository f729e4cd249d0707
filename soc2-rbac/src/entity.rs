//! The host's resources as Cedar entities: `ResourceRef`, `ResourceEntity`, `EntityProvider`.

use std::collections::BTreeMap;
use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{BoxError, UserId};

/// A resource by Cedar entity type and id, e.g. `Change` / `CHG-1042`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    kind: String,
    id: String,
}

impl ResourceRef {
    /// A reference; the type is checked against the schema when used.
    #[must_use]
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            id: id.into(),
        }
    }

    /// A user as a resource (e.g. of `manage_users`).
    #[must_use]
    pub fn user(user: UserId) -> Self {
        Self::new(crate::USER_TYPE, user.to_string())
    }

    /// The Cedar entity type.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The entity id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// An attribute value of a resource entity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttrValue {
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer (Cedar `Long`).
    Long(i64),
    /// A string.
    String(String),
    /// A user, e.g. a change's `requester`.
    User(UserId),
    /// Another entity.
    Entity(ResourceRef),
    /// A set.
    Set(Vec<AttrValue>),
    /// A record.
    Record(BTreeMap<String, AttrValue>),
}

impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<i64> for AttrValue {
    fn from(value: i64) -> Self {
        Self::Long(value)
    }
}

impl From<&str> for AttrValue {
    fn from(value: &str) -> Self {
        Self::String(value.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        Self::String(value)
    }
}

impl From<UserId> for AttrValue {
    fn from(value: UserId) -> Self {
        Self::User(value)
    }
}

impl From<ResourceRef> for AttrValue {
    fn from(value: ResourceRef) -> Self {
        Self::Entity(value)
    }
}

/// A resource's attributes and ancestors, as the host's records say (never the request).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceEntity {
    pub(crate) attributes: BTreeMap<String, AttrValue>,
    pub(crate) ancestors: Vec<ResourceRef>,
}

impl ResourceEntity {
    /// A resource with no attributes and no ancestors.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an attribute.
    #[must_use]
    pub fn with_attribute(mut self, name: &str, value: impl Into<AttrValue>) -> Self {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }

    /// Adds an ancestor (a folder, project or tenant the resource is in). List every ancestor,
    /// not only the direct parent: the slice holds only this entity, so `resource in X` sees
    /// exactly the ancestors listed here.
    #[must_use]
    pub fn with_ancestor(mut self, ancestor: ResourceRef) -> Self {
        self.ancestors.push(ancestor);
        self
    }
}

/// Maps the host's resources to Cedar entities. Called once per decision, for the resource
/// only: principals and roles come from the [`crate::RoleStore`].
#[async_trait]
pub trait EntityProvider: Debug + Send + Sync + 'static {
    /// The attributes and ancestors of `resource`, or `None` when the host has no such
    /// resource (the request is then denied).
    async fn resource(&self, resource: &ResourceRef) -> Result<Option<ResourceEntity>, BoxError>;
}
