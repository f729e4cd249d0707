//! Records audit events into an embedded SQLite file, then verifies the hash chain.
//!
//! ```text
//! cargo run -p soc2-sqlx --example audit_sqlite -- [path/to/audit.db]
//! ```
//!
//! Keys come from `SOC2_AUDIT_KEYS` (`id=base64key,...`, see `soc2ctl audit keygen`); without
//! it a fixed demo key is used and a warning printed.

use std::error::Error;
use std::sync::Arc;

use soc2_audit::{
    Actor, AuditEvent, AuditLog, AuditLogConfig, Outcome, SdkAction, Target, VerifyRequest, verify,
};
use soc2_core::{Clock, KeyId, KeyRing, RequestContext, SystemClock, UserId};
use soc2_sqlx::sqlite::{self, SqliteAuditStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "soc2-demo.db".to_owned());
    let keys = match std::env::var("SOC2_AUDIT_KEYS") {
        Ok(spec) => KeyRing::parse(&spec)?,
        Err(_) => {
            eprintln!("warning: SOC2_AUDIT_KEYS is not set; using a fixed demo key");
            KeyRing::single(KeyId::new("demo")?, [7; 32])
        }
    };

    let pool = sqlite::connect(&format!("sqlite://{path}")).await?;
    sqlite::migrate(&pool).await?;
    let store = Arc::new(SqliteAuditStore::new(pool, &keys));
    let log = AuditLog::start(store.clone(), AuditLogConfig::default());

    let clock = SystemClock;
    let request = RequestContext::new()
        .with_client_ip("203.0.113.9".parse()?)
        .with_user_agent("audit-sqlite-example/1.0")
        .with_request_id("req-0001");
    let alice = UserId::new_v7();
    log.record(
        AuditEvent::new(
            SdkAction::LoginFailed,
            Outcome::Failure,
            Actor::anonymous(Some("alice")),
            clock.now(),
        )
        .with_reason("wrong password")
        .with_context(request.clone()),
    )?;
    log.record(
        AuditEvent::new(
            SdkAction::LoginSucceeded,
            Outcome::Success,
            Actor::user(alice),
            clock.now(),
        )
        .with_metadata("factors", ["password", "totp"])
        .with_context(request.clone()),
    )?;
    log.record(
        AuditEvent::new(
            SdkAction::RoleGranted,
            Outcome::Success,
            Actor::user(alice),
            clock.now(),
        )
        .with_target(Target::new("role", "approver"))
        .with_context(request),
    )?;
    log.shutdown().await?;

    let verified = verify(store.as_ref(), &keys, &VerifyRequest::all()).await?;
    println!(
        "{path}: audit chain intact, {} events verified (head seq {})",
        verified.checked, verified.last_seq
    );
    Ok(())
}
