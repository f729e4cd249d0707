//! `soc2ctl user unlock|revoke-sessions` as a process on SQLite and PostgreSQL: the change
//! happens, is audited with the operator as actor, and bad input changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::sync::Arc;

use common::{Db, assert_exit, run, soc2ctl, text};
use serde_json::json;
use soc2_audit::AuditLog;
use soc2_auth::password::UserContext;
use soc2_auth::{HashParams, PasswordAuth, PasswordCheck, PasswordHasher};
use soc2_core::{Clock, ManualClock, Preset, RequestContext, UserId};
use soc2_session::{Factor, SessionError, SessionManager, SessionPolicy};
use time::OffsetDateTime;

/// A password the Soc2Strict policy accepts.
const PASSWORD: &str = "plinth quasar tundra 42 marmot";

/// The clock of the arranging services: stopped at the real now, so that a lock they set is
/// still in force when soc2ctl, on the system clock, runs moments later.
fn clock() -> Arc<dyn Clock> {
    Arc::new(ManualClock::new(OffsetDateTime::now_utc()))
}

fn auth(db: &Db, log: &AuditLog) -> PasswordAuth {
    PasswordAuth::new(
        Arc::clone(&db.credentials),
        Arc::clone(&db.lockouts),
        PasswordHasher::new(HashParams::default()).unwrap(),
        log.clone(),
        clock(),
    )
}

async fn register(auth: &PasswordAuth, username: &str) -> UserId {
    auth.register(
        UserId::new_v7(),
        username,
        Some(PASSWORD),
        &UserContext::default(),
        &RequestContext::new(),
    )
    .await
    .unwrap()
    .user_id
}

async fn verified(auth: &PasswordAuth, password: &str) -> bool {
    matches!(
        auth.verify("alice", password, &RequestContext::new())
            .await
            .unwrap(),
        PasswordCheck::Verified(_)
    )
}

const USER_AGENT: &str = concat!("soc2ctl/", env!("CARGO_PKG_VERSION"));

async fn unlock_lifts_a_lockout_and_audits_the_operator(db: &mut Db) {
    let log = db.audit_log();
    let auth = auth(db, &log);
    let alice = register(&auth, "alice").await;
    for _ in 0..5 {
        assert!(!verified(&auth, "wrong password entirely").await);
    }
    let locked = auth.lock_state(alice).await.unwrap().unwrap();
    assert!(locked.locked_until.is_some());
    assert!(!verified(&auth, PASSWORD).await, "locked");
    log.flush().await.unwrap();

    let out = soc2ctl(&[
        "user",
        "unlock",
        "alice",
        "--database-url",
        &db.url,
        "--operator",
        "jane",
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), "unlocked alice\n");
    let state = auth.lock_state(alice).await.unwrap().unwrap();
    assert_eq!(
        (state.failures, state.locked_until, state.lockouts),
        (0, None, 0)
    );
    assert!(verified(&auth, PASSWORD).await);

    // Unlocking an account that is not locked is no error; the event says so.
    let again = run(
        &["user", "unlock", "ALICE", "--database-url", &db.url],
        &[("SOC2_AUDIT_KEYS", common::KEYS), ("SOC2_OPERATOR", "joe")],
    );
    assert_exit(&again, 0);
    assert_eq!(
        text(&again.stdout),
        "alice was not locked; its failure counter is cleared\n"
    );
    log.shutdown().await.unwrap();

    let events = db.events_of("auth.lockout.unlocked").await;
    assert_eq!(events.len(), 2);
    for (event, operator, was_locked) in [(&events[0], "jane", true), (&events[1], "joe", false)] {
        assert_eq!(
            event["actor"],
            json!({"kind": "service", "name": format!("soc2ctl:{operator}")})
        );
        assert_eq!(
            event["target"],
            json!({"kind": "user", "id": alice.to_string()})
        );
        assert_eq!(event["outcome"], "success");
        assert_eq!(event["metadata"]["was_locked"], was_locked);
        assert_eq!(event["context"]["user_agent"], USER_AGENT);
    }
    // The server's events and soc2ctl's form one chain.
    let verify = soc2ctl(&["audit", "verify", "--database-url", &db.url]);
    assert_exit(&verify, 0);
}

async fn revoke_sessions_ends_every_session_of_the_user(db: &mut Db) {
    let log = db.audit_log();
    let auth = auth(db, &log);
    let alice = register(&auth, "alice").await;
    let bob = register(&auth, "bob").await;
    let sessions = SessionManager::new(
        Arc::clone(&db.sessions),
        SessionPolicy::from_preset(Preset::Soc2Strict),
        clock(),
        log.clone(),
    );
    let context = RequestContext::new();
    let mut tokens = Vec::new();
    for user in [alice, alice, bob] {
        let (token, _) = sessions
            .create(user, &[Factor::Password], &context)
            .await
            .unwrap();
        tokens.push(token);
    }
    log.flush().await.unwrap();

    let out = soc2ctl(&[
        "user",
        "revoke-sessions",
        "alice",
        "--database-url",
        &db.url,
    ]);
    assert_exit(&out, 0);
    assert_eq!(text(&out.stdout), "revoked 2 sessions of alice\n");
    for token in &tokens[..2] {
        assert!(matches!(
            sessions
                .validate(token.expose_secret().as_bytes(), &context)
                .await,
            Err(SessionError::Invalid)
        ));
    }
    let kept = sessions
        .validate(tokens[2].expose_secret().as_bytes(), &context)
        .await
        .unwrap();
    assert_eq!(kept.user_id(), bob);

    let again = soc2ctl(&[
        "user",
        "revoke-sessions",
        "alice",
        "--database-url",
        &db.url,
    ]);
    assert_eq!(text(&again.stdout), "revoked 0 sessions of alice\n");
    log.shutdown().await.unwrap();
    let revoked = db.events_of("session.revoked").await;
    assert_eq!(revoked.len(), 2);
    for event in &revoked {
        assert_eq!(
            event["actor"],
            json!({"kind": "service", "name": "soc2ctl"})
        );
        assert_eq!(event["context"]["user_agent"], USER_AGENT);
    }
}

async fn bad_input_exits_2_and_changes_nothing(db: &mut Db) {
    let log = db.audit_log();
    let auth = auth(db, &log);
    register(&auth, "alice").await;
    log.shutdown().await.unwrap();
    let before = db.events().await;
    let long = "x".repeat(10_000);
    let cases: [(&[&str], &str); 6] = [
        (&["user", "unlock", "mallory"], "unknown user \"mallory\""),
        (
            &["user", "revoke-sessions", "mallory"],
            "unknown user \"mallory\"",
        ),
        (&["user", "unlock", ""], "invalid username \"\""),
        (
            &["user", "unlock", "bad\u{7}name"],
            "invalid username \"bad\\u{7}name\"",
        ),
        (&["user", "unlock", &long], "invalid username"),
        (
            &["user", "unlock", "alice", "--operator", ""],
            "a value is required for '--operator <NAME>'",
        ),
    ];
    for (args, expected) in cases {
        let out = soc2ctl(&[args, &["--database-url", &db.url]].concat());
        assert_exit(&out, 2);
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let no_keys = run(&["user", "unlock", "alice", "--database-url", &db.url], &[]);
    assert_exit(&no_keys, 2);
    assert!(text(&no_keys.stderr).contains("no audit keys"));
    assert_eq!(db.events().await, before);
}

on_every_backend!(
    unlock_lifts_a_lockout_and_audits_the_operator,
    revoke_sessions_ends_every_session_of_the_user,
    bad_input_exits_2_and_changes_nothing,
);
