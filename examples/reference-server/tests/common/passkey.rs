//! The passkey scenarios, run against every backend, with real WebAuthn ceremonies:
//! webauthn-authenticator-rs's software authenticator plays the user's device and browser.
//! Registration (step-up, CSRF, naming, refusals), list, rename, removal ending other
//! sessions; a passkey as second factor (replays and a foreign origin refused); passwordless
//! sign-in.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::time::Duration;

use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use webauthn_authenticator_rs::AuthenticatorBackend;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse, Url,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use soc2_core::Clock as _;
use time::format_description::well_known::Rfc3339;

use super::{Browser, ORIGIN, Reply, STRONG, TestServer};

/// The relying party id the test configuration implies: the host of [`ORIGIN`].
pub const RP_ID: &str = "app.test";
/// A phishing page's origin.
const PHISHING: &str = "https://app-test.example";

/// A device with a software authenticator that performs user verification, and a browser
/// that signs for whatever origin it is told (so tests can play a phishing page).
pub struct Device(SoftPasskey);

impl Device {
    pub fn new() -> Self {
        Self(SoftPasskey::new(true))
    }

    /// The answer of `navigator.credentials.create(options)` on `at`.
    pub fn register_at(&mut self, options: &Value, at: &str) -> Value {
        let options: CreationChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        let response = AuthenticatorBackend::perform_register(
            &mut self.0,
            url(at),
            options.public_key,
            60_000,
        )
        .unwrap();
        serde_json::to_value(response).unwrap()
    }

    /// The answer of `navigator.credentials.get(options)` on `at`.
    pub fn assert_at(&mut self, options: &Value, at: &str) -> Value {
        let options: RequestChallengeResponse = serde_json::from_value(options.clone()).unwrap();
        let response =
            AuthenticatorBackend::perform_auth(&mut self.0, url(at), options.public_key, 60_000)
                .unwrap();
        serde_json::to_value(response).unwrap()
    }

    /// A discoverable credential's answer to options without `allowCredentials`: the software
    /// authenticator keeps no resident keys, so the test names the credential it holds and
    /// adds the user handle such an authenticator returns (unsigned, as in WebAuthn).
    /// The answer is made on `at`.
    pub fn discover_at(
        &mut self,
        options: &Value,
        credential_id: &str,
        user_id: &str,
        at: &str,
    ) -> Value {
        let mut options = options.clone();
        options["publicKey"]["allowCredentials"] =
            json!([{ "type": "public-key", "id": credential_id }]);
        let mut response: PublicKeyCredential =
            serde_json::from_value(self.assert_at(&options, at)).unwrap();
        let handle = uuid::Uuid::parse_str(user_id).unwrap();
        response.response.user_handle = Some(handle.as_bytes().to_vec());
        serde_json::to_value(response).unwrap()
    }
}

fn url(at: &str) -> Url {
    Url::parse(at).unwrap()
}

/// `POST /api/me/passkeys`: the registration options; the raw reply.
async fn begin(server: &TestServer, browser: &Browser) -> Reply {
    server
        .unsafe_request(Method::POST, "/api/me/passkeys", None, browser)
        .await
}

/// `POST /api/me/passkeys/confirm`; the raw reply.
async fn confirm(
    server: &TestServer,
    browser: &Browser,
    ceremony: &str,
    name: &str,
    credential: &Value,
) -> Reply {
    let body = json!({"ceremony": ceremony, "name": name, "credential": credential});
    server
        .unsafe_request(
            Method::POST,
            "/api/me/passkeys/confirm",
            Some(body),
            browser,
        )
        .await
}

/// Registers a passkey on `device` named `name` for `browser`'s user; returns its id.
pub async fn enroll_passkey(
    server: &TestServer,
    browser: &Browser,
    device: &mut Device,
    name: &str,
) -> String {
    let started = begin(server, browser).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    let credential = device.register_at(&started["options"], ORIGIN);
    let ceremony = started["ceremony"].as_str().unwrap();
    let created = confirm(server, browser, ceremony, name, &credential).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    created.json()["id"].as_str().unwrap().to_owned()
}

/// `GET /api/me/passkeys`.
async fn listed(server: &TestServer, browser: &Browser) -> Vec<Value> {
    let reply = server.get("/api/me/passkeys", Some(browser)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["passkeys"].as_array().unwrap().clone()
}

/// The user's id, from `GET /api/me`.
async fn user_id(server: &TestServer, browser: &Browser) -> String {
    let me = server.get("/api/me", Some(browser)).await.json();
    me["id"].as_str().unwrap().to_owned()
}

/// Keeps `browser`'s session alive until its authentication is 16 minutes old (past the
/// 15-minute freshness of factor changes; the idle timeout is 5 minutes).
async fn let_authentication_age(server: &TestServer, browser: &Browser) {
    for _ in 0..4 {
        server.clock.advance(Duration::from_secs(4 * 60));
        assert_eq!(
            server.get("/api/me", Some(browser)).await.status,
            StatusCode::OK
        );
    }
}

/// Password: the `mfa_required` challenge of a user whose only factor is a passkey.
async fn passkey_challenge(server: &TestServer, username: &str) -> String {
    let login = server.login_reply(username, STRONG).await.json();
    assert_eq!(login["status"], "mfa_required", "{login}");
    assert_eq!(login["methods"], json!(["passkey"]));
    assert_eq!(login["passkey_options"], "/api/auth/mfa/passkey/options");
    login["challenge"].as_str().unwrap().to_owned()
}

/// `POST /api/auth/mfa/passkey/options`; the raw reply.
async fn passkey_options(server: &TestServer, challenge: &str) -> Reply {
    let body = json!({ "challenge": challenge });
    anonymous(server, "/api/auth/mfa/passkey/options", body).await
}

/// Password, then `POST /api/auth/mfa/passkey/options`: the new challenge and the options.
async fn mfa_passkey_options(server: &TestServer, username: &str) -> (String, Value) {
    let challenge = passkey_challenge(server, username).await;
    let reply = passkey_options(server, &challenge).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["next"], "/api/auth/mfa");
    (
        body["challenge"].as_str().unwrap().to_owned(),
        body["options"].clone(),
    )
}

/// `POST /api/auth/mfa` with a passkey answer; the raw reply.
async fn mfa_passkey(server: &TestServer, challenge: &str, credential: &Value) -> Reply {
    let body = json!({"challenge": challenge, "method": "passkey", "credential": credential});
    anonymous(server, "/api/auth/mfa", body).await
}

/// An anonymous `POST` from the application's page.
async fn anonymous(server: &TestServer, path: &str, body: Value) -> Reply {
    server
        .send(Method::POST, path, Some(body), &[("origin", ORIGIN)])
        .await
}

/// The server's time, as the API writes it.
fn now(server: &TestServer) -> String {
    server.clock.now().format(&Rfc3339).unwrap()
}

fn assert_invalid_credentials(reply: &Reply, what: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        reply.text()
    );
    assert_eq!(
        reply.json(),
        json!({"error": "invalid_credentials"}),
        "{what}"
    );
}

/// The factors of the browser's current session.
async fn session_factors(server: &TestServer, browser: &Browser) -> Value {
    let sessions = server.get("/api/me/sessions", Some(browser)).await.json();
    let current = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    current["factors"].clone()
}

/// Registration needs a fresh authentication and the CSRF token, answers with the relying
/// party's options, refuses a spent ceremony, a bad name or a malformed answer, and ends
/// the user's other sessions; the list, rename and removal (which ends other sessions too)
/// follow; everything is audited.
pub async fn registration_and_management(server: &TestServer) {
    let pia = server.sign_up("pia").await;
    let other = server.login("pia", STRONG).await;
    let mut laptop = Device::new();

    let forged = server
        .send(
            Method::POST,
            "/api/me/passkeys",
            None,
            &[("cookie", &pia.cookie), ("origin", ORIGIN)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(forged.json(), json!({"error": "csrf"}));

    let started = begin(server, &pia).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    assert_eq!(started["next"], "/api/me/passkeys/confirm");
    let ceremony = started["ceremony"].as_str().unwrap().to_owned();
    let public_key = &started["options"]["publicKey"];
    assert_eq!(
        public_key["rp"],
        json!({"id": RP_ID, "name": "soc2-rs reference"})
    );
    assert_eq!(public_key["user"]["name"], "pia");
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(public_key["timeout"], 300_000);
    let credential = laptop.register_at(&started["options"], ORIGIN);
    let registered_at = now(server);

    let unnamed = confirm(server, &pia, &ceremony, " \t", &credential).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unnamed.json()["error"], "invalid_name");
    let malformed = confirm(server, &pia, &ceremony, "Laptop", &json!({"id": 1})).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"], "invalid_request");
    // Neither refusal spent the ceremony.
    let created = confirm(server, &pia, &ceremony, "  Laptop ", &credential).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let created = created.json();
    let laptop_id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created,
        json!({
            "id": laptop_id,
            "name": "Laptop",
            "created_at": registered_at,
            "last_used_at": null,
            "backup_eligible": false,
            "backed_up": false,
        })
    );
    assert_eq!(
        server.get("/api/me", Some(&other)).await.status,
        StatusCode::UNAUTHORIZED,
        "registering a factor ends the other sessions"
    );
    let spent = confirm(server, &pia, &ceremony, "Laptop", &credential).await;
    assert_eq!(spent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(spent.json(), json!({"error": "invalid_passkey"}));

    // A registration made on another origin is refused.
    let phished = begin(server, &pia).await.json();
    let answer = laptop.register_at(&phished["options"], PHISHING);
    let ceremony = phished["ceremony"].as_str().unwrap();
    let refused = confirm(server, &pia, ceremony, "Phished", &answer).await;
    assert_eq!(refused.json(), json!({"error": "invalid_passkey"}));

    server.clock.advance(Duration::from_secs(60));
    let mut phone = Device::new();
    let phone_id = enroll_passkey(server, &pia, &mut phone, "Phone").await;
    let passkeys = listed(server, &pia).await;
    assert_eq!(passkeys.len(), 2);
    assert_eq!(passkeys[0], created);
    assert_eq!(passkeys[1]["id"], phone_id.as_str());
    assert_eq!(passkeys[1]["created_at"], now(server));
    let me = server.get("/api/me", Some(&pia)).await.json();
    assert_eq!(me["mfa"]["passkeys"], 2);
    assert_eq!(me["mfa"]["totp"], false);

    let rename = |id: String, name: &str| {
        let path = format!("/api/me/passkeys/{id}");
        let body = json!({ "name": name });
        let pia = pia.clone();
        async move {
            server
                .unsafe_request(Method::PATCH, &path, Some(body), &pia)
                .await
        }
    };
    assert_eq!(
        rename(phone_id.clone(), "Work phone").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(listed(server, &pia).await[1]["name"], "Work phone");
    let too_long = rename(phone_id.clone(), &"x".repeat(65)).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.json()["error"], "invalid_name");
    for id in ["AAAA", "not*an*id"] {
        let missing = rename(id.to_owned(), "Mine now").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{id}");
    }

    // Removal needs a fresh authentication: sign in again with the passkey.
    let_authentication_age(server, &pia).await;
    for (method, path) in [
        (Method::POST, "/api/me/passkeys".to_owned()),
        (Method::DELETE, format!("/api/me/passkeys/{laptop_id}")),
    ] {
        let stale = server.unsafe_request(method, &path, None, &pia).await;
        assert_eq!(stale.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(stale.json(), json!({"error": "reauthentication_required"}));
    }
    let (challenge, options) = mfa_passkey_options(server, "pia").await;
    let fresh = Browser::from_reply(
        &mfa_passkey(server, &challenge, &laptop.assert_at(&options, ORIGIN)).await,
        "authenticated",
    );
    let remove = |id: &str| {
        let path = format!("/api/me/passkeys/{id}");
        let fresh = fresh.clone();
        async move {
            server
                .unsafe_request(Method::DELETE, &path, None, &fresh)
                .await
        }
    };
    assert_eq!(remove(&laptop_id).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", Some(&pia)).await.status,
        StatusCode::UNAUTHORIZED,
        "removing a factor ends the other sessions"
    );
    assert_eq!(remove(&laptop_id).await.status, StatusCode::NOT_FOUND);
    let passkeys = listed(server, &fresh).await;
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0]["name"], "Work phone");
    assert_eq!(
        server.get("/api/me", Some(&fresh)).await.json()["mfa"]["passkeys"],
        1
    );

    let events = server.audit_events().await;
    let passkey_event = |action: &str, id: &str| {
        events.iter().any(|e| {
            e["action"] == action
                && e["metadata"]["factor"] == "passkey"
                && e["metadata"]["credential_id"] == id
        })
    };
    assert!(passkey_event("auth.mfa.enrolled", &laptop_id));
    assert!(passkey_event("auth.mfa.enrolled", &phone_id));
    assert!(passkey_event("auth.mfa.verified", &laptop_id));
    assert!(passkey_event("auth.mfa.renamed", &phone_id));
    assert!(passkey_event("auth.mfa.removed", &laptop_id));
    server.assert_audited(&["session.revoked"]).await;
}

/// A passkey finishes a password login; a replayed answer, an answer to another challenge,
/// an older counter, a foreign origin and a malformed answer are refused (401), and each
/// refusal is audited with its reason.
pub async fn second_factor_login(server: &TestServer) {
    let quinn = server.sign_up("quinn").await;
    let mut device = Device::new();
    let id = enroll_passkey(server, &quinn, &mut device, "Laptop").await;

    let first = passkey_challenge(server, "quinn").await;
    let reply = passkey_options(server, &first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let challenge = reply.json()["challenge"].as_str().unwrap().to_owned();
    let options = reply.json()["options"].clone();
    assert_ne!(challenge, first, "a new challenge");
    let public_key = &options["publicKey"];
    assert_eq!(public_key["rpId"], RP_ID);
    assert_eq!(public_key["allowCredentials"][0]["id"], id.as_str());
    assert_eq!(public_key["userVerification"], "required");
    assert_invalid_credentials(
        &passkey_options(server, &first).await,
        "the password's challenge is spent",
    );
    let no_credential = anonymous(
        server,
        "/api/auth/mfa",
        json!({"challenge": challenge, "method": "passkey", "code": "123456"}),
    )
    .await;
    assert_eq!(
        no_credential.status,
        StatusCode::BAD_REQUEST,
        "challenge kept"
    );

    let answer = device.assert_at(&options, ORIGIN);
    let signed_in = mfa_passkey(server, &challenge, &answer).await;
    let browser = Browser::from_reply(&signed_in, "authenticated");
    assert_eq!(
        session_factors(server, &browser).await,
        json!(["password", "webauthn"])
    );
    assert_eq!(
        listed(server, &browser).await[0]["last_used_at"],
        now(server)
    );
    assert_invalid_credentials(
        &mfa_passkey(server, &challenge, &answer).await,
        "the same answer again",
    );
    let (fresh, _) = mfa_passkey_options(server, "quinn").await;
    assert_invalid_credentials(
        &mfa_passkey(server, &fresh, &answer).await,
        "the same answer to another challenge",
    );

    // Two ceremonies answered in order, finished out of order: the older counter is refused.
    let (older, older_options) = mfa_passkey_options(server, "quinn").await;
    let (newer, newer_options) = mfa_passkey_options(server, "quinn").await;
    let older_answer = device.assert_at(&older_options, ORIGIN);
    let newer_answer = device.assert_at(&newer_options, ORIGIN);
    Browser::from_reply(
        &mfa_passkey(server, &newer, &newer_answer).await,
        "authenticated",
    );
    assert_invalid_credentials(
        &mfa_passkey(server, &older, &older_answer).await,
        "an older signature counter",
    );

    let (phished, phished_options) = mfa_passkey_options(server, "quinn").await;
    let answer = device.assert_at(&phished_options, PHISHING);
    assert_invalid_credentials(
        &mfa_passkey(server, &phished, &answer).await,
        "an answer made for another origin",
    );
    let (garbled, _) = mfa_passkey_options(server, "quinn").await;
    assert_invalid_credentials(
        &mfa_passkey(server, &garbled, &json!({"id": "AAAA"})).await,
        "a malformed answer",
    );

    // Still not locked: the accepted answer cleared the counter.
    let (last, last_options) = mfa_passkey_options(server, "quinn").await;
    let answer = device.assert_at(&last_options, ORIGIN);
    Browser::from_reply(&mfa_passkey(server, &last, &answer).await, "authenticated");

    let events = server.audit_events().await;
    for reason in ["invalid_assertion", "replayed", "wrong_origin"] {
        assert!(
            events.iter().any(|e| e["action"] == "auth.mfa.failed"
                && e["reason"] == reason
                && e["metadata"]["factor"] == "passkey"),
            "auth.mfa.failed {reason}"
        );
    }
    server
        .assert_audited(&[
            "auth.mfa.verified",
            "auth.login.succeeded",
            "auth.login.failed",
        ])
        .await;
}

/// A discoverable passkey signs in without a username or password and gives a working
/// session; a spent ceremony, another user's handle, a foreign origin and garbage are 401.
pub async fn passwordless_login(server: &TestServer) {
    let rita = server.sign_up("rita").await;
    let mut device = Device::new();
    let id = enroll_passkey(server, &rita, &mut device, "Laptop").await;
    let user = user_id(server, &rita).await;
    let begin_login = || async {
        let reply = anonymous(server, "/api/auth/passkey/options", json!({})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        assert_eq!(body["next"], "/api/auth/passkey/login");
        (
            body["ceremony"].as_str().unwrap().to_owned(),
            body["options"].clone(),
        )
    };
    let finish = |ceremony: String, credential: Value| async move {
        let body = json!({"ceremony": ceremony, "credential": credential});
        anonymous(server, "/api/auth/passkey/login", body).await
    };

    let (ceremony, options) = begin_login().await;
    assert_eq!(options["publicKey"]["rpId"], RP_ID);
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "the authenticator picks: {options}"
    );
    let answer = device.discover_at(&options, &id, &user, ORIGIN);
    let signed_in = finish(ceremony.clone(), answer.clone()).await;
    let browser = Browser::from_reply(&signed_in, "authenticated");
    let me = server.get("/api/me", Some(&browser)).await.json();
    assert_eq!(me["username"], "rita");
    assert_eq!(session_factors(server, &browser).await, json!(["webauthn"]));
    let logout = server
        .unsafe_request(Method::POST, "/api/auth/logout", None, &browser)
        .await;
    assert_eq!(
        logout.status,
        StatusCode::NO_CONTENT,
        "the CSRF token works"
    );
    assert_invalid_credentials(&finish(ceremony, answer).await, "a spent ceremony");

    let (ceremony, options) = begin_login().await;
    let someone_else = uuid::Uuid::new_v4().to_string();
    let answer = device.discover_at(&options, &id, &someone_else, ORIGIN);
    assert_invalid_credentials(&finish(ceremony, answer).await, "another user's handle");
    let (ceremony, options) = begin_login().await;
    let answer = device.discover_at(&options, &id, &user, PHISHING);
    assert_invalid_credentials(&finish(ceremony, answer).await, "another origin");
    let (ceremony, _) = begin_login().await;
    assert_invalid_credentials(
        &finish(ceremony, json!("not a credential")).await,
        "a malformed answer",
    );
    let missing = anonymous(server, "/api/auth/passkey/login", json!({"ceremony": "x"})).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    let (ceremony, options) = begin_login().await;
    let answer = device.discover_at(&options, &id, &user, ORIGIN);
    Browser::from_reply(&finish(ceremony, answer).await, "authenticated");

    let events = server.audit_events().await;
    let rita_logged_in = events
        .iter()
        .filter(|e| {
            e["action"] == "auth.login.succeeded" && e["metadata"]["factors"] == json!(["webauthn"])
        })
        .count();
    assert_eq!(rita_logged_in, 2);
    for reason in ["unknown_ceremony", "not_users_credential", "wrong_origin"] {
        assert!(
            events.iter().any(|e| e["action"] == "auth.mfa.failed"
                && e["reason"] == reason
                && e["metadata"]["factor"] == "passkey"),
            "auth.mfa.failed {reason}"
        );
    }
    server.assert_audited(&["auth.login.failed"]).await;
}
