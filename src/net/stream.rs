//! A TCP connection whose writes cannot stall for ever: a peer that stops reading (a
//! socket it never drains, pipelined requests whose answers it never takes) fills its
//! receive window, then the kernel's send buffer, then the server's; nothing in HTTP times
//! that out, so the connection, its buffers and its file descriptor would stay for good.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use super::census::Entry;

/// A write that takes at least this much counts as the peer reading; less (a window
/// opened by a few bytes at a time) does not hold the stall timer back.
const PROGRESS: usize = 4096;

/// Ends a connection once its current answer is written: the stream then reads as closed
/// by the peer. actix-http would otherwise drain an unread chunked body to its end, at the
/// sender's pace, however long that takes.
#[derive(Clone)]
pub struct HangUp(Rc<Cell<bool>>);

impl HangUp {
    pub fn after_this_answer(&self) {
        self.0.set(true);
    }
}

pub struct GuardedStream {
    io: TcpStream,
    /// How long writes may wait without the peer taking data.
    stall_limit: Duration,
    /// Set while writes wait; boxed and made on the first stall only, so an ordinary
    /// connection carries no timer.
    stalled_until: Option<Pin<Box<Sleep>>>,
    /// This connection's place in its address's count, given back when it closes.
    pub entry: Entry,
    hang_up: HangUp,
}

impl GuardedStream {
    pub fn new(io: TcpStream, stall_limit: Duration, entry: Entry) -> Self {
        Self {
            io,
            stall_limit,
            stalled_until: None,
            entry,
            hang_up: HangUp(Rc::default()),
        }
    }

    /// The handle the HTTP layer uses to end this connection.
    pub fn hang_up(&self) -> HangUp {
        self.hang_up.clone()
    }

    /// A write is waiting: start the clock if it is not running, and fail once it ran out.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let limit = self.stall_limit;
        let timer = self
            .stalled_until
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the peer stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A trickle (a window opened a few bytes at a time) keeps the clock running from the
    /// first stall; taking everything offered, or a good part of it, stops it.
    fn progressed(&mut self, written: usize, offered: usize) {
        if written == offered || written >= PROGRESS {
            self.stalled_until = None;
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.hang_up.0.get() {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                this.progressed(written, buf.len());
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.poll_stall(cx),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
