//! Injected time. Nothing outside this file reads the system clock.

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + core::fmt::Debug {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place that reads the system clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told: for tests of rotation and deletion windows.
#[derive(Debug)]
pub struct ManualClock {
    unix_nanos: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self {
            unix_nanos: AtomicI64::new(at.unix_timestamp_nanos() as i64),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: time::Duration) {
        self.unix_nanos
            .fetch_add(by.whole_nanoseconds() as i64, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, at: OffsetDateTime) {
        self.unix_nanos
            .store(at.unix_timestamp_nanos() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let n = self.unix_nanos.load(Ordering::SeqCst);
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(n))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}
