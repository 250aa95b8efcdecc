//! A lock-free latency histogram: 100 µs buckets up to 10 s, shared by every receiving
//! task, so thousands of sockets record without contention on a lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const BUCKET_MICROS: u64 = 100;
const BUCKETS: usize = 100_000;

pub struct Histogram {
    buckets: Vec<AtomicU64>,
    max_micros: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_micros: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn record(&self, latency: Duration) {
        let micros = latency.as_micros() as u64;
        let bucket = ((micros / BUCKET_MICROS) as usize).min(BUCKETS - 1);
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        self.max_micros.fetch_max(micros, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The upper edge of the bucket holding the `q` quantile (0..=1).
    pub fn quantile(&self, q: f64) -> Duration {
        let total = self.count();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return Duration::from_micros((i as u64 + 1) * BUCKET_MICROS);
            }
        }
        self.max()
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max_micros.load(Ordering::Relaxed))
    }

    pub fn reset(&self) {
        for bucket in &self.buckets {
            bucket.store(0, Ordering::Relaxed);
        }
        self.max_micros.store(0, Ordering::Relaxed);
    }

    /// `p50 x ms  p99 y ms  max z ms`.
    pub fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(self.quantile(0.50)),
            ms(self.quantile(0.99)),
            ms(self.max())
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_recorded_latencies() {
        let h = Histogram::default();
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.count(), 100);
        assert_eq!(h.quantile(0.5), Duration::from_micros(50_100));
        assert_eq!(h.quantile(0.99), Duration::from_micros(99_100));
        assert_eq!(h.max(), Duration::from_millis(100));
        h.reset();
        assert_eq!(h.count(), 0);
    }
}
