//! The threads argon2 runs on.

use std::cell::RefCell;
use std::sync::Arc;

use argon2::Block;

use super::HashError;

thread_local! {
    /// This worker's argon2 memory, reused by every hash it runs.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// A fixed set of threads dedicated to argon2, fed from a FIFO queue.
///
/// When a hash finishes, its thread takes the next queued one at once, without a round trip
/// through the async runtime (whose workers may be waiting for a core that argon2 occupies);
/// the runtime only enqueues jobs and is woken with results. Each thread keeps one working
/// buffer, so argon2 memory never exceeds `threads × memory cost` and logins neither
/// allocate nor page-fault it.
#[derive(Debug, Clone)]
pub(super) struct Workers {
    pool: Arc<rayon::ThreadPool>,
    threads: usize,
}

impl Workers {
    pub(super) fn new(threads: usize) -> Result<Self, HashError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|index| format!("soc2-argon2-{index}"))
            // A panicking job drops its result sender (the caller sees `Cancelled`) instead
            // of aborting the process, rayon's default.
            .panic_handler(|_| tracing::error!(target: "soc2::auth", "argon2 job panicked"))
            .build()
            .map_err(|e| HashError::Config(format!("cannot start argon2 threads: {e}")))?;
        Ok(Self {
            pool: Arc::new(pool),
            threads,
        })
    }

    /// How many hashes run at once.
    pub(super) fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on a worker with its buffer and awaits the result.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.pool.spawn_fifo(move || {
            let result = MEMORY.with_borrow_mut(|memory| work(memory));
            // The caller may have given up (request cancelled); nothing to do then.
            let _ = sender.send(result);
        });
        receiver.await.map_err(|_| HashError::Cancelled)?
    }
}
