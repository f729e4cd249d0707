//! `AuditLog`: the cheap-to-clone handle the request path records through.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use crate::writer::{WriterState, run_writer};
use crate::{AuditEvent, AuditSink};

/// Tuning of the audit writer. The defaults favour never losing an event over latency.
#[derive(Debug, Clone)]
#[must_use]
pub struct AuditLogConfig {
    pub(crate) capacity: usize,
    pub(crate) max_batch: usize,
    pub(crate) max_delay: Duration,
    pub(crate) retry_initial: Duration,
    pub(crate) retry_max: Duration,
}

impl Default for AuditLogConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            max_batch: 256,
            max_delay: Duration::from_millis(20),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A size that must be at least 1 was 0.
    #[error("`{0}` must be at least 1")]
    Zero(&'static str),
}

impl AuditLogConfig {
    /// Events buffered while the sink is slow or down (default 10,000), besides the batch being
    /// written and the next one being prepared. Past it, `record` fails so the caller can fail
    /// closed. Memory held is about (capacity + 2 × max batch) × event size (under 10 KiB each,
    /// typically 1 KiB).
    ///
    /// # Errors
    /// [`ConfigError::Zero`] for 0.
    pub fn with_capacity(mut self, capacity: usize) -> Result<Self, ConfigError> {
        if capacity == 0 {
            return Err(ConfigError::Zero("capacity"));
        }
        self.capacity = capacity;
        Ok(self)
    }

    /// Most events appended in one sink call (default 256).
    ///
    /// # Errors
    /// [`ConfigError::Zero`] for 0.
    pub fn with_max_batch(mut self, max_batch: usize) -> Result<Self, ConfigError> {
        if max_batch == 0 {
            return Err(ConfigError::Zero("max_batch"));
        }
        self.max_batch = max_batch;
        Ok(self)
    }

    /// Longest an event waits for a batch to fill before it is written (default 20 ms).
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// First and longest pause between retries while the sink fails (default 100 ms, doubling
    /// up to 5 s).
    pub fn with_retry(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max.max(initial);
        self
    }
}

/// Why an event could not be recorded or flushed. Callers fail the audited action closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The buffer is full: the sink has been unavailable or slower than the event rate.
    #[error(
        "audit buffer is full ({capacity} events waiting); the audited action must not proceed"
    )]
    BufferFull {
        /// The configured capacity.
        capacity: usize,
    },
    /// The sink refused the latest write; the events stay buffered and are retried.
    #[error("audit sink unavailable; {buffered} events buffered and retried")]
    Unavailable {
        /// Events recorded but not yet written.
        buffered: u64,
    },
    /// The log was shut down (or its writer task ended).
    #[error("audit log is shut down")]
    Closed,
}

/// Counters for health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditLogStats {
    /// Events accepted by `record`.
    pub recorded: u64,
    /// Events written to the sink.
    pub persisted: u64,
    /// True while the sink's latest write failed.
    pub sink_failing: bool,
}

/// The audit log handle. Clone it freely; all clones feed one writer task.
///
/// [`AuditLog::record`] only enqueues into a bounded channel and never waits: well under a
/// microsecond on the request path. The writer serializes, batches by size and time, and
/// appends to the sink, retrying a failed batch (in order, losing nothing) until the sink
/// returns.
#[derive(Debug, Clone)]
pub struct AuditLog {
    sender: mpsc::Sender<AuditEvent>,
    shared: Arc<Shared>,
}

/// Room for one event in the audit buffer, taken by [`AuditLog::reserve`].
#[derive(Debug)]
pub struct AuditPermit<'a> {
    permit: mpsc::Permit<'a, AuditEvent>,
    shared: &'a Shared,
}

impl AuditPermit<'_> {
    /// Enqueues the event in the reserved room; cannot fail.
    pub fn record(self, event: AuditEvent) {
        self.permit.send(event);
        self.shared.recorded.fetch_add(1, Ordering::AcqRel);
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    capacity: usize,
    recorded: AtomicU64,
    /// The highest `recorded` count a flush is waiting to see written.
    pub(crate) flush_target: AtomicU64,
    closed: AtomicBool,
    pub(crate) nudge: Notify,
    state: watch::Receiver<WriterState>,
}

impl AuditLog {
    /// Starts the writer task on the current Tokio runtime.
    ///
    /// # Panics
    /// Outside a Tokio runtime (like `tokio::spawn`).
    #[must_use]
    pub fn start(sink: Arc<dyn AuditSink>, config: AuditLogConfig) -> Self {
        let (sender, receiver) = mpsc::channel(config.capacity);
        let (state_tx, state) = watch::channel(WriterState::default());
        let shared = Arc::new(Shared {
            capacity: config.capacity,
            recorded: AtomicU64::new(0),
            flush_target: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            nudge: Notify::new(),
            state,
        });
        tokio::spawn(run_writer(
            sink,
            receiver,
            config,
            state_tx,
            Arc::clone(&shared),
        ));
        Self { sender, shared }
    }

    /// Enqueues `event` for writing. Never waits.
    ///
    /// # Errors
    /// [`AuditError::BufferFull`] when the buffer is full and [`AuditError::Closed`] after
    /// shutdown: the caller must not go ahead with the audited action.
    pub fn record(&self, event: AuditEvent) -> Result<(), AuditError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(AuditError::Closed);
        }
        match self.sender.try_send(event) {
            Ok(()) => {
                self.count_recorded();
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => Err(AuditError::BufferFull {
                capacity: self.shared.capacity,
            }),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(AuditError::Closed),
        }
    }

    /// Enqueues `event`, waiting up to `max_wait` for room while the buffer is full: requests
    /// that outpace the sink for a moment are slowed down (backpressure) rather than refused.
    /// With room, as fast as [`AuditLog::record`].
    ///
    /// # Errors
    /// [`AuditError::BufferFull`] when no room came within `max_wait`, and
    /// [`AuditError::Closed`] after shutdown: the caller must not go ahead with the audited
    /// action.
    pub async fn record_within(
        &self,
        event: AuditEvent,
        max_wait: Duration,
    ) -> Result<(), AuditError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(AuditError::Closed);
        }
        let sent = match self.sender.try_send(event) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(event)) => {
                self.sender.send_timeout(event, max_wait).await
            }
            Err(mpsc::error::TrySendError::Closed(event)) => {
                Err(mpsc::error::SendTimeoutError::Closed(event))
            }
        };
        match sent {
            Ok(()) => {
                self.count_recorded();
                Ok(())
            }
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => Err(AuditError::BufferFull {
                capacity: self.shared.capacity,
            }),
            Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(AuditError::Closed),
        }
    }

    fn count_recorded(&self) {
        self.shared.recorded.fetch_add(1, Ordering::AcqRel);
    }

    /// Reserves room for one event before the audited action runs, so that an action which
    /// cannot be undone is only taken when its event is sure to be accepted. Dropping the
    /// permit unused gives the room back.
    ///
    /// # Errors
    /// As [`AuditLog::record`].
    pub fn reserve(&self) -> Result<AuditPermit<'_>, AuditError> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(AuditError::Closed);
        }
        match self.sender.try_reserve() {
            Ok(permit) => Ok(AuditPermit {
                permit,
                shared: &self.shared,
            }),
            Err(mpsc::error::TrySendError::Full(())) => Err(AuditError::BufferFull {
                capacity: self.shared.capacity,
            }),
            Err(mpsc::error::TrySendError::Closed(())) => Err(AuditError::Closed),
        }
    }

    /// Writes everything recorded before this call and waits until it is stored.
    ///
    /// # Errors
    /// [`AuditError::Unavailable`] when the sink refuses the write (the events stay buffered and
    /// are retried), [`AuditError::Closed`] if the writer task is gone.
    pub async fn flush(&self) -> Result<(), AuditError> {
        let target = self.shared.recorded.load(Ordering::Acquire);
        let mut state = self.shared.state.clone();
        let attempts_before = state.borrow().attempts;
        self.shared.flush_target.fetch_max(target, Ordering::AcqRel);
        self.shared.nudge.notify_one();
        loop {
            let now = *state.borrow_and_update();
            if now.persisted >= target {
                return Ok(());
            }
            if now.failing && now.attempts > attempts_before {
                return Err(AuditError::Unavailable {
                    buffered: target.saturating_sub(now.persisted),
                });
            }
            if state.changed().await.is_err() {
                return Err(AuditError::Closed);
            }
        }
    }

    /// Stops accepting events, then writes everything already recorded (like [`flush`]).
    /// Every clone refuses new events afterwards.
    ///
    /// [`flush`]: AuditLog::flush
    ///
    /// # Errors
    /// As [`AuditLog::flush`]; on `Unavailable` the writer keeps retrying while the runtime runs.
    pub async fn shutdown(&self) -> Result<(), AuditError> {
        self.shared.closed.store(true, Ordering::Release);
        self.flush().await
    }

    /// Counters for health checks.
    #[must_use]
    pub fn stats(&self) -> AuditLogStats {
        let state = *self.shared.state.borrow();
        AuditLogStats {
            recorded: self.shared.recorded.load(Ordering::Acquire),
            persisted: state.persisted,
            sink_failing: state.failing,
        }
    }
}
