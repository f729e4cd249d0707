//! `PasswordHasher`: argon2id on dedicated threads, off the async runtime.

use std::fmt;
use std::sync::Arc;

use argon2::PasswordHash;
use soc2_core::KeyRing;
use zeroize::Zeroizing;

use super::params::{ALGORITHM, VERSION};
use super::workers::Workers;
use super::{HashError, HashParams, MAX_PEPPER_ID_BYTES, StoredHash, compute};
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
/// Every hash runs on a fixed set of dedicated threads (by default one per core; the
/// "permits"), never on the async runtime, so a login storm neither stalls request handling nor
/// holds more than `permits × memory cost` of argon2 memory: each thread reuses one buffer, so
/// logins neither allocate nor page-fault 19 MiB each. Jobs queue in FIFO order. Cheap to
/// clone; the threads end with the last clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: HashParams,
    pepper: Option<Arc<KeyRing>>,
    workers: Workers,
    dummy: Arc<StoredHash>,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .field("pepper", &self.pepper.as_ref().map(|ring| ring.active_id()))
            .field("permits", &self.workers.threads())
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
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let dummy = Arc::new(dummy_hash(params, None)?);
        Ok(Self {
            params,
            pepper: None,
            workers: Workers::new(cores)?,
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

    /// Sets how many hashes may run at once (at least 1; by default one per core). Peak
    /// argon2 memory is `permits × memory cost`.
    ///
    /// # Errors
    /// [`HashError::Config`] when the threads cannot be started.
    pub fn with_permits(mut self, permits: usize) -> Result<Self, HashError> {
        self.workers = Workers::new(permits)?;
        Ok(self)
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// How many hashes may run at once.
    #[must_use]
    pub fn permits(&self) -> usize {
        self.workers.threads()
    }

    /// Hashes a password with a fresh random salt.
    ///
    /// # Errors
    /// [`HashError::Argon2`] or [`HashError::Cancelled`].
    pub async fn hash(&self, password: &NormalizedPassword) -> Result<StoredHash, HashError> {
        let params = self.params;
        let pepper = self.pepper.clone();
        let bytes = owned(password);
        self.workers
            .run(move |memory| compute::hash(params, pepper.as_deref(), &bytes, memory))
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
            .workers
            .run(move |memory| compute::matches(&hash, pepper.as_deref(), &bytes, memory))
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
    /// in one job (used for password history).
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
        self.workers
            .run(move |memory| {
                for (index, hash) in hashes.iter().enumerate() {
                    if compute::matches(hash, pepper.as_deref(), &bytes, memory)? {
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
}

fn owned(password: &NormalizedPassword) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(password.as_bytes().to_vec())
}

fn dummy_hash(params: HashParams, pepper: Option<&KeyRing>) -> Result<StoredHash, HashError> {
    let mut random = Zeroizing::new([0u8; 32]);
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), random.as_mut())
        .map_err(|_| HashError::Argon2("the system random generator failed".into()))?;
    compute::hash(params, pepper, random.as_ref(), &mut Vec::new())
}
