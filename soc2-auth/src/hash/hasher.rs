//! `PasswordHasher`: argon2id on the blocking pool behind a semaphore.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::Error as PhcError;
use argon2::{Argon2, PasswordHash, PasswordVerifier as _};
use soc2_core::KeyRing;
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::params::{ALGORITHM, VERSION};
use super::{HashError, HashParams, MAX_PEPPER_ID_BYTES, StoredHash};
use crate::password::NormalizedPassword;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// The password is right. `needs_rehash` when the hash predates the current parameters or
    /// pepper key: store a fresh hash now, while the plaintext is at hand.
    Match {
        /// Whether the stored hash should be replaced.
        needs_rehash: bool,
    },
    /// The password is wrong.
    Mismatch,
}

/// Hashes and verifies passwords with argon2id.
///
/// Every hash runs on tokio's blocking pool behind a semaphore (by default one permit per
/// core), so a login storm neither stalls the async runtime nor allocates more than
/// `permits × memory cost` at once. Cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashParams,
    pepper: Option<Arc<KeyRing>>,
    permits: Arc<Semaphore>,
    permit_count: usize,
    dummy: Arc<StoredHash>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("pepper", &self.pepper.as_ref().map(|ring| ring.active_id()))
            .field("permits", &self.permit_count)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// A hasher without pepper, with one permit per available core. Computes the dummy hash
    /// used for unknown accounts now, with these very parameters, so that a login for an
    /// unknown user costs exactly what a real one costs.
    ///
    /// # Errors
    /// [`HashError::Config`] for parameters argon2 refuses.
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        let permit_count = std::thread::available_parallelism().map_or(1, usize::from);
        let dummy = Arc::new(dummy_hash(params, None)?);
        Ok(Self {
            params,
            pepper: None,
            permits: Arc::new(Semaphore::new(permit_count)),
            permit_count,
            dummy,
        })
    }

    /// Adds a pepper: a secret key mixed into every hash (argon2's `secret` input), kept
    /// outside the database. New hashes use the ring's active key and record its id in the
    /// PHC `keyid` parameter; older hashes verify with the key they name and are upgraded on
    /// the next login. Key ids must be at most [`MAX_PEPPER_ID_BYTES`] bytes.
    ///
    /// # Errors
    /// [`HashError::Config`] for a key id that does not fit the PHC string.
    pub fn with_pepper(mut self, pepper: KeyRing) -> Result<Self, HashError> {
        if let Some(id) = pepper
            .ids()
            .find(|id| id.as_str().len() > MAX_PEPPER_ID_BYTES)
        {
            return Err(HashError::Config(format!(
                "pepper key id `{id}` is longer than {MAX_PEPPER_ID_BYTES} bytes"
            )));
        }
        let pepper = Arc::new(pepper);
        self.dummy = Arc::new(dummy_hash(self.params, Some(&pepper))?);
        self.pepper = Some(pepper);
        Ok(self)
    }

    /// Sets how many hashes may run at once (at least 1). Peak memory is `permits × memory
    /// cost`.
    #[must_use]
    pub fn with_permits(mut self, permits: usize) -> Self {
        self.permit_count = permits.max(1);
        self.permits = Arc::new(Semaphore::new(self.permit_count));
        self
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// How many hashes may run at once.
    #[must_use]
    pub fn permits(&self) -> usize {
        self.permit_count
    }

    /// Hashes a password with a fresh random salt.
    ///
    /// # Errors
    /// [`HashError::Argon2`] or [`HashError::Cancelled`].
    pub async fn hash(&self, password: &NormalizedPassword) -> Result<StoredHash, HashError> {
        let params = self.params;
        let pepper = self.pepper.clone();
        let bytes = owned(password);
        self.blocking(move || hash_now(params, pepper.as_deref(), &bytes))
            .await
    }

    /// Checks a password against a stored hash (constant-time comparison of the outputs).
    ///
    /// # Errors
    /// [`HashError::Malformed`] or [`HashError::UnknownPepper`] for a hash that cannot be
    /// checked, [`HashError::Argon2`] or [`HashError::Cancelled`].
    pub async fn verify(
        &self,
        password: &NormalizedPassword,
        stored: &StoredHash,
    ) -> Result<Verification, HashError> {
        let hash = stored.phc()?;
        let needs_rehash = self.needs_rehash(&hash)?;
        let pepper = self.pepper.clone();
        let bytes = owned(password);
        let matched = self
            .blocking(move || matches(&hash, pepper.as_deref(), &bytes))
            .await?;
        Ok(if matched {
            Verification::Match { needs_rehash }
        } else {
            Verification::Mismatch
        })
    }

    /// Spends exactly the work of a real verification against a hash made at start-up, and
    /// discards the result: used for unknown, disabled, password-less and locked accounts so
    /// their refusals take as long as a wrong password.
    ///
    /// # Errors
    /// [`HashError::Cancelled`].
    pub async fn verify_dummy(&self, password: &NormalizedPassword) -> Result<(), HashError> {
        self.verify(password, &self.dummy.clone()).await.map(drop)
    }

    /// The index of the first of `candidates` that `password` matches, checking all of them
    /// in one blocking task (used for password history).
    ///
    /// # Errors
    /// As [`PasswordHasher::verify`].
    pub async fn find_match(
        &self,
        password: &NormalizedPassword,
        candidates: &[StoredHash],
    ) -> Result<Option<usize>, HashError> {
        let hashes = candidates
            .iter()
            .map(StoredHash::phc)
            .collect::<Result<Vec<_>, _>>()?;
        let pepper = self.pepper.clone();
        let bytes = owned(password);
        self.blocking(move || {
            for (index, hash) in hashes.iter().enumerate() {
                if matches(hash, pepper.as_deref(), &bytes)? {
                    return Ok(Some(index));
                }
            }
            Ok(None)
        })
        .await
    }

    fn needs_rehash(&self, hash: &PasswordHash) -> Result<bool, HashError> {
        let params = argon2::Params::try_from(hash).map_err(|_| HashError::Malformed)?;
        let active_pepper = self
            .pepper
            .as_ref()
            .map_or(&[][..], |ring| ring.active_id().as_str().as_bytes());
        Ok(hash.algorithm != ALGORITHM.ident()
            || hash.version != Some(VERSION.into())
            || !self.params.matches(&params)
            || params.keyid() != active_pepper)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| HashError::Cancelled)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|_| HashError::Cancelled)?
    }
}

fn owned(password: &NormalizedPassword) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(password.as_bytes().to_vec())
}

fn hash_now(
    params: HashParams,
    pepper: Option<&KeyRing>,
    password: &[u8],
) -> Result<StoredHash, HashError> {
    use argon2::PasswordHasher as _;

    let argon2 = match pepper {
        Some(ring) => Argon2::new_with_secret(
            ring.active_key(),
            ALGORITHM,
            VERSION,
            params.argon2_params(Some(ring.active_id().as_str()))?,
        )
        .map_err(|e| HashError::Config(e.to_string()))?,
        None => Argon2::new(ALGORITHM, VERSION, params.argon2_params(None)?),
    };
    let hash: PasswordHash = argon2
        .hash_password(password)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(StoredHash::from_phc(&hash))
}

fn matches(
    hash: &PasswordHash,
    pepper: Option<&KeyRing>,
    password: &[u8],
) -> Result<bool, HashError> {
    let params = argon2::Params::try_from(hash).map_err(|_| HashError::Malformed)?;
    let argon2 = if params.keyid().is_empty() {
        Argon2::default()
    } else {
        let id = String::from_utf8_lossy(params.keyid()).into_owned();
        let key = pepper
            .and_then(|ring| ring.get(&id))
            .ok_or(HashError::UnknownPepper(id))?;
        Argon2::new_with_secret(key, ALGORITHM, VERSION, params)
            .map_err(|e| HashError::Config(e.to_string()))?
    };
    match argon2.verify_password(password, hash) {
        Ok(()) => Ok(true),
        Err(PhcError::PasswordInvalid) => Ok(false),
        Err(
            PhcError::Algorithm
            | PhcError::Version
            | PhcError::ParamsInvalid
            | PhcError::ParamInvalid { .. }
            | PhcError::SaltInvalid
            | PhcError::EncodingInvalid,
        ) => Err(HashError::Malformed),
        Err(e) => Err(HashError::Argon2(e.to_string())),
    }
}

fn dummy_hash(params: HashParams, pepper: Option<&KeyRing>) -> Result<StoredHash, HashError> {
    let mut random = Zeroizing::new([0u8; 32]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), random.as_mut())
        .map_err(|_| HashError::Argon2("the system random generator failed".into()))?;
    hash_now(params, pepper, random.as_ref())
}
