//! `leadbridge-bench <scenario> [--knob value …]`: see `--help`.

use leadbridge_bench::knobs::{help, Knob, Knobs};
use leadbridge_bench::process::raise_fd_limit;
use leadbridge_bench::scenarios::{fanout, feed, http, idle, soak};

const ABOUT: &str = "\
leadbridge-bench: load generator for LeadBridge. Each scenario starts what it measures
(the release `leadbridge` binary built beside this one, a private redis-server when two
nodes are needed, and this crate's minimal actix-ws baseline server), prints a progress
line as it goes, and ends with a Markdown table; figures with a baseline are also given
as ratios measured in the same run. Build first (scripts/bench.sh does it):
cargo build --release --bins -p leadbridge -p leadbridge-bench

usage: leadbridge-bench <scenario> [--knob value ...]
";

struct Scenario {
    name: &'static str,
    about: &'static str,
    knobs: &'static [Knob],
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "idle",
        about: "memory per idle WebSocket and sockets opened per second, at 1k, 10k and --max",
        knobs: idle::KNOBS,
    },
    Scenario {
        name: "fanout",
        about:
            "one topic, --subscribers sockets, doubling update rates until delivery falls behind",
        knobs: fanout::KNOBS,
    },
    Scenario {
        name: "feed",
        about: "booking -> mentor's lead_created latency, on one node and on two (Redis)",
        knobs: feed::KNOBS,
    },
    Scenario {
        name: "http",
        about: "GET /api/events with many events, and concurrent bookings checked for oversell",
        knobs: http::KNOBS,
    },
    Scenario {
        name: "soak",
        about: "two nodes under booking load through a Redis restart; delivered vs expected",
        knobs: soak::KNOBS,
    },
];

fn usage() -> String {
    let mut text = ABOUT.to_string();
    for scenario in SCENARIOS {
        text.push_str(&format!("\n  {:<8} {}\n", scenario.name, scenario.about));
        text.push_str(&help(scenario.knobs));
    }
    text.push_str(
        "\n  baseline-server --port N   (used by the scenarios) the baseline on its own\n",
    );
    text
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first().map(String::as_str) else {
        eprint!("{}", usage());
        std::process::exit(2);
    };
    if name == "--help" || name == "-h" || name == "help" {
        print!("{}", usage());
        return;
    }
    if name == "baseline-server" {
        let port = args.get(2).and_then(|p| p.parse().ok()).unwrap_or_else(|| {
            eprintln!("baseline-server --port N");
            std::process::exit(2)
        });
        if let Err(e) = leadbridge_bench::baseline::serve(port) {
            eprintln!("baseline server: {e}");
            std::process::exit(1);
        }
        return;
    }
    let Some(scenario) = SCENARIOS.iter().find(|s| s.name == name) else {
        eprintln!("unknown scenario {name:?}\n\n{}", usage());
        std::process::exit(2);
    };
    let knobs = match Knobs::parse(scenario.knobs, &args[1..]) {
        Ok(knobs) => knobs,
        Err(e) => {
            eprintln!("{e}\n\n{}", usage());
            std::process::exit(2);
        }
    };
    let files = raise_fd_limit();
    println!("{}: open-file limit {files}", scenario.name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ok = runtime.block_on(async {
        match scenario.name {
            "idle" => idle::run(&knobs).await,
            "fanout" => fanout::run(&knobs).await,
            "feed" => feed::run(&knobs).await,
            "http" => http::run(&knobs).await,
            _ => return soak::run(&knobs).await,
        }
        true
    });
    if !ok {
        std::process::exit(1);
    }
}
