//! The hash chain: HMAC-linked stored events and signed checkpoints.
//!
//! Each stored event carries `seq`, `prev_hash` and
//! `hash = HMAC-SHA256(key[key_id], "soc2-audit/v1" || key_id || prev_hash || body)`, where `body`
//! is the event's JSON exactly as stored. The stored text is what is hashed, so verification
//! never depends on re-serializing an event the same way. The first event links to 32 zero bytes
//! (or to the retention anchor after a purge).

use std::collections::BTreeMap;

use ring::hmac;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use soc2_core::{KeyRing, StoreError};
use subtle::ConstantTimeEq;

use crate::AuditEvent;

/// Length of a chain hash (HMAC-SHA256).
pub const HASH_LEN: usize = 32;

/// A chain hash.
pub type ChainHash = [u8; HASH_LEN];

/// The `prev_hash` of the first event of a chain.
pub const GENESIS_HASH: ChainHash = [0; HASH_LEN];

const EVENT_DOMAIN: &[u8] = b"soc2-audit/v1/event";
const CHECKPOINT_DOMAIN: &[u8] = b"soc2-audit/v1/checkpoint";

/// The columns a store indexes beside the event body, derived from the body at append time.
///
/// Verification re-derives them from the body, so editing an indexed column (to hide an event
/// from a time-range export, say) is detected as a modification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexColumns {
    /// The event id, as text.
    pub event_id: String,
    /// [`AuditEvent::occurred_at_micros`].
    pub occurred_at_us: i64,
    /// The dotted action name.
    pub action: String,
    /// The outcome name.
    pub outcome: String,
}

impl IndexColumns {
    /// The index columns of `event`.
    #[must_use]
    pub fn of(event: &AuditEvent) -> Self {
        Self {
            event_id: event.id().to_string(),
            occurred_at_us: event.occurred_at_micros(),
            action: event.action().name().to_owned(),
            outcome: event.outcome().name().to_owned(),
        }
    }
}

/// An event serialized for storage, before it is linked into the chain.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
    /// The indexed columns.
    pub index: IndexColumns,
    /// The event's JSON, exactly as it will be stored and hashed.
    pub body: String,
}

impl PreparedEvent {
    /// Serializes `event`.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the event cannot be serialized (not expected for valid events).
    pub fn new(event: &AuditEvent) -> Result<Self, StoreError> {
        let body = serde_json::to_string(event)
            .map_err(|e| StoreError::Corrupt(format!("audit event does not serialize: {e}")))?;
        Ok(Self {
            index: IndexColumns::of(event),
            body,
        })
    }
}

/// An event as stored: its place in the chain, its MAC and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// The indexed columns as stored.
    pub index: IndexColumns,
    /// Which key of the ring made `hash`.
    pub key_id: String,
    /// The previous event's `hash`.
    pub prev_hash: ChainHash,
    /// This event's MAC.
    pub hash: ChainHash,
    /// The event's JSON as stored.
    pub body: String,
}

impl StoredEvent {
    /// Parses the stored body.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the body is not a valid event.
    pub fn event(&self) -> Result<AuditEvent, StoreError> {
        serde_json::from_str(&self.body).map_err(|e| {
            StoreError::Corrupt(format!("audit event {} does not parse: {e}", self.seq))
        })
    }

    /// One JSON Lines record: the chain fields and the event body embedded verbatim.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the stored body is not JSON.
    pub fn to_json_line(&self) -> Result<String, StoreError> {
        #[derive(Serialize)]
        struct Line<'a> {
            seq: u64,
            key_id: &'a str,
            prev_hash: String,
            hash: String,
            event: &'a RawValue,
        }
        let event: &RawValue = serde_json::from_str(&self.body).map_err(|e| {
            StoreError::Corrupt(format!("audit event {} is not JSON: {e}", self.seq))
        })?;
        serde_json::to_string(&Line {
            seq: self.seq,
            key_id: &self.key_id,
            prev_hash: hex::encode(self.prev_hash),
            hash: hex::encode(self.hash),
            event,
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// Which checkpoint this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckpointKind {
    /// The newest event, updated with every append.
    Head,
    /// The last purged event: the remaining chain starts after it.
    Anchor,
}

impl CheckpointKind {
    /// The stored name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Anchor => "anchor",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "head" => Some(Self::Head),
            "anchor" => Some(Self::Anchor),
            _ => None,
        }
    }
}

/// A signed statement "event `seq` has hash `hash`", kept apart from the event rows so that
/// dropping the newest rows (or rewriting the whole tail) is detected.
///
/// Serializable, so a host can also keep the latest head outside the database (an evidence
/// pack, a SIEM) and verify against it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Head or anchor.
    pub kind: CheckpointKind,
    /// The sequence number it covers.
    pub seq: u64,
    /// The hash of event `seq` (the genesis hash when `seq` is 0).
    #[serde(with = "hex_hash")]
    pub hash: ChainHash,
    /// The key that signed it.
    pub key_id: String,
    /// `HMAC-SHA256(key, "soc2-audit/v1/checkpoint" || kind || seq || hash || key_id)`.
    #[serde(with = "hex_hash")]
    pub mac: ChainHash,
}

/// Computes and checks chain MACs with a [`KeyRing`].
#[derive(Debug)]
pub struct Chainer {
    active: String,
    active_key: hmac::Key,
    keys: BTreeMap<String, hmac::Key>,
}

/// Why a chain could not be extended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The stored head checkpoint does not verify; appending would bless a tampered log.
    #[error(
        "the stored audit head checkpoint does not verify (tampered, or signed by a key not in the ring)"
    )]
    HeadInvalid,
}

impl From<ChainError> for StoreError {
    fn from(error: ChainError) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

impl Chainer {
    /// A chainer over every key of `keys`, signing with the active one.
    #[must_use]
    pub fn new(keys: &KeyRing) -> Self {
        let keys_by_id = keys
            .ids()
            .filter_map(|id| {
                let key = keys.get(id.as_str())?;
                Some((id.to_string(), hmac::Key::new(hmac::HMAC_SHA256, key)))
            })
            .collect();
        Self {
            active: keys.active_id().to_string(),
            active_key: hmac::Key::new(hmac::HMAC_SHA256, keys.active_key()),
            keys: keys_by_id,
        }
    }

    /// The MAC of an event body under `key_id`, or `None` when the ring lacks that key.
    #[must_use]
    pub fn event_mac(&self, key_id: &str, prev_hash: &ChainHash, body: &str) -> Option<ChainHash> {
        Some(event_mac(self.keys.get(key_id)?, key_id, prev_hash, body))
    }

    /// Signs a checkpoint with the active key.
    #[must_use]
    pub fn sign_checkpoint(&self, kind: CheckpointKind, seq: u64, hash: ChainHash) -> Checkpoint {
        Checkpoint {
            kind,
            seq,
            hash,
            mac: checkpoint_mac(&self.active_key, &self.active, kind, seq, &hash),
            key_id: self.active.clone(),
        }
    }

    /// True when `checkpoint` was signed by a key of the ring and is unmodified.
    #[must_use]
    pub fn checkpoint_is_valid(&self, checkpoint: &Checkpoint) -> bool {
        self.keys.get(&checkpoint.key_id).is_some_and(|key| {
            let mac = checkpoint_mac(
                key,
                &checkpoint.key_id,
                checkpoint.kind,
                checkpoint.seq,
                &checkpoint.hash,
            );
            bool::from(mac.ct_eq(&checkpoint.mac))
        })
    }

    /// Starts appending after `head` (a missing head is the empty chain).
    ///
    /// # Errors
    /// [`ChainError::HeadInvalid`] when the head's signature does not verify.
    pub fn resume(&self, head: Option<&Checkpoint>) -> Result<ChainCursor<'_>, ChainError> {
        let (seq, hash) = match head {
            None => (0, GENESIS_HASH),
            Some(head) if self.checkpoint_is_valid(head) => (head.seq, head.hash),
            Some(_) => return Err(ChainError::HeadInvalid),
        };
        Ok(self.cursor_at(seq, hash))
    }

    /// A cursor after `(seq, hash)` taken on trust, for sinks without signed checkpoints.
    pub(crate) fn cursor_at(&self, seq: u64, hash: ChainHash) -> ChainCursor<'_> {
        ChainCursor {
            chainer: self,
            seq,
            hash,
        }
    }
}

/// The end of a chain being extended inside one atomic append.
#[derive(Debug)]
pub struct ChainCursor<'a> {
    chainer: &'a Chainer,
    seq: u64,
    hash: ChainHash,
}

impl ChainCursor<'_> {
    /// Links `event` after the current end and moves the end to it.
    pub fn link(&mut self, event: &PreparedEvent) -> StoredEvent {
        let key_id = self.chainer.active.clone();
        let hash = event_mac(&self.chainer.active_key, &key_id, &self.hash, &event.body);
        self.seq += 1;
        let stored = StoredEvent {
            seq: self.seq,
            index: event.index.clone(),
            key_id,
            prev_hash: self.hash,
            hash,
            body: event.body.clone(),
        };
        self.hash = hash;
        stored
    }

    /// The signed head checkpoint for the current end.
    #[must_use]
    pub fn head(&self) -> Checkpoint {
        self.chainer
            .sign_checkpoint(CheckpointKind::Head, self.seq, self.hash)
    }
}

/// `HMAC-SHA256(key, "soc2-audit/v1/event" || len(key_id) || key_id || prev_hash || body)`.
fn event_mac(key: &hmac::Key, key_id: &str, prev_hash: &ChainHash, body: &str) -> ChainHash {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(EVENT_DOMAIN);
    update_with_len(&mut ctx, key_id.as_bytes());
    ctx.update(prev_hash);
    ctx.update(body.as_bytes());
    to_hash(ctx.sign().as_ref())
}

/// `HMAC-SHA256(key, "soc2-audit/v1/checkpoint" || len(kind) || kind || seq || hash ||
/// len(key_id) || key_id)`.
fn checkpoint_mac(
    key: &hmac::Key,
    key_id: &str,
    kind: CheckpointKind,
    seq: u64,
    hash: &ChainHash,
) -> ChainHash {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(CHECKPOINT_DOMAIN);
    update_with_len(&mut ctx, kind.name().as_bytes());
    ctx.update(&seq.to_be_bytes());
    ctx.update(hash);
    update_with_len(&mut ctx, key_id.as_bytes());
    to_hash(ctx.sign().as_ref())
}

/// Converts a stored byte column into a chain hash.
///
/// # Errors
/// [`StoreError::Corrupt`] when the column is not 32 bytes.
pub fn hash_from_slice(bytes: &[u8]) -> Result<ChainHash, StoreError> {
    ChainHash::try_from(bytes).map_err(|_| {
        StoreError::Corrupt(format!(
            "a chain hash has {} bytes, not {HASH_LEN}",
            bytes.len()
        ))
    })
}

fn update_with_len(ctx: &mut hmac::Context, bytes: &[u8]) {
    ctx.update(&(bytes.len() as u64).to_be_bytes());
    ctx.update(bytes);
}

fn to_hash(bytes: &[u8]) -> ChainHash {
    let mut out = GENESIS_HASH;
    out.copy_from_slice(&bytes[..HASH_LEN]);
    out
}

mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::ChainHash;

    pub(super) fn serialize<S: Serializer>(
        hash: &ChainHash,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(hash))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<ChainHash, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(serde::de::Error::custom)?;
        ChainHash::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom("expected 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use soc2_core::{KeyId, KeyRing};
    use time::macros::datetime;

    use super::*;
    use crate::{Actor, Outcome, SdkAction};

    fn ring(id: &str, byte: u8) -> KeyRing {
        KeyRing::single(KeyId::new(id).unwrap(), [byte; 32])
    }

    fn event() -> AuditEvent {
        AuditEvent::new(
            SdkAction::LoginSucceeded,
            Outcome::Success,
            Actor::System,
            datetime!(2026-01-01 00:00 UTC),
        )
    }

    #[test]
    fn event_mac_matches_an_independent_hmac() {
        // The MAC is HMAC-SHA256 over the documented layout; recompute it by hand.
        let chainer = Chainer::new(&ring("k1", 7));
        let body = r#"{"x":1}"#;
        let mac = chainer.event_mac("k1", &GENESIS_HASH, body).unwrap();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[7; 32]);
        let mut message = EVENT_DOMAIN.to_vec();
        message.extend_from_slice(&2u64.to_be_bytes());
        message.extend_from_slice(b"k1");
        message.extend_from_slice(&GENESIS_HASH);
        message.extend_from_slice(body.as_bytes());
        assert_eq!(mac.as_slice(), hmac::sign(&key, &message).as_ref());
        assert_eq!(chainer.event_mac("k2", &GENESIS_HASH, body), None);
    }

    #[test]
    fn cursor_links_events_and_signs_the_head() {
        let chainer = Chainer::new(&ring("k1", 1));
        let mut cursor = chainer.resume(None).unwrap();
        let first = cursor.link(&PreparedEvent::new(&event()).unwrap());
        let second = cursor.link(&PreparedEvent::new(&event()).unwrap());
        assert_eq!((first.seq, second.seq), (1, 2));
        assert_eq!(first.prev_hash, GENESIS_HASH);
        assert_eq!(second.prev_hash, first.hash);
        let head = cursor.head();
        assert_eq!((head.seq, head.hash), (2, second.hash));
        assert!(chainer.checkpoint_is_valid(&head));
        let resumed = chainer.resume(Some(&head)).unwrap();
        assert_eq!(resumed.seq, 2);
    }

    #[test]
    fn forged_or_foreign_checkpoints_are_refused() {
        let chainer = Chainer::new(&ring("k1", 1));
        let mut head = chainer.sign_checkpoint(CheckpointKind::Head, 5, [3; 32]);
        head.seq = 4;
        assert!(!chainer.checkpoint_is_valid(&head));
        assert!(matches!(
            chainer.resume(Some(&head)),
            Err(ChainError::HeadInvalid)
        ));
        let foreign =
            Chainer::new(&ring("k1", 2)).sign_checkpoint(CheckpointKind::Head, 5, [3; 32]);
        assert!(!chainer.checkpoint_is_valid(&foreign));
        let anchor_as_head = Checkpoint {
            kind: CheckpointKind::Anchor,
            ..chainer.sign_checkpoint(CheckpointKind::Head, 5, [3; 32])
        };
        assert!(!chainer.checkpoint_is_valid(&anchor_as_head));
    }

    #[test]
    fn checkpoints_round_trip_through_json() {
        let chainer = Chainer::new(&ring("k1", 1));
        let head = chainer.sign_checkpoint(CheckpointKind::Head, 9, [0xAB; 32]);
        let json = serde_json::to_string(&head).unwrap();
        assert!(json.contains(&"ab".repeat(32)));
        let back: Checkpoint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, head);
        assert!(chainer.checkpoint_is_valid(&back));
    }

    #[test]
    fn json_line_embeds_the_body_verbatim() {
        let chainer = Chainer::new(&ring("k1", 1));
        let stored = chainer
            .resume(None)
            .unwrap()
            .link(&PreparedEvent::new(&event()).unwrap());
        let line = stored.to_json_line().unwrap();
        assert!(line.starts_with(r#"{"seq":1,"key_id":"k1","prev_hash":"0000"#));
        assert!(line.contains(&stored.body));
    }
}
