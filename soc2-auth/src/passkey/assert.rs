//! The authentication ceremony (W3C WebAuthn Level 3 §7.2): a passkey as second factor for a
//! known user, or discoverable for a passwordless sign-in.

use soc2_audit::{Actor, Outcome, SdkAction};
use soc2_core::{RequestContext, UserId};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PublicKeyCredential, RequestChallengeResponse, Uuid, WebauthnError,
};

use super::service::{about, not_started, parse_passkey, stored};
use super::{PasskeyAuth, PasskeyCheck, PasskeyError, PasskeyPrompt, PasskeyRecord};
use super::{PasskeyRefusal, input};

const AUTHENTICATE: &str = "passkey_auth";
const DISCOVERABLE: &str = "passkey_discoverable";

/// The user a discoverable ceremony is bound to: none yet (the nil UUID).
const NO_USER: UserId = UserId::from_uuid(Uuid::nil());

/// How often a use is re-applied when a concurrent use of the same credential changed it
/// first (each retry re-checks the signature counter against the newer state).
const USE_ATTEMPTS: usize = 3;

impl PasskeyAuth {
    /// Starts a second-factor assertion for `user`: the options for
    /// `navigator.credentials.get()` (the user's credentials as `allowCredentials`, user
    /// verification required) and the ceremony's token.
    ///
    /// # Errors
    /// [`PasskeyError::NoPasskeys`], store, random and serialization failures.
    pub async fn begin_authentication(&self, user: UserId) -> Result<PasskeyPrompt, PasskeyError> {
        self.begin_authentication_as(AUTHENTICATE, user).await
    }

    /// [`PasskeyAuth::begin_authentication`] with a ceremony of `kind` (a login's MFA
    /// challenge carries the passkey state as its payload).
    pub(crate) async fn begin_authentication_as(
        &self,
        kind: &str,
        user: UserId,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let (state, options) = self.assertion_options(user).await?;
        self.open(kind, user, &state, &options).await
    }

    /// Checks the browser's answer (JSON) to [`PasskeyAuth::begin_authentication`]: the
    /// ceremony (spent by this call), then the second-factor counter, then the credential
    /// (the user's), signature, origin, challenge and user verification, then the signature
    /// counter, which is stored with the backup flags and the time of use by compare-and-set.
    /// Audited (`auth.mfa.verified` / `auth.mfa.failed`).
    ///
    /// # Errors
    /// [`PasskeyError::ResponseTooLarge`] and [`PasskeyError::MalformedResponse`] (nothing
    /// changed, the ceremony not spent); store and audit failures.
    pub async fn finish_authentication(
        &self,
        user: UserId,
        token: &str,
        response: &str,
        context: &RequestContext,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let response: PublicKeyCredential = input::response(response)?;
        let state = self
            .take(AUTHENTICATE, token)
            .await?
            .filter(|ceremony| ceremony.user_id == user)
            .map(|ceremony| ceremony.payload);
        self.check_assertion(user, state.as_deref(), &response, context)
            .await
    }

    /// Starts a passwordless sign-in: options without `allowCredentials`, so the
    /// authenticator offers the discoverable credentials it holds for this relying party.
    ///
    /// # Errors
    /// Store, random and serialization failures.
    pub async fn begin_discoverable(&self) -> Result<PasskeyPrompt, PasskeyError> {
        let (options, state) = self
            .config
            .webauthn()
            .start_discoverable_authentication()
            .map_err(|error| not_started(&error))?;
        self.open(DISCOVERABLE, NO_USER, &state, &options).await
    }

    /// Checks the browser's answer (JSON) to [`PasskeyAuth::begin_discoverable`]: the
    /// credential names its owner, whose user handle must match, and then as
    /// [`PasskeyAuth::finish_authentication`]. [`PasskeyCheck::Accepted`] names the user.
    ///
    /// # Errors
    /// As [`PasskeyAuth::finish_authentication`].
    pub async fn finish_discoverable(
        &self,
        token: &str,
        response: &str,
        context: &RequestContext,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let response: PublicKeyCredential = input::response(response)?;
        let state: Option<DiscoverableAuthentication> = self
            .take(DISCOVERABLE, token)
            .await?
            .and_then(|ceremony| serde_json::from_str(&ceremony.payload).ok());
        let credential_id = input::encode_id(response.raw_id.as_slice());
        let Some(state) = state else {
            return self.audited(
                None,
                &credential_id,
                None,
                PasskeyCheck::Refused(PasskeyRefusal::UnknownCeremony),
                context,
            );
        };
        let Some(record) = self.find(&credential_id).await? else {
            return self.audited(
                None,
                &credential_id,
                None,
                PasskeyCheck::Refused(PasskeyRefusal::UnknownCredential),
                context,
            );
        };
        let owner = record.user_id;
        let counter = self.counter.state(owner).await?;
        let check = self
            .counter
            .run(owner, counter, context, async {
                let webauthn = self.config.webauthn();
                let handle = webauthn.identify_discoverable_authentication(&response);
                if !handle.is_ok_and(|(handle, _)| handle == owner.as_uuid()) {
                    return Ok(PasskeyCheck::Refused(PasskeyRefusal::NotUsersCredential));
                }
                self.verified(&record, |passkey| {
                    webauthn.finish_discoverable_authentication_v2(&response, state, passkey)
                })
                .await
            })
            .await?;
        self.audited(Some(owner), &credential_id, Some(&record), check, context)
    }

    /// [`PasskeyAuth::finish_authentication`] for a ceremony taken by the caller: `state`
    /// is its payload (anything unreadable is an unknown ceremony).
    pub(crate) async fn finish_authentication_with(
        &self,
        user: UserId,
        state: &str,
        response: &str,
        context: &RequestContext,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let response: PublicKeyCredential = input::response(response)?;
        self.check_assertion(user, Some(state), &response, context)
            .await
    }

    /// The state (to keep) and options (to send) of an assertion by one of `user`'s passkeys.
    async fn assertion_options(
        &self,
        user: UserId,
    ) -> Result<(PasskeyAuthentication, RequestChallengeResponse), PasskeyError> {
        let passkeys = self
            .store
            .passkeys(user)
            .await?
            .iter()
            .map(parse_passkey)
            .collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(PasskeyError::NoPasskeys);
        }
        let (options, state) = self
            .config
            .webauthn()
            .start_passkey_authentication(&passkeys)
            .map_err(|error| not_started(&error))?;
        Ok((state, options))
    }

    /// Checks an assertion by `user` against the ceremony state `state` (JSON; `None` or
    /// unreadable: an unknown ceremony), counted and audited.
    async fn check_assertion(
        &self,
        user: UserId,
        state: Option<&str>,
        response: &PublicKeyCredential,
        context: &RequestContext,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let credential_id = input::encode_id(response.raw_id.as_slice());
        let state: Option<PasskeyAuthentication> =
            state.and_then(|state| serde_json::from_str(state).ok());
        let Some(state) = state else {
            return self.audited(
                Some(user),
                &credential_id,
                None,
                PasskeyCheck::Refused(PasskeyRefusal::UnknownCeremony),
                context,
            );
        };
        let (record, counter) = tokio::join!(self.find(&credential_id), self.counter.state(user));
        let record = record?.filter(|record| record.user_id == user);
        let check = self
            .counter
            .run(user, counter?, context, async {
                let Some(record) = &record else {
                    return Ok(PasskeyCheck::Refused(PasskeyRefusal::NotUsersCredential));
                };
                self.verified(record, |_| {
                    self.config
                        .webauthn()
                        .finish_passkey_authentication(response, &state)
                })
                .await
            })
            .await?;
        self.audited(Some(user), &credential_id, record.as_ref(), check, context)
    }

    /// Runs `verify` on the record's passkey; on success records the use.
    async fn verified(
        &self,
        record: &PasskeyRecord,
        verify: impl FnOnce(&Passkey) -> Result<AuthenticationResult, WebauthnError>,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let passkey = parse_passkey(record)?;
        match verify(&passkey) {
            Ok(result) => self.record_use(record.clone(), &result).await,
            Err(error) => Ok(PasskeyCheck::Refused(PasskeyRefusal::from_webauthn(&error))),
        }
    }

    /// Stores the signature counter and backup flags of a verified assertion with the time
    /// of use, by compare-and-set on the stored state. The counter rule (W3C WebAuthn Level 3
    /// §7.2) is applied to the state it replaces, so of two uses verified against one state
    /// the later-stored one is refused when its counter is not newer.
    async fn record_use(
        &self,
        mut record: PasskeyRecord,
        result: &AuthenticationResult,
    ) -> Result<PasskeyCheck, PasskeyError> {
        for _ in 0..USE_ATTEMPTS {
            let stored_count = record.passkey.sign_count;
            if (result.counter() > 0 || stored_count > 0) && result.counter() <= stored_count {
                return Ok(PasskeyCheck::Refused(PasskeyRefusal::Replayed));
            }
            let mut passkey = parse_passkey(&record)?;
            passkey.update_credential(result);
            let updated = stored(&passkey)?;
            let applied = self
                .store
                .record_passkey_use(
                    record.user_id,
                    &record.credential_id,
                    &record.passkey.json,
                    &updated,
                    self.now(),
                )
                .await?;
            if applied {
                return Ok(PasskeyCheck::Accepted(record.user_id));
            }
            match self.find(&record.credential_id).await? {
                Some(current) if current.user_id == record.user_id => record = current,
                _ => return Ok(PasskeyCheck::Refused(PasskeyRefusal::NotUsersCredential)),
            }
        }
        Err(PasskeyError::Store(soc2_core::StoreError::Conflict(
            "concurrent uses of one passkey kept changing it".into(),
        )))
    }

    /// Audits a check (`auth.mfa.verified` or `auth.mfa.failed` with the refusal) and
    /// returns it.
    fn audited(
        &self,
        user: Option<UserId>,
        credential_id: &str,
        record: Option<&PasskeyRecord>,
        check: PasskeyCheck,
        context: &RequestContext,
    ) -> Result<PasskeyCheck, PasskeyError> {
        let actor = user.map_or_else(|| Actor::anonymous(None), Actor::user);
        let event = match check {
            PasskeyCheck::Accepted(_) => self.event(
                SdkAction::MfaVerified,
                Outcome::Success,
                actor,
                user,
                context,
            ),
            PasskeyCheck::Refused(refusal) => self
                .event(SdkAction::MfaFailed, Outcome::Failure, actor, user, context)
                .with_reason(refusal.code()),
        };
        let name = record.map(|record| record.name.as_str());
        self.audit.record(about(event, credential_id, name))?;
        Ok(check)
    }
}
