//! The writer task behind an `AuditLog`: serialize, batch, append, retry in order.
//!
//! While one batch is being written, the writer already receives and serializes the next one,
//! so serialization overlaps the sink's I/O instead of adding to it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use soc2_core::StoreError;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until};

use crate::log::Shared;
use crate::{AuditEvent, AuditLogConfig, AuditSink, PreparedEvent};

/// What the writer reports to `flush` and `stats`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WriterState {
    /// Events written so far.
    pub(crate) persisted: u64,
    /// Sink calls made so far.
    pub(crate) attempts: u64,
    /// True while the latest sink call failed.
    pub(crate) failing: bool,
}

/// The receiving end of the channel, serializing what it receives.
struct Inbox {
    receiver: mpsc::Receiver<AuditEvent>,
    incoming: Vec<AuditEvent>,
    closed: bool,
}

impl Inbox {
    /// Receives up to `room` events (waiting for at least one) and serializes them onto `into`.
    /// Returns false once the channel is closed and drained.
    async fn receive(&mut self, into: &mut Vec<PreparedEvent>, room: usize) -> bool {
        if self.closed || room == 0 {
            return !self.closed;
        }
        if self.receiver.recv_many(&mut self.incoming, room).await == 0 {
            self.closed = true;
            return false;
        }
        for event in self.incoming.drain(..) {
            match PreparedEvent::new(&event) {
                Ok(prepared) => into.push(prepared),
                // Not expected: `AuditEvent::new` keeps every field serializable. Say so loudly.
                Err(error) => tracing::error!(
                    target: "soc2::audit",
                    %error,
                    event_id = %event.id(),
                    action = event.action().name(),
                    "audit event could not be serialized and was not stored"
                ),
            }
        }
        true
    }
}

pub(crate) async fn run_writer(
    sink: Arc<dyn AuditSink>,
    receiver: mpsc::Receiver<AuditEvent>,
    config: AuditLogConfig,
    state: watch::Sender<WriterState>,
    shared: Arc<Shared>,
) {
    let mut inbox = Inbox {
        receiver,
        incoming: Vec::with_capacity(config.max_batch),
        closed: false,
    };
    let mut next = Vec::with_capacity(config.max_batch);
    let mut persisted = 0;
    loop {
        if !gather(&mut inbox, &mut next, persisted, &config, &shared).await {
            return;
        }
        let batch = std::mem::replace(&mut next, Vec::with_capacity(config.max_batch));
        let mut backoff = config.retry_initial;
        loop {
            let result =
                write_while_receiving(&*sink, &batch, &mut inbox, &mut next, &config).await;
            let failed = result.is_err();
            if !failed {
                persisted += batch.len() as u64;
            }
            state.send_modify(|state| {
                state.attempts += 1;
                state.failing = failed;
                state.persisted = persisted;
            });
            let Err(error) = result else { break };
            tracing::warn!(
                target: "soc2::audit",
                %error,
                buffered = batch.len(),
                retry_in_ms = backoff.as_millis() as u64,
                "audit sink write failed; retrying the same batch"
            );
            tokio::select! {
                () = sleep(backoff) => {}
                () = shared.nudge.notified() => {}
            }
            backoff = (backoff * 2).min(config.retry_max);
        }
    }
}

/// Fills `batch` (which may already hold events received during the previous write) until it
/// is full, `max_delay` has passed, or a waiting flush's events are all in it. Waits for a
/// first event when empty. Returns false once the channel is closed and nothing is left.
async fn gather(
    inbox: &mut Inbox,
    batch: &mut Vec<PreparedEvent>,
    persisted: u64,
    config: &AuditLogConfig,
    shared: &Shared,
) -> bool {
    while batch.is_empty() {
        if !inbox.receive(batch, config.max_batch).await {
            return false;
        }
    }
    let deadline = Instant::now() + config.max_delay;
    // A flush is waiting for events up to `flush_target`; once they are all in hand, waiting
    // for more would only delay it. (A nudge left over from an earlier flush changes nothing.)
    let flush_satisfied = |batch: &Vec<PreparedEvent>| {
        let target = shared.flush_target.load(Ordering::Acquire);
        target > persisted && persisted + batch.len() as u64 >= target
    };
    while batch.len() < config.max_batch && !flush_satisfied(batch) && !inbox.closed {
        let room = config.max_batch - batch.len();
        tokio::select! {
            biased;
            _ = inbox.receive(batch, room) => {}
            () = shared.nudge.notified() => {}
            () = sleep_until(deadline) => break,
        }
    }
    true
}

/// Events serialized between two polls of an in-flight write, so that serializing the next
/// batch delays the write by tens of microseconds at most.
const SERIALIZE_STEP: usize = 16;

/// Appends `batch`, meanwhile receiving and serializing up to a batch's worth into `next`.
async fn write_while_receiving(
    sink: &dyn AuditSink,
    batch: &[PreparedEvent],
    inbox: &mut Inbox,
    next: &mut Vec<PreparedEvent>,
    config: &AuditLogConfig,
) -> Result<(), StoreError> {
    let write = sink.append(batch);
    tokio::pin!(write);
    loop {
        let room = config
            .max_batch
            .saturating_sub(next.len())
            .min(SERIALIZE_STEP);
        tokio::select! {
            biased;
            result = &mut write => return result,
            _ = inbox.receive(next, room), if room > 0 && !inbox.closed => {}
        }
    }
}
