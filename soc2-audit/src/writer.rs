//! The writer task behind an `AuditLog`: batch, append, retry in order.

use std::sync::Arc;
use std::sync::atomic::Ordering;

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

pub(crate) async fn run_writer(
    sink: Arc<dyn AuditSink>,
    mut receiver: mpsc::Receiver<AuditEvent>,
    config: AuditLogConfig,
    state: watch::Sender<WriterState>,
    shared: Arc<Shared>,
) {
    let mut batch = Vec::with_capacity(config.max_batch);
    let mut backoff = config.retry_initial;
    let mut persisted = 0;
    loop {
        if batch.is_empty()
            && !fill_batch(&mut receiver, &mut batch, persisted, &config, &shared).await
        {
            return;
        }
        let result = sink.append(&batch).await;
        let written = batch.len() as u64;
        let failed = result.is_err();
        state.send_modify(|state| {
            state.attempts += 1;
            state.failing = failed;
            if !failed {
                state.persisted += written;
            }
        });
        match result {
            Ok(()) => {
                persisted += written;
                batch.clear();
                backoff = config.retry_initial;
            }
            Err(error) => {
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
}

/// Waits for at least one event, then gathers (and serializes) more until the batch is full,
/// `max_delay` has passed, or a waiting flush's events are all in the batch. Returns false once
/// the channel is closed and drained.
async fn fill_batch(
    receiver: &mut mpsc::Receiver<AuditEvent>,
    batch: &mut Vec<PreparedEvent>,
    persisted: u64,
    config: &AuditLogConfig,
    shared: &Shared,
) -> bool {
    let mut incoming = Vec::with_capacity(config.max_batch);
    if receiver.recv_many(&mut incoming, config.max_batch).await == 0 {
        return false;
    }
    prepare_into(batch, &mut incoming);
    let deadline = Instant::now() + config.max_delay;
    // A flush is waiting for events up to `flush_target`; once they are all in hand, waiting
    // for more would only delay it. (A nudge left over from an earlier flush changes nothing.)
    let flush_satisfied = |batch: &Vec<PreparedEvent>| {
        let target = shared.flush_target.load(Ordering::Acquire);
        target > persisted && persisted + batch.len() as u64 >= target
    };
    while batch.len() < config.max_batch && !flush_satisfied(batch) {
        let room = config.max_batch - batch.len();
        tokio::select! {
            biased;
            received = receiver.recv_many(&mut incoming, room) => {
                if received == 0 {
                    break;
                }
                prepare_into(batch, &mut incoming);
            }
            () = shared.nudge.notified() => {}
            () = sleep_until(deadline) => break,
        }
    }
    true
}

/// Serializes `incoming` onto the end of `batch`.
fn prepare_into(batch: &mut Vec<PreparedEvent>, incoming: &mut Vec<AuditEvent>) {
    for event in incoming.drain(..) {
        match PreparedEvent::new(&event) {
            Ok(prepared) => batch.push(prepared),
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
}
