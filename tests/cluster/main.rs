//! Two nodes and Redis: the realtime scenarios of `tests/realtime` replayed with sockets on
//! one node and HTTP on the other, then what only a cluster can get wrong (cross-node
//! bookings and claims, recovery on another node, a killed node, a Redis restart).

#[path = "../common/mod.rs"]
mod common;

/// The realtime scenarios start two nodes sharing a private Redis: HTTP on the first,
/// sockets on the second.
mod nodes {
    use crate::common::{spawn_two_nodes, TestApp};

    pub async fn spawn_app() -> TestApp {
        spawn_two_nodes(&[]).await
    }

    pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
        spawn_two_nodes(extra).await
    }
}

#[path = "../realtime/announcements.rs"]
mod announcements;
#[path = "../realtime/delivery.rs"]
mod delivery;
#[path = "../realtime/recovery.rs"]
mod recovery;
#[path = "../realtime/security.rs"]
mod security;

mod across;
mod failures;
mod outbox;

use common::redis::RedisServer;
use common::TestApp;

/// Node A in this process, node B a `leadbridge` process, one SQLite file, `redis` between.
async fn two_nodes(redis: &RedisServer, extra: &[(&str, &str)]) -> (TestApp, TestApp) {
    let url = redis.url();
    let mut vars = extra.to_vec();
    vars.push(("LEADBRIDGE_REDIS_URL", &url));
    let a = common::spawn_app_with(&vars).await;
    let b = a.process_sibling().await;
    (a, b)
}
