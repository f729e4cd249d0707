//! The first administrator, created on an empty database.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};
use soc2_audit::{Actor, AuditStore};
use soc2_auth::password::UserContext;
use soc2_auth::{AuthError, PasswordAuth};
use soc2_core::{RequestContext, SecretString, UserId};
use soc2_rbac::{RoleManager, RoleName};
use zeroize::Zeroizing;

use crate::StartError;

/// The administrator's login name. Registration refuses it, so only this bootstrap creates it.
pub(crate) const ADMIN_USERNAME: &str = "admin";

/// The role the first administrator holds (the example policies' administrators).
pub(crate) const ADMIN_ROLE: &str = "admin";

/// On an empty database (no audit event yet), creates `admin` with `configured`, or with a
/// random password that must be changed at the first login, which is returned to print once.
/// Of instances starting together on one empty database, the first to register creates it
/// and the others go on without.
pub(crate) async fn ensure_admin(
    auth: &PasswordAuth,
    roles: &RoleManager,
    audit: &dyn AuditStore,
    configured: Option<&SecretString>,
) -> Result<Option<SecretString>, StartError> {
    if audit.head().await?.is_some() {
        return Ok(None);
    }
    let generated = match configured {
        Some(_) => None,
        None => Some(random_password()?),
    };
    let password = configured
        .or(generated.as_ref())
        .map(|p| p.expose_secret().as_str());
    let user = UserId::new_v7();
    let context = RequestContext::new();
    let registered = auth
        .register(
            user,
            ADMIN_USERNAME,
            password,
            &UserContext::default(),
            &context,
        )
        .await;
    match registered {
        Ok(_) => {}
        // Another instance starting on the same empty database created it first.
        Err(AuthError::UsernameTaken) => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    if generated.is_some() {
        auth.require_change(user, true, Actor::System, &context)
            .await?;
    }
    let admin = RoleName::new(ADMIN_ROLE)?;
    roles.assign(Actor::System, user, &admin).await?;
    Ok(generated)
}

/// 24 random bytes as base64url: 192 bits, 32 characters.
fn random_password() -> Result<SecretString, StartError> {
    let mut bytes = Zeroizing::new([0u8; 24]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| StartError::Random)?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(bytes.as_ref())))
}
