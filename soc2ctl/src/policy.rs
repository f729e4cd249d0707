//! `soc2ctl policy …`: validate a policy directory, run policy tests, write the Cedar bundle.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use soc2_rbac::PolicySnapshot;
use soc2_rbac::policy_test::PolicyTests;

use crate::Failure;
use crate::target::{load_config, policy_dir};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy directory (schema, policies in strict mode, sod.toml): exit 0 when
    /// valid, 1 with every problem as `file:line:col: message` when not.
    Validate {
        #[command(flatten)]
        dir: PolicyDir,
    },
    /// Run policy tests (the Cedar CLI's `run-tests` JSON format) against a policy directory:
    /// exit 0 when every case passes, 1 otherwise.
    #[command(allow_missing_positional = true)]
    Test {
        #[command(flatten)]
        dir: PolicyDir,
        /// The test file.
        tests: PathBuf,
    },
    /// Print the directory's policies as one Cedar file whose `@id`s are soc2-rs policy ids,
    /// for `cedar validate` and `cedar run-tests`.
    Bundle {
        #[command(flatten)]
        dir: PolicyDir,
    },
}

/// The policy directory: given, or `server.policy_dir` of the server's configuration.
#[derive(Debug, Args)]
pub(crate) struct PolicyDir {
    /// The policy directory (default: `server.policy_dir` of --config).
    #[arg(required_unless_present = "config")]
    dir: Option<PathBuf>,
    /// The reference server's TOML configuration, whose `server.policy_dir` is the default
    /// directory.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl PolicyDir {
    /// The directory given, else the configuration's.
    fn resolve(self) -> Result<PathBuf, Failure> {
        let config = self.config.as_deref().map(load_config).transpose()?;
        policy_dir(self.dir, config.as_ref())
    }
}

pub(crate) fn run(command: PolicyCommand) -> Result<(), Failure> {
    match command {
        PolicyCommand::Validate { dir } => {
            let dir = dir.resolve()?;
            let snapshot = load(&dir)?;
            println!(
                "{}: {} policies valid, {} SoD rules, version {}",
                dir.display(),
                snapshot.policy_ids().len(),
                snapshot.sod().rules().len(),
                snapshot.version()
            );
            Ok(())
        }
        PolicyCommand::Test { dir, tests } => {
            let snapshot = load(&dir.resolve()?)?;
            let tests = PolicyTests::load(&tests).map_err(|e| Failure::config(e.to_string()))?;
            let report = tests.run(&snapshot);
            println!("{report}");
            if report.passed() {
                Ok(())
            } else {
                Err(Failure::failed(format!(
                    "{} of {} policy tests failed",
                    report.failures(),
                    report.results().len()
                )))
            }
        }
        PolicyCommand::Bundle { dir } => {
            let bundle = load(&dir.resolve()?)?
                .cedar_bundle()
                .map_err(Failure::config)?;
            print!("{bundle}");
            Ok(())
        }
    }
}

/// Loads the directory; its problems, one per line, are a failure (exit 1).
fn load(dir: &std::path::Path) -> Result<PolicySnapshot, Failure> {
    PolicySnapshot::load(dir).map_err(|error| Failure::failed(error.to_string()))
}
