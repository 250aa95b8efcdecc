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
    // Its own process (the default test settings count no connections per address).
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

/// A raw connection to `app` from a chosen loopback address (all of 127/8 reaches the
/// server), so one test can be several addresses.
async fn connect_from(app: &crate::common::TestApp, source: &str) -> tokio::net::TcpStream {
    let target: std::net::SocketAddr = app
        .address
        .trim_start_matches("http://")
        .parse()
        .expect("server address");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(format!("{source}:0").parse().unwrap())
        .expect("bind source");
    socket.connect(target).await.expect("connect")
}

/// Reads until the server closes (EOF or reset), for at most `limit`: what was read, and
/// whether the connection ended within the limit.
async fn read_until_closed(tcp: &mut tokio::net::TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(&mut chunk)).await {
            Err(_) => return (got, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
        }
    }
}

use std::time::Duration;
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_with_408_and_the_connection_closes() {
    let app = crate::common::spawn_app_with(&[("LEADBRIDGE_BODY_TIMEOUT_SECONDS", "1")]).await;
    for (head, unit) in [
        // Declared length, trickled to a JSON endpoint: the handler waits for it.
        (
            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n",
            " ",
        ),
        // Chunked, to an endpoint that never reads a body: not drained at the sender's pace.
        (
            "POST /api/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            "1\r\n \r\n",
        ),
        // Chunked, refused by the CSRF guard before any handler: not drained either.
        (
            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            "1\r\n \r\n",
        ),
        // An Upgrade header (not a socket) earns a body no extra time.
        (
            "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n",
            " ",
        ),
    ] {
        let mut tcp = connect_from(&app, "127.0.0.1").await;
        tcp.write_all(head.as_bytes()).await.unwrap();
        let started = std::time::Instant::now();
        let (mut reader, mut writer) = tcp.into_split();
        let trickle = tokio::spawn(async move {
            for _ in 0..100 {
                if writer.write_all(unit.as_bytes()).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let mut got = Vec::new();
        let closed = {
            use tokio::io::AsyncReadExt;
            let mut chunk = [0u8; 4096];
            loop {
                match tokio::time::timeout(Duration::from_secs(8), reader.read(&mut chunk)).await {
                    Err(_) => break false,
                    Ok(Ok(0)) | Ok(Err(_)) => break true,
                    Ok(Ok(n)) => got.extend_from_slice(&chunk[..n]),
                }
            }
        };
        trickle.abort();
        let text = String::from_utf8_lossy(&got);
        assert!(closed, "{head}: still open after {:?}: {text}", started.elapsed());
        assert!(started.elapsed() < Duration::from_secs(6), "{head}");
        if head.contains("evil.example") {
            assert!(text.starts_with("HTTP/1.1 403"), "{text}");
        } else if head.contains("Content-Length") {
            assert!(text.starts_with("HTTP/1.1 408"), "{text}");
            assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
        }
    }
    // Bodies sent at once are unaffected.
    let (status, _) = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"email": "a@b.co", "password": "wrong-pass-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_client_that_never_reads_its_answers_is_disconnected() {
    let app = crate::common::spawn_app_with(&[("LEADBRIDGE_WRITE_TIMEOUT_SECONDS", "1")]).await;
    let target: std::net::SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(target).await.unwrap();
    let (mut reader, mut writer) = tcp.into_split();
    // Pipelined requests for a 70 KB answer, 2,000 of them: 140 MB it never reads.
    let request = b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2000);
    let sender = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(20), writer.write_all(&request)).await;
        writer
    });
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Now read: a server that still served it would stream answers for ever; this one
    // gave up on the connection, so what is left is what the buffers held.
    let mut total = 0usize;
    let ended = {
        use tokio::io::AsyncReadExt;
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), reader.read(&mut chunk)).await {
                Err(_) => break false,
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(n)) => total += n,
            }
            if total > 40 * 1024 * 1024 {
                break false;
            }
        }
    };
    sender.abort();
    assert!(
        ended,
        "the connection was still served ({total} bytes read)"
    );
    assert!(total < 40 * 1024 * 1024, "{total} bytes");
    assert_eq!(app.anonymous().get("/healthz").await.0, StatusCode::OK);
}

/// The attack: many connections from one address that hold on, under a low file
/// limit. One address gets its allowance, then 429s, then nothing; everyone else is served.
#[tokio::test]
async fn one_address_cannot_take_every_connection_even_under_a_low_file_limit() {
    let app =
        crate::common::spawn_app_with(&[("LEADBRIDGE_MAX_CONNECTIONS_PER_ADDRESS", "20")]).await;
    let node = app.process_sibling().await;
    let limited = std::process::Command::new("prlimit")
        .args(["--nofile=128", "--pid", &node.pid().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(limited, "prlimit (util-linux) lowers the node's file limit");
    // A head promising a body that never comes holds a connection until the body timeout.
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..120 {
        let mut tcp = connect_from(&node, "127.0.0.2").await;
        let _ = tcp.write_all(head.as_bytes()).await;
        held.push(tcp);
    }
    // Which connections are the first twenty is up to the server's threads; count them all.
    let (mut answered, mut dropped, mut waiting) = (0, 0, 0);
    let outcomes = futures_util::future::join_all(
        held.iter_mut()
            .map(|tcp| read_until_closed(tcp, Duration::from_millis(1500))),
    )
    .await;
    for (got, closed) in outcomes {
        let text = String::from_utf8_lossy(&got);
        match (closed, text.starts_with("HTTP/1.1 429")) {
            (true, true) => {
                assert!(text.contains("TOO_MANY_CONNECTIONS"), "{text}");
                answered += 1;
            }
            (true, false) if got.is_empty() => dropped += 1,
            (false, _) if got.is_empty() => waiting += 1,
            _ => panic!("unexpected answer: {text}"),
        }
    }
    assert!(waiting <= 20, "{waiting} connections held, allowance 20");
    // Past it, each was told 429 or, when closed ones had not yet made room, dropped.
    assert!(answered >= 10, "{answered} told, {dropped} dropped");
    assert!(
        answered + dropped >= 100,
        "{answered} told, {dropped} dropped"
    );
    // Another address is served at once, however many that one holds.
    let health = tokio::time::timeout(Duration::from_secs(3), reqwest::get(node.url("/healthz")))
        .await
        .expect("/healthz answered in time")
        .expect("request sent");
    assert_eq!(health.status(), StatusCode::OK);
    // Closing gives the allowance back, once the server has seen the connections go.
    held.clear();
    let mut answer = String::new();
    for _ in 0..30 {
        let mut again = connect_from(&node, "127.0.0.2").await;
        let _ = again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await;
        let (got, _) = read_until_closed(&mut again, Duration::from_secs(3)).await;
        answer = String::from_utf8_lossy(&got).into_owned();
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
