//! `SubjectFacts`: what the host knows about a reviewed user (soc2-rbac does not see accounts).

use std::fmt::Debug;

use async_trait::async_trait;
use soc2_core::{BoxError, UserId};

use super::SubjectInfo;

/// The host's account facts a reviewer decides on: username, last login, MFA status (e.g. from
/// soc2-auth's credential and MFA stores).
#[async_trait]
pub trait SubjectFacts: Debug + Send + Sync + 'static {
    /// The facts of `user`. A user the host no longer knows should still be answered (e.g.
    /// with an empty username and no login), so the orphaned role gets reviewed; an error
    /// stops the campaign from starting.
    async fn facts(&self, user: UserId) -> Result<SubjectInfo, BoxError>;
}
