//! Buckets counted in this process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::gcra::{Decision, Rule};

/// Buckets kept before full ones (arrival time passed) are swept out.
const SWEEP_AT: usize = 10_000;

pub struct LocalBuckets {
    started: Instant,
    /// `(rule, key)` → arrival time in milliseconds since `started`.
    buckets: Mutex<HashMap<(&'static str, String), u64>>,
}

impl LocalBuckets {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the bucket; `Err(wait)` when it is empty.
    pub fn take(&self, rule: &Rule, key: &str) -> Result<(), Duration> {
        let now = self.started.elapsed().as_millis() as u64;
        // A poisoned lock only means another request panicked mid-update of a number.
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= SWEEP_AT {
            buckets.retain(|_, tat| *tat > now);
        }
        let slot = (rule.name, key.to_string());
        match rule.decide(buckets.get(&slot).copied(), now) {
            Decision::Allow { tat } => {
                buckets.insert(slot, tat);
                Ok(())
            }
            Decision::Wait { ms } => Err(Duration::from_millis(ms)),
        }
    }
}
