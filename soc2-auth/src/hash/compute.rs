//! argon2id itself, computed in caller-provided memory (so the hasher can reuse one buffer per
//! permit instead of allocating 19 MiB per login).

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, PasswordHash, Version};
use soc2_core::KeyRing;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::params::{ALGORITHM, VERSION};
use super::{HashError, HashParams, StoredHash};

/// Salt length in bytes: 128 bits, as the PHC format and RFC 9106 §3.1 recommend.
const SALT_LEN: usize = 16;
/// Output length in bytes (argon2's default, 256 bits).
const OUTPUT_LEN: usize = 32;

/// Hashes `password` with a fresh random salt under `params` and the pepper's active key.
pub(super) fn hash(
    params: HashParams,
    pepper: Option<&KeyRing>,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<StoredHash, HashError> {
    let mut salt = [0u8; SALT_LEN];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| HashError::Argon2("the system random generator failed".into()))?;
    let key = pepper.map(|ring| (ring.active_id().as_str(), ring.active_key().as_slice()));
    let argon2_params = params.argon2_params(key.map(|(id, _)| id))?;
    let argon2 = context(
        ALGORITHM,
        VERSION,
        argon2_params.clone(),
        key.map(|(_, k)| k),
    )?;
    let mut output = Zeroizing::new([0u8; OUTPUT_LEN]);
    run(
        &argon2,
        &argon2_params,
        password,
        &salt,
        output.as_mut(),
        memory,
    )?;
    let phc = PasswordHash {
        algorithm: ALGORITHM.ident(),
        version: Some(VERSION.into()),
        params: ParamsString::try_from(&argon2_params).map_err(|_| HashError::Malformed)?,
        salt: Some(Salt::new(&salt).map_err(|e| HashError::Argon2(e.to_string()))?),
        hash: Some(Output::new(output.as_ref()).map_err(|e| HashError::Argon2(e.to_string()))?),
    };
    Ok(StoredHash::from_phc(&phc))
}

/// Whether `password` produces the stored output (compared in constant time).
pub(super) fn matches(
    hash: &PasswordHash,
    pepper: Option<&KeyRing>,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<bool, HashError> {
    let params = argon2::Params::try_from(hash).map_err(|_| HashError::Malformed)?;
    let algorithm =
        Algorithm::try_from(hash.algorithm.as_str()).map_err(|_| HashError::Malformed)?;
    let version = match hash.version {
        Some(version) => Version::try_from(version).map_err(|_| HashError::Malformed)?,
        None => Version::V0x10,
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err(HashError::Malformed);
    };
    let key = if params.keyid().is_empty() {
        None
    } else {
        let id = String::from_utf8_lossy(params.keyid()).into_owned();
        let key = pepper.and_then(|ring| ring.get(&id));
        Some(key.ok_or(HashError::UnknownPepper(id))?.as_slice())
    };
    let argon2 = context(algorithm, version, params.clone(), key)?;
    let mut output = Zeroizing::new(vec![0u8; expected.len()]);
    run(
        &argon2,
        &params,
        password,
        salt.as_ref(),
        &mut output,
        memory,
    )?;
    Ok(bool::from(output.ct_eq(expected.as_bytes())))
}

fn context<'k>(
    algorithm: Algorithm,
    version: Version,
    params: argon2::Params,
    key: Option<&'k [u8]>,
) -> Result<Argon2<'k>, HashError> {
    match key {
        Some(key) => Argon2::new_with_secret(key, algorithm, version, params)
            .map_err(|e| HashError::Config(e.to_string())),
        None => Ok(Argon2::new(algorithm, version, params)),
    }
}

fn run(
    argon2: &Argon2<'_>,
    params: &argon2::Params,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
    memory: &mut Vec<Block>,
) -> Result<(), HashError> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    argon2
        .hash_password_into_with_memory(password, salt, output, &mut memory[..blocks])
        .map_err(|e| match e {
            argon2::Error::SaltTooShort | argon2::Error::SaltTooLong => HashError::Malformed,
            other => HashError::Argon2(other.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    /// What we compute in pooled memory is exactly what the argon2 crate computes itself.
    #[test]
    fn agrees_with_the_argon2_crate_both_ways() {
        let params = HashParams::new(64, 2, 1).unwrap();
        let mut memory = Vec::new();
        let ours = hash(params, None, b"hunter2", &mut memory).unwrap();
        let phc = ours.phc().unwrap();
        Argon2::default().verify_password(b"hunter2", &phc).unwrap();
        assert!(Argon2::default().verify_password(b"hunter3", &phc).is_err());

        let theirs: PasswordHash = Argon2::default()
            .hash_password_with_salt(b"password", b"somesaltsomesalt")
            .unwrap();
        assert!(matches(&theirs, None, b"password", &mut memory).unwrap());
        assert!(!matches(&theirs, None, b"passw0rd", &mut memory).unwrap());
    }
}
