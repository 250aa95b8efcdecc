//! Fan-out: N sockets on one `event:` topic, updates at doubling rates until the server
//! falls behind (not every message delivered, or p99 over 250 ms), then rates halfway
//! between the best sustained one and the lowest that was not, to narrow the limit down. Latency runs from the
//! update's request leaving the generator to the frame's arrival at each socket. For
//! LeadBridge an update is a mentor's edit of the event (store write + publish); for the
//! baseline, a POST that broadcasts a frame of the same shape and size.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::api::Api;
use crate::cluster::Cluster;
use crate::histogram::Histogram;
use crate::knobs::{Knob, Knobs};
use crate::process::cpu_time;
use crate::scenarios::ratio;
use crate::sockets;
use crate::Target;

pub const KNOBS: &[Knob] = &[
    Knob {
        name: "subscribers",
        default: 1_000,
        help: "sockets on the topic",
    },
    Knob {
        name: "start-rate",
        default: 25,
        help: "updates per second in the first step; each step doubles it",
    },
    Knob {
        name: "max-rate",
        default: 3_200,
        help: "the last step's rate at most",
    },
    Knob {
        name: "refine",
        default: 3,
        help: "steps after the first failed one, each halving the gap between the best sustained rate and the lowest failed one",
    },
    Knob {
        name: "step-seconds",
        default: 5,
        help: "how long each rate runs",
    },
];

/// Values cycle through this many slots of the send-time table (`total_slots` = 100 + i).
const VALUES: u64 = 9_000;
const IN_FLIGHT: usize = 32;
const P99_LIMIT: Duration = Duration::from_millis(250);

/// How updates are sent to one side.
pub enum Driver {
    Baseline {
        base: String,
    },
    LeadBridge {
        base: String,
        mentor: String,
        event_id: String,
    },
}

impl Driver {
    /// Makes one update; answers whether the server took it.
    async fn send(&self, api: &Api, value: u64) -> bool {
        let status = match self {
            Driver::Baseline { base } => {
                api.send(api.http.post(format!("{base}/publish/{value}")))
                    .await
                    .0
            }
            Driver::LeadBridge {
                base,
                mentor,
                event_id,
            } => api.set_slots(base, mentor, event_id, value as i64).await,
        };
        (200..300).contains(&status)
    }
}

/// One step's outcome.
pub struct Step {
    pub rate: u64,
    pub sent: u64,
    pub delivered: u64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub cpu_per_message: Duration,
    pub seconds: f64,
}

impl Step {
    /// Every update asked for was made (the update path kept the rate), every frame
    /// arrived, and p99 stayed under the limit.
    pub fn sustained(&self, subscribers: u64) -> bool {
        let asked = self.rate as f64 * self.seconds;
        self.sent as f64 >= 0.95 * asked
            && self.delivered >= self.sent * subscribers
            && self.p99 < P99_LIMIT
    }
    pub fn per_second(&self) -> f64 {
        self.delivered as f64 / self.seconds
    }
}

/// Connects, subscribes and steps through the rates; answers every step run.
pub async fn steps(target: &Target, driver: Driver, knobs: &Knobs, label: &str) -> Vec<Step> {
    let api = Api::default();
    let n = knobs.get("subscribers") as usize;
    let (mut sockets, _) = sockets::open(&target.ws(0), n, label).await;
    if let Driver::LeadBridge { event_id, .. } = &driver {
        sockets::subscribe(&mut sockets, &format!("event:{event_id}")).await;
    }
    let subscribers = sockets.len() as u64;
    let started = Instant::now();
    let sent_at: Arc<Vec<AtomicU64>> = Arc::new((0..VALUES).map(|_| AtomicU64::new(0)).collect());
    let histogram = Arc::new(Histogram::default());
    let delivered = Arc::new(AtomicU64::new(0));
    let readers = {
        let (sent_at, histogram, delivered) =
            (sent_at.clone(), histogram.clone(), delivered.clone());
        sockets::read_all(
            sockets,
            Arc::new(move |text: &str| {
                let Some(value) = total_slots(text) else {
                    return;
                };
                let at = sent_at[((value - 100) % VALUES) as usize].load(Ordering::Relaxed);
                let now = started.elapsed().as_nanos() as u64;
                histogram.record(Duration::from_nanos(now.saturating_sub(at)));
                delivered.fetch_add(1, Ordering::Relaxed);
            }),
        )
    };
    let driver = Arc::new(driver);
    let mut results = Vec::new();
    let mut search = Search::new(knobs.get("max-rate"), knobs.get("refine"));
    let mut next = Some(knobs.get("start-rate").max(1));
    let mut seq = 0u64;
    let pid = target.pids.first().copied();
    while let Some(rate) = next {
        histogram.reset();
        delivered.store(0, Ordering::Relaxed);
        let cpu_before = pid.map(cpu_time).unwrap_or_default();
        let step = Duration::from_secs(knobs.get("step-seconds"));
        let permits = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
        let step_start = Instant::now();
        let made = Arc::new(AtomicU64::new(0));
        while step_start.elapsed() < step {
            tick.tick().await;
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                continue; // the generator itself cannot keep this rate: the step shows it
            };
            let value = 100 + seq % VALUES;
            seq += 1;
            sent_at[(value - 100) as usize]
                .store(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
            let (driver, api, made) = (driver.clone(), api.clone(), made.clone());
            tokio::spawn(async move {
                if driver.send(&api, value).await {
                    made.fetch_add(1, Ordering::Relaxed);
                }
                drop(permit);
            });
        }
        // The step's length is the time updates were asked for, not the wait for the last.
        let seconds = step_start.elapsed().as_secs_f64();
        let _ = permits.acquire_many(IN_FLIGHT as u32).await;
        let sent = made.load(Ordering::Relaxed);
        // Frames still on the wire land before the count.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let got = delivered.load(Ordering::Relaxed);
        let cpu = pid
            .map(cpu_time)
            .unwrap_or_default()
            .saturating_sub(cpu_before);
        let result = Step {
            rate,
            sent,
            delivered: got,
            p50: histogram.quantile(0.5),
            p99: histogram.quantile(0.99),
            max: histogram.max(),
            cpu_per_message: cpu / got.max(1) as u32,
            seconds,
        };
        println!(
            "  {label}: {rate:>5}/s asked, {:.0}/s made × {subscribers}: delivered {got} of {}  {:.0} msg/s  {}  server CPU {:.2} µs/msg",
            sent as f64 / seconds,
            sent * subscribers,
            result.per_second(),
            histogram.summary(),
            result.cpu_per_message.as_secs_f64() * 1e6,
        );
        let lost_frames = result.delivered < result.sent * subscribers;
        next = search.after(rate, result.sustained(subscribers), lost_frames);
        results.push(result);
    }
    for reader in readers {
        reader.abort();
    }
    results
}

/// Which rate to try next: doubling while steps are sustained, then halfway between the best
/// sustained rate and the lowest failed one, `refinements` times. With doubling alone the
/// limit is known only to within a factor of two, and so is any ratio of two limits.
struct Search {
    max: u64,
    refinements: u64,
    sustained: Option<u64>,
    failed: Option<u64>,
}

impl Search {
    fn new(max: u64, refinements: u64) -> Self {
        Self {
            max,
            refinements,
            sustained: None,
            failed: None,
        }
    }

    /// A step that lost frames may have had sockets closed as too slow: later steps on the
    /// same sockets could only fail, so the search ends there.
    fn after(&mut self, rate: u64, sustained: bool, lost_frames: bool) -> Option<u64> {
        if lost_frames {
            return None;
        }
        if sustained {
            self.sustained = self.sustained.max(Some(rate));
        } else {
            self.failed = Some(self.failed.map_or(rate, |f| f.min(rate)));
        }
        let Some(failed) = self.failed else {
            return Some(rate * 2).filter(|&r| r <= self.max);
        };
        if self.refinements == 0 {
            return None;
        }
        self.refinements -= 1;
        let good = self.sustained.unwrap_or(0);
        let middle = good + (failed - good) / 2;
        (middle > good && middle < failed).then_some(middle)
    }
}

/// The `total_slots` number in a frame, without parsing the whole JSON.
fn total_slots(text: &str) -> Option<u64> {
    let at = text.find("\"total_slots\":")? + "\"total_slots\":".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|v| *v >= 100)
}

/// A LeadBridge driver: an approved mentor's event on the first node.
pub async fn leadbridge_driver(target: &Target, tag: &str) -> Driver {
    let api = Api::default();
    let base = &target.nodes[0];
    let admin = api.login(base, &target.admin.0, &target.admin.1).await;
    let (mentor, _) = api.approved_mentor(base, &admin, tag).await;
    let event_id = api.create_event(base, &mentor, "Fan-out", 100).await;
    Driver::LeadBridge {
        base: base.clone(),
        mentor,
        event_id,
    }
}

fn best(steps: &[Step], subscribers: u64) -> f64 {
    steps
        .iter()
        .filter(|s| s.sustained(subscribers))
        .map(Step::per_second)
        .fold(0.0, f64::max)
}

fn p99_at(steps: &[Step], rate: u64) -> Option<Duration> {
    steps.iter().find(|s| s.rate == rate).map(|s| s.p99)
}

pub async fn run(knobs: &Knobs) {
    let n = knobs.get("subscribers");
    let baseline = Cluster::baseline().await;
    let base = baseline.target.nodes[0].clone();
    let base_steps = steps(
        &baseline.target,
        Driver::Baseline { base },
        knobs,
        "baseline",
    )
    .await;
    drop(baseline);
    let ours = Cluster::leadbridge(1).await;
    let driver = leadbridge_driver(&ours.target, "fanout").await;
    let our_steps = steps(&ours.target, driver, knobs, "leadbridge").await;
    drop(ours);
    let (b, o) = (best(&base_steps, n), best(&our_steps, n));
    println!("\n| subscribers | baseline sustained msg/s | LeadBridge sustained msg/s | ratio |");
    println!("|---|---|---|---|");
    println!("| {n} | {b:.0} | {o:.0} | {} |", ratio(o, b));
    if let (Some(bp), Some(op)) = (p99_at(&base_steps, 100), p99_at(&our_steps, 100)) {
        println!(
            "\np99 at 100 updates/s × {n}: baseline {:.1} ms, LeadBridge {:.1} ms ({})",
            bp.as_secs_f64() * 1e3,
            op.as_secs_f64() * 1e3,
            ratio(op.as_secs_f64(), bp.as_secs_f64())
        );
    }
    let cpu = |steps: &[Step]| {
        steps
            .first()
            .map(|s| s.cpu_per_message.as_secs_f64() * 1e6)
            .unwrap_or(0.0)
    };
    println!(
        "server CPU per delivered message at the first step: baseline {:.2} µs, LeadBridge {:.2} µs ({})",
        cpu(&base_steps),
        cpu(&our_steps),
        ratio(cpu(&our_steps), cpu(&base_steps))
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_double_until_a_failure_then_narrow_the_gap() {
        let mut search = Search::new(3_200, 3);
        assert_eq!(search.after(25, true, false), Some(50));
        assert_eq!(search.after(50, true, false), Some(100));
        assert_eq!(search.after(100, true, false), Some(200));
        assert_eq!(search.after(200, false, false), Some(150));
        assert_eq!(search.after(150, true, false), Some(175));
        assert_eq!(search.after(175, false, false), Some(162));
        assert_eq!(search.after(162, true, false), None, "refinements used up");
    }

    #[test]
    fn the_search_stops_at_the_largest_rate_and_when_nothing_is_left_between() {
        let mut capped = Search::new(100, 3);
        assert_eq!(capped.after(50, true, false), Some(100));
        assert_eq!(capped.after(100, true, false), None);
        let mut narrow = Search::new(100, 3);
        assert_eq!(
            narrow.after(1, false, false),
            None,
            "nothing between 0 and 1"
        );
        let mut lossy = Search::new(3_200, 3);
        assert_eq!(lossy.after(25, true, false), Some(50));
        assert_eq!(lossy.after(50, false, true), None, "sockets may be gone");
    }
}
