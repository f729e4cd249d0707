//! The audit key ring: `SOC2_AUDIT_KEYS`, `[audit] keys_file`, or a key file generated beside
//! the SQLite database.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use soc2_core::{KEY_LEN, KeyRing};
use zeroize::Zeroizing;

use crate::{AuditConfig, StartError};

/// The id of a generated key (rotate by adding a newer key above it).
const GENERATED_KEY_ID: &str = "generated-1";

/// The audit key ring, generating `<database>.audit-keys` (mode 0600) beside a SQLite file
/// when nothing is configured.
pub(crate) fn audit_keys(
    config: &AuditConfig,
    sqlite_file: Option<&Path>,
) -> Result<KeyRing, StartError> {
    if let Some(keys) = &config.keys {
        return Ok(KeyRing::parse(keys.expose_secret())?);
    }
    let path = match (&config.keys_file, sqlite_file) {
        (Some(path), _) => path.clone(),
        (None, Some(database)) => key_file_beside(database),
        (None, None) => return Err(StartError::NoAuditKeys),
    };
    if config.keys_file.is_none() && !path.exists() {
        generate(&path)?;
        tracing::info!(path = %path.display(), "generated an audit key file; back it up apart from the database");
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

/// `soc2.db` → `soc2.db.audit-keys`.
pub(crate) fn key_file_beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".audit-keys");
    PathBuf::from(name)
}

fn generate(path: &Path) -> Result<(), StartError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| StartError::Random)?;
    let line = Zeroizing::new(format!(
        "# soc2-rs audit keys in KeyRing::parse format: the first key signs\n{GENERATED_KEY_ID}={}\n",
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
