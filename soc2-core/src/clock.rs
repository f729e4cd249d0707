//! Injected time: services hold an `Arc<dyn Clock>`, pure policy code takes `now` as an argument.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time in UTC.
///
/// Every time-dependent control (timeouts, lockout windows, TOTP steps, elevation expiry) asks a
/// `Clock`, so tests advance a [`ManualClock`] instead of sleeping.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The current instant, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to; for tests and simulations.
///
/// Shared between threads (the instant is an atomic count of nanoseconds since the Unix epoch),
/// so a test can advance it while a service under test reads it.
#[derive(Debug)]
pub struct ManualClock {
    unix_nanos: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start` (nanosecond precision; instants outside 1677..2262 saturate).
    #[must_use]
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            unix_nanos: AtomicI64::new(to_nanos(start)),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let nanos = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .unix_nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
                Some(current.saturating_add(nanos))
            });
    }

    /// Sets the clock to `to`, forwards or backwards (to test clock skew).
    pub fn set(&self, to: OffsetDateTime) {
        self.unix_nanos.store(to_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let nanos = i128::from(self.unix_nanos.load(Ordering::SeqCst));
        OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

fn to_nanos(at: OffsetDateTime) -> i64 {
    let nanos = at.unix_timestamp_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = datetime!(2026-11-23 10:00:00.123456789 UTC);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), datetime!(2026-11-23 10:01:30.123456789 UTC));
        clock.set(datetime!(2020-01-01 00:00 UTC));
        assert_eq!(clock.now(), datetime!(2020-01-01 00:00 UTC));
    }

    #[test]
    fn manual_clock_is_shared_across_threads() {
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-01 00:00 UTC)));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let clock = Arc::clone(&clock);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        clock.advance(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(clock.now(), datetime!(2026-01-01 00:00:04 UTC));
    }

    #[test]
    fn huge_advance_saturates_instead_of_wrapping() {
        let clock = ManualClock::new(datetime!(2026-01-01 00:00 UTC));
        clock.advance(Duration::MAX);
        assert!(clock.now() > datetime!(2262-01-01 00:00 UTC));
    }

    #[test]
    fn system_clock_is_utc() {
        assert!(SystemClock.now().offset().is_utc());
    }
}
