//! Key rings loaded from outside the database: the audit HMAC keys (`SOC2_AUDIT_KEYS`,
//! `[audit] keys_file`) and the secret-sealing keys (`SOC2_SEALING_KEYS`,
//! `[mfa] sealing_keys_file`), each generated beside the SQLite database when nothing is
//! configured (`<database>.audit-keys`, `<database>.sealing-keys`, mode 0600).

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use soc2_core::{KEY_LEN, KeyRing, SecretString};
use zeroize::Zeroizing;

use crate::database::Backend;
use crate::{AuditConfig, MfaConfig, StartError};

/// The id of a generated key (rotate by adding a newer key above it).
const GENERATED_KEY_ID: &str = "generated-1";

/// Which key ring: where it is generated and what a missing one is called.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    Audit,
    Sealing,
}

impl Purpose {
    fn suffix(self) -> &'static str {
        match self {
            Self::Audit => ".audit-keys",
            Self::Sealing => ".sealing-keys",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Self::Audit => "# soc2-rs audit keys in KeyRing::parse format: the first key signs\n",
            Self::Sealing => {
                "# soc2-rs secret-sealing keys (AES-256-GCM) in KeyRing::parse format: the first key seals\n"
            }
        }
    }

    fn missing(self) -> StartError {
        match self {
            Self::Audit => StartError::NoAuditKeys,
            Self::Sealing => StartError::NoSealingKeys,
        }
    }
}

/// The audit key ring, generating `<database>.audit-keys` (mode 0600) beside a SQLite file
/// when nothing is configured.
pub(crate) fn audit_keys(
    config: &AuditConfig,
    sqlite_file: Option<&Path>,
) -> Result<KeyRing, StartError> {
    load(
        Purpose::Audit,
        config.keys.as_ref(),
        config.keys_file.as_deref(),
        sqlite_file,
    )
}

/// The key ring sealing TOTP seeds, generating `<database>.sealing-keys` (mode 0600) beside a
/// SQLite file when nothing is configured. Never read from the database it protects.
pub(crate) fn sealing_keys(
    config: &MfaConfig,
    sqlite_file: Option<&Path>,
) -> Result<KeyRing, StartError> {
    load(
        Purpose::Sealing,
        config.sealing_keys.as_ref(),
        config.sealing_keys_file.as_deref(),
        sqlite_file,
    )
}

fn load(
    purpose: Purpose,
    inline: Option<&SecretString>,
    file: Option<&Path>,
    sqlite_file: Option<&Path>,
) -> Result<KeyRing, StartError> {
    if let Some(keys) = inline {
        return Ok(KeyRing::parse(keys.expose_secret())?);
    }
    let path = match (file, sqlite_file) {
        (Some(path), _) => path.to_owned(),
        (None, Some(database)) => key_file_beside(database, purpose),
        (None, None) => return Err(purpose.missing()),
    };
    if file.is_none() && !path.exists() {
        generate(&path, purpose)?;
        tracing::info!(path = %path.display(), "generated a key file; back it up apart from the database");
    }
    let text =
        Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|source| StartError::KeyFile {
                path: path.clone(),
                source,
            })?,
        );
    Ok(KeyRing::parse(&text)?)
}

/// `soc2.db` → `soc2.db.audit-keys` or `soc2.db.sealing-keys`.
fn key_file_beside(database: &Path, purpose: Purpose) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(purpose.suffix());
    PathBuf::from(name)
}

fn generate(path: &Path, purpose: Purpose) -> Result<(), StartError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| StartError::Random)?;
    let line = Zeroizing::new(format!(
        "{}{GENERATED_KEY_ID}={}\n",
        purpose.header(),
        KeyRing::encode_key(&key)
    ));
    let failed = |source| StartError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(line.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// The audit key file the server reads for `database_url` when `SOC2_AUDIT_KEYS` is unset:
/// `[audit] keys_file`, else `<database>.audit-keys` beside a SQLite file; `None` when neither
/// applies (PostgreSQL or in-memory SQLite without `keys_file`). Never generates the file: for
/// tools that must use the very keys the server signs with (`soc2ctl --config`).
///
/// # Errors
/// [`StartError::DatabaseUrl`] when the URL names no supported backend.
pub fn audit_keys_file(
    config: &AuditConfig,
    database_url: &str,
) -> Result<Option<PathBuf>, StartError> {
    let sqlite_file = match Backend::of(database_url)? {
        Backend::Sqlite(file) => file,
        Backend::Postgres => None,
    };
    Ok(config
        .keys_file
        .clone()
        .or_else(|| sqlite_file.map(|database| key_file_beside(&database, Purpose::Audit))))
}
