//! Real WebAuthn ceremonies for the passkey tests: webauthn-authenticator-rs's software
//! authenticator plays the user's device and the browser.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

pub(crate) mod login;

use soc2_auth::passkey::PasskeyPrompt;
use soc2_core::UserId;
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse, Url,
    WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// The relying party the tests configure.
pub(crate) const RP_ID: &str = "example.com";
/// The one origin allowed to run ceremonies.
pub(crate) const ORIGIN: &str = "https://app.example.com";

/// A device with a software authenticator that performs user verification.
pub(crate) struct Device(SoftPasskey);

impl Device {
    pub(crate) fn new() -> Self {
        Self(SoftPasskey::new(true))
    }

    /// The browser's answer (JSON) to registration options, on [`ORIGIN`].
    pub(crate) fn register(&mut self, prompt: &PasskeyPrompt) -> String {
        let options: CreationChallengeResponse = serde_json::from_str(&prompt.options).unwrap();
        let response = self.0.do_registration(origin(ORIGIN), options).unwrap();
        serde_json::to_string(&response).unwrap()
    }

    /// A registration answer (JSON) made for `origin` by a client that does not check it.
    pub(crate) fn register_at(&mut self, prompt: &PasskeyPrompt, at: &str) -> String {
        let options: CreationChallengeResponse = serde_json::from_str(&prompt.options).unwrap();
        let response = AuthenticatorBackend::perform_register(
            &mut self.0,
            origin(at),
            options.public_key,
            60_000,
        )
        .unwrap();
        serde_json::to_string(&response).unwrap()
    }

    /// The browser's answer (JSON) to assertion options, on [`ORIGIN`].
    pub(crate) fn assert(&mut self, prompt: &PasskeyPrompt) -> String {
        serde_json::to_string(&self.assertion(prompt, ORIGIN)).unwrap()
    }

    /// An assertion signed for `origin` by a client that does not check it (a phishing page
    /// relaying the options to the device).
    pub(crate) fn assertion(&mut self, prompt: &PasskeyPrompt, at: &str) -> PublicKeyCredential {
        let options: RequestChallengeResponse = serde_json::from_str(&prompt.options).unwrap();
        AuthenticatorBackend::perform_auth(&mut self.0, origin(at), options.public_key, 60_000)
            .unwrap()
    }

    /// An assertion by the credential `credential_id` whatever the options allow (a client
    /// that offers a credential the server did not ask for).
    pub(crate) fn assert_with(&mut self, prompt: &PasskeyPrompt, credential_id: &str) -> String {
        let mut options: RequestChallengeResponse = serde_json::from_str(&prompt.options).unwrap();
        options.public_key.allow_credentials = serde_json::from_value(serde_json::json!([
            { "type": "public-key", "id": credential_id }
        ]))
        .unwrap();
        let response = self.0.do_authentication(origin(ORIGIN), options).unwrap();
        serde_json::to_string(&response).unwrap()
    }

    /// A discoverable credential's answer to options without `allowCredentials`: the software
    /// authenticator keeps no resident keys, so the test names the credential it holds and
    /// adds the user handle such an authenticator returns (unsigned, as in WebAuthn).
    pub(crate) fn discover(
        &mut self,
        prompt: &PasskeyPrompt,
        credential_id: &str,
        user_handle: Option<UserId>,
    ) -> String {
        let mut response: PublicKeyCredential =
            serde_json::from_str(&self.assert_with(prompt, credential_id)).unwrap();
        response.response.user_handle = user_handle.map(|user| user.as_uuid().as_bytes().to_vec());
        serde_json::to_string(&response).unwrap()
    }
}

/// The token of a prompt.
pub(crate) fn token(prompt: &PasskeyPrompt) -> &str {
    prompt.challenge.token().expose_secret()
}

/// The options of a prompt as JSON.
pub(crate) fn options(prompt: &PasskeyPrompt) -> serde_json::Value {
    serde_json::from_str(&prompt.options).unwrap()
}

fn origin(at: &str) -> Url {
    Url::parse(at).unwrap()
}
