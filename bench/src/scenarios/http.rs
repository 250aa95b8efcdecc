//! HTTP: `GET /api/events` with many events in the store against the baseline's trivial
//! JSON endpoint, then bookings from many learners at once, checked for oversell at the end,
//! then sign-ins from all of them at once (password hashing: rate, refusals, memory).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::api::Api;
use crate::cluster::Cluster;
use crate::histogram::Histogram;
use crate::knobs::{Knob, Knobs};
use crate::scenarios::ratio;

pub const KNOBS: &[Knob] = &[
    Knob {
        name: "events",
        default: 1_000,
        help: "events in the store (the listing reads its first page)",
    },
    Knob {
        name: "connections",
        default: 64,
        help: "concurrent requests",
    },
    Knob {
        name: "seconds",
        default: 10,
        help: "how long each load runs",
    },
    Knob {
        name: "slots",
        default: 20,
        help: "seats per event for the booking run",
    },
];

/// Runs `connections` loops of `request` for `seconds`: answers (requests/s, latencies,
/// failures).
pub async fn load<F, Fut>(connections: usize, seconds: u64, request: F) -> (f64, Histogram, u64)
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let histogram = Arc::new(Histogram::default());
    let failures = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers = (0..connections).map(|w| {
        let (request, histogram, failures) = (request.clone(), histogram.clone(), failures.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while Instant::now() < until {
                let at = Instant::now();
                if !request(w, n).await {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                histogram.record(at.elapsed());
                n += 1;
            }
        })
    });
    join_all(workers).await;
    let seconds = started.elapsed().as_secs_f64();
    let histogram = Arc::try_unwrap(histogram).unwrap_or_default();
    let rate = histogram.count() as f64 / seconds;
    (rate, histogram, failures.load(Ordering::Relaxed))
}

/// The booking run's shared state: one learner per connection, each going through the
/// events in its own order, and what the answers were.
struct BookingRun {
    api: Api,
    base: String,
    events: Vec<String>,
    learners: Vec<String>,
    booked: Mutex<HashMap<String, i64>>,
    statuses: Mutex<HashMap<u16, u64>>,
}

impl BookingRun {
    /// Learner `w`'s `n`th booking; answers whether the server answered as it should.
    async fn book(&self, w: usize, n: u64) -> bool {
        let event = &self.events[(w * 7 + n as usize) % self.events.len()];
        let (status, _) = self
            .api
            .book(&self.base, &self.learners[w], event, (w as u64) << 32 | n)
            .await;
        if let Ok(mut statuses) = self.statuses.lock() {
            *statuses.entry(status).or_default() += 1;
        }
        if status == 200 {
            if let Ok(mut booked) = self.booked.lock() {
                *booked.entry(event.clone()).or_default() += 1;
            }
        }
        status == 200 || status == 409
    }
}

/// `GET url` in a loop on `connections` connections for `seconds`.
pub async fn get_load(
    api: &Api,
    connections: usize,
    seconds: u64,
    url: String,
) -> (f64, Histogram, u64) {
    let api = api.clone();
    load(connections, seconds, move |_, _| {
        let (api, url) = (api.clone(), url.clone());
        // The body is read but not parsed: on cores shared with the server, parsing 8 KB
        // of JSON per answer would measure the generator more than the server.
        async move {
            match api.http.get(url).send().await {
                Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

pub async fn run(knobs: &Knobs) {
    let (connections, seconds) = (knobs.get("connections") as usize, knobs.get("seconds"));
    let api = Api::default();

    let baseline = Cluster::baseline().await;
    let url = format!("{}/json", baseline.target.nodes[0]);
    let (base_rate, base_latency, _) = get_load(&api, connections, seconds, url).await;
    drop(baseline);

    let ours = Cluster::leadbridge(1).await;
    let base = ours.target.nodes[0].clone();
    let admin = api
        .login(&base, &ours.target.admin.0, &ours.target.admin.1)
        .await;
    let (mentor, _) = api.approved_mentor(&base, &admin, "http").await;
    let slots = knobs.get("slots") as i64;
    let mut events = Vec::new();
    for chunk in (0..knobs.get("events")).collect::<Vec<_>>().chunks(16) {
        events.extend(
            join_all(chunk.iter().map(|i| {
                let (api, base, mentor) = (api.clone(), base.clone(), mentor.clone());
                async move {
                    api.create_event(&base, &mentor, &format!("Event {i}"), slots)
                        .await
                }
            }))
            .await,
        );
        if events.len() % 200 == 0 {
            println!("  {} events created", events.len());
        }
    }
    let url = format!("{base}/api/events");
    let (list_rate, list_latency, list_failures) = get_load(&api, connections, seconds, url).await;
    println!("| load | requests/s | latency | ratio to the baseline's /json |");
    println!("|---|---|---|---|");
    println!(
        "| baseline GET /json | {base_rate:.0} | {} | 1.00× |",
        base_latency.summary()
    );
    println!(
        "| GET /api/events ({} events, {list_failures} failed) | {list_rate:.0} | {} | {} |",
        events.len(),
        list_latency.summary(),
        ratio(list_rate, base_rate)
    );

    // Bookings: one learner per connection, each going through the events in its own order.
    let learners = join_all((0..connections).map(|i| {
        let (api, base) = (api.clone(), base.clone());
        async move {
            api.register(&base, &format!("learner-{i}@bench.test"), "USER")
                .await
        }
    }))
    .await;
    let run = Arc::new(BookingRun {
        api: api.clone(),
        base: base.clone(),
        events,
        learners,
        booked: Mutex::default(),
        statuses: Mutex::default(),
    });
    let (book_rate, book_latency, _) = {
        let run = run.clone();
        load(connections, seconds, move |w, n| {
            let run = run.clone();
            async move { run.book(w, n).await }
        })
        .await
    };
    let (events, booked, statuses) = (
        &run.events,
        run.booked.lock().map(|b| b.clone()).unwrap_or_default(),
        run.statuses.lock().map(|s| s.clone()).unwrap_or_default(),
    );
    // Every event, not only those with a booking seen: a booking the generator timed out
    // on may still have been taken.
    let mut oversold = 0;
    for event in events.iter() {
        let n = booked.get(event).copied().unwrap_or(0);
        let (_, stored) = api
            .send(api.http.get(format!("{base}/api/events/{event}")))
            .await;
        let available = stored["available_slots"].as_i64();
        if n > slots || available != Some(slots - n) {
            oversold += 1;
        }
    }
    let ok: i64 = booked.values().sum();
    println!(
        "| POST …/book ({connections} learners, {slots} seats per event) | {book_rate:.0} ({:.0} booked/s) | {} | {ok} booked, statuses {:?}, {oversold} events oversold or miscounted |",
        // On the same span as the requests/s beside it.
        ok as f64 * book_rate / book_latency.count().max(1) as f64,
        book_latency.summary(),
        statuses
    );

    // Sign-ins: every learner signs in again and again, far more at once than the node
    // hashes; it answers the rest 503 with Retry-After, which they obey. Memory is the
    // point here: each hash holds 19 MiB while it runs.
    let pid = ours.target.pids[0];
    let before = crate::process::rss_kib(pid);
    let statuses: Arc<Mutex<HashMap<u16, u64>>> = Arc::default();
    let emails: Arc<Vec<String>> = Arc::new(
        (0..connections)
            .map(|i| format!("learner-{i}@bench.test"))
            .collect(),
    );
    let (login_rate, login_latency, _) = {
        let (api, base, statuses) = (api.clone(), base.clone(), statuses.clone());
        load(connections, seconds, move |w, _| {
            let (api, base, statuses, emails) =
                (api.clone(), base.clone(), statuses.clone(), emails.clone());
            async move {
                let (status, _) = api
                    .send(api.http.post(format!("{base}/api/auth/login")).json(
                        &serde_json::json!({"email": emails[w], "password": crate::api::PASSWORD}),
                    ))
                    .await;
                if let Ok(mut statuses) = statuses.lock() {
                    *statuses.entry(status).or_default() += 1;
                }
                if status == 503 {
                    // As a client should: again after the Retry-After (1 s) it was given.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                status == 200 || status == 503
            }
        })
        .await
    };
    let statuses = statuses.lock().map(|s| s.clone()).unwrap_or_default();
    let signed_in = statuses.get(&200).copied().unwrap_or(0);
    println!(
        "| POST /api/auth/login ({connections} at once) | {login_rate:.0} ({:.0} signed in/s) | {} | statuses {statuses:?}; server RSS {} MiB before, peak {} MiB, {} MiB after |",
        signed_in as f64 * login_rate / login_latency.count().max(1) as f64,
        login_latency.summary(),
        before / 1024,
        crate::process::peak_rss_kib(pid) / 1024,
        crate::process::rss_kib(pid) / 1024,
    );
}
