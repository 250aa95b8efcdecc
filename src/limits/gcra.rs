//! The token bucket as GCRA (generic cell rate algorithm): one instant per key, the
//! "theoretical arrival time", instead of a count and a refill clock. Plain arithmetic on
//! milliseconds, so the in-process limiter and the Redis script agree exactly.

/// How many requests a key may make at once (`burst`), and how often one more is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Names the bucket family in keys and logs.
    pub name: &'static str,
    pub burst: u32,
    /// Milliseconds for one request to come back.
    pub every_ms: u64,
}

/// The outcome of one request against a bucket whose stored arrival time is `tat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; store this arrival time. Once the clock passes it the bucket is full
    /// again, so the key can be forgotten.
    Allow { tat: u64 },
    /// Refused; the next request is allowed in this many milliseconds.
    Wait { ms: u64 },
}

impl Rule {
    /// Decides one request at `now` (milliseconds) given the stored arrival time, if any.
    pub fn decide(&self, tat: Option<u64>, now: u64) -> Decision {
        let tolerance = self.every_ms * u64::from(self.burst.saturating_sub(1));
        let tat = tat.unwrap_or(now).max(now);
        if tat - now > tolerance {
            Decision::Wait {
                ms: tat - now - tolerance,
            }
        } else {
            Decision::Allow {
                tat: tat + self.every_ms,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Rule = Rule {
        name: "test",
        burst: 3,
        every_ms: 1000,
    };

    /// Runs requests at the given instants, answering each decision.
    fn run(at: &[u64]) -> Vec<Decision> {
        let mut tat = None;
        at.iter()
            .map(|&now| {
                let decision = RULE.decide(tat, now);
                if let Decision::Allow { tat: next } = decision {
                    tat = Some(next);
                }
                decision
            })
            .collect()
    }

    #[test]
    fn a_burst_is_allowed_then_requests_wait_for_the_refill() {
        let decisions = run(&[0, 0, 0, 0, 400]);
        assert!(decisions[0..3]
            .iter()
            .all(|d| matches!(d, Decision::Allow { .. })));
        assert_eq!(decisions[3], Decision::Wait { ms: 1000 });
        assert_eq!(decisions[4], Decision::Wait { ms: 600 });
    }

    #[test]
    fn refused_requests_do_not_push_the_refill_back() {
        let decisions = run(&[0, 0, 0, 500, 999, 1000]);
        assert_eq!(decisions[3], Decision::Wait { ms: 500 });
        assert_eq!(decisions[4], Decision::Wait { ms: 1 });
        assert!(matches!(decisions[5], Decision::Allow { .. }));
    }

    #[test]
    fn an_idle_key_gets_its_whole_burst_back() {
        let decisions = run(&[0, 0, 0, 10_000, 10_000, 10_000, 10_000]);
        assert!(decisions[3..6]
            .iter()
            .all(|d| matches!(d, Decision::Allow { .. })));
        assert!(matches!(decisions[6], Decision::Wait { .. }));
    }
}
