//! How deliveries reach one session, and how it is told to stop: what the session loop,
//! the topic actors and the hub share.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use crate::publication::Publication;

pub type SessionId = u64;

/// Where a topic actor puts a session's deliveries: a bounded queue, and the way to stop the
/// session when the queue overflows.
#[derive(Clone)]
pub struct Sink {
    pub queue: mpsc::Sender<Arc<Publication>>,
    pub stopper: Arc<Stopper>,
}

/// How the hub (logout, revocation) and topics (overflow) stop a session: the first close
/// code set wins and wakes it. One small cell per socket, where a channel would cost a
/// queue allocation per idle socket for an order given at most once.
#[derive(Debug, Default)]
pub struct Stopper {
    code: AtomicU16,
    wake: Notify,
}

impl Stopper {
    pub fn close(&self, code: u16) {
        if self
            .code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.wake.notify_one();
        }
    }

    /// The close code, once one is set.
    pub async fn stopped(&self) -> u16 {
        loop {
            match self.code.load(Ordering::Acquire) {
                0 => self.wake.notified().await,
                code => return code,
            }
        }
    }
}
