//! The load generator (`bench/`), run for a few seconds with tiny numbers so it keeps
//! working as the API changes. Its figures are not checked: benchmarks are not tests.

use leadbridge_bench::scenarios::smoke;
use leadbridge_bench::Target;

use crate::common::{spawn_app, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_still_drives_the_server() {
    let app = spawn_app().await;
    let target = Target::in_process(&app.address, ADMIN_EMAIL, ADMIN_PASSWORD);
    let seen = smoke::run(&target).await;
    assert!(seen.sent > 0, "{seen:?}");
    assert_eq!(
        seen.delivered,
        seen.sent * seen.subscribers,
        "every update reached every socket: {seen:?}"
    );
    assert!(seen.requests_per_second > 0.0, "{seen:?}");
}
