//! `soc2ctl`: the security team's command line for soc2-rs.
//!
//! Exit codes: 0 success, 1 the audit chain does not verify, 2 usage, configuration or
//! database errors.

mod audit;
mod database;
mod keys;

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
    /// Apply the soc2-rs schema migrations to a database.
    Migrate {
        /// `sqlite://path.db` or `postgres://user@host/db`.
        #[arg(long, env = "DATABASE_URL")]
        database_url: String,
    },
}

/// A failure to report: the message for the user and the exit code.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
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
        Command::Migrate { database_url } => database::migrate(&database_url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("soc2ctl: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
