//! The TCP side of the server: how connections are accepted, counted and bounded before
//! HTTP sees them. actix-web's `HttpServer` offers no hook around the stream, so the server
//! is assembled here from the same parts (actix-server for accepting, actix-http for
//! HTTP/1.1) with our stream type in between.
//!
//! - [`census`]: open connections per address; beyond the allowance a connection's request
//!   is answered 429 and it closes, far beyond it the connection is closed at once.
//! - [`stream`]: writes that stall (the peer stopped reading) end the connection; so does
//!   data left in the kernel's queue for as long (TCP_USER_TIMEOUT).
//!
//! Request bodies that trickle are cut by the body deadline in `http::deadline`.

pub mod census;
pub mod stream;

use std::net::TcpListener;
use std::time::Duration;

use actix_http::{HttpService, Protocol};
use actix_service::{
    fn_service, map_config, IntoServiceFactory, ServiceFactory, ServiceFactoryExt,
};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server, ServiceRequest, ServiceResponse};
use actix_web::rt::net::TcpStream;
use actix_web::{App, Error};

use census::{Admission, Census};
use stream::GuardedStream;

/// Bounds on each connection, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections one address may hold open; `None` behind a trusted proxy.
    pub per_address: Option<usize>,
    /// How long writes may wait for a peer that does not read.
    pub write_stall: Duration,
    /// How long the kernel may hold data the peer does not take (TCP_USER_TIMEOUT): never
    /// less than the sockets' idle limit, so a network blip that the socket protocol
    /// survives does not end the connection underneath it.
    pub unacknowledged: Duration,
    /// How long a request body may take to arrive.
    pub body: Duration,
}

/// Marks, on the connection, that its address is over its allowance: its request is
/// answered 429 and the connection closed (see `http::deadline`).
#[derive(Debug, Clone, Copy)]
pub struct OverLimit;

/// Idle time between requests on a kept-alive connection.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Time for a request's head to arrive once the connection is open.
const REQUEST_HEAD: Duration = Duration::from_secs(5);
/// Time a closing connection gets to say goodbye.
const DISCONNECT: Duration = Duration::from_secs(1);

/// Data the kernel holds for a peer that does not read (megabytes on loopback, before any
/// write of ours would wait) is given up after `limit`: the kernel then ends the connection
/// (Linux's TCP_USER_TIMEOUT, which covers a window held at zero).
fn bound_kernel_queue(io: &TcpStream, limit: Duration) {
    #[cfg(target_os = "linux")]
    if let Err(e) = socket2::SockRef::from(io).set_tcp_user_timeout(Some(limit)) {
        tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (io, limit);
}

/// Serves the app made by `app` on `listener` with these limits (HTTP/1.1, as before).
pub fn serve<F, T, B>(
    listener: TcpListener,
    limits: ConnectionLimits,
    app: F,
) -> std::io::Result<Server>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let census = Census::new(limits.per_address);
    let mut builder = Server::build();
    let shutdown = builder.graceful_shutdown_signal();
    builder = builder
        .shutdown_timeout(10)
        // Signals are ours: sockets get close 1001 before the server stops.
        .disable_signals()
        .listen("leadbridge", listener, move || {
            let census = census.clone();
            let shutdown = shutdown.clone();
            let accept = fn_service(move |io: TcpStream| {
                let peer = io.peer_addr().ok();
                let _ = io.set_nodelay(true);
                bound_kernel_queue(&io, limits.unacknowledged);
                let entry = census.enter(peer.map(|p| p.ip()));
                async move {
                    if entry.admission == Admission::Refused {
                        return Err(actix_http::error::DispatchError::Io(std::io::Error::other(
                            "too many connections from this address",
                        )));
                    }
                    let guarded = GuardedStream::new(io, limits.write_stall, entry);
                    Ok((guarded, Protocol::Http1, peer))
                }
            });
            let app = app()
                .into_factory()
                .map_err(|err: Error| err.error_response());
            let http = HttpService::build()
                .keep_alive(KEEP_ALIVE)
                .client_request_timeout(REQUEST_HEAD)
                .client_disconnect_timeout(DISCONNECT)
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .on_connect_ext(|io: &GuardedStream, extensions| {
                    extensions.insert(io.hang_up());
                    if io.entry.admission == Admission::OverLimit {
                        extensions.insert(OverLimit);
                    }
                })
                .finish(map_config(app, |_| AppConfig::default()));
            accept.and_then(http)
        })?;
    Ok(builder.run())
}
