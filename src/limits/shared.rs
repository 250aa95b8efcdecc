//! Buckets in Redis, shared by every node: the same GCRA step as `gcra.rs`, run atomically
//! by a script on Redis's clock, so nodes with skewed clocks still agree.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;
use tokio::sync::Mutex;

use super::gcra::Rule;

/// A limiter must not make a sign-in wait on a slow Redis: past this, the node decides alone.
const TIMEOUT: Duration = Duration::from_millis(250);

/// Answers 0 when allowed, else the milliseconds to wait. Mirrors `Rule::decide`.
const TAKE: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local every = tonumber(ARGV[1])
local tolerance = every * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
redis.call('SET', KEYS[1], tat + every, 'PX', tat + every - now)
return 0
";

/// After a failed connection attempt, requests decide locally this long before the next.
const RETRY_AFTER: Duration = Duration::from_secs(1);

pub struct SharedBuckets {
    client: redis::Client,
    /// Connected on first use; a Redis that is down is tried again after `RETRY_AFTER`.
    connection: Mutex<Connection>,
    script: Script,
    /// Until when requests decide locally without asking, after Redis failed to answer
    /// (the connection itself is kept: it reconnects by itself).
    resting_until: std::sync::Mutex<Option<Instant>>,
}

enum Connection {
    Open(ConnectionManager),
    FailedAt(Option<Instant>),
}

impl SharedBuckets {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(Connection::FailedAt(None)),
            script: Script::new(TAKE),
            resting_until: std::sync::Mutex::new(None),
        })
    }

    async fn connection(&self) -> anyhow::Result<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        match &*slot {
            Connection::Open(connection) => return Ok(connection.clone()),
            Connection::FailedAt(Some(at)) if at.elapsed() < RETRY_AFTER => {
                anyhow::bail!("Redis was unreachable moments ago")
            }
            Connection::FailedAt(_) => {}
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1);
        let connecting = ConnectionManager::new_with_config(self.client.clone(), config);
        match tokio::time::timeout(TIMEOUT, connecting).await {
            Ok(Ok(connection)) => {
                *slot = Connection::Open(connection.clone());
                Ok(connection)
            }
            failed => {
                *slot = Connection::FailedAt(Some(Instant::now()));
                match failed {
                    Ok(Err(e)) => Err(e.into()),
                    _ => anyhow::bail!("no answer from Redis"),
                }
            }
        }
    }

    /// `Ok(Ok(()))` allowed, `Ok(Err(wait))` refused, `Err` when Redis did not answer. A
    /// Redis that did not answer is left alone for `RETRY_AFTER`: a frozen one would
    /// otherwise cost every bucket of every request the whole timeout.
    pub async fn take(&self, rule: &Rule, key: &str) -> anyhow::Result<Result<(), Duration>> {
        let resting_until = *self.resting_until.lock().unwrap_or_else(|e| e.into_inner());
        if resting_until.is_some_and(|until| Instant::now() < until) {
            anyhow::bail!("Redis did not answer moments ago");
        }
        let answer = self.ask(rule, key).await;
        if answer.is_err() {
            *self.resting_until.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + RETRY_AFTER);
        }
        answer
    }

    async fn ask(&self, rule: &Rule, key: &str) -> anyhow::Result<Result<(), Duration>> {
        let mut connection = self.connection().await?;
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("leadbridge:limit:{}:{key}", rule.name))
            .arg(rule.every_ms)
            .arg(rule.burst);
        let call = invocation.invoke_async::<u64>(&mut connection);
        let wait = tokio::time::timeout(TIMEOUT, call)
            .await
            .map_err(|_| anyhow::anyhow!("no answer from Redis"))??;
        Ok(match wait {
            0 => Ok(()),
            ms => Err(Duration::from_millis(ms)),
        })
    }
}
