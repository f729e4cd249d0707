//! The MFA scenarios, run against every backend: TOTP enrolment, MFA login, replay, recovery
//! codes, single-use challenges, step-up and CSRF on the factor routes.

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

use super::{Browser, ORIGIN, STRONG, TestServer, as_refs};

/// Starts and confirms TOTP for `browser`; returns the seed and the recovery codes. The
/// clock moves on by one step afterwards, so the confirming code is not replayed by accident.
pub async fn enroll_totp(server: &TestServer, browser: &Browser) -> (Vec<u8>, Vec<String>) {
    let started = server
        .unsafe_request(Method::POST, "/api/me/mfa/totp", None, browser)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let started = started.json();
    let uri = started["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(started["qr_svg"].as_str().unwrap().contains("<svg"));
    let seed = totp_rs::Secret::try_from_base32(started["secret"].as_str().unwrap())
        .unwrap()
        .as_bytes()
        .to_vec();
    let code = server.totp_code(&seed);
    let confirmed = server
        .unsafe_request(
            Method::POST,
            "/api/me/mfa/totp/confirm",
            Some(json!({ "code": code })),
            browser,
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let codes: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    server.clock.advance(Duration::from_secs(30));
    (seed, codes)
}

/// A code that is not `code` (same length, digits).
fn other_code(code: &str) -> String {
    code.chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect()
}

/// Enrolment (CSRF, wrong code, confirmation ending other sessions), `/api/me` fields, MFA
/// login with TOTP, a replayed code refused, single-use challenges, recovery codes.
pub async fn totp_enrollment_and_login(server: &TestServer) {
    let mia = server.sign_up("mia").await;
    let elsewhere = server.login("mia", STRONG).await;

    // CSRF is enforced on the new cookie POSTs.
    let no_token = server
        .send(
            Method::POST,
            "/api/me/mfa/totp",
            None,
            &[("cookie", &mia.cookie), ("origin", ORIGIN)],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(no_token.json(), json!({"error": "csrf"}));
    let confirm_no_token = server
        .send(
            Method::POST,
            "/api/me/mfa/totp/confirm",
            Some(json!({"code": "123456"})),
            &[("cookie", &mia.cookie), ("origin", ORIGIN)],
        )
        .await;
    assert_eq!(confirm_no_token.status, StatusCode::FORBIDDEN);
    let nothing_pending = server
        .unsafe_request(
            Method::POST,
            "/api/me/mfa/totp/confirm",
            Some(json!({"code": "123456"})),
            &mia,
        )
        .await;
    assert_eq!(nothing_pending.status, StatusCode::CONFLICT);
    assert_eq!(nothing_pending.json(), json!({"error": "mfa_not_pending"}));

    // A wrong confirmation code is refused and changes nothing.
    let started = server
        .unsafe_request(Method::POST, "/api/me/mfa/totp", None, &mia)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text());
    let seed = totp_rs::Secret::try_from_base32(started.json()["secret"].as_str().unwrap())
        .unwrap()
        .as_bytes()
        .to_vec();
    let wrong = server
        .unsafe_request(
            Method::POST,
            "/api/me/mfa/totp/confirm",
            Some(json!({"code": other_code(&server.totp_code(&seed))})),
            &mia,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.json(), json!({"error": "invalid_code"}));
    assert_eq!(
        server.get("/api/me", Some(&mia)).await.json()["mfa"]["totp"],
        false
    );

    // Starting again replaces the pending enrolment; confirming ends the other sessions.
    let (seed, recovery) = enroll_totp(server, &mia).await;
    assert_eq!(
        server.get("/api/me", Some(&elsewhere)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let me = server.get("/api/me", Some(&mia)).await.json();
    assert_eq!(
        me["mfa"],
        json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );
    let again = server
        .unsafe_request(Method::POST, "/api/me/mfa/totp", None, &mia)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json(), json!({"error": "mfa_already_enrolled"}));

    // The password alone no longer gives a session.
    let reply = server.login_reply("mia", STRONG).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("set-cookie").is_none());
    let body = reply.json();
    assert_eq!(body["status"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    assert!(challenge.starts_with("soc2c_"), "{challenge}");

    let code = server.totp_code(&seed);
    let signed_in = server.mfa_reply(&challenge, "totp", &code).await;
    let with_totp = Browser::from_reply(&signed_in, "authenticated");
    assert_eq!(
        server.get("/api/me", Some(&with_totp)).await.status,
        StatusCode::OK
    );
    let sessions = server
        .get("/api/me/sessions", Some(&with_totp))
        .await
        .json();
    let current = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["factors"], json!(["password", "totp"]));

    // The challenge is single use, even with a right answer.
    server.clock.advance(Duration::from_secs(30));
    let reused = server
        .mfa_reply(&challenge, "totp", &server.totp_code(&seed))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.json(), json!({"error": "invalid_credentials"}));

    // The same code on a second login, within its validity window, is a replay.
    let second = server.login_challenge("mia", STRONG).await;
    let replayed = server.mfa_reply(&second, "totp", &code).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replayed.json(), json!({"error": "invalid_credentials"}));
    // ... and the refused answer spent that challenge too.
    let spent = server
        .mfa_reply(&second, "totp", &server.totp_code(&seed))
        .await;
    assert_eq!(spent.status, StatusCode::UNAUTHORIZED);

    let garbage = server.mfa_reply("soc2c_nonsense", "totp", "123456").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    let bad_method = server.mfa_reply(&second, "sms", "123456").await;
    assert_eq!(bad_method.status, StatusCode::BAD_REQUEST);

    // A recovery code signs in once.
    let third = server.login_challenge("mia", STRONG).await;
    let recovered = server
        .mfa_reply(&third, "recovery_code", &recovery[0])
        .await;
    let with_code = Browser::from_reply(&recovered, "authenticated");
    let me = server.get("/api/me", Some(&with_code)).await.json();
    assert_eq!(me["mfa"]["recovery_codes_left"], 9);
    let fourth = server.login_challenge("mia", STRONG).await;
    let used = server
        .mfa_reply(&fourth, "recovery_code", &recovery[0])
        .await;
    assert_eq!(used.status, StatusCode::UNAUTHORIZED);

    server
        .assert_audited(&[
            "auth.mfa.enrolled",
            "auth.mfa.verified",
            "auth.mfa.failed",
            "auth.login.succeeded",
        ])
        .await;
}

/// Factor changes need a recent authentication; regenerating recovery codes voids the old
/// set; removing TOTP makes the password sufficient again.
pub async fn factor_changes_need_fresh_auth(server: &TestServer) {
    let noah = server.sign_up("noah").await;
    let (seed, recovery) = enroll_totp(server, &noah).await;

    // Stay active (idle timeout 5m) until the authentication is 16 minutes old.
    for _ in 0..4 {
        server.clock.advance(Duration::from_secs(4 * 60));
        assert_eq!(
            server.get("/api/me", Some(&noah)).await.status,
            StatusCode::OK
        );
    }
    for (method, path) in [
        (Method::POST, "/api/me/mfa/recovery-codes"),
        (Method::DELETE, "/api/me/mfa/totp"),
    ] {
        let stale = server.unsafe_request(method, path, None, &noah).await;
        assert_eq!(stale.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(stale.json(), json!({"error": "reauthentication_required"}));
    }

    let challenge = server.login_challenge("noah", STRONG).await;
    let fresh = Browser::from_reply(
        &server
            .mfa_reply(&challenge, "totp", &server.totp_code(&seed))
            .await,
        "authenticated",
    );
    let regenerated = server
        .unsafe_request(Method::POST, "/api/me/mfa/recovery-codes", None, &fresh)
        .await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.text());
    let new_codes: Vec<Value> = regenerated.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(new_codes.len(), 10);
    assert_eq!(
        server.get("/api/me", Some(&noah)).await.status,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    let old = server.login_challenge("noah", STRONG).await;
    let refused = server.mfa_reply(&old, "recovery_code", &recovery[1]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let removed = server
        .unsafe_request(Method::DELETE, "/api/me/mfa/totp", None, &fresh)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let again = server
        .unsafe_request(Method::DELETE, "/api/me/mfa/totp", None, &fresh)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    server.login("noah", STRONG).await;
    let headers = fresh.cookie_only();
    let me = server
        .send(Method::GET, "/api/me", None, &as_refs(&headers))
        .await;
    assert_eq!(me.json()["mfa"]["totp"], false);
}
