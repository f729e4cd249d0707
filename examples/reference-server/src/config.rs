//! The server's configuration: a TOML file whose policy sections are the library's own.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! name = "soc2-rs reference"                    # TOTP issuer and password-policy context
//! database_url = "sqlite://soc2-reference.db"   # or postgres://user@host/db
//! preset = "soc2-strict"                         # default preset of every policy section
//! allow_registration = true
//! bootstrap_admin_password = "..."               # else a random one, printed once
//! insecure_dev_cookies = false                   # plain-HTTP localhost only
//! allowed_origins = ["https://app.example"]      # default: the listen address
//! trusted_proxies = []                           # CIDR ranges of reverse proxies
//! policy_dir = "policies"                        # Cedar schema, policies, sod.toml
//! watch_policies = false                         # true: reload policy_dir when its files change
//!
//! [password]        # PasswordPolicy::from_toml keys
//! min_age = "none"
//!
//! [lockout]         # LockoutPolicy::from_toml keys
//! threshold = 5
//! duration = "30m"
//! ip_threshold = 50 # 0 disables per-IP throttling
//! ip_window = "15m"
//!
//! [session]         # SessionPolicy::from_toml keys; absolute_timeout = absolute_lifetime
//! idle_timeout = "15m"
//! absolute_timeout = "12h"
//!
//! [mfa]
//! required = false                 # true: everyone must enrol a second factor
//! required_for_roles = ["admin"]   # holders must enrol (the default)
//! grace_period = "7d"              # from account creation; default: none
//! sealing_keys_file = "seal.keys"  # KeyRing::parse format; SOC2_SEALING_KEYS overrides it
//!
//! [audit]
//! keys_file = "audit.keys"   # KeyRing::parse format; SOC2_AUDIT_KEYS overrides it
//! ```
//!
//! `server.name` (default "soc2-rs reference") is the issuer shown in authenticator apps.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use soc2_auth::LockoutPolicy;
use soc2_auth::password::PasswordPolicy;
use soc2_core::{Preset, SecretString};
use soc2_session::SessionPolicy;

use crate::ConfigError;

/// The database used when neither the config nor `DATABASE_URL` names one.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://soc2-reference.db";

/// Everything the server needs to start.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// The `[server]` section.
    pub server: ServerConfig,
    /// The `[password]` section.
    pub password: PasswordPolicy,
    /// The `[lockout]` section.
    pub lockout: LockoutPolicy,
    /// The `[session]` section.
    pub session: SessionPolicy,
    /// The `[mfa]` section.
    pub mfa: MfaConfig,
    /// The `[audit]` section.
    pub audit: AuditConfig,
}

/// The `[server]` section.
#[derive(Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The application's name: the issuer in TOTP enrolments, and context the password policy
    /// refuses inside passwords. Not empty.
    pub name: String,
    /// `sqlite://…` or `postgres://…`; [`DEFAULT_DATABASE_URL`] when unset.
    pub database_url: Option<String>,
    /// Whether `POST /api/auth/register` is open.
    pub allow_registration: bool,
    /// The first administrator's password; without it a random one is printed once and must
    /// be changed at the first login.
    pub bootstrap_admin_password: Option<SecretString>,
    /// Cookies without `Secure` and `__Host-`, for plain-HTTP localhost only.
    pub insecure_dev_cookies: bool,
    /// Origins allowed to send unsafe cookie-authenticated requests; empty means the listen
    /// address (`https://`, or `http://` with `insecure_dev_cookies`).
    pub allowed_origins: Vec<String>,
    /// CIDR ranges of trusted reverse proxies (client IP from `X-Forwarded-For`).
    pub trusted_proxies: Vec<String>,
    /// The Cedar policy directory (schema, policies, `sod.toml`); [`DEFAULT_POLICY_DIR`] when
    /// unset.
    pub policy_dir: PathBuf,
    /// Reload `policy_dir` when its files change ([`soc2_rbac::PolicyWatcher`]); off by
    /// default: the policy set then changes only through `POST /api/admin/policies/reload`.
    pub watch_policies: bool,
}

/// The `[mfa]` section.
///
/// `required = true` asks a second factor of everyone, `required_for_roles` of the holders of
/// those roles (default `["admin"]`: PCI DSS v4.0 8.4.1 requires MFA for administrative
/// access). A user who must but has no factor gets an enrolment-only session at login once
/// `grace_period` (from account creation; default none) has passed.
#[derive(Debug)]
#[non_exhaustive]
pub struct MfaConfig {
    /// Whether every user must prove a second factor.
    pub required: bool,
    /// Roles whose holders must prove a second factor.
    pub required_for_roles: Vec<String>,
    /// How long after account creation a user who must enrol may still log in without.
    pub grace_period: Duration,
    /// The sealing key ring for TOTP seeds (from `SOC2_SEALING_KEYS`); wins over
    /// `sealing_keys_file`.
    pub sealing_keys: Option<SecretString>,
    /// A file in `KeyRing::parse` format; default: `<database>.sealing-keys` beside a SQLite
    /// file, generated on first start.
    pub sealing_keys_file: Option<PathBuf>,
}

/// The `[audit]` section.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct AuditConfig {
    /// The audit key ring (from `SOC2_AUDIT_KEYS`); wins over `keys_file`.
    pub keys: Option<SecretString>,
    /// A file in `KeyRing::parse` format.
    pub keys_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    listen: Option<SocketAddr>,
    name: Option<String>,
    database_url: Option<String>,
    preset: Option<Preset>,
    #[serde(default = "yes")]
    allow_registration: bool,
    bootstrap_admin_password: Option<String>,
    #[serde(default)]
    insecure_dev_cookies: bool,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    policy_dir: Option<PathBuf>,
    #[serde(default)]
    watch_policies: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    keys_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MfaFile {
    #[serde(default)]
    required: bool,
    required_for_roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    grace_period: Option<Duration>,
    sealing_keys_file: Option<PathBuf>,
}

/// The default `server.policy_dir`: the example change-management policies of soc2-rbac.
pub const DEFAULT_POLICY_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../soc2-rbac/examples/policies"
);

/// The roles that must use MFA unless `[mfa] required_for_roles` says otherwise.
const DEFAULT_MFA_ROLES: [&str; 1] = ["admin"];

impl Default for MfaConfig {
    fn default() -> Self {
        Self {
            required: false,
            required_for_roles: DEFAULT_MFA_ROLES.map(str::to_owned).to_vec(),
            grace_period: Duration::ZERO,
            sealing_keys: None,
            sealing_keys_file: None,
        }
    }
}

/// The default `server.name`.
const DEFAULT_NAME: &str = "soc2-rs reference";

fn yes() -> bool {
    true
}

const SECTIONS: [&str; 6] = ["server", "password", "lockout", "session", "mfa", "audit"];

impl Default for Config {
    fn default() -> Self {
        let preset = Preset::Soc2Strict;
        Self {
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                name: DEFAULT_NAME.to_owned(),
                database_url: None,
                allow_registration: true,
                bootstrap_admin_password: None,
                insecure_dev_cookies: false,
                allowed_origins: Vec::new(),
                trusted_proxies: Vec::new(),
                policy_dir: PathBuf::from(DEFAULT_POLICY_DIR),
                watch_policies: false,
            },
            password: PasswordPolicy::from_preset(preset),
            lockout: LockoutPolicy::from_preset(preset),
            session: SessionPolicy::from_preset(preset),
            mfa: MfaConfig::default(),
            audit: AuditConfig::default(),
        }
    }
}

impl Config {
    /// Reads a configuration file (see the [module docs](self)).
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, section and problem.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses configuration text. Unknown sections and keys are refused, so a typo cannot
    /// leave a default in force.
    ///
    /// # Errors
    /// [`ConfigError`] naming the section and problem.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let mut root: toml::Table = toml::from_str(text).map_err(|e| toml_error("file", &e))?;
        if let Some(unknown) = root.keys().find(|key| !SECTIONS.contains(&key.as_str())) {
            return Err(ConfigError::UnknownSection(unknown.clone()));
        }
        let server: ServerFile = section(&mut root, "server")?
            .try_into()
            .map_err(|e| toml_error("server", &e))?;
        let audit: AuditFile = section(&mut root, "audit")?
            .try_into()
            .map_err(|e| toml_error("audit", &e))?;
        let mfa: MfaFile = section(&mut root, "mfa")?
            .try_into()
            .map_err(|e| toml_error("mfa", &e))?;
        if server
            .name
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return Err(ConfigError::Section(
                "server".into(),
                "name must not be empty".into(),
            ));
        }
        let preset = server.preset.unwrap_or(Preset::Soc2Strict);
        let password = PasswordPolicy::from_toml(&policy_text(&mut root, "password", preset)?)?;
        let lockout = LockoutPolicy::from_toml(&policy_text(&mut root, "lockout", preset)?)?;
        let mut session = section(&mut root, "session")?;
        if let Some(absolute) = session.remove("absolute_timeout") {
            if session.contains_key("absolute_lifetime") {
                return Err(ConfigError::Conflict(
                    "[session] sets both absolute_timeout and absolute_lifetime".into(),
                ));
            }
            session.insert("absolute_lifetime".into(), absolute);
        }
        let session = SessionPolicy::from_toml(&with_preset(session, preset)?)?;
        Ok(Self {
            server: ServerConfig {
                listen: server
                    .listen
                    .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080))),
                name: server.name.unwrap_or_else(|| DEFAULT_NAME.to_owned()),
                database_url: server.database_url,
                allow_registration: server.allow_registration,
                bootstrap_admin_password: server.bootstrap_admin_password.map(SecretString::from),
                insecure_dev_cookies: server.insecure_dev_cookies,
                allowed_origins: server.allowed_origins,
                trusted_proxies: server.trusted_proxies,
                policy_dir: server
                    .policy_dir
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_POLICY_DIR)),
                watch_policies: server.watch_policies,
            },
            password,
            lockout,
            session,
            mfa: MfaConfig {
                required: mfa.required,
                required_for_roles: mfa
                    .required_for_roles
                    .unwrap_or_else(|| DEFAULT_MFA_ROLES.map(str::to_owned).to_vec()),
                grace_period: mfa.grace_period.unwrap_or(Duration::ZERO),
                sealing_keys: None,
                sealing_keys_file: mfa.sealing_keys_file,
            },
            audit: AuditConfig {
                keys: None,
                keys_file: audit.keys_file,
            },
        })
    }

    /// Applies the environment: `DATABASE_URL` replaces `server.database_url`,
    /// `SOC2_AUDIT_KEYS` supplies the audit keys, `SOC2_SEALING_KEYS` the secret-sealing keys.
    #[must_use]
    pub fn with_env(mut self) -> Self {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            self.server.database_url = Some(url);
        }
        if let Ok(keys) = std::env::var("SOC2_AUDIT_KEYS") {
            self.audit.keys = Some(SecretString::from(keys));
        }
        if let Ok(keys) = std::env::var("SOC2_SEALING_KEYS") {
            self.mfa.sealing_keys = Some(SecretString::from(keys));
        }
        self
    }

    /// The database URL in force.
    #[must_use]
    pub fn database_url(&self) -> &str {
        self.server
            .database_url
            .as_deref()
            .unwrap_or(DEFAULT_DATABASE_URL)
    }
}

fn section(root: &mut toml::Table, name: &str) -> Result<toml::Table, ConfigError> {
    match root.remove(name) {
        None => Ok(toml::Table::new()),
        Some(toml::Value::Table(table)) => Ok(table),
        Some(_) => Err(ConfigError::Section(name.to_owned(), "not a table".into())),
    }
}

/// The section's text for the library's `from_toml`, with the default preset filled in.
fn policy_text(root: &mut toml::Table, name: &str, preset: Preset) -> Result<String, ConfigError> {
    with_preset(section(root, name)?, preset)
}

fn with_preset(mut table: toml::Table, preset: Preset) -> Result<String, ConfigError> {
    if !table.contains_key("preset") {
        let name = toml::Value::try_from(preset).map_err(|e| toml_error("preset", &e))?;
        table.insert("preset".into(), name);
    }
    toml::to_string(&table).map_err(|e| toml_error("preset", &e))
}

fn toml_error(section: &str, error: &dyn std::fmt::Display) -> ConfigError {
    ConfigError::Section(section.to_owned(), error.to_string())
}
