//! Verification: walk the chain and name the first thing that is wrong.

use std::fmt;
use std::ops::RangeInclusive;

use soc2_core::{KeyRing, StoreError};
use subtle::ConstantTimeEq;

use crate::{AuditStore, ChainHash, Chainer, Checkpoint, GENESIS_HASH, IndexColumns, StoredEvent};

const PAGE: u32 = 1000;

/// What is wrong at the first bad sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// The event's content, indexed columns or MAC was changed.
    Modified,
    /// One or more events are missing before this sequence number.
    Deleted,
    /// An intact event stands at the wrong place in the chain.
    Reordered,
    /// The newest events are missing: the signed head is ahead of the last stored event.
    TruncatedTail,
    /// A checkpoint's signature does not verify.
    CheckpointInvalid,
    /// An event is signed with a key id the verifier's key ring does not hold.
    UnknownKey,
}

impl ViolationKind {
    /// A short lowercase name, e.g. `truncated tail`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Reordered => "reordered",
            Self::TruncatedTail => "truncated tail",
            Self::CheckpointInvalid => "invalid checkpoint",
            Self::UnknownKey => "unknown key",
        }
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The first sequence number that does not verify.
    pub seq: u64,
    /// What is wrong there.
    pub kind: ViolationKind,
    /// Details for the investigator.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seq {}: {} ({})",
            self.seq,
            self.kind.name(),
            self.detail
        )
    }
}

/// Why verification did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The chain does not verify.
    #[error("audit chain does not verify at {0}")]
    Violation(Violation),
    /// The store could not be read.
    #[error("audit store could not be read")]
    Store(#[from] StoreError),
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Events checked.
    pub checked: u64,
    /// The last sequence number checked (0 for an empty chain).
    pub last_seq: u64,
}

/// Which part of the chain to verify.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct VerifyRequest {
    range: Option<RangeInclusive<u64>>,
    expected_head: Option<Checkpoint>,
}

impl VerifyRequest {
    /// The whole chain, from the genesis (or retention anchor) to the signed head.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only `seqs`. The first event's link to its predecessor is taken as stored; the signed
    /// head is checked when the range reaches it.
    pub fn seqs(range: RangeInclusive<u64>) -> Self {
        Self {
            range: Some(range),
            expected_head: None,
        }
    }

    /// Also require the chain to contain `checkpoint` (a head kept outside the database, e.g.
    /// from `soc2ctl audit head`), which detects a log truncated or wiped together with its
    /// stored checkpoints.
    pub fn with_expected_head(mut self, checkpoint: Checkpoint) -> Self {
        self.expected_head = Some(checkpoint);
        self
    }
}

/// Verifies the chain in `store` with `keys`, also while other writers append to it: events
/// appended during the walk are checked against a head read after it.
///
/// # Errors
/// [`VerifyError::Violation`] with the first bad sequence number and what is wrong there, or
/// [`VerifyError::Store`] when the store cannot be read.
pub async fn verify(
    store: &dyn AuditStore,
    keys: &KeyRing,
    request: &VerifyRequest,
) -> Result<Verified, VerifyError> {
    let chainer = Chainer::new(keys);
    let head = store.head().await?;
    let anchor = store.anchor().await?;
    for checkpoint in [&head, &anchor, &request.expected_head]
        .into_iter()
        .flatten()
    {
        check_signature(&chainer, checkpoint)?;
    }
    let chain_start = anchor.as_ref().map_or(0, |anchor| anchor.seq);
    let range_start = request
        .range
        .as_ref()
        .map_or(0, |r| r.start().saturating_sub(1));
    let range_end = request.range.as_ref().map_or(u64::MAX, |r| *r.end());

    let mut walk = Walk {
        chainer: &chainer,
        expected_seq: chain_start.max(range_start) + 1,
        prev: (range_start <= chain_start)
            .then(|| anchor.as_ref().map_or(GENESIS_HASH, |a| a.hash)),
        pins: [head.as_ref(), request.expected_head.as_ref()]
            .into_iter()
            .flatten()
            .map(|checkpoint| (checkpoint.seq, checkpoint.hash))
            .collect(),
        checked: 0,
    };
    walk.through(store, range_end).await?;
    let mut head = head;
    let walked = walk.expected_seq - 1;
    if head
        .as_ref()
        .map_or(walk.checked > 0, |first| first.seq < walked)
    {
        // Events past the first head were appended while the walk read the store (by this
        // or another instance) if a head read now covers them: every append moves the signed
        // head in its own transaction. Otherwise they were added outside the chain.
        if let Some(later) = store.head().await? {
            check_signature(&chainer, &later)?;
            if later.seq == walked && walk.prev != Some(later.hash) {
                return Err(violation(
                    later.seq,
                    ViolationKind::Modified,
                    "the event differs from the one a signed checkpoint names".into(),
                )
                .into());
            }
            if later.seq > walked {
                walk.pins.push((later.seq, later.hash));
                walk.through(store, later.seq.min(range_end)).await?;
            }
            head = Some(later);
        }
    }

    let last_seq = walk.expected_seq - 1;
    for checkpoint in [head.as_ref(), request.expected_head.as_ref()]
        .into_iter()
        .flatten()
    {
        if checkpoint.seq > last_seq && checkpoint.seq <= range_end {
            return Err(violation(
                last_seq + 1,
                ViolationKind::TruncatedTail,
                format!(
                    "a signed head is at seq {}, the last stored event at {last_seq}",
                    checkpoint.seq
                ),
            )
            .into());
        }
    }
    match &head {
        Some(head) if head.seq < last_seq => Err(violation(
            head.seq + 1,
            ViolationKind::Modified,
            format!(
                "events after the signed head at seq {} were added outside the chain",
                head.seq
            ),
        )
        .into()),
        None if walk.checked > 0 => Err(violation(
            last_seq,
            ViolationKind::CheckpointInvalid,
            "events are stored but the signed head checkpoint is missing".into(),
        )
        .into()),
        _ => Ok(Verified {
            checked: walk.checked,
            last_seq,
        }),
    }
}

/// The running state of a verification walk.
struct Walk<'a> {
    chainer: &'a Chainer,
    expected_seq: u64,
    /// The hash the next event must link to; `None` at the start of a partial range.
    prev: Option<ChainHash>,
    /// Signed (seq, hash) pairs the chain must pass through.
    pins: Vec<(u64, ChainHash)>,
    checked: u64,
}

impl Walk<'_> {
    /// Reads and checks the events from the next expected one through `end` (or the last).
    async fn through(&mut self, store: &dyn AuditStore, end: u64) -> Result<(), VerifyError> {
        let mut after = self.expected_seq - 1;
        'pages: loop {
            let page = store.read(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for event in &page {
                if event.seq > end {
                    break 'pages;
                }
                if let Err(mut found) = self.step(event) {
                    if found.kind == ViolationKind::Reordered
                        && !hash_is_stored(store, &event.prev_hash).await?
                    {
                        found.kind = ViolationKind::Deleted;
                        found.detail = "the event's predecessor is missing from the store".into();
                    }
                    return Err(found.into());
                }
            }
        }
        Ok(())
    }

    fn step(&mut self, event: &StoredEvent) -> Result<(), Violation> {
        if event.seq != self.expected_seq {
            return Err(violation(
                self.expected_seq,
                ViolationKind::Deleted,
                format!(
                    "sequence jumps from {} to {}",
                    self.expected_seq - 1,
                    event.seq
                ),
            ));
        }
        let Some(mac) = self
            .chainer
            .event_mac(&event.key_id, &event.prev_hash, &event.body)
        else {
            return Err(violation(
                event.seq,
                ViolationKind::UnknownKey,
                format!(
                    "signed with key `{}`, which the key ring does not hold",
                    event.key_id
                ),
            ));
        };
        let authentic = bool::from(mac.ct_eq(&event.hash))
            && event
                .event()
                .is_ok_and(|parsed| IndexColumns::of(&parsed) == event.index);
        if !authentic {
            return Err(violation(
                event.seq,
                ViolationKind::Modified,
                "the event's content, indexed columns or MAC were changed".into(),
            ));
        }
        if self.prev.is_some_and(|prev| prev != event.prev_hash) {
            // An authentic event that does not link to its predecessor was moved here (or its
            // predecessor was removed); `verify` tells the two apart by looking the link up.
            return Err(violation(
                event.seq,
                ViolationKind::Reordered,
                "the event links to another event than the one before it".into(),
            ));
        }
        if self
            .pins
            .iter()
            .any(|(seq, hash)| *seq == event.seq && *hash != event.hash)
        {
            return Err(violation(
                event.seq,
                ViolationKind::Modified,
                "the event differs from the one a signed checkpoint names".into(),
            ));
        }
        self.prev = Some(event.hash);
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }
}

/// Refuses a checkpoint whose signature does not verify.
fn check_signature(chainer: &Chainer, checkpoint: &Checkpoint) -> Result<(), Violation> {
    if chainer.checkpoint_is_valid(checkpoint) {
        Ok(())
    } else {
        Err(violation(
            checkpoint.seq,
            ViolationKind::CheckpointInvalid,
            format!(
                "{} checkpoint signature does not verify",
                checkpoint.kind.name()
            ),
        ))
    }
}

/// Looks for an event whose hash is `hash`, to tell a moved event from a deleted neighbour.
async fn hash_is_stored(store: &dyn AuditStore, hash: &ChainHash) -> Result<bool, StoreError> {
    let mut after = 0;
    loop {
        let page = store.read(after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(false);
        };
        if page.iter().any(|event| &event.hash == hash) {
            return Ok(true);
        }
        after = last.seq;
    }
}

fn violation(seq: u64, kind: ViolationKind, detail: String) -> Violation {
    Violation { seq, kind, detail }
}

impl From<Violation> for VerifyError {
    fn from(violation: Violation) -> Self {
        Self::Violation(violation)
    }
}
