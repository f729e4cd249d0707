//! `soc2ctl user …`: an administrator's account actions, audited like the server's own.

use std::sync::Arc;

use clap::{Args, Subcommand};
use reference_server::{Config, RedisStores};
use soc2_auth::{AuthError, HashParams, PasswordAuth, PasswordHasher, Username};
use soc2_core::{SystemClock, UserId};
use soc2_session::{SessionError, SessionManager};

use crate::Failure;
use crate::audit_log::with_audit_log;
use crate::database::{self, Stores, store_failure};
use crate::keys::KeySource;
use crate::operator::{Operator, context};
use crate::target::DatabaseArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Lift the lockout of an account and clear its failure counter (audited
    /// `auth.lockout.unlocked`).
    Unlock(UserArgs),
    /// End every session of an account, e.g. after a credential compromise (one audited
    /// `session.revoked` per session).
    RevokeSessions(UserArgs),
}

/// The account, its database and keys, and who acts.
#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    /// The account's login name.
    username: String,
    #[command(flatten)]
    target: DatabaseArgs,
    #[command(flatten)]
    keys: KeySource,
    #[command(flatten)]
    operator: Operator,
}

/// An existing account, with the stores of its database (sessions and lockouts on Redis when
/// the `--config` names a `server.redis_url`) and the server's policies (the defaults without
/// `--config`).
struct Account {
    url: String,
    config: Config,
    stores: Stores,
    user: UserId,
    username: Username,
}

pub(crate) async fn run(command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Unlock(args) => unlock(args).await,
        UserCommand::RevokeSessions(args) => revoke_sessions(args).await,
    }
}

async fn unlock(args: UserArgs) -> Result<(), Failure> {
    let Account {
        url,
        config,
        stores,
        user,
        username,
    } = Account::open(&args).await?;
    let hasher = PasswordHasher::new(HashParams::default())
        .map_err(|e| Failure::config(format!("password hasher: {e}")))?;
    let was_locked = with_audit_log(&stores.audit, async |log| {
        PasswordAuth::new(
            stores.credentials,
            stores.lockouts,
            hasher,
            log.clone(),
            Arc::new(SystemClock),
        )
        .with_lockout_policy(config.lockout)
        .unlock(user, args.operator.actor(), &context())
        .await
        .map_err(|error| match error {
            AuthError::Store(error) => store_failure(&url, &error),
            other => Failure::config(other.to_string()),
        })
    })
    .await?;
    if was_locked {
        println!("unlocked {username}");
    } else {
        println!("{username} was not locked; its failure counter is cleared");
    }
    Ok(())
}

async fn revoke_sessions(args: UserArgs) -> Result<(), Failure> {
    let Account {
        url,
        config,
        stores,
        user,
        username,
    } = Account::open(&args).await?;
    let revoked = with_audit_log(&stores.audit, async |log| {
        SessionManager::new(
            stores.sessions,
            config.session,
            Arc::new(SystemClock),
            log.clone(),
        )
        .revoke_user(user, args.operator.actor(), &context())
        .await
        .map_err(|error| match error {
            SessionError::Store(error) => store_failure(&url, &error),
            other => Failure::config(other.to_string()),
        })
    })
    .await?;
    println!("revoked {revoked} sessions of {username}");
    Ok(())
}

impl Account {
    /// Opens the database of `args` and finds the account; an unknown or malformed name is a
    /// usage error (exit 2) and changes nothing.
    async fn open(args: &UserArgs) -> Result<Self, Failure> {
        let target = args.target.resolve()?;
        let keys = args.keys.load(&target)?;
        let mut stores = database::open(&target.url, &keys).await?;
        if let Some(config) = &target.config {
            // The server keeps sessions and lockouts on Redis: act where it reads them.
            if let Some(redis) = RedisStores::open(config)
                .await
                .map_err(|e| Failure::config(e.to_string()))?
            {
                stores.sessions = Arc::new(redis.sessions);
                stores.lockouts = Arc::new(redis.lockouts);
            }
        }
        let username = Username::parse(&args.username)
            .map_err(|e| Failure::config(format!("invalid username {:?}: {e}", args.username)))?;
        let record = stores
            .credentials
            .find(&username)
            .await
            .map_err(|e| store_failure(&target.url, &e))?
            .ok_or_else(|| Failure::config(format!("unknown user {:?}", args.username)))?;
        Ok(Self {
            config: target.config.unwrap_or_default(),
            url: target.url,
            stores,
            user: record.user_id,
            username,
        })
    }
}
