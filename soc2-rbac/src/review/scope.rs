//! The role assignments a campaign's scope covers, read from the `RoleStore`.

use soc2_core::{StoreError, UserId};

use super::ReviewScope;
use crate::{RoleName, RoleStore};

/// Users per page when walking every assignment.
const PAGE: usize = 1000;

/// Every direct assignment in `scope`, as (user, role), sorted and without duplicates.
pub(crate) async fn assignments(
    roles: &dyn RoleStore,
    scope: &ReviewScope,
) -> Result<Vec<(UserId, RoleName)>, StoreError> {
    let mut found = Vec::new();
    match scope {
        ReviewScope::AllUsers => {
            let mut after = None;
            loop {
                let page = roles.assignments(after, PAGE).await?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                found.extend(
                    page.into_iter()
                        .flat_map(|(user, held)| held.into_iter().map(move |role| (user, role))),
                );
            }
        }
        ReviewScope::Roles(scope) => {
            for role in scope {
                let holders = roles.holders(role).await?;
                found.extend(holders.into_iter().map(|user| (user, role.clone())));
            }
        }
    }
    found.sort_unstable();
    found.dedup();
    Ok(found)
}
