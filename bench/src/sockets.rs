//! Many WebSocket clients from one process: each connection comes from one of several
//! loopback addresses (127.0.0.x), so ephemeral ports never run short.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{stream, SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

pub type Socket = WebSocketStream<TcpStream>;

/// Connections per source address before moving to the next.
const PER_SOURCE: usize = 10_000;
const HANDSHAKES_IN_FLIGHT: usize = 64;

/// Binding a source address with port 0 makes the kernel pick a port free for *every*
/// destination, a slow search once thousands of ports sit in TIME_WAIT from an earlier
/// run; `IP_BIND_ADDRESS_NO_PORT` defers the choice to `connect`, per destination.
fn leave_port_to_connect(socket: &TcpSocket) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads `on` for the duration of the call on a socket we own.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

async fn open_one(url: &str, remote: SocketAddr, index: usize) -> Option<Socket> {
    let source = Ipv4Addr::new(127, 0, 0, 1 + (index / PER_SOURCE) as u8);
    let socket = TcpSocket::new_v4().ok()?;
    leave_port_to_connect(&socket);
    socket.bind(SocketAddr::from((source, 0))).ok()?;
    let stream = socket.connect(remote).await.ok()?;
    let (ws, _) = tokio_tungstenite::client_async(url, stream).await.ok()?;
    Some(ws)
}

/// Opens `n` sockets to `url` (a `ws://127.0.0.1:port/...` address), printing progress;
/// answers the sockets that opened and how long opening all of them took.
pub async fn open(url: &str, n: usize, label: &str) -> (Vec<Socket>, Duration) {
    let authority = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or_default();
    let remote: SocketAddr = authority.parse().expect("ws://ip:port address");
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut sockets = Vec::with_capacity(n);
    let mut opening = stream::iter(0..n)
        .map(|i| open_one(url, remote, i))
        .buffer_unordered(HANDSHAKES_IN_FLIGHT);
    while let Some(socket) = opening.next().await {
        if let Some(socket) = socket {
            sockets.push(socket);
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            last_report = Instant::now();
            println!("  {label}: {} of {n} sockets open", sockets.len());
        }
    }
    (sockets, started.elapsed())
}

/// Subscribes every socket to `topic` and waits for each `subscribed`.
pub async fn subscribe(sockets: &mut [Socket], topic: &str) {
    let frame = format!(r#"{{"type":"subscribe","topic":"{topic}"}}"#);
    for socket in sockets.iter_mut() {
        let _ = socket.send(Message::text(frame.clone())).await;
    }
    for socket in sockets.iter_mut() {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message {
                if text.contains("\"subscribed\"") {
                    break;
                }
            }
        }
    }
}

/// Reads every socket on its own task, handing each text frame to `on_text`; the tasks end
/// when their socket closes or the handles are aborted.
pub fn read_all(
    sockets: Vec<Socket>,
    on_text: Arc<dyn Fn(&str) + Send + Sync>,
) -> Vec<tokio::task::JoinHandle<()>> {
    sockets
        .into_iter()
        .map(|mut socket| {
            let on_text = Arc::clone(&on_text);
            tokio::spawn(async move {
                while let Some(Ok(message)) = socket.next().await {
                    if let Message::Text(text) = message {
                        on_text(&text);
                    }
                }
            })
        })
        .collect()
}
