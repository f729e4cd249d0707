//! Loading the audit key ring and generating keys.

use std::path::{Path, PathBuf};

use clap::Args;
use reference_server::audit_keys_file;
use ring::rand::{SecureRandom, SystemRandom};
use soc2_core::{KEY_LEN, KeyId, KeyRing};
use zeroize::Zeroizing;

use crate::Failure;
use crate::target::Target;

/// Where the audit keys come from: `--keys-file`, else `--keys` or `SOC2_AUDIT_KEYS`, else the
/// keys of the server's `--config` (as the server reads them).
#[derive(Debug, Args)]
pub(crate) struct KeySource {
    /// A file of `id=base64key` lines, the first the active key.
    #[arg(long, conflicts_with = "keys")]
    keys_file: Option<PathBuf>,
    /// The same entries inline (comma-separated).
    #[arg(long, env = "SOC2_AUDIT_KEYS", hide_env_values = true)]
    keys: Option<String>,
}

impl KeySource {
    /// The key ring for `target`, or a message saying what is missing or malformed (never key
    /// material).
    pub(crate) fn load(&self, target: &Target) -> Result<KeyRing, Failure> {
        let spec = match (&self.keys_file, &self.keys, &target.config) {
            (Some(path), _, _) => read(path)?,
            (None, Some(spec), _) => Zeroizing::new(spec.clone()),
            (None, None, Some(config)) => match audit_keys_file(&config.audit, &target.url)
                .map_err(|e| Failure::config(e.to_string()))?
            {
                Some(path) => read(&path)?,
                None => {
                    return Err(Failure::config(
                        "no audit keys: the configuration has no [audit] keys_file and the \
                         database is not a SQLite file; pass --keys-file or set SOC2_AUDIT_KEYS",
                    ));
                }
            },
            (None, None, None) => {
                return Err(Failure::config(
                    "no audit keys: pass --keys-file, set SOC2_AUDIT_KEYS or pass --config",
                ));
            }
        };
        KeyRing::parse(&spec).map_err(|e| Failure::config(format!("audit keys: {e}")))
    }
}

fn read(path: &Path) -> Result<Zeroizing<String>, Failure> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| Failure::config(format!("cannot read keys file {}: {e}", path.display())))
}

/// A new random key as an `id=base64key` line.
pub(crate) fn generate(id: &str) -> Result<String, Failure> {
    let id = KeyId::new(id).map_err(|e| Failure::config(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    SystemRandom::new()
        .fill(key.as_mut())
        .map_err(|_| Failure::config("the operating system's random generator failed"))?;
    Ok(format!("{id}={}", KeyRing::encode_key(&key)))
}
