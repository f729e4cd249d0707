//! `soc2ctl`: the security team's command line for soc2-rs.
//!
//! Every command that opens a database takes `--database-url` or the reference server's
//! `--config` file (then its database, audit keys and policy directory, and for `user unlock`
//! and `user revoke-sessions` its Redis sessions and lockouts when it sets
//! `server.redis_url`), so it works on exactly what the server uses; `--database-url` wins
//! when both are given.
//!
//! Exit codes: 0 success, 1 a check failed (the audit chain does not verify, a policy
//! directory is invalid, a policy test failed, a segregation-of-duties scan found violations),
//! 2 usage, configuration or database errors (an unknown user or campaign too).

mod audit;
mod audit_log;
mod database;
mod keys;
mod operator;
mod output;
mod policy;
mod review;
mod sod;
mod target;
mod user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The security team's command line for soc2-rs.
#[derive(Debug, Parser)]
#[command(name = "soc2ctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify, export and inspect the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Validate and test Cedar policy directories.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Unlock accounts and revoke their sessions, audited.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Scan role assignments for segregation-of-duties violations.
    #[command(subcommand)]
    Sod(sod::SodCommand),
    /// Report on access-review campaigns.
    #[command(subcommand)]
    Review(review::ReviewCommand),
    /// Apply the soc2-rs schema migrations to a database.
    Migrate {
        #[command(flatten)]
        target: target::DatabaseArgs,
    },
}

/// A failure to report: the message for the user and the exit code.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// A check that did not pass (exit 1).
    fn failed(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }

    /// A usage, configuration or database error (exit 2).
    fn config(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(command) => audit::run(command).await,
        Command::Policy(command) => policy::run(command),
        Command::User(command) => user::run(command).await,
        Command::Sod(command) => sod::run(command).await,
        Command::Review(command) => review::run(command).await,
        Command::Migrate { target } => match target.resolve() {
            Ok(target) => database::migrate(&target.url).await,
            Err(failure) => Err(failure),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("soc2ctl: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
