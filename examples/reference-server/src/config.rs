//! The server's configuration: a TOML file whose policy sections are the library's own.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"                     # port 0: any free one; stdout names it
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
//! change_poll_interval = "250ms"                 # SQLite: how often the change log is read
//! role_cache = true                              # users' roles served from memory
//! redis_url = "redis://:password@cache:6379/0"    # sessions and lockouts on Redis; REDIS_URL overrides it
//! redis_prefix = "soc2:"                          # the Redis key prefix (default soc2-redis's)
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
//! sweep_interval = "5m"     # deleting expired sessions and ceremonies; "0" disables
//! cache = true              # validated sessions served from memory; false: store every time
//! cache_max_staleness = "60s"  # longest a cached session is served after its store read
//!
//! [mfa]
//! required = false                 # true: everyone must enrol a second factor
//! required_for_roles = ["admin"]   # holders must enrol (the default)
//! grace_period = "7d"              # from account creation; default: none
//! sealing_keys_file = "seal.keys"  # KeyRing::parse format; SOC2_SEALING_KEYS overrides it
//!
//! [passkey]       # the WebAuthn relying party; origins are server.allowed_origins
//! enabled = true                  # default: on when allowed_origins is set
//! rp_id = "app.example"           # default: the host of the first allowed origin
//! rp_name = "soc2-rs reference"   # default: server.name
//! ceremony_ttl = "5m"             # 30s to 10m
//!
//! [audit]
//! keys_file = "audit.keys"   # KeyRing::parse format; SOC2_AUDIT_KEYS overrides it
//! ```
//!
//! `server.name` (default "soc2-rs reference") is the issuer shown in authenticator apps.
//!
//! The session cache (`[session] cache`, on by default) follows the database's change log:
//! a session ended or rotated through this instance is dropped at once, through another
//! instance on PostgreSQL when its NOTIFY arrives (typically well under a millisecond), and
//! by another process on a SQLite file within one `server.change_poll_interval`. While the
//! change log cannot be followed the cache is off (every request reads the store).
//! `cache_max_staleness` bounds how long an entry is served after its store read whatever
//! the log says.
//!
//! With `server.redis_url` (or `REDIS_URL`) set, sessions and lockouts (account and per-IP)
//! live on Redis under `server.redis_prefix` (soc2-redis's stores), shared by every instance
//! on that Redis; everything else stays on the SQL database. The session cache then follows
//! the Redis change channel instead of the database's change log (same bounds while it is
//! connected; while it is not the cache is off), and `soc2ctl user unlock|revoke-sessions
//! --config` act on the Redis stores too. An unparsable URL or an unreachable server stops the
//! start.
//!
//! The role cache (`server.role_cache`, on by default) follows the same log with the same
//! bounds for role grants, revocations, elevations and hierarchy changes, and never serves
//! an elevation past its expiry.
//!
//! Passkeys run on the pages of `server.allowed_origins`: each must be `https` (or
//! `http://localhost`) on `rp_id` or a subdomain of it, and the server refuses to start when
//! one is not (set `[passkey] enabled = false` to run without passkeys). Without
//! `allowed_origins` the only origin is the listen address, an IP address, which cannot be a
//! relying party id (W3C WebAuthn Level 3 §5.1.3), so passkeys are off unless
//! `enabled = true` asks for them (then the start fails with that reason).
//!
//! # Warning
//! With passkeys off, a user whose only second factor is a passkey signs in with the
//! password alone: turn them off only before anyone registers one.

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
    /// `[session] sweep_interval`: how often expired sessions (audited as `session.expired`)
    /// and expired ceremonies are deleted from the store; zero disables the sweeper. Default
    /// [`DEFAULT_SWEEP_INTERVAL`].
    pub session_sweep_interval: Duration,
    /// `[session] cache`: serve validated sessions from memory, following the change log
    /// (default on). Off, every request reads the session store.
    pub session_cache: bool,
    /// `[session] cache_max_staleness`: the longest a cached session is served after it was
    /// read from the store. Default [`DEFAULT_CACHE_MAX_STALENESS`].
    pub session_cache_max_staleness: Duration,
    /// The `[mfa]` section.
    pub mfa: MfaConfig,
    /// The `[passkey]` section.
    pub passkey: PasskeyConfig,
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
    /// How often the SQLite change log is read: the bound on how late a change made by
    /// another process (`soc2ctl`, another server on the file) reaches the caches. Default
    /// [`DEFAULT_CHANGE_POLL_INTERVAL`]; unused on PostgreSQL, whose changes are pushed.
    pub change_poll_interval: Duration,
    /// Serve users' roles from memory ([`soc2_rbac::CachedRoleStore`]), following the change
    /// log like the session cache; on by default. False: every decision reads the store.
    pub role_cache: bool,
    /// `redis://[:password@]host:port[/db]`: sessions and lockouts on this Redis instead of
    /// the SQL database (`REDIS_URL` replaces it, see [`Config::with_env`]). `None`: on the
    /// SQL database.
    pub redis_url: Option<String>,
    /// The prefix of every Redis key (and of the change channel) when `redis_url` is set;
    /// default [`DEFAULT_REDIS_PREFIX`].
    pub redis_prefix: String,
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

/// The `[passkey]` section: the WebAuthn relying party of the passkey endpoints. Its origins
/// are `server.allowed_origins`; see the [module docs](self) for when passkeys are on.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PasskeyConfig {
    /// `Some(true)`: passkeys are on and a relying party that cannot work stops the start;
    /// `Some(false)`: off. `None` (the default): on when `allowed_origins` is set. Setting
    /// another key of the section counts as `Some(true)`.
    pub enabled: Option<bool>,
    /// The relying party id, a domain; default: the host of the first allowed origin.
    pub rp_id: Option<String>,
    /// The name authenticators show; default: `server.name`.
    pub rp_name: Option<String>,
    /// How long a ceremony stays usable; default
    /// [`DEFAULT_CEREMONY_TTL`](soc2_auth::passkey::DEFAULT_CEREMONY_TTL) (W3C WebAuthn
    /// Level 3 §15.1).
    pub ceremony_ttl: Option<Duration>,
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
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    change_poll_interval: Option<Duration>,
    #[serde(default = "yes")]
    role_cache: bool,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PasskeyFile {
    enabled: Option<bool>,
    rp_id: Option<String>,
    rp_name: Option<String>,
    #[serde(default, deserialize_with = "soc2_core::duration::optional")]
    ceremony_ttl: Option<Duration>,
}

impl From<PasskeyFile> for PasskeyConfig {
    fn from(file: PasskeyFile) -> Self {
        let relying_party_set =
            file.rp_id.is_some() || file.rp_name.is_some() || file.ceremony_ttl.is_some();
        Self {
            enabled: file.enabled.or(relying_party_set.then_some(true)),
            rp_id: file.rp_id,
            rp_name: file.rp_name,
            ceremony_ttl: file.ceremony_ttl,
        }
    }
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

/// The default `[session] sweep_interval`: 5 minutes. Expired sessions are refused at
/// validation whatever the interval; the sweep only bounds how long their rows linger and how
/// late their `session.expired` events are written, so a fraction of the shortest preset idle
/// timeout (15 minutes, OWASP ASVS 3.3.2 / PCI DSS 8.2.8) keeps the log timely.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// The default `[session] cache_max_staleness`: one minute. The change log drops a changed
/// session long before; this is the backstop should a change ever be missed unnoticed, and
/// matches the default touch interval, so that a cached session is re-read at least as often
/// as its last use is recorded.
pub const DEFAULT_CACHE_MAX_STALENESS: Duration = Duration::from_secs(60);

/// The default `server.change_poll_interval`: 250 ms, soc2-sqlx's
/// [`DEFAULT_POLL_INTERVAL`](soc2_sqlx::sqlite::DEFAULT_POLL_INTERVAL) (a revocation by
/// another process takes effect within a quarter of a second, for one indexed read per poll).
pub const DEFAULT_CHANGE_POLL_INTERVAL: Duration = soc2_sqlx::sqlite::DEFAULT_POLL_INTERVAL;

/// The default `server.redis_prefix`: soc2-redis's
/// [`DEFAULT_PREFIX`](soc2_redis::DEFAULT_PREFIX).
pub const DEFAULT_REDIS_PREFIX: &str = soc2_redis::DEFAULT_PREFIX;

/// The default `server.name`.
const DEFAULT_NAME: &str = "soc2-rs reference";

fn yes() -> bool {
    true
}

const SECTIONS: [&str; 7] = [
    "server", "password", "lockout", "session", "mfa", "passkey", "audit",
];

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
                change_poll_interval: DEFAULT_CHANGE_POLL_INTERVAL,
                role_cache: true,
                redis_url: None,
                redis_prefix: DEFAULT_REDIS_PREFIX.to_owned(),
            },
            password: PasswordPolicy::from_preset(preset),
            lockout: LockoutPolicy::from_preset(preset),
            session: SessionPolicy::from_preset(preset),
            session_sweep_interval: DEFAULT_SWEEP_INTERVAL,
            session_cache: true,
            session_cache_max_staleness: DEFAULT_CACHE_MAX_STALENESS,
            mfa: MfaConfig::default(),
            passkey: PasskeyConfig::default(),
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
        let passkey: PasskeyFile = section(&mut root, "passkey")?
            .try_into()
            .map_err(|e| toml_error("passkey", &e))?;
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
        if server.redis_prefix.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::Section(
                "server".into(),
                "redis_prefix must not be empty".into(),
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
        let session_sweep_interval = sweep_interval(session.remove("sweep_interval"))?;
        let session_cache = match session.remove("cache") {
            None => true,
            Some(toml::Value::Boolean(on)) => on,
            Some(_) => {
                return Err(ConfigError::Section(
                    "session".into(),
                    "cache: true or false".into(),
                ));
            }
        };
        let session_cache_max_staleness = positive_duration(
            "session",
            "cache_max_staleness",
            session.remove("cache_max_staleness"),
            DEFAULT_CACHE_MAX_STALENESS,
        )?;
        let change_poll_interval = match server.change_poll_interval {
            None => DEFAULT_CHANGE_POLL_INTERVAL,
            Some(interval) if interval.is_zero() => {
                return Err(ConfigError::Section(
                    "server".into(),
                    "change_poll_interval: must be more than 0".into(),
                ));
            }
            Some(interval) => interval,
        };
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
                change_poll_interval,
                role_cache: server.role_cache,
                redis_url: server.redis_url,
                redis_prefix: server
                    .redis_prefix
                    .unwrap_or_else(|| DEFAULT_REDIS_PREFIX.to_owned()),
            },
            password,
            lockout,
            session,
            session_sweep_interval,
            session_cache,
            session_cache_max_staleness,
            mfa: MfaConfig {
                required: mfa.required,
                required_for_roles: mfa
                    .required_for_roles
                    .unwrap_or_else(|| DEFAULT_MFA_ROLES.map(str::to_owned).to_vec()),
                grace_period: mfa.grace_period.unwrap_or(Duration::ZERO),
                sealing_keys: None,
                sealing_keys_file: mfa.sealing_keys_file,
            },
            passkey: passkey.into(),
            audit: AuditConfig {
                keys: None,
                keys_file: audit.keys_file,
            },
        })
    }

    /// Applies the environment: `DATABASE_URL` replaces `server.database_url`, `REDIS_URL`
    /// `server.redis_url`, `SOC2_AUDIT_KEYS` supplies the audit keys, `SOC2_SEALING_KEYS` the secret-sealing keys.
    #[must_use]
    pub fn with_env(mut self) -> Self {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            self.server.database_url = Some(url);
        }
        if let Ok(url) = std::env::var("REDIS_URL") {
            self.server.redis_url = Some(url);
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

    /// The database URL in force with its password, if any, replaced by `***`: the form
    /// that may be logged.
    #[must_use]
    pub fn database_url_for_logs(&self) -> String {
        redact_password(self.database_url())
    }

    /// `server.redis_url` with its password, if any, replaced by `***`: the form that may be
    /// logged; `None` without Redis.
    #[must_use]
    pub fn redis_url_for_logs(&self) -> Option<String> {
        self.server.redis_url.as_deref().map(redact_password)
    }
}

/// `url` with the password of its `user:password@` part replaced by `***`.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => match parsed.set_password(Some("***")) {
            Ok(()) => parsed.into(),
            Err(()) => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// `[session] sweep_interval` (a duration text; "0" disables), or the default when absent.
fn sweep_interval(value: Option<toml::Value>) -> Result<Duration, ConfigError> {
    let invalid = |problem: String| ConfigError::Section("session".into(), problem);
    match value {
        None => Ok(DEFAULT_SWEEP_INTERVAL),
        Some(toml::Value::String(text)) => soc2_core::duration::parse(&text)
            .map_err(|problem| invalid(format!("sweep_interval: {problem}"))),
        Some(_) => Err(invalid(
            "sweep_interval: a duration text like \"5m\", or \"0\" to disable".into(),
        )),
    }
}

/// A duration key of `section` (a duration text, more than zero), or `default` when absent.
fn positive_duration(
    section: &str,
    key: &str,
    value: Option<toml::Value>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    let invalid =
        |problem: String| ConfigError::Section(section.into(), format!("{key}: {problem}"));
    match value {
        None => Ok(default),
        Some(toml::Value::String(text)) => match soc2_core::duration::parse(&text) {
            Ok(duration) if duration.is_zero() => Err(invalid("must be more than 0".into())),
            Ok(duration) => Ok(duration),
            Err(problem) => Err(invalid(problem.to_string())),
        },
        Some(_) => Err(invalid("a duration text like \"60s\"".into())),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn logged_database_urls_carry_no_password() {
        for (url, logged) in [
            (
                "postgres://app:s3cr@t:x@db.internal:5432/soc2?sslmode=require",
                "postgres://app:***@db.internal:5432/soc2?sslmode=require",
            ),
            ("postgres://app@db/soc2", "postgres://app@db/soc2"),
            ("postgresql://:pw@db/soc2", "postgresql://:***@db/soc2"),
            ("sqlite://soc2-reference.db", "sqlite://soc2-reference.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            ("postgres://db/x@y", "postgres://db/x@y"),
            ("redis://:s3cret@cache:6379/2", "redis://:***@cache:6379/2"),
            ("redis://cache:6379", "redis://cache:6379"),
        ] {
            assert_eq!(redact_password(url), logged, "{url}");
        }
    }

    fn sweep(session: &str) -> Result<Duration, ConfigError> {
        Config::from_toml(&format!("[session]\n{session}")).map(|c| c.session_sweep_interval)
    }

    #[test]
    fn sweep_interval_defaults_parses_and_disables() {
        assert_eq!(sweep("").unwrap(), DEFAULT_SWEEP_INTERVAL);
        assert_eq!(
            Config::default().session_sweep_interval,
            Duration::from_secs(300)
        );
        assert_eq!(
            sweep(r#"sweep_interval = "90s""#).unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(sweep(r#"sweep_interval = "0""#).unwrap(), Duration::ZERO);
        let with_policy = Config::from_toml(
            "[session]\nsweep_interval = \"1m\"\nidle_timeout = \"10m\"\nabsolute_timeout = \"2h\"",
        )
        .unwrap();
        assert_eq!(with_policy.session_sweep_interval, Duration::from_secs(60));
        assert_eq!(
            with_policy.session.absolute_lifetime(),
            Duration::from_secs(7200)
        );
    }

    #[test]
    fn a_bad_sweep_interval_is_refused_naming_the_section() {
        for bad in [r#"sweep_interval = "soon""#, "sweep_interval = 5"] {
            let error = sweep(bad).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Section(section, problem)
                    if section == "session" && problem.starts_with("sweep_interval: ")),
                "{error:?}"
            );
        }
    }

    #[test]
    fn the_session_cache_defaults_on_for_a_minute_and_parses() {
        let defaults = Config::from_toml("").unwrap();
        assert!(defaults.session_cache);
        assert!(defaults.server.role_cache);
        assert_eq!(
            defaults.session_cache_max_staleness,
            Duration::from_secs(60)
        );
        assert_eq!(
            defaults.server.change_poll_interval,
            Duration::from_millis(250)
        );
        let set = Config::from_toml(
            "[server]\nchange_poll_interval = \"40ms\"\nrole_cache = false\n\
             [session]\ncache = false\ncache_max_staleness = \"5s\"",
        )
        .unwrap();
        assert!(!set.session_cache);
        assert!(!set.server.role_cache);
        assert_eq!(set.session_cache_max_staleness, Duration::from_secs(5));
        assert_eq!(set.server.change_poll_interval, Duration::from_millis(40));
    }

    #[test]
    fn bad_cache_keys_are_refused_naming_section_and_key() {
        for (text, section_name, key) in [
            ("[session]\ncache = \"yes\"", "session", "cache: "),
            (
                "[session]\ncache_max_staleness = \"0\"",
                "session",
                "cache_max_staleness: ",
            ),
            (
                "[session]\ncache_max_staleness = 60",
                "session",
                "cache_max_staleness: ",
            ),
            (
                "[server]\nchange_poll_interval = \"0\"",
                "server",
                "change_poll_interval: ",
            ),
        ] {
            let error = Config::from_toml(text).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Section(section, problem)
                    if section == section_name && problem.starts_with(key)),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn redis_is_off_by_default_with_soc2_redis_prefix() {
        for config in [Config::default(), Config::from_toml("").unwrap()] {
            assert_eq!(config.server.redis_url, None);
            assert_eq!(config.server.redis_prefix, "soc2:");
            assert_eq!(config.redis_url_for_logs(), None);
        }
        assert_eq!(DEFAULT_REDIS_PREFIX, soc2_redis::DEFAULT_PREFIX);
    }

    #[test]
    fn redis_keys_parse_and_log_without_the_password() {
        let config = Config::from_toml(
            "[server]\nredis_url = \"redis://:hunter2@cache:6379/3\"\nredis_prefix = \"app:soc2:\"",
        )
        .unwrap();
        assert_eq!(
            config.server.redis_url.as_deref(),
            Some("redis://:hunter2@cache:6379/3")
        );
        assert_eq!(config.server.redis_prefix, "app:soc2:");
        assert_eq!(
            config.redis_url_for_logs().as_deref(),
            Some("redis://:***@cache:6379/3")
        );
    }

    #[test]
    fn bad_redis_keys_are_refused_naming_the_section() {
        for (text, expected) in [
            (
                "[server]\nredis_prefix = \"\"",
                "[server]: redis_prefix must not be empty",
            ),
            (
                "[server]\nredis_url = 6379",
                "[server]: invalid type: integer `6379`, expected a string\nin `redis_url`\n",
            ),
        ] {
            let error = Config::from_toml(text).unwrap_err();
            assert_eq!(error.to_string(), expected, "{text}");
        }
    }
}
