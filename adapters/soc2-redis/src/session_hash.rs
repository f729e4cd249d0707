//! A session as stored: the fields of its Redis hash (format version 1).
//!
//! Times are whole microseconds since the Unix epoch, as decimal strings (the precision every
//! soc2-rs store keeps; Lua compares them exactly, below 2^53). Absent optional values are
//! absent fields.

use std::collections::HashMap;

use soc2_core::{StoreError, from_unix_micros, unix_micros};
use soc2_session::{AuthLevel, Factor, SessionRecord, TokenDigest};
use time::OffsetDateTime;

use crate::error::corrupt;

/// The format version written into field `v`.
const VERSION: &str = "1";
/// The kind named in `Corrupt` errors.
const WHAT: &str = "session hash";

/// The digest as it appears in key names and indexes: lowercase hex.
pub(crate) fn digest_hex(digest: &TokenDigest) -> String {
    hex::encode(digest.as_bytes())
}

/// The score of a session in the expiry index: its earlier expiry, in microseconds.
pub(crate) fn expiry_score(record: &SessionRecord) -> String {
    unix_micros(record.idle_expires_at.min(record.absolute_expires_at)).to_string()
}

/// The hash fields of `record`, as `field, value, field, value, ...`.
pub(crate) fn fields(record: &SessionRecord) -> Vec<String> {
    let micros = |at: OffsetDateTime| unix_micros(at).to_string();
    let factors = record
        .auth
        .factors
        .iter()
        .map(|factor| factor.name())
        .collect::<Vec<_>>()
        .join(",");
    let mut fields = vec![
        ("v", VERSION.to_owned()),
        ("digest", digest_hex(&record.digest)),
        ("id", record.id.to_string()),
        ("user", record.user_id.to_string()),
        ("created", micros(record.created_at)),
        ("seen", micros(record.last_seen_at)),
        ("idle", micros(record.idle_expires_at)),
        ("abs", micros(record.absolute_expires_at)),
        ("authn", micros(record.auth.authenticated_at)),
        ("factors", factors),
    ];
    if let Some(at) = record.auth.mfa_verified_at {
        fields.push(("mfa", micros(at)));
    }
    if let Some(ip) = record.client_ip {
        fields.push(("ip", ip.to_string()));
    }
    if let Some(agent) = &record.user_agent {
        fields.push(("ua", agent.clone()));
    }
    fields
        .into_iter()
        .flat_map(|(field, value)| [field.to_owned(), value])
        .collect()
}

/// A flat `field, value, ...` reply (HGETALL inside a script) as a map.
pub(crate) fn pairs(flat: Vec<String>) -> Result<HashMap<String, String>, StoreError> {
    if !flat.len().is_multiple_of(2) {
        return Err(corrupt(WHAT, "odd number of field values"));
    }
    let mut map = HashMap::with_capacity(flat.len() / 2);
    let mut values = flat.into_iter();
    while let (Some(field), Some(value)) = (values.next(), values.next()) {
        map.insert(field, value);
    }
    Ok(map)
}

/// Parses a stored session hash.
pub(crate) fn parse(mut map: HashMap<String, String>) -> Result<SessionRecord, StoreError> {
    match map.get("v").map(String::as_str) {
        Some(VERSION) => {}
        Some(_) => return Err(corrupt(WHAT, "unknown format version")),
        None => return Err(corrupt(WHAT, "no format version")),
    }
    let mut take = |field: &str| {
        map.remove(field)
            .ok_or_else(|| corrupt(WHAT, &format!("missing field `{field}`")))
    };
    let digest_text = take("digest")?;
    let mut digest = [0_u8; 32];
    hex::decode_to_slice(&digest_text, &mut digest)
        .map_err(|_| corrupt(WHAT, "token digest is not 32 hex bytes"))?;
    let id = take("id")?
        .parse()
        .map_err(|_| corrupt(WHAT, "session id is not a UUID"))?;
    let user_id = take("user")?
        .parse()
        .map_err(|_| corrupt(WHAT, "user id is not a UUID"))?;
    let created_at = instant(&take("created")?)?;
    let last_seen_at = instant(&take("seen")?)?;
    let idle_expires_at = instant(&take("idle")?)?;
    let absolute_expires_at = instant(&take("abs")?)?;
    let authenticated_at = instant(&take("authn")?)?;
    let factors = take("factors")?
        .split(',')
        .filter(|name| !name.is_empty())
        .map(|name| Factor::from_name(name).ok_or_else(|| corrupt(WHAT, "unknown factor")))
        .collect::<Result<_, _>>()?;
    let mfa_verified_at = map.remove("mfa").map(|at| instant(&at)).transpose()?;
    let client_ip = map
        .remove("ip")
        .map(|ip| {
            ip.parse()
                .map_err(|_| corrupt(WHAT, "client ip does not parse"))
        })
        .transpose()?;
    Ok(SessionRecord {
        id,
        digest: TokenDigest::from_bytes(digest),
        user_id,
        created_at,
        last_seen_at,
        idle_expires_at,
        absolute_expires_at,
        auth: AuthLevel {
            authenticated_at,
            factors,
            mfa_verified_at,
        },
        client_ip,
        user_agent: map.remove("ua"),
    })
}

/// A stored time.
pub(crate) fn instant(text: &str) -> Result<OffsetDateTime, StoreError> {
    text.parse::<i64>()
        .ok()
        .and_then(from_unix_micros)
        .ok_or_else(|| corrupt(WHAT, "timestamp is not microseconds in range"))
}
