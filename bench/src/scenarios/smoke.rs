//! A few seconds of the generator against a server the caller already runs (the test
//! suite's), so the generator keeps working as the API moves: a small fan-out must
//! deliver every message, and a short HTTP load must get answers.

use std::time::Duration;

use crate::api::Api;
use crate::knobs::{Knob, Knobs};
use crate::scenarios::{fanout, http};
use crate::Target;

const SMOKE: &[Knob] = &[
    Knob {
        name: "subscribers",
        default: 5,
        help: "",
    },
    Knob {
        name: "start-rate",
        default: 10,
        help: "",
    },
    Knob {
        name: "max-rate",
        default: 10,
        help: "",
    },
    Knob {
        name: "step-seconds",
        default: 1,
        help: "",
    },
    Knob {
        name: "refine",
        default: 1,
        help: "",
    },
];

/// What a smoke run saw.
#[derive(Debug)]
pub struct Smoke {
    pub sent: u64,
    pub delivered: u64,
    pub subscribers: u64,
    pub requests_per_second: f64,
}

pub async fn run(target: &Target) -> Smoke {
    let knobs = Knobs::parse(SMOKE, &[]).expect("smoke knobs");
    let driver = fanout::leadbridge_driver(target, "smoke").await;
    let steps = fanout::steps(target, driver, &knobs, "smoke").await;
    let step = steps.first().expect("one step ran");
    let api = Api::default();
    let url = format!("{}/api/events", target.nodes[0]);
    let (rate, _, failures) = http::get_load(&api, 2, 1, url).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    Smoke {
        sent: step.sent,
        delivered: step.delivered,
        subscribers: knobs.get("subscribers"),
        requests_per_second: if failures == 0 { rate } else { 0.0 },
    }
}
