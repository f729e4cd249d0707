//! Retention: purge old events without breaking what remains.

use soc2_core::{KeyRing, StoreError};
use time::OffsetDateTime;

use crate::{
    Actor, AuditEvent, AuditStore, Chainer, CheckpointKind, Outcome, SdkAction, VerifyError,
    VerifyRequest, verify,
};

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// Events deleted.
    pub deleted: u64,
    /// The new anchor: the remaining chain starts after this sequence number.
    pub through_seq: u64,
}

/// Deletes events that occurred before `cutoff`, up to a signed anchor checkpoint, so the rest
/// still verifies from that anchor. The chain up to the anchor is verified first (tampered
/// evidence is never purged), and the purge itself is appended to the log as
/// `audit.retention.purged`.
///
/// Events are purged in chain order only: an event older than `cutoff` that follows a newer one
/// (clock skew between writers) is kept until everything before it is old enough.
///
/// # Errors
/// [`VerifyError::Violation`] when the part to purge does not verify; [`VerifyError::Store`]
/// when the store fails.
pub async fn purge_before(
    store: &dyn AuditStore,
    keys: &KeyRing,
    cutoff: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<PurgeReport, VerifyError> {
    let anchor_seq = store.anchor().await?.map_or(0, |anchor| anchor.seq);
    let through_seq = match store.first_seq_since(cutoff).await? {
        Some(first_kept) => first_kept - 1,
        None => store.head().await?.map_or(0, |head| head.seq),
    };
    if through_seq <= anchor_seq {
        return Ok(PurgeReport {
            deleted: 0,
            through_seq: anchor_seq,
        });
    }
    verify(
        store,
        keys,
        &VerifyRequest::seqs(anchor_seq + 1..=through_seq),
    )
    .await?;
    let last = store.read(through_seq - 1, 1).await?;
    let last = last
        .first()
        .filter(|event| event.seq == through_seq)
        .ok_or_else(|| StoreError::Corrupt(format!("event {through_seq} vanished during purge")))?;
    let anchor = Chainer::new(keys).sign_checkpoint(CheckpointKind::Anchor, through_seq, last.hash);
    let deleted = store.purge_through(&anchor).await?;
    let event = AuditEvent::new(
        SdkAction::RetentionPurged,
        Outcome::Success,
        Actor::System,
        now,
    )
    .with_metadata("deleted", deleted)
    .with_metadata("through_seq", through_seq)
    .with_metadata("cutoff", cutoff.unix_timestamp());
    store.append_events(&[event]).await?;
    Ok(PurgeReport {
        deleted,
        through_seq,
    })
}
