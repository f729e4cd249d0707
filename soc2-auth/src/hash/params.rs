//! argon2id cost parameters.

use argon2::{Algorithm, Params, Version};

use super::HashError;

/// The longest pepper key id: the PHC `keyid` parameter holds at most 8 bytes.
pub const MAX_PEPPER_ID_BYTES: usize = 8;

/// argon2id cost parameters. Changing them makes every stored hash "need rehash": it is
/// upgraded at the user's next successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Default for HashParams {
    /// m = 19456 KiB (19 MiB), t = 2, p = 1: the OWASP Password Storage Cheat Sheet's argon2id
    /// configuration, which OWASP ASVS 4.0.3 V2.4.1 defers to.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashParams {
    /// Custom parameters, validated by argon2.
    ///
    /// # Errors
    /// [`HashError::Config`] when argon2 refuses them (e.g. memory below 8 KiB per lane).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, HashError> {
        let params = Self {
            memory_kib,
            iterations,
            parallelism,
        };
        params.argon2_params(None)?;
        Ok(params)
    }

    /// Memory cost in KiB.
    #[must_use]
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Iterations (time cost).
    #[must_use]
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Lanes (parallelism).
    #[must_use]
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }

    /// The argon2 parameters, with the pepper's key id when there is one.
    pub(super) fn argon2_params(&self, pepper_id: Option<&str>) -> Result<Params, HashError> {
        let mut builder = argon2::ParamsBuilder::new();
        builder
            .m_cost(self.memory_kib)
            .t_cost(self.iterations)
            .p_cost(self.parallelism);
        if let Some(id) = pepper_id {
            let key_id = argon2::KeyId::new(id.as_bytes()).map_err(|_| {
                HashError::Config(format!(
                    "pepper key id `{id}` is longer than {MAX_PEPPER_ID_BYTES} bytes"
                ))
            })?;
            builder.keyid(key_id);
        }
        builder
            .build()
            .map_err(|e| HashError::Config(e.to_string()))
    }

    /// Whether `params` (read from a stored hash) are these.
    pub(super) fn matches(&self, params: &Params) -> bool {
        params.m_cost() == self.memory_kib
            && params.t_cost() == self.iterations
            && params.p_cost() == self.parallelism
    }
}

/// The only algorithm and version this crate writes.
pub(super) const ALGORITHM: Algorithm = Algorithm::Argon2id;
/// argon2 version 1.3 (RFC 9106).
pub(super) const VERSION: Version = Version::V0x13;
