//! Store conformance: one suite written against the `Store` trait, run on every backend:
//! always on SQLite; on ScyllaDB when `LEADBRIDGE_TEST_SCYLLA_URI` names a node (e.g.
//! `127.0.0.1:9042` from `docker compose up scylla`), each test in a fresh keyspace.

mod suite;

use std::io::Write;
use std::sync::{Arc, Once};

use leadbridge::crypto::{Secret, Vault};
use leadbridge::store::scylla::{ScyllaConfig, ScyllaStore};
use leadbridge::store::sqlite::SqliteStore;
use leadbridge::store::Store;

/// Keeps a backend's resources for as long as its test runs.
enum Guard {
    /// Removed when dropped.
    Dir(tempfile::TempDir),
    /// Dropped by [`finish`] (a failed test leaves its keyspace to look at).
    Keyspace { nodes: Vec<String>, name: String },
}

/// Releases what a passed test used.
async fn finish(guard: Guard) {
    match guard {
        Guard::Dir(dir) => drop(dir),
        Guard::Keyspace { nodes, name } => drop_keyspace(&nodes, &name).await,
    }
}

async fn drop_keyspace(nodes: &[String], name: &str) {
    let session = ::scylla::client::session_builder::SessionBuilder::new()
        .known_nodes(nodes)
        .build()
        .await
        .expect("connect to drop the test keyspace");
    session
        .query_unpaged(format!("DROP KEYSPACE IF EXISTS {name}"), ())
        .await
        .expect("drop the test keyspace");
}

fn vault() -> Vault {
    Vault::new(&Secret::new(vec![9; 32]))
}

/// A fresh SQLite store in its own temporary directory (kept alive with the store).
async fn sqlite_store() -> Option<(Arc<dyn Store>, Guard)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStore::open(&dir.path().join("conformance.db"), vault()).expect("open sqlite");
    Some((Arc::new(store), Guard::Dir(dir)))
}

/// A fresh keyspace on the ScyllaDB named by `LEADBRIDGE_TEST_SCYLLA_URI`; without one the
/// test is skipped, and says so on the terminal (not in captured output) once per run.
async fn scylla_store() -> Option<(Arc<dyn Store>, Guard)> {
    static SAID: Once = Once::new();
    let Some(uri) = std::env::var("LEADBRIDGE_TEST_SCYLLA_URI")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        SAID.call_once(|| {
            let _ = std::io::stderr().write_all(
                b"\n!!! store conformance on ScyllaDB SKIPPED: LEADBRIDGE_TEST_SCYLLA_URI is not set \
                  (docker compose up scylla, then LEADBRIDGE_TEST_SCYLLA_URI=127.0.0.1:9042)\n\n",
            );
        });
        return None;
    };
    let keyspace = format!("conformance_{}", uuid::Uuid::new_v4().simple());
    let nodes: Vec<String> = uri.split(',').map(str::to_string).collect();
    let config = ScyllaConfig {
        nodes: nodes.clone(),
        keyspace: keyspace.clone(),
        replication: "{'class': 'NetworkTopologyStrategy', 'replication_factor': 1}".into(),
        datacenter: None,
    };
    let store = ScyllaStore::connect(&config, vault())
        .await
        .expect("connect to the ScyllaDB in LEADBRIDGE_TEST_SCYLLA_URI");
    Some((
        Arc::new(store),
        Guard::Keyspace {
            nodes,
            name: keyspace,
        },
    ))
}

/// Generates one test per suite case for a backend constructor.
macro_rules! backend {
    ($backend:ident, $make:path, #[$when:meta] [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[$when]
                async fn $case() {
                    let Some((store, guard)) = $make().await else {
                        return;
                    };
                    super::suite::$case(store).await;
                    super::finish(guard).await;
                }
            )*
        }
    };
}

/// Every case of the suite, for each backend.
macro_rules! every_backend {
    ([$($case:ident),* $(,)?]) => {
        // SQLite always runs (`any()` never holds).
        backend!(
            sqlite,
            super::sqlite_store,
            #[cfg_attr(any(), ignore)]
            [$($case),*]
        );
        backend!(
            scylla,
            super::scylla_store,
            #[cfg_attr(not(scylla_tests), ignore = "set LEADBRIDGE_TEST_SCYLLA_URI to run it on ScyllaDB")]
            [$($case),*]
        );
    };
}

every_backend!([
    every_change_is_recorded_with_it_in_commit_order,
    one_relay_holds_the_lease_and_only_it_moves_the_cursor,
    emails_are_unique_case_as_given,
    mentors_get_a_pending_profile_with_their_account,
    bootstrap_admin_is_created_then_updated,
    bootstrap_admin_never_takes_over_another_account,
    account_identities_read_back_unchanged,
    sessions_are_stored_found_and_deleted,
    sessions_are_listed_touched_and_ended_together,
    a_marked_session_is_swapped_once_however_many_ask,
    closing_an_account_removes_it_and_frees_its_email,
    login_attempts_are_taken_once,
    google_subjects_link_to_one_account,
    concurrent_bookings_never_oversell,
    one_live_booking_per_learner_per_event,
    started_events_refuse_bookings,
    events_of_mentors_not_approved_refuse_bookings,
    duplicate_contacts_from_another_account_go_to_review,
    cancelling_frees_the_slot_and_the_claim,
    admin_decisions_follow_the_state_machine_and_are_audited,
    review_claims_are_exclusive_renewable_and_expire,
    event_edits_respect_live_bookings_and_reach_the_leads,
    one_open_order_per_lead_under_concurrency,
    captures_settle_once_however_often_reported,
    a_capture_for_an_unsellable_lead_is_recorded_as_refund_due,
    failures_never_undo_a_capture,
    selling_a_lead_voids_its_other_open_orders,
    webhook_deliveries_are_processed_once_and_failed_ones_again,
    listings_page_in_a_stable_order,
    categories_are_offered_once_each_for_upcoming_events,
    users_are_found_by_role_and_by_text_in_name_or_email,
    the_audit_log_is_filtered_by_action_actor_and_time,
    each_day_counts_bookings_verifications_purchases_and_revenue,
    foreign_cursors_are_refused,
    analytics_count_what_is_stored,
    edits_keep_the_event_listed_where_it_now_belongs,
]);
