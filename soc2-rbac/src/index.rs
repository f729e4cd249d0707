//! The policy index: per action, only the policies whose scope can match a request on it, and
//! of those scoped to a role (`principal in Role::"x"`), only the ones for roles the principal
//! holds. Cedar evaluates every policy of the set it is given, so with one policy per role a
//! decision over the whole set grows with the number of roles; over the selected policies it
//! grows only with the roles the principal holds.
//!
//! The selection is exact: a policy left out has a scope that is false for the request, so
//! Cedar would neither satisfy it nor report an error for it (a policy's scope is evaluated
//! before its conditions, and a false scope stops the evaluation). Decisions, determining
//! policies and evaluation errors are those of the whole set; the property test below checks
//! it against `cedar_policy::Authorizer::is_authorized` on the whole set.

use std::collections::HashMap;

use cedar_policy::{
    ActionConstraint, EntityTypeName, EntityUid, Policy, PolicySet, PolicySetError,
    PrincipalConstraint,
};

/// The policies of a set that can apply to requests on one action.
#[derive(Debug, Default)]
pub(crate) struct ActionPolicies {
    /// Policies whose principal scope names no role (any principal, `==`, `is`, `in` another
    /// entity): they can apply whatever roles the principal holds.
    unscoped: Vec<Policy>,
    /// Policies scoped `principal in Role::"x"` or `principal is T in Role::"x"`, by `x`: they
    /// can apply only when the principal is a member of `x`.
    by_role: HashMap<String, Vec<Policy>>,
}

impl ActionPolicies {
    /// The policies of `policies` whose action scope matches `action`, a member of the action
    /// groups `groups` (transitively closed, as [`cedar_policy::Schema::action_entities`]
    /// gives them).
    pub(crate) fn new(
        policies: &PolicySet,
        action: &EntityUid,
        groups: &[EntityUid],
        role_type: &EntityTypeName,
    ) -> Self {
        let mut index = Self::default();
        let applies = |uid: &EntityUid| uid == action || groups.contains(uid);
        for policy in policies.policies() {
            let matches = match policy.action_constraint() {
                ActionConstraint::Any => true,
                ActionConstraint::Eq(uid) => uid == *action,
                ActionConstraint::In(uids) => uids.iter().any(applies),
            };
            if !matches {
                continue;
            }
            let role = match policy.principal_constraint() {
                PrincipalConstraint::In(uid) | PrincipalConstraint::IsIn(_, uid)
                    if uid.type_name() == role_type =>
                {
                    Some(uid.id().unescaped().to_owned())
                }
                _ => None,
            };
            match role {
                Some(role) => index.by_role.entry(role).or_default().push(policy.clone()),
                None => index.unscoped.push(policy.clone()),
            }
        }
        index
    }

    /// The policy set for a request on this action by a principal whose roles (every role it
    /// is a member of, directly or through the hierarchy) are among `roles`. Extra roles only
    /// add policies whose scope is false.
    pub(crate) fn select<'a>(
        &self,
        roles: impl IntoIterator<Item = &'a str>,
    ) -> Result<PolicySet, Box<PolicySetError>> {
        let mut set = PolicySet::new();
        for policy in &self.unscoped {
            set.add(policy.clone()).map_err(Box::new)?;
        }
        for role in roles {
            for policy in self.by_role.get(role).into_iter().flatten() {
                // A role named twice (e.g. held directly and inherited) adds its policies once.
                if set.policy(policy.id()).is_none() {
                    set.add(policy.clone()).map_err(Box::new)?;
                }
            }
        }
        Ok(set)
    }

    /// How many policies can apply to this action at all.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.unscoped.len() + self.by_role.values().map(Vec::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashSet;
    use std::str::FromStr;

    use cedar_policy::{
        Authorizer, Context, Entities, Entity, EntityId, Request, RestrictedExpression, Schema,
    };
    use proptest::prelude::*;

    use super::*;
    use crate::test_support::outcome;

    const ROLES: usize = 5;
    const ACTIONS: [&str; 4] = ["read", "write", "delete", "approve"];
    const DOCS: usize = 3;
    const SCHEMA: &str = r#"
        entity Role in [Role];
        entity User in [Role];
        entity Doc = { owner: User, level: Long, tags?: Set<String> };
        action all;
        action edit in [all];
        action read in [all] appliesTo { principal: [User], resource: [Doc] };
        action write in [edit] appliesTo { principal: [User], resource: [Doc] };
        action delete in [edit] appliesTo { principal: [User], resource: [Doc] };
        action approve appliesTo { principal: [User], resource: [Doc] };
    "#;

    fn uid(ty: &str, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(EntityTypeName::from_str(ty).unwrap(), EntityId::new(id))
    }

    /// One random policy as Cedar text.
    #[derive(Debug, Clone)]
    struct PolicyText(String);

    fn principal_scope() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("principal".to_owned()),
            (0..ROLES).prop_map(|r| format!(r#"principal in Role::"r{r}""#)),
            (0..ROLES).prop_map(|r| format!(r#"principal is User in Role::"r{r}""#)),
            (0..2usize).prop_map(|u| format!(r#"principal == User::"u{u}""#)),
            Just("principal is User".to_owned()),
            // `in` a user (equality) and `in` a role that nobody holds.
            Just(r#"principal in User::"u0""#.to_owned()),
            Just(r#"principal in Role::"nobody""#.to_owned()),
        ]
    }

    fn action_scope() -> impl Strategy<Value = String> {
        let action = || prop::sample::select(&ACTIONS[..]);
        prop_oneof![
            Just("action".to_owned()),
            action().prop_map(|a| format!(r#"action == Action::"{a}""#)),
            (action(), action())
                .prop_map(|(a, b)| format!(r#"action in [Action::"{a}", Action::"{b}"]"#)),
            prop::sample::select(&["all", "edit"][..])
                .prop_map(|g| format!(r#"action in Action::"{g}""#)),
            Just(r#"action in [Action::"edit", Action::"approve"]"#.to_owned()),
        ]
    }

    fn resource_scope() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => Just("resource".to_owned()),
            1 => (0..DOCS).prop_map(|d| format!(r#"resource == Doc::"d{d}""#)),
        ]
    }

    fn condition() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => Just(String::new()),
            1 => (0..4i64).prop_map(|l| format!("when {{ resource.level > {l} }}")),
            1 => Just("when { resource.owner == principal }".to_owned()),
            1 => Just("unless { resource.owner == principal }".to_owned()),
            // Fails to evaluate on documents without tags.
            1 => Just(r#"when { resource.tags.contains("x") }"#.to_owned()),
            1 => (0..ROLES).prop_map(|r| format!(r#"when {{ principal in Role::"r{r}" }}"#)),
            1 => (0..ROLES).prop_map(|r| format!(r#"when {{ Role::"r{r}" in Role::"r0" }}"#)),
        ]
    }

    fn policy() -> impl Strategy<Value = PolicyText> {
        (
            prop::bool::weighted(0.7),
            principal_scope(),
            action_scope(),
            resource_scope(),
            condition(),
        )
            .prop_map(|(permit, p, a, r, c)| {
                let effect = if permit { "permit" } else { "forbid" };
                PolicyText(format!("{effect} ({p}, {a}, {r}) {c};"))
            })
    }

    /// Role `i`'s parents are among the roles after it (a DAG); the user's roles; each
    /// document's owner, level and whether it has tags.
    #[derive(Debug, Clone)]
    struct World {
        parents: Vec<Vec<usize>>,
        user_roles: Vec<usize>,
        docs: Vec<(usize, i64, Option<bool>)>,
    }

    fn world() -> impl Strategy<Value = World> {
        (
            prop::collection::vec(prop::collection::vec(0..ROLES, 0..3), ROLES),
            prop::collection::vec(0..ROLES, 0..4),
            prop::collection::vec((0..2usize, 0..5i64, prop::option::of(any::<bool>())), DOCS),
        )
            .prop_map(|(parents, user_roles, docs)| World {
                parents: parents
                    .into_iter()
                    .enumerate()
                    .map(|(i, ps)| ps.into_iter().filter(|&p| p > i).collect())
                    .collect(),
                user_roles,
                docs,
            })
    }

    fn entities(world: &World) -> Entities {
        let role = |r: usize| uid("Role", &format!("r{r}"));
        let mut all: Vec<Entity> = world
            .parents
            .iter()
            .enumerate()
            .map(|(r, ps)| Entity::new_no_attrs(role(r), ps.iter().map(|&p| role(p)).collect()))
            .collect();
        all.push(Entity::new_no_attrs(
            uid("User", "u0"),
            world.user_roles.iter().map(|&r| role(r)).collect(),
        ));
        all.push(Entity::new_no_attrs(uid("User", "u1"), HashSet::new()));
        for (d, (owner, level, tags)) in world.docs.iter().enumerate() {
            let mut attrs = HashMap::from([
                (
                    "owner".to_owned(),
                    RestrictedExpression::new_entity_uid(uid("User", &format!("u{owner}"))),
                ),
                ("level".to_owned(), RestrictedExpression::new_long(*level)),
            ]);
            if let Some(x) = tags {
                let tag = if *x { "x" } else { "y" };
                attrs.insert(
                    "tags".to_owned(),
                    RestrictedExpression::new_set([RestrictedExpression::new_string(tag.into())]),
                );
            }
            all.push(Entity::new(uid("Doc", &format!("d{d}")), attrs, HashSet::new()).unwrap());
        }
        Entities::from_entities(all, None).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Over random policies (permits and forbids, every scope form, conditions that hold,
        /// fail or fail to evaluate) and random role hierarchies, the selected policies give
        /// exactly the decision, determining policies and errors of the whole set.
        #[test]
        fn the_selection_decides_as_the_whole_set(
            texts in prop::collection::vec(policy(), 1..40),
            world in world(),
            action in prop::sample::select(&ACTIONS[..]),
            doc in 0..DOCS,
        ) {
            let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
            let mut full = PolicySet::new();
            for (i, PolicyText(text)) in texts.iter().enumerate() {
                let policy = Policy::parse(Some(cedar_policy::PolicyId::new(format!("p{i}"))), text)
                    .unwrap();
                full.add(policy).unwrap();
            }
            let entities = entities(&world);
            let action_uid = uid("Action", action);
            let actions = schema.action_entities().unwrap();
            let groups: Vec<EntityUid> =
                actions.ancestors(&action_uid).unwrap().cloned().collect();
            let index = ActionPolicies::new(
                &full,
                &action_uid,
                &groups,
                &EntityTypeName::from_str("Role").unwrap(),
            );
            let principal = uid("User", "u0");
            let held: Vec<String> = entities
                .ancestors(&principal)
                .unwrap()
                .map(|role| role.id().unescaped().to_owned())
                .collect();
            let selected = index.select(held.iter().map(String::as_str)).unwrap();
            let request = Request::new(
                principal,
                action_uid,
                uid("Doc", &format!("d{doc}")),
                Context::empty(),
                None,
            )
            .unwrap();
            let all_entities = Entities::from_entities(
                entities.iter().cloned().chain(actions.iter().cloned()),
                None,
            )
            .unwrap();
            let authorizer = Authorizer::new();
            let whole = authorizer.is_authorized(&request, &full, &all_entities);
            let part = authorizer.is_authorized(&request, &selected, &all_entities);
            prop_assert_eq!(outcome(&part), outcome(&whole));
            prop_assert!(selected.policies().count() <= index.len());
        }
    }

    /// One policy per role: a request evaluates the unscoped policies and those of the roles
    /// held, not the other roles' policies.
    #[test]
    fn one_policy_per_role_selects_only_the_roles_held() {
        let text: String = (0..1000)
            .map(|r| {
                format!(
                    "permit (principal in Role::\"r{r}\", action == Action::\"read\", resource);\n"
                )
            })
            .chain([r#"forbid (principal, action, resource) when { resource.level > 3 };"#.into()])
            .chain([r#"permit (principal, action == Action::"write", resource);"#.into()])
            .collect();
        let policies = PolicySet::from_str(&text).unwrap();
        let read = uid("Action", "read");
        let index = ActionPolicies::new(
            &policies,
            &read,
            &[uid("Action", "all")],
            &EntityTypeName::from_str("Role").unwrap(),
        );
        assert_eq!(index.len(), 1001);
        let selected = index.select(["r7", "r900", "r7", "unknown"]).unwrap();
        let mut ids: Vec<String> = selected.policies().map(|p| p.id().to_string()).collect();
        ids.sort_unstable();
        // `policy1000` is the unscoped forbid; the `write` permit is not for this action.
        assert_eq!(ids, ["policy1000", "policy7", "policy900"]);
    }
}
