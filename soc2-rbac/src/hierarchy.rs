//! Role hierarchy walks shared by stores and the SoD scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{RoleName, RoleNode};

/// The role hierarchy as a map from role to parents.
pub(crate) type Parents = HashMap<RoleName, Vec<RoleName>>;

/// Every role reachable from `assigned` (themselves included), each with its parents, sorted.
pub(crate) fn closure<'a>(
    assigned: impl IntoIterator<Item = &'a RoleName>,
    parents: &Parents,
) -> Vec<RoleNode> {
    let mut found: BTreeMap<RoleName, Vec<RoleName>> = BTreeMap::new();
    let mut pending: Vec<RoleName> = assigned.into_iter().cloned().collect();
    while let Some(role) = pending.pop() {
        if found.contains_key(&role) {
            continue;
        }
        let role_parents = parents.get(&role).cloned().unwrap_or_default();
        pending.extend(role_parents.iter().cloned());
        found.insert(role, role_parents);
    }
    found
        .into_iter()
        .map(|(role, parents)| RoleNode { role, parents })
        .collect()
}

/// The names of every role reachable from `assigned`.
pub(crate) fn effective<'a>(
    assigned: impl IntoIterator<Item = &'a RoleName>,
    parents: &Parents,
) -> BTreeSet<RoleName> {
    closure(assigned, parents)
        .into_iter()
        .map(|node| node.role)
        .collect()
}

/// True when giving `role` the parents `new_parents` would make it its own ancestor.
pub(crate) fn would_cycle(role: &RoleName, new_parents: &[RoleName], parents: &Parents) -> bool {
    closure(new_parents, parents)
        .iter()
        .any(|node| &node.role == role)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> RoleName {
        RoleName::new(name).unwrap()
    }

    #[test]
    fn closure_follows_parents_once_and_detects_cycles() {
        let parents: Parents = HashMap::from([
            (role("approver"), vec![role("engineer")]),
            (role("lead"), vec![role("approver"), role("engineer")]),
        ]);
        let nodes = closure([&role("lead")], &parents);
        let names: Vec<&str> = nodes.iter().map(|n| n.role.as_str()).collect();
        assert_eq!(names, ["approver", "engineer", "lead"]);
        assert_eq!(nodes[2].parents, [role("approver"), role("engineer")]);
        assert!(would_cycle(&role("engineer"), &[role("lead")], &parents));
        assert!(would_cycle(
            &role("engineer"),
            &[role("engineer")],
            &parents
        ));
        assert!(!would_cycle(&role("auditor"), &[role("lead")], &parents));
    }
}
