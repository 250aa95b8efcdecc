//! Resources an attacker without an account could exhaust: memory through password
//! hashing, connections and file descriptors through clients that trickle or never read.
//! Each runs against the real binary where the process's own numbers are what matter.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{error_code, read, spawn_app};

/// A line of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{field} missing"))
}

#[tokio::test]
async fn a_burst_of_failed_sign_ins_stays_bounded_in_memory_and_the_memory_comes_back() {
    let app = spawn_app().await;
    let node = app.process_sibling().await;
    let pid = node.pid();
    let login = |i: usize| {
        let url = node.url("/api/auth/login");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(
                    &json!({"email": format!("guess-{i}@example.com"), "password": "wrong-pass-1"}),
                )
                .send()
                .await
                .expect("answered");
            let retry_after = response.headers().get("retry-after").cloned();
            let (status, body) = read(response).await;
            (status, retry_after, body)
        }
    };
    // Warm up: the first hashes map their memory once more than later ones.
    for i in 0..4 {
        assert_eq!(login(i).await.0, StatusCode::UNAUTHORIZED);
    }
    let before = status_kib(pid, "VmRSS");
    let answers = futures_util::future::join_all((0..128).map(login)).await;
    let peak = status_kib(pid, "VmHWM");
    let mut judged = 0;
    for (status, retry_after, body) in &answers {
        match *status {
            StatusCode::UNAUTHORIZED => judged += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(error_code(body), "UNAVAILABLE");
                assert!(retry_after.is_some(), "503 without Retry-After");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(judged >= 4, "the pool still judges sign-ins: {judged}");
    // Each running hash holds 19 MiB; unbounded, 128 of them took gigabytes.
    assert!(
        peak < before + 160 * 1024,
        "peak {peak} KiB from {before} KiB"
    );
    // And the hashes' memory goes back to the system.
    let mut after = status_kib(pid, "VmRSS");
    for _ in 0..20 {
        if after < before + 24 * 1024 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = status_kib(pid, "VmRSS");
    }
    assert!(
        after < before + 24 * 1024,
        "{after} KiB after the burst, {before} KiB before"
    );
    // The node still signs people in.
    let (status, _, _) = login(999).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
