//! What time it is, as a dependency of the application: handlers, extractors and the
//! realtime layer ask the clock in the application state, so tests of idle sessions,
//! claim leases and expiry advance a [`ManualClock`] instead of sleeping.

use std::sync::Mutex;

use crate::domain::time::Timestamp;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// A clock that moves only when told: starts at the wall clock's time, then stands still
/// until [`ManualClock::advance`].
#[derive(Debug)]
pub struct ManualClock {
    at: Mutex<Timestamp>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            at: Mutex::new(chrono::Utc::now()),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
        let mut at = self.at.lock().unwrap_or_else(|e| e.into_inner());
        *at += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.at.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_advanced() {
        let clock = ManualClock::default();
        let start = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), start);
        clock.advance(std::time::Duration::from_secs(90));
        assert_eq!(clock.now() - start, chrono::Duration::seconds(90));
        assert!(SystemClock.now() >= start);
    }
}
