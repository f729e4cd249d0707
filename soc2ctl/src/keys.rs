//! Loading the audit key ring and generating keys.

use std::path::PathBuf;

use clap::Args;
use ring::rand::{SecureRandom, SystemRandom};
use soc2_core::{KEY_LEN, KeyId, KeyRing};
use zeroize::Zeroizing;

use crate::Failure;

/// Where the audit keys come from.
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
    /// The key ring, or a message saying what is missing or malformed (never key material).
    pub(crate) fn load(&self) -> Result<KeyRing, Failure> {
        let spec = match (&self.keys_file, &self.keys) {
            (Some(path), _) => std::fs::read_to_string(path).map_err(|e| {
                Failure::config(format!("cannot read keys file {}: {e}", path.display()))
            })?,
            (None, Some(spec)) => spec.clone(),
            (None, None) => {
                return Err(Failure::config(
                    "no audit keys: pass --keys-file or set SOC2_AUDIT_KEYS",
                ));
            }
        };
        KeyRing::parse(&spec).map_err(|e| Failure::config(format!("audit keys: {e}")))
    }
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
