//! Authorization wiring: the policy directory, the role store and the login's MFA-by-role rule.

use std::sync::Arc;

use async_trait::async_trait;
use soc2_auth::login::RoleLookup;
use soc2_core::{BoxError, Clock, UserId};
use soc2_rbac::RoleStore;

/// The roles a user holds now (assigned, inherited, elevated), for the login's MFA rule.
#[derive(Debug)]
pub(crate) struct HeldRoles {
    pub(crate) store: Arc<dyn RoleStore>,
    pub(crate) clock: Arc<dyn Clock>,
}

#[async_trait]
impl RoleLookup for HeldRoles {
    async fn roles(&self, user: UserId) -> Result<Vec<String>, BoxError> {
        let held = self.store.user_roles(user, self.clock.now()).await?;
        Ok(held
            .closure
            .iter()
            .map(|node| node.role.as_str().to_owned())
            .collect())
    }
}
