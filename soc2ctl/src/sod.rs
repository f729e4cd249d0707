//! `soc2ctl sod scan`: segregation-of-duties violations among the current role assignments.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use soc2_core::{Clock, StoreError, SystemClock};
use soc2_rbac::{PolicyStore, RoleError, RoleManager, SodViolation};

use crate::Failure;
use crate::audit_log::with_audit_log;
use crate::database::{self, Stores, store_failure};
use crate::keys::KeySource;
use crate::operator::Operator;
use crate::target::{self, DatabaseArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum SodCommand {
    /// Check every user's current roles (inherited ones included) against the rules of the
    /// policy directory's `sod.toml` (SOC 2 CC6.3), e.g. after a rule was added: prints each
    /// violation and exits 1 when there is any, 0 when none. Each violation is audited
    /// (`rbac.sod.violation`).
    Scan {
        #[command(flatten)]
        target: DatabaseArgs,
        #[command(flatten)]
        keys: KeySource,
        /// The policy directory (default: `server.policy_dir` of --config).
        #[arg(long, value_name = "DIR")]
        policy_dir: Option<PathBuf>,
        #[command(flatten)]
        operator: Operator,
    },
}

pub(crate) async fn run(command: SodCommand) -> Result<(), Failure> {
    let SodCommand::Scan {
        target,
        keys,
        policy_dir,
        operator,
    } = command;
    let target = target.resolve()?;
    let dir = target::policy_dir(policy_dir, target.config.as_ref())?;
    let keys = keys.load(&target)?;
    let stores = database::open(&target.url, &keys).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let failed = |error: &StoreError| store_failure(&target.url, error);
    let (violations, rules) = with_audit_log(&stores.audit, async |log| {
        let policies = PolicyStore::open(&dir, log.clone(), Arc::clone(&clock))
            .await
            .map_err(|error| Failure::config(error.to_string()))?;
        let rules = policies.snapshot().sod().rules().len();
        let manager = RoleManager::new(
            Arc::clone(&stores.roles),
            Arc::new(policies),
            log.clone(),
            Arc::clone(&clock),
        );
        let violations = manager
            .scan(operator.actor())
            .await
            .map_err(|error| match error {
                RoleError::Store(error) => failed(&error),
                other => Failure::config(other.to_string()),
            })?;
        Ok((violations, rules))
    })
    .await?;
    for violation in &violations {
        println!(
            "{}",
            describe(&stores, violation).await.map_err(|e| failed(&e))?
        );
    }
    if violations.is_empty() {
        println!("no segregation-of-duties violations ({rules} rules)");
        Ok(())
    } else {
        Err(Failure::failed(format!(
            "{} segregation-of-duties violations",
            violations.len()
        )))
    }
}

/// `alice (<user id>): rule `admin-approver` forbids holding admin + approver`; the user id
/// alone when the account has no credential.
async fn describe(stores: &Stores, violation: &SodViolation) -> Result<String, StoreError> {
    let user = violation.user;
    Ok(match stores.credentials.get(user).await? {
        Some(record) => format!("{} ({user}): {}", record.username, violation.conflict),
        None => format!("{user}: {}", violation.conflict),
    })
}
