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
