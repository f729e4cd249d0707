//! Which database a command works on: `--database-url`, or the server's `--config` file.

use std::path::{Path, PathBuf};

use clap::Args;
use reference_server::{Config, ConfigError};

use crate::Failure;

/// The database of a command: a URL, or the reference server's configuration file (so the
/// security team works on exactly the database and keys the server uses).
#[derive(Debug, Args)]
pub(crate) struct DatabaseArgs {
    /// `sqlite://path.db` or `postgres://user@host/db`; wins over --config.
    #[arg(long, env = "DATABASE_URL", required_unless_present = "config")]
    database_url: Option<String>,
    /// The reference server's TOML configuration: use its database, audit keys, policy
    /// directory and, with `server.redis_url` (or `REDIS_URL`), its Redis sessions and
    /// lockouts (relative paths resolve against the working directory, as for the server).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// A resolved [`DatabaseArgs`].
#[derive(Debug)]
pub(crate) struct Target {
    /// The database URL in force.
    pub(crate) url: String,
    /// The server's configuration, when `--config` was given.
    pub(crate) config: Option<Config>,
}

impl DatabaseArgs {
    /// The URL in force (`--database-url` or `DATABASE_URL`, else the configuration's) and the
    /// configuration.
    pub(crate) fn resolve(&self) -> Result<Target, Failure> {
        let mut config = self.config.as_deref().map(load_config).transpose()?;
        if let (Some(config), Ok(url)) = (&mut config, std::env::var("REDIS_URL")) {
            // As for the server: `REDIS_URL` replaces `server.redis_url`.
            config.server.redis_url = Some(url);
        }
        let url = match (&self.database_url, &config) {
            (Some(url), _) => url.clone(),
            (None, Some(config)) => config.database_url().to_owned(),
            (None, None) => {
                return Err(Failure::config(
                    "no database: pass --database-url (or set DATABASE_URL) or --config",
                ));
            }
        };
        Ok(Target { url, config })
    }
}

/// Reads the server's configuration file; every problem is a configuration error (exit 2).
pub(crate) fn load_config(path: &Path) -> Result<Config, Failure> {
    Config::from_file(path).map_err(|error| match error {
        ConfigError::Read { .. } => Failure::config(error.to_string()),
        other => Failure::config(format!("{}: {other}", path.display())),
    })
}

/// The policy directory given, else `server.policy_dir` of the configuration.
pub(crate) fn policy_dir(
    given: Option<PathBuf>,
    config: Option<&Config>,
) -> Result<PathBuf, Failure> {
    match (given, config) {
        (Some(dir), _) => Ok(dir),
        (None, Some(config)) => Ok(config.server.policy_dir.clone()),
        (None, None) => Err(Failure::config(
            "no policy directory: pass --policy-dir or --config",
        )),
    }
}
