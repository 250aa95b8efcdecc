//! Store conformance: one suite written against the `Store` trait, run on every backend.
//! Today that is SQLite; the ScyllaDB backend adds itself to `backends!` below.

mod suite;

use std::sync::Arc;

use leadbridge::crypto::{Secret, Vault};
use leadbridge::store::sqlite::SqliteStore;
use leadbridge::store::Store;

/// A fresh SQLite store in its own temporary directory (kept alive with the store).
async fn sqlite_store() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vault = Vault::new(&Secret::new(vec![9; 32]));
    let store = SqliteStore::open(&dir.path().join("conformance.db"), vault).expect("open sqlite");
    (Arc::new(store), dir)
}

/// Generates one test per suite case for a backend constructor.
macro_rules! backend {
    ($backend:ident, $make:path, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, _guard) = $make().await;
                    super::suite::$case(store).await;
                }
            )*
        }
    };
}

backend!(
    sqlite,
    super::sqlite_store,
    [
        emails_are_unique_case_as_given,
        mentors_get_a_pending_profile_with_their_account,
        bootstrap_admin_is_created_then_updated,
        bootstrap_admin_never_takes_over_another_account,
        account_identities_read_back_unchanged,
        sessions_are_stored_found_and_deleted,
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
        foreign_cursors_are_refused,
        analytics_count_what_is_stored,
    ]
);
