//! Idle sockets: memory per open WebSocket and how fast they open, for LeadBridge and the
//! baseline, each in a fresh server process per count.

use std::time::Duration;

use crate::cluster::Cluster;
use crate::knobs::{Knob, Knobs};
use crate::process::rss_kib;
use crate::scenarios::ratio;
use crate::sockets;

pub const KNOBS: &[Knob] = &[
    Knob {
        name: "max",
        default: 19_000,
        help: "the largest count (each side holds this many sockets; ulimit -n is 20000)",
    },
    Knob {
        name: "settle-ms",
        default: 2_000,
        help: "wait after the last socket opened before reading the server's memory",
    },
];

/// Memory per socket (KiB) and sockets opened per second.
async fn measure(cluster: &Cluster, n: usize, settle: Duration, label: &str) -> (f64, f64) {
    let pid = cluster.target.pids[0];
    let before = rss_kib(pid);
    let (sockets, took) = sockets::open(&cluster.target.ws(0), n, label).await;
    tokio::time::sleep(settle).await;
    let after = rss_kib(pid);
    let opened = sockets.len().max(1);
    if sockets.len() < n {
        println!("  {label}: only {} of {n} sockets opened", sockets.len());
    }
    drop(sockets);
    (
        after.saturating_sub(before) as f64 / opened as f64,
        opened as f64 / took.as_secs_f64(),
    )
}

pub async fn run(knobs: &Knobs) {
    let settle = Duration::from_millis(knobs.get("settle-ms"));
    let max = knobs.get("max") as usize;
    let mut counts = vec![1_000, 10_000, max];
    counts.retain(|&n| n <= max);
    counts.dedup();
    println!("| sockets | baseline KiB/socket | LeadBridge KiB/socket | ratio | baseline sockets/s | LeadBridge sockets/s | ratio |");
    println!("|---|---|---|---|---|---|---|");
    for n in counts {
        let baseline = Cluster::baseline().await;
        let (base_kib, base_rate) = measure(&baseline, n, settle, "baseline").await;
        drop(baseline);
        let ours = Cluster::leadbridge(1).await;
        let (our_kib, our_rate) = measure(&ours, n, settle, "leadbridge").await;
        drop(ours);
        println!(
            "| {n} | {base_kib:.1} | {our_kib:.1} | {} | {base_rate:.0} | {our_rate:.0} | {} |",
            ratio(our_kib, base_kib),
            ratio(our_rate, base_rate)
        );
    }
}
