//! Where password hashing runs: a few dedicated threads (about one per core) fed by a short
//! queue. Each Argon2id hash holds 19 MiB for its duration, so how many run at once decides
//! the server's memory: unbounded (a thread per request) a burst of failed sign-ins took it
//! to gigabytes, and the allocator kept them. Beyond the queue a request is refused at once
//! (503 with `Retry-After`), never parked.
//!
//! A hand-written pool rather than a general one: admission (refuse when the queue is full,
//! drop work whose caller gave up) is the whole point and is a few lines on a channel.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::password;

/// Why a hash was not computed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every thread is busy and the queue is full, or the queue did not move in time.
    #[error("password checks are momentarily saturated")]
    Saturated,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// How much password work a node takes on.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Hashes computed at once (each holds 19 MiB).
    pub threads: usize,
    /// Hashes waiting for a thread; more are refused at once.
    pub queue: usize,
    /// How long a caller waits for its hash, queue included, before it is refused.
    pub wait: Duration,
}

impl PoolLimits {
    /// One thread per core.
    pub fn for_this_machine() -> Self {
        Self::with_threads(std::thread::available_parallelism().map_or(2, usize::from))
    }

    /// `threads` at once and a queue of sixteen per thread: at 10 to 30 ms a hash, a full
    /// queue clears within half a second. A waiting hash costs a few bytes, a running one
    /// 19 MiB.
    pub fn with_threads(threads: usize) -> Self {
        Self {
            threads,
            queue: threads * 16,
            wait: Duration::from_secs(3),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs password hashes on a fixed set of threads. Cloning shares the pool; the threads
/// end when the last clone is dropped.
#[derive(Clone)]
pub struct PasswordPool {
    jobs: crossbeam_channel::Sender<Job>,
    /// Threads plus queue: a permit per hash admitted, held until it is done or dropped.
    admitted: Arc<Semaphore>,
    wait: Duration,
}

impl PasswordPool {
    pub fn new(limits: PoolLimits) -> std::io::Result<Self> {
        let threads = limits.threads.max(1);
        let (jobs, inbox) = crossbeam_channel::unbounded::<Job>();
        for n in 0..threads {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || {
                    for job in inbox {
                        // A job that panics answers its caller with an error (its answer
                        // channel is dropped) and leaves the thread serving the rest.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self {
            jobs,
            admitted: Arc::new(Semaphore::new(threads + limits.queue)),
            wait: limits.wait,
        })
    }

    /// Runs `work` on a pool thread, or refuses when the pool is saturated.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let permit: OwnedSemaphorePermit = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| PoolError::Saturated)?;
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A caller that stopped waiting (timed out, disconnected) costs no hash.
            if !done.is_closed() {
                let _ = done.send(work());
            }
            drop(permit);
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow::anyhow!("the password threads are gone"))?;
        match tokio::time::timeout(self.wait, answer).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(_)) => Err(anyhow::anyhow!("a password thread failed").into()),
            Err(_) => Err(PoolError::Saturated),
        }
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, given: String) -> Result<String, PoolError> {
        Ok(self.run(move || password::hash(&given)).await??)
    }

    /// Whether `given` matches the stored hash. `None` (no such account, or one without a
    /// password) costs the same work against a hash nothing matches, so the two answers
    /// take the same time.
    pub async fn verify(&self, given: String, stored: Option<String>) -> Result<bool, PoolError> {
        self.run(move || match stored {
            Some(stored) => password::verify(&given, &stored),
            None => {
                password::verify(&given, password::dummy_hash());
                false
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_threads_and_queue_requests_are_refused_at_once_and_the_rest_complete() {
        let pool = PasswordPool::new(PoolLimits {
            threads: 1,
            queue: 1,
            wait: Duration::from_secs(30),
        })
        .unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = pool.run(move || hold.recv().is_ok());
        let queued = pool.run(|| 7);
        tokio::pin!(busy, queued);
        // Admit both (the first occupies the thread, the second the queue).
        let _ = futures_util::poll!(&mut busy);
        let _ = futures_util::poll!(&mut queued);
        assert!(matches!(pool.run(|| 0).await, Err(PoolError::Saturated)));
        release.send(()).unwrap();
        assert!(busy.await.unwrap());
        assert_eq!(queued.await.unwrap(), 7);
        // Capacity is back.
        assert_eq!(pool.run(|| 1).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_thread_goes_on() {
        let pool = PasswordPool::new(PoolLimits {
            threads: 1,
            queue: 1,
            wait: Duration::from_secs(30),
        })
        .unwrap();
        let failed = pool.run(|| -> u8 { panic!("a broken hash") }).await;
        assert!(matches!(failed, Err(PoolError::Failed(_))));
        assert_eq!(pool.run(|| 3).await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_caller_that_gave_up_costs_no_work() {
        let pool = PasswordPool::new(PoolLimits {
            threads: 1,
            queue: 4,
            wait: Duration::from_millis(50),
        })
        .unwrap();
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(move || hold.recv().is_ok()).await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        let counted = Arc::clone(&ran);
        let waited = pool
            .run(move || counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
            .await;
        assert!(matches!(waited, Err(PoolError::Saturated)), "timed out");
        release.send(()).unwrap();
        let _ = blocker.await;
        // The abandoned job was skipped, and its queue place given back.
        assert_eq!(pool.run(|| 2).await.unwrap(), 2);
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}
