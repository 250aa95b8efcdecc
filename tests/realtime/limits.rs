use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::common::spawn_app;
use crate::common::ws::{connect, Auth};

#[tokio::test]
async fn a_frame_over_64_kib_closes_with_1009() {
    let app = spawn_app().await;
    let mut socket = connect(&app, Auth::Anonymous).await;
    let big = json!({"type": "ping", "pad": "x".repeat(70 * 1024)}).to_string();
    socket.send_raw(Message::text(big)).await.unwrap();
    assert_eq!(socket.closed().await, Some(1009));
}

#[tokio::test]
async fn a_flood_of_client_messages_closes_with_1008() {
    let app = spawn_app().await;
    let mut socket = connect(&app, Auth::Anonymous).await;
    for _ in 0..200 {
        if socket
            .send_raw(Message::text(r#"{"type":"ping"}"#))
            .await
            .is_err()
        {
            break;
        }
    }
    assert_eq!(socket.closed().await, Some(1008));
}

#[tokio::test]
async fn a_graceful_shutdown_closes_sockets_with_1001() {
    let app = spawn_app().await;
    let mut socket = connect(&app, Auth::Anonymous).await;
    assert!(socket.drain().await.is_empty());
    let _restarted = app.restart().await;
    assert_eq!(socket.closed().await, Some(1001));
}

/// A bare WebSocket client that completes the handshake and then never answers a ping
/// (client libraries answer pings by themselves). Returns the server's close code.
async fn silent_peer_close_code(app: &crate::common::TestApp) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /api/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = std::time::Duration::from_secs(10);
    // Skip the HTTP response head.
    let head_end = loop {
        let n = tokio::time::timeout(deadline, tcp.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed during the handshake");
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            assert!(
                buffer.starts_with(b"HTTP/1.1 101"),
                "{}",
                String::from_utf8_lossy(&buffer)
            );
            break pos + 4;
        }
    };
    buffer.drain(..head_end);
    // Read server frames (unmasked, small) until the close frame.
    loop {
        while buffer.len() >= 2 {
            let opcode = buffer[0] & 0x0f;
            let len = (buffer[1] & 0x7f) as usize;
            if buffer.len() < 2 + len {
                break;
            }
            let payload: Vec<u8> = buffer.drain(..2 + len).skip(2).collect();
            if opcode == 0x8 {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
        let n = tokio::time::timeout(deadline, tcp.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection ended without a close frame");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_is_closed() {
    let app = crate::common::spawn_app_with(&[
        ("LEADBRIDGE_WS_PING_SECONDS", "1"),
        ("LEADBRIDGE_WS_IDLE_SECONDS", "2"),
    ])
    .await;
    let mut lively = connect(&app, Auth::Anonymous).await;
    // The lively client talks every 200 ms (its library answers pings) while the silent one
    // says nothing.
    let keep_talking = async {
        for _ in 0..20 {
            assert!(
                lively.drain().await.is_empty(),
                "the lively socket stays open"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    };
    let (code, ()) = tokio::join!(silent_peer_close_code(&app), keep_talking);
    assert_eq!(code, 4008);
}

#[tokio::test]
async fn socket_connects_from_one_address_are_limited() {
    let app = crate::common::spawn_app_with(&[("LEADBRIDGE_RATE_LIMITS", "on")]).await;
    let mut open = Vec::new();
    for _ in 0..30 {
        open.push(connect(&app, Auth::Anonymous).await);
    }
    let refused = crate::common::ws::try_connect(&app, Auth::Anonymous).await;
    assert_eq!(refused.err(), Some(429));
}

/// A client frame: text, masked as RFC 6455 requires of clients.
fn masked_text(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81u8];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// A consumer that stops reading: the server gives up on it (1013), and its TCP connection
/// really ends on the server's side, instead of staying ESTABLISHED with buffers queued.
#[tokio::test]
async fn a_socket_that_stops_reading_is_closed_for_real_on_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The kernel's queue is bounded by the longer of the write and idle limits.
    let app = crate::common::spawn_app_with(&[
        ("LEADBRIDGE_WRITE_TIMEOUT_SECONDS", "1"),
        ("LEADBRIDGE_WS_PING_SECONDS", "1"),
        ("LEADBRIDGE_WS_IDLE_SECONDS", "2"),
    ])
    .await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let learner = app.learner().await;

    let addr: std::net::SocketAddr = app
        .ws_address
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut tcp = socket.connect(addr).await.unwrap();
    let client_port = tcp.local_addr().unwrap().port();
    let request = format!(
        "GET /api/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {}\r\n\r\n",
        mentor.access_token
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 512];
    let n = tcp.read(&mut head).await.unwrap();
    assert!(
        head[..n].starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );
    let subscribe =
        serde_json::json!({"type": "subscribe", "topic": format!("mentor:{mentor_id}")});
    tcp.write_all(&masked_text(&subscribe.to_string()))
        .await
        .unwrap();
    assert_eq!(crate::common::tcp_state(addr.port(), client_port), Some(1));

    // Leads arrive on the mentor's feed, 2 KB each, and the socket reads none of them.
    let message = "I would like to learn this properly. ".repeat(54);
    for _ in 0..300 {
        let event_id = app.create_event(&mentor, 5, 500).await;
        let mut contact = crate::common::clean_contact();
        contact["message"] = serde_json::Value::String(message.clone());
        let (status, body) = learner
            .post(&format!("/api/events/{event_id}/book"), contact)
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        if crate::common::tcp_state(addr.port(), client_port) != Some(1) {
            break;
        }
    }
    let mut state = crate::common::tcp_state(addr.port(), client_port);
    for _ in 0..100 {
        if state != Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        state = crate::common::tcp_state(addr.port(), client_port);
    }
    assert_ne!(state, Some(1), "the server still holds the connection open");
    // Everyone else is served as before.
    let mut lively = connect(&app, Auth::Anonymous).await;
    assert!(lively.drain().await.is_empty());
    drop(tcp);
}
