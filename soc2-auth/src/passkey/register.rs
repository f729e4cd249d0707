//! The registration ceremony (W3C WebAuthn Level 3 §7.1).

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, StoreError, UserId};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::input;
use super::service::{about, not_started, stored};
use super::{PasskeyAuth, PasskeyError, PasskeyInfo, PasskeyPrompt, PasskeyRecord, PasskeyRefusal};

const REGISTER: &str = "passkey_register";

impl PasskeyAuth {
    /// Starts registering a passkey for `user`: the options for
    /// `navigator.credentials.create()` (user verification required; the user's credentials
    /// excluded so an authenticator is not registered twice) and the ceremony's token.
    /// `username` and `display_name` are shown by the authenticator; the user handle it
    /// stores is the user id, never a name (W3C WebAuthn Level 3 §14.6.1).
    ///
    /// # Errors
    /// [`PasskeyError::InvalidName`], store, random and serialization failures.
    pub async fn begin_registration(
        &self,
        user: UserId,
        username: &str,
        display_name: &str,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let username = input::name("username", username)?;
        let display_name = input::name("display_name", display_name)?;
        let exclude = self
            .store
            .passkeys(user)
            .await?
            .iter()
            .filter_map(|record| input::decode_id(&record.credential_id))
            .collect();
        let (options, state) = self
            .config
            .webauthn()
            .start_passkey_registration(user.as_uuid(), &username, &display_name, Some(exclude))
            .map_err(|error| not_started(&error))?;
        self.open(REGISTER, user, &state, &options).await
    }

    /// Finishes a registration with the browser's response (JSON) and stores the credential
    /// under `name`, audited (`auth.mfa.enrolled`). The ceremony is spent unless the name or
    /// the response is refused before it is looked up.
    ///
    /// # Errors
    /// [`PasskeyError::InvalidName`], [`PasskeyError::ResponseTooLarge`] and
    /// [`PasskeyError::MalformedResponse`] (nothing changed);
    /// [`PasskeyError::Refused`] for an unknown ceremony, a response that does not verify and
    /// a credential registered already; store and audit failures.
    pub async fn finish_registration(
        &self,
        user: UserId,
        token: &str,
        name: &str,
        response: &str,
        context: &RequestContext,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let name = input::name("name", name)?;
        let response: RegisterPublicKeyCredential = input::response(response)?;
        let state: PasskeyRegistration = self
            .take(REGISTER, token)
            .await?
            .filter(|ceremony| ceremony.user_id == user)
            .and_then(|ceremony| serde_json::from_str(&ceremony.payload).ok())
            .ok_or(PasskeyError::Refused(PasskeyRefusal::UnknownCeremony))?;
        let passkey = self
            .config
            .webauthn()
            .finish_passkey_registration(&response, &state)
            .map_err(|error| PasskeyError::Refused(PasskeyRefusal::from_webauthn(&error)))?;
        let credential_id = input::encode_id(passkey.cred_id());
        let record = PasskeyRecord::new(user, credential_id, name, stored(&passkey)?, self.now());
        let permit = self.audit.reserve()?;
        self.store
            .add_passkey(&record)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => PasskeyError::Refused(PasskeyRefusal::AlreadyRegistered),
                other => PasskeyError::Store(other),
            })?;
        let event = self.event(
            SdkAction::MfaEnrolled,
            Outcome::Success,
            Actor::user(user),
            Some(user),
            context,
        );
        permit.record(about(event, &record.credential_id, Some(&record.name)));
        Ok(PasskeyInfo::from(&record))
    }
}
