use std::sync::Arc;

use chrono::Duration;
use leadbridge::domain::audit::{AuditAction, AuditFilter};
use leadbridge::domain::contact::{Contact, EmailAddress, PhoneNumber};
use leadbridge::domain::event::{Event, EventDraft, EventFilter};
use leadbridge::domain::ids::{self, EventId, LeadId, MentorId, OrderId, UserId};
use leadbridge::domain::lead::{LeadStatus, VerificationStatus};
use leadbridge::domain::mentor::MentorStatus;
use leadbridge::domain::money::{Paise, Rupees};
use leadbridge::domain::payment::{Payment, PaymentStatus};
use leadbridge::domain::time::{now, Timestamp};
use leadbridge::domain::user::{Role, UserFilter};
use leadbridge::store::{
    Conflict, LeadDecision, LoginAttempt, MentorDecision, NewBooking, NewUser, PageRequest,
    PaymentReport, Session, Store, StoreError,
};

type S = Arc<dyn Store>;

async fn user(store: &S, role: Role) -> String {
    let user_id = ids::new_id(ids::USER);
    store
        .create_user(NewUser {
            email: format!("{user_id}@example.com"),
            user_id: user_id.clone(),
            name: "Test Person".into(),
            role,
            password_hash: "hash".into(),
            mentor_id: (role == Role::Mentor).then(|| ids::new_id(ids::MENTOR)),
            created_at: now(),
        })
        .await
        .expect("create user");
    user_id
}

/// The mentor every suite event belongs to, created and approved on first use.
const MENTOR: &str = "mentor_conformance";

async fn approved_mentor(store: &S) {
    if store.mentor(MentorId::new(MENTOR)).await.unwrap().is_some() {
        return;
    }
    let user_id = ids::new_id(ids::USER);
    store
        .create_user(NewUser {
            email: format!("{user_id}@example.com"),
            user_id,
            name: "Maya".into(),
            role: Role::Mentor,
            password_hash: "hash".into(),
            mentor_id: Some(MENTOR.into()),
            created_at: now(),
        })
        .await
        .unwrap();
    store
        .decide_mentor(MentorDecision {
            mentor_id: MENTOR.into(),
            status: MentorStatus::Approved,
            reason: None,
            admin_id: "admin_suite".into(),
        })
        .await
        .unwrap();
}

async fn event_at(store: &S, slots: i64, when: Timestamp) -> Event {
    approved_mentor(store).await;
    store
        .create_event(Event {
            event_id: ids::new_id(ids::EVENT),
            mentor_id: MENTOR.into(),
            mentor_name: "Maya".into(),
            title: "Conformance".into(),
            description: String::new(),
            category: "Testing".into(),
            event_datetime: when,
            duration: 60,
            total_slots: slots,
            booked_slots: 0,
            price_per_lead: Rupees::parse("price", 500).unwrap(),
            created_at: now(),
        })
        .await
        .expect("create event")
}

async fn event(store: &S, slots: i64) -> Event {
    event_at(store, slots, now() + Duration::days(3)).await
}

fn contact(n: u32) -> Contact {
    Contact {
        name: "Asha Rao".into(),
        email: EmailAddress::parse("email", &format!("asha{n}@example.org")).unwrap(),
        phone: PhoneNumber::parse("phone", &format!("+91 98{:08}", n)).unwrap(),
        message: String::new(),
    }
}

fn booking(event_id: &str, user_id: &str, n: u32) -> NewBooking {
    let c = contact(n);
    NewBooking {
        lead_id: ids::new_id(ids::LEAD),
        event_id: event_id.into(),
        user_id: user_id.into(),
        flags: vec![],
        contact: c,
        now: now(),
    }
}

async fn booked(store: &S, event_id: &str) -> i64 {
    store
        .event(EventId::new(event_id))
        .await
        .unwrap()
        .expect("event")
        .booked_slots
}

/// Runs one future per input at once on the runtime's threads and collects the results.
async fn concurrently<I, T, F, Fut>(inputs: Vec<I>, f: F) -> Vec<T>
where
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = inputs
        .into_iter()
        .map(|input| tokio::spawn(f(input)))
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("task panicked"));
    }
    out
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn verified_lead(store: &S) -> (Event, String) {
    let event = event(store, 5).await;
    let learner = user(store, Role::User).await;
    let lead = store
        .book_slot(booking(&event.event_id, &learner, 1))
        .await
        .unwrap();
    assert_eq!(lead.status, LeadStatus::Verified);
    (event, lead.lead_id)
}

fn order(lead_id: &str) -> Payment {
    Payment {
        payment_id: ids::new_id(ids::PAYMENT),
        mentor_id: MENTOR.into(),
        lead_id: lead_id.into(),
        razorpay_order_id: ids::new_id(ids::ORDER),
        razorpay_payment_id: None,
        amount: Paise::new(50_000),
        currency: "INR".into(),
        status: PaymentStatus::Created,
        created_at: now(),
        updated_at: now(),
    }
}

fn capture(order_id: &str) -> PaymentReport {
    PaymentReport {
        order_id: order_id.into(),
        razorpay_payment_id: "pay_X".into(),
        actor_id: "tester".into(),
        delivery_id: None,
        now: now(),
    }
}

pub async fn emails_are_unique_case_as_given(store: S) {
    let first = NewUser {
        user_id: ids::new_id(ids::USER),
        email: "same@example.com".into(),
        name: "A".into(),
        role: Role::User,
        password_hash: "h".into(),
        mentor_id: None,
        created_at: now(),
    };
    let mut second = first.clone();
    second.user_id = ids::new_id(ids::USER);
    store.create_user(first).await.unwrap();
    assert_eq!(
        conflict(store.create_user(second).await),
        Conflict::EmailTaken
    );
    let found = store
        .credentials_by_email("same@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.password_hash, "h");
    assert!(store
        .credentials_by_email("other@example.com")
        .await
        .unwrap()
        .is_none());
}

pub async fn mentors_get_a_pending_profile_with_their_account(store: S) {
    let user_id = user(&store, Role::Mentor).await;
    let profile = store
        .mentor_by_user(UserId::new(&user_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.verification_status, MentorStatus::Pending);
    assert_eq!(
        store.mentor(profile.id()).await.unwrap().unwrap().user_id,
        user_id
    );
    let learner = user(&store, Role::User).await;
    assert!(store
        .mentor_by_user(UserId::new(&learner))
        .await
        .unwrap()
        .is_none());
}

pub async fn bootstrap_admin_is_created_then_updated(store: S) {
    let first = store
        .upsert_admin("root@example.com", "Admin", "h1")
        .await
        .unwrap();
    let second = store
        .upsert_admin("root@example.com", "Admin", "h2")
        .await
        .unwrap();
    assert_eq!(first.user_id, second.user_id);
    assert_eq!(second.role, Role::Admin);
    assert_eq!(
        store
            .credentials_by_email("root@example.com")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "h2"
    );
}

fn session_of(token_hash: &str, user_id: &str, created_at: Timestamp, ttl: Duration) -> Session {
    Session {
        token_hash: token_hash.into(),
        user_id: user_id.into(),
        created_at,
        expires_at: created_at + ttl,
        last_seen_at: created_at,
        device: "Firefox on Linux".into(),
        rotate: false,
    }
}

pub async fn sessions_are_stored_found_and_deleted(store: S) {
    let user_id = user(&store, Role::User).await;
    let session = session_of("abc", &user_id, now(), Duration::days(7));
    store.create_session(session.clone()).await.unwrap();
    let found = store.session("abc").await.unwrap().unwrap();
    assert_eq!(found.user_id, session.user_id);
    assert_eq!(found.device, "Firefox on Linux");
    store.delete_session("abc").await.unwrap();
    assert!(store.session("abc").await.unwrap().is_none());
    // A touch after the end brings nothing back.
    store.touch_session("abc", now()).await.unwrap();
    assert!(store.session("abc").await.unwrap().is_none());
}

pub async fn sessions_are_listed_touched_and_ended_together(store: S) {
    let user_id = user(&store, Role::User).await;
    let other = user(&store, Role::User).await;
    let t = now();
    for (hash, at) in [
        ("s1", t),
        ("s2", t + Duration::seconds(1)),
        ("s3", t + Duration::seconds(2)),
    ] {
        store
            .create_session(session_of(hash, &user_id, at, Duration::days(7)))
            .await
            .unwrap();
    }
    store
        .create_session(session_of("o1", &other, t, Duration::days(7)))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .user_sessions(UserId::new(&user_id))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.token_hash)
        .collect();
    assert_eq!(listed, ["s3", "s2", "s1"], "newest first, only this user's");

    let later = t + Duration::minutes(30);
    store.touch_session("s1", later).await.unwrap();
    let touched = store.session("s1").await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at.timestamp(), later.timestamp());
    assert_eq!(
        touched.expires_at.timestamp(),
        (t + Duration::days(7)).timestamp()
    );

    let mut ended = store
        .end_user_sessions(UserId::new(&user_id))
        .await
        .unwrap();
    ended.sort();
    assert_eq!(ended, ["s1", "s2", "s3"]);
    assert!(store.session("s1").await.unwrap().is_none());
    assert!(
        store.session("o1").await.unwrap().is_some(),
        "other users untouched"
    );
    assert!(store
        .user_sessions(UserId::new(&user_id))
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_marked_session_is_swapped_once_however_many_ask(store: S) {
    let user_id = user(&store, Role::Mentor).await;
    let t = now();
    store
        .create_session(session_of("old", &user_id, t, Duration::days(7)))
        .await
        .unwrap();
    store
        .create_session(session_of("other", &user_id, t, Duration::days(7)))
        .await
        .unwrap();
    store
        .rotate_user_sessions(UserId::new(&user_id))
        .await
        .unwrap();
    assert!(store.session("old").await.unwrap().unwrap().rotate);
    assert!(store.session("other").await.unwrap().unwrap().rotate);

    let grace = now() + Duration::seconds(30);
    let swaps = concurrently((0..8).collect::<Vec<u32>>(), |n| {
        let store = store.clone();
        let user_id = user_id.clone();
        async move {
            let fresh = session_of(&format!("new-{n}"), &user_id, now(), Duration::days(1));
            store.rotate_session("old", fresh, grace).await.unwrap()
        }
    })
    .await;
    let winners: Vec<usize> = (0..8).filter(|n| swaps[*n]).collect();
    assert_eq!(
        winners.len(),
        1,
        "one of eight concurrent requests swaps it"
    );
    let fresh = store
        .session(&format!("new-{}", winners[0]))
        .await
        .unwrap()
        .expect("the winner's session is stored");
    assert!(!fresh.rotate);
    let old = store
        .session("old")
        .await
        .unwrap()
        .expect("alive for the grace");
    assert!(!old.rotate, "swapped once");
    assert!(old.expires_at <= grace, "and ending with the grace");
    for n in (0..8).filter(|n| *n != winners[0]) {
        assert!(store.session(&format!("new-{n}")).await.unwrap().is_none());
    }
    // Not marked: nothing to swap.
    let spare = session_of("spare", &user_id, now(), Duration::days(1));
    assert!(!store
        .rotate_session("new-none", spare.clone(), grace)
        .await
        .unwrap());
    assert!(!store
        .rotate_session(&fresh.token_hash, spare, grace)
        .await
        .unwrap());
}

pub async fn closing_an_account_removes_it_and_frees_its_email(store: S) {
    let email = format!("closing-{}@example.com", ids::new_id("t"));
    let created = store
        .create_user(NewUser {
            user_id: ids::new_id(ids::USER),
            email: email.clone(),
            name: "Cara Closer".into(),
            role: Role::User,
            password_hash: "h".into(),
            mentor_id: None,
            created_at: now(),
        })
        .await
        .unwrap();
    let user_id = created.user_id.clone();
    store
        .create_session(session_of("closing", &user_id, now(), Duration::days(1)))
        .await
        .unwrap();
    store
        .link_google_account("sub-closing", UserId::new(&user_id))
        .await
        .unwrap();

    let (event, _) = verified_lead(&store).await;
    let lead = store
        .book_slot(booking(&event.event_id, &user_id, 901))
        .await
        .unwrap();
    let seats = booked(&store, &event.event_id).await;

    let users_before = store.analytics().await.unwrap().total_users;
    let closed = store
        .close_account(UserId::new(&user_id), now())
        .await
        .unwrap();
    assert_eq!(closed.sessions, ["closing"]);
    assert_eq!(closed.cancelled.len(), 1);
    assert_eq!(closed.cancelled[0].lead.lead_id, lead.lead_id);
    assert_eq!(
        booked(&store, &event.event_id).await,
        seats - 1,
        "the seat is free"
    );
    // A booking on its way when the account closed finds no account.
    assert!(matches!(
        store
            .book_slot(booking(&event.event_id, &user_id, 902))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.user(UserId::new(&user_id)).await.unwrap().is_none());
    assert!(store.session("closing").await.unwrap().is_none());
    assert!(store.credentials_by_email(&email).await.unwrap().is_none());
    assert!(store.google_account("sub-closing").await.unwrap().is_none());
    assert_eq!(
        store.analytics().await.unwrap().total_users,
        users_before - 1
    );
    let audit = store
        .audit_log(&AuditFilter::default(), PageRequest::first(50))
        .await
        .unwrap();
    assert!(audit
        .items
        .iter()
        .any(|e| e.action == AuditAction::AccountClosed && e.target_id == user_id));
    assert!(matches!(
        store.close_account(UserId::new(&user_id), now()).await,
        Err(StoreError::NotFound(_))
    ));

    // A pending mentor's profile goes with the account.
    let pending_before = store.analytics().await.unwrap().pending_mentors;
    let mentor_user = user(&store, Role::Mentor).await;
    let profile = store
        .mentor_by_user(UserId::new(&mentor_user))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.analytics().await.unwrap().pending_mentors,
        pending_before + 1
    );
    store
        .close_account(UserId::new(&mentor_user), now())
        .await
        .unwrap();
    assert!(store.mentor(profile.id()).await.unwrap().is_none());
    assert!(store
        .mentor_by_user(UserId::new(&mentor_user))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .list_mentors(Some(MentorStatus::Pending))
        .await
        .unwrap()
        .iter()
        .all(|m| m.mentor_id != profile.mentor_id));
    assert_eq!(
        store.analytics().await.unwrap().pending_mentors,
        pending_before
    );

    // A mentor with an event keeps the account until the event is gone.
    let mentor = store
        .mentor(MentorId::new(&event.mentor_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        conflict(
            store
                .close_account(UserId::new(&mentor.user_id), now())
                .await
        ),
        Conflict::AccountHasEvents
    );
    assert!(store
        .user(UserId::new(&mentor.user_id))
        .await
        .unwrap()
        .is_some());
}

fn attempt(state_hash: &str, expires_at: Timestamp) -> LoginAttempt {
    LoginAttempt {
        state_hash: state_hash.into(),
        code_verifier: "verifier".into(),
        nonce: "nonce".into(),
        link_user_id: Some("user_1".into()),
        role: Role::Mentor,
        next: Some("/events".into()),
        expires_at,
    }
}

pub async fn login_attempts_are_taken_once(store: S) {
    let saved = attempt("state-1", now() + Duration::minutes(10));
    store.save_login_attempt(saved.clone()).await.unwrap();
    let takers = concurrently(vec![(); 8], |_| {
        let store = store.clone();
        async move { store.take_login_attempt("state-1", now()).await.unwrap() }
    })
    .await;
    let taken: Vec<LoginAttempt> = takers.into_iter().flatten().collect();
    assert_eq!(
        taken.len(),
        1,
        "one of eight concurrent callbacks gets the attempt"
    );
    assert_eq!(taken[0].nonce, saved.nonce);
    assert_eq!(taken[0].role, Role::Mentor);
    assert_eq!(taken[0].link_user_id.as_deref(), Some("user_1"));
    assert_eq!(taken[0].next.as_deref(), Some("/events"));
    assert!(store
        .take_login_attempt("state-1", now())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .take_login_attempt("never-saved", now())
        .await
        .unwrap()
        .is_none());

    // An attempt past its end is gone, even if still stored.
    store
        .save_login_attempt(attempt("state-2", now() + Duration::seconds(5)))
        .await
        .unwrap();
    let late = now() + Duration::minutes(1);
    assert!(store
        .take_login_attempt("state-2", late)
        .await
        .unwrap()
        .is_none());
}

pub async fn google_subjects_link_to_one_account(store: S) {
    let first = user(&store, Role::User).await;
    let second = user(&store, Role::User).await;
    assert!(store.google_account("sub-1").await.unwrap().is_none());
    let owners = concurrently(vec![first.clone(), second.clone()], |user_id| {
        let store = store.clone();
        async move {
            store
                .link_google_account("sub-1", UserId::new(&user_id))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(owners[0], owners[1], "both callers see the one winner");
    assert_eq!(
        store.google_account("sub-1").await.unwrap(),
        Some(owners[0].clone())
    );
    let winner = owners[0].clone();
    let loser = if winner == first { &second } else { &first };
    assert_eq!(
        store
            .link_google_account("sub-1", UserId::new(loser))
            .await
            .unwrap(),
        winner
    );
    assert_eq!(
        store
            .link_google_account("sub-2", UserId::new(loser))
            .await
            .unwrap(),
        *loser
    );
    // A claim is given back only by the account it names.
    store
        .unlink_google_account("sub-2", UserId::new(&winner))
        .await
        .unwrap();
    assert_eq!(
        store.google_account("sub-2").await.unwrap().as_ref(),
        Some(loser)
    );
    store
        .unlink_google_account("sub-2", UserId::new(loser))
        .await
        .unwrap();
    assert!(store.google_account("sub-2").await.unwrap().is_none());
}

pub async fn concurrent_bookings_never_oversell(store: S) {
    let event = event(&store, 3).await;
    let mut learners = Vec::new();
    for _ in 0..20 {
        learners.push(user(&store, Role::User).await);
    }
    let bookings = learners
        .iter()
        .enumerate()
        .map(|(i, learner)| booking(&event.event_id, learner, 100 + i as u32))
        .collect();
    let results = concurrently(bookings, |booking| {
        let store = Arc::clone(&store);
        async move { store.book_slot(booking).await }
    })
    .await;
    let mut ok = 0;
    for result in results {
        match result {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict(Conflict::EventFull)) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 3);
    let stored = store
        .event(EventId::new(&event.event_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.booked_slots, stored.available_slots()), (3, 0));
}

pub async fn one_live_booking_per_learner_per_event(store: S) {
    let event = event(&store, 5).await;
    let learner = user(&store, Role::User).await;
    store
        .book_slot(booking(&event.event_id, &learner, 1))
        .await
        .unwrap();
    assert_eq!(
        conflict(store.book_slot(booking(&event.event_id, &learner, 2)).await),
        Conflict::AlreadyBooked
    );
    assert_eq!(booked(&store, &event.event_id).await, 1);
}

pub async fn started_events_refuse_bookings(store: S) {
    let past = event_at(&store, 5, now() - Duration::minutes(1)).await;
    let learner = user(&store, Role::User).await;
    assert_eq!(
        conflict(store.book_slot(booking(&past.event_id, &learner, 1)).await),
        Conflict::EventStarted
    );
    assert!(matches!(
        store.book_slot(booking("event_missing", &learner, 1)).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn duplicate_contacts_from_another_account_go_to_review(store: S) {
    let event = event(&store, 5).await;
    let (a, b) = (
        user(&store, Role::User).await,
        user(&store, Role::User).await,
    );
    let first = store
        .book_slot(booking(&event.event_id, &a, 7))
        .await
        .unwrap();
    let second = store
        .book_slot(booking(&event.event_id, &b, 7))
        .await
        .unwrap();
    assert_eq!(first.status, LeadStatus::Verified);
    assert_eq!(second.status, LeadStatus::Pending);
    assert_eq!(second.verification_status, VerificationStatus::Pending);
    assert_eq!(
        second.verification_notes,
        vec!["DUPLICATE_CONTACT".to_string()]
    );
    assert_eq!(
        second.contact,
        contact(7),
        "the contact reads back decrypted"
    );
}

pub async fn cancelling_frees_the_slot_and_the_claim(store: S) {
    let event = event(&store, 1).await;
    let learner = user(&store, Role::User).await;
    let lead = store
        .book_slot(booking(&event.event_id, &learner, 1))
        .await
        .unwrap();
    let stranger = user(&store, Role::User).await;
    assert!(matches!(
        store
            .cancel_booking(UserId::new(&stranger), LeadId::new(&lead.lead_id), now())
            .await,
        Err(StoreError::NotFound(_))
    ));
    let cancelled = store
        .cancel_booking(UserId::new(&learner), LeadId::new(&lead.lead_id), now())
        .await
        .unwrap();
    assert_eq!(cancelled.before, LeadStatus::Verified);
    assert_eq!(cancelled.lead.status, LeadStatus::Cancelled);
    assert_eq!(booked(&store, &event.event_id).await, 0);
    // Same learner, same contact: allowed again, and not flagged as a duplicate of itself.
    let again = store
        .book_slot(booking(&event.event_id, &learner, 1))
        .await
        .unwrap();
    assert_eq!(again.status, LeadStatus::Verified);
}

pub async fn admin_decisions_follow_the_state_machine_and_are_audited(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let decide = |status, reason: Option<&str>| LeadDecision {
        lead_id: lead_id.clone(),
        status,
        reason: reason.map(str::to_string),
        admin_id: "admin_1".into(),
        now: now(),
    };
    let err = conflict(store.verify_lead(decide(LeadStatus::Verified, None)).await);
    assert_eq!(err.code(), "INVALID_TRANSITION");
    let rejected = store
        .verify_lead(decide(LeadStatus::Rejected, Some("fake")))
        .await
        .unwrap();
    assert_eq!(rejected.before, LeadStatus::Verified);
    assert_eq!(rejected.lead.status, LeadStatus::Rejected);
    assert_eq!(
        rejected.lead.verification_status,
        VerificationStatus::Rejected
    );
    let log = store
        .audit_log(&AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(log.items[0].action, AuditAction::LeadRejected);
    assert_eq!(log.items[0].reason.as_deref(), Some("fake"));
    assert_eq!(log.items[0].actor_id, "admin_1");
}

pub async fn event_edits_respect_live_bookings_and_reach_the_leads(store: S) {
    let event = event(&store, 3).await;
    let learner = user(&store, Role::User).await;
    let lead = store
        .book_slot(booking(&event.event_id, &learner, 1))
        .await
        .unwrap();
    let draft = |slots| EventDraft {
        title: "Renamed".into(),
        description: String::new(),
        category: "Testing".into(),
        event_datetime: event.event_datetime,
        duration: 30,
        total_slots: slots,
        price_per_lead: Rupees::parse("price", 700).unwrap(),
    };
    assert_eq!(
        conflict(
            store
                .update_event(
                    MentorId::new(MENTOR),
                    EventId::new(&event.event_id),
                    draft(0)
                )
                .await
        ),
        Conflict::SlotsBelowBooked { booked: 1 }
    );
    assert!(matches!(
        store
            .update_event(
                MentorId::new("mentor_other"),
                EventId::new(&event.event_id),
                draft(3)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    let updated = store
        .update_event(
            MentorId::new(MENTOR),
            EventId::new(&event.event_id),
            draft(1),
        )
        .await
        .unwrap();
    assert_eq!(updated.available_slots(), 0);
    assert_eq!(
        store
            .lead(LeadId::new(&lead.lead_id))
            .await
            .unwrap()
            .unwrap()
            .event_title,
        "Renamed"
    );
    assert_eq!(
        conflict(
            store
                .delete_event(MentorId::new(MENTOR), EventId::new(&event.event_id))
                .await
        ),
        Conflict::EventHasBookings { live: 1 }
    );
}

pub async fn one_open_order_per_lead_under_concurrency(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let payments = (0..8).map(|_| order(&lead_id)).collect();
    let results = concurrently(payments, |payment| {
        let store = Arc::clone(&store);
        async move {
            store
                .open_order(payment, UserId::new("user_buyer"))
                .await
                .unwrap()
        }
    })
    .await;
    let mut created = 0;
    let mut orders = std::collections::HashSet::new();
    for opened in results {
        created += usize::from(opened.created);
        orders.insert(opened.payment.razorpay_order_id);
    }
    assert_eq!((created, orders.len()), (1, 1));
    let open = store
        .open_payment_for_lead(LeadId::new(&lead_id))
        .await
        .unwrap()
        .unwrap();
    assert!(orders.contains(&open.razorpay_order_id));
}

pub async fn captures_settle_once_however_often_reported(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let opened = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    let order_id = opened.payment.razorpay_order_id.clone();
    let captures = (0..5).map(|_| capture(&order_id)).collect();
    let results = concurrently(captures, |capture| {
        let store = Arc::clone(&store);
        async move { store.record_payment(capture).await.unwrap() }
    })
    .await;
    let mut newly = 0;
    for outcome in results {
        newly += usize::from(outcome.newly_settled);
        assert_eq!(outcome.lead.status, LeadStatus::Purchased);
        assert_eq!(outcome.payment.status, PaymentStatus::Completed);
    }
    assert_eq!(newly, 1);
    let lead = store.lead(LeadId::new(&lead_id)).await.unwrap().unwrap();
    assert_eq!(lead.purchased_by.as_deref(), Some(MENTOR));
    assert_eq!(
        lead.payment_id.as_deref(),
        Some(opened.payment.payment_id.as_str())
    );
    assert_eq!(store.analytics().await.unwrap().total_revenue, 500);
    assert!(store
        .open_payment_for_lead(LeadId::new(&lead_id))
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.record_payment(capture("order_unknown")).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn a_capture_for_an_unsellable_lead_is_recorded_as_refund_due(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let opened = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    let lead = store.lead(LeadId::new(&lead_id)).await.unwrap().unwrap();
    store
        .cancel_booking(UserId::new(&lead.user_id), LeadId::new(&lead_id), now())
        .await
        .unwrap();
    let outcome = store
        .record_payment(capture(&opened.payment.razorpay_order_id))
        .await
        .unwrap();
    assert_eq!(outcome.payment.status, PaymentStatus::RefundDue);
    assert_eq!(outcome.lead.status, LeadStatus::Cancelled);
    assert_eq!(store.analytics().await.unwrap().total_revenue, 0);
    let log = store
        .audit_log(&AuditFilter::default(), PageRequest::first(5))
        .await
        .unwrap();
    assert_eq!(log.items[0].action, AuditAction::PaymentRefundDue);
}

pub async fn failures_never_undo_a_capture(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let opened = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    let order_id = opened.payment.razorpay_order_id;
    store.record_payment(capture(&order_id)).await.unwrap();
    let after = store
        .record_payment_failure(capture(&order_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, PaymentStatus::Completed);
    assert_eq!(
        store
            .payment_by_order(OrderId::new(&order_id))
            .await
            .unwrap()
            .unwrap()
            .status,
        PaymentStatus::Completed
    );
}

pub async fn webhook_deliveries_are_processed_once_and_failed_ones_again(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let order_id = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap()
        .payment
        .razorpay_order_id;
    let delivery = |id: &str, order: &str| PaymentReport {
        delivery_id: Some(id.into()),
        ..capture(order)
    };
    // A delivery for an unknown order fails and is not remembered...
    assert!(matches!(
        store
            .record_payment(delivery("evt_1", "order_unknown"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    // ...so the same delivery id is processed when it comes again.
    let first = store
        .record_payment(delivery("evt_1", &order_id))
        .await
        .unwrap();
    assert!(first.newly_settled && !first.duplicate_delivery);
    let again = store
        .record_payment(delivery("evt_1", &order_id))
        .await
        .unwrap();
    assert!(again.duplicate_delivery && !again.newly_settled);
    let failure = store
        .record_payment_failure(delivery("evt_1", &order_id))
        .await
        .unwrap();
    assert!(failure.is_none(), "a seen delivery changes nothing");
    assert_eq!(store.analytics().await.unwrap().total_revenue, 500);
}

pub async fn listings_page_in_a_stable_order(store: S) {
    let base = now() + Duration::days(10);
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(
            event_at(&store, 1, base + Duration::hours(i))
                .await
                .event_id,
        );
    }
    let filter = EventFilter {
        from: Some(base),
        ..Default::default()
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let result = store.list_events(&filter, page.clone()).await.unwrap();
        seen.extend(result.items.iter().map(|e| e.event_id.clone()));
        match result.next_cursor {
            Some(cursor) => page = PageRequest::from_cursor(2, &cursor).unwrap(),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let text = EventFilter {
        q: Some("conform".into()),
        category: Some("TESTING".into()),
        ..Default::default()
    };
    let found = store
        .list_events(&text, PageRequest::first(100))
        .await
        .unwrap();
    assert!(found.items.iter().all(|e| text.matches(e)));
    assert!(found.items.len() >= 5);
}

pub async fn users_are_found_by_role_and_by_text_in_name_or_email(store: S) {
    let mentor = user(&store, Role::Mentor).await;
    let learner = user(&store, Role::User).await;
    let all = |filter: UserFilter| {
        let store = &store;
        async move {
            let mut found = Vec::new();
            let mut page = PageRequest::first(2);
            loop {
                let result = store.list_users(&filter, page).await.unwrap();
                found.extend(result.items);
                match result.next_cursor {
                    Some(cursor) => page = PageRequest::from_cursor(2, &cursor).unwrap(),
                    None => return found,
                }
            }
        }
    };
    let by_text = all(UserFilter {
        role: None,
        q: Some(mentor.to_uppercase()),
    })
    .await;
    assert_eq!(by_text.len(), 1, "{by_text:?}");
    assert_eq!(by_text[0].user_id, mentor);
    let mentors = all(UserFilter {
        role: Some(Role::Mentor),
        q: None,
    })
    .await;
    assert!(mentors.iter().all(|u| u.role == Role::Mentor));
    assert!(mentors.iter().any(|u| u.user_id == mentor));
    let none = all(UserFilter {
        role: Some(Role::Mentor),
        q: Some(learner.clone()),
    })
    .await;
    assert!(none.is_empty(), "a learner is not a mentor: {none:?}");
}

pub async fn the_audit_log_is_filtered_by_action_actor_and_time(store: S) {
    approved_mentor(&store).await;
    verified_lead(&store).await;
    let approvals = AuditFilter {
        action: Some(AuditAction::MentorApproved),
        ..Default::default()
    };
    let page = store
        .audit_log(&approvals, PageRequest::first(10))
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    assert!(page
        .items
        .iter()
        .all(|e| e.action == AuditAction::MentorApproved));
    let by_admin = AuditFilter {
        actor_id: Some("admin_suite".into()),
        ..Default::default()
    };
    let page = store
        .audit_log(&by_admin, PageRequest::first(10))
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    assert!(page.items.iter().all(|e| e.actor_id == "admin_suite"));
    let later = AuditFilter {
        from: Some(now() + Duration::days(1)),
        ..Default::default()
    };
    let page = store
        .audit_log(&later, PageRequest::first(10))
        .await
        .unwrap();
    assert!(
        page.items.is_empty(),
        "nothing is logged tomorrow: {:?}",
        page.items
    );
    let earlier = AuditFilter {
        to: Some(now() - Duration::days(365)),
        ..Default::default()
    };
    let page = store
        .audit_log(&earlier, PageRequest::first(10))
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

pub async fn categories_are_offered_once_each_for_upcoming_events(store: S) {
    approved_mentor(&store).await;
    let create = |category: &'static str, when: Timestamp| {
        let store = &store;
        async move {
            let event = event_at(store, 1, when).await;
            let draft = EventDraft {
                title: event.title.clone(),
                description: event.description.clone(),
                category: category.into(),
                event_datetime: when,
                duration: event.duration,
                total_slots: event.total_slots,
                price_per_lead: event.price_per_lead,
            };
            store
                .update_event(
                    MentorId::new(&event.mentor_id),
                    EventId::new(&event.event_id),
                    draft,
                )
                .await
                .expect("edit the category")
        }
    };
    let soon = now() + Duration::days(2);
    create("Design", soon).await;
    create("design", soon + Duration::hours(1)).await;
    create("Career", soon).await;
    create("Long ago", now() - Duration::days(30)).await;
    let offered = store.event_categories(now()).await.unwrap();
    let design = offered
        .iter()
        .filter(|c| c.eq_ignore_ascii_case("design"))
        .count();
    assert_eq!(design, 1, "one entry whatever the case: {offered:?}");
    assert!(offered.iter().any(|c| c == "Career"), "{offered:?}");
    assert!(
        !offered.iter().any(|c| c == "Long ago"),
        "past events' categories are not offered: {offered:?}"
    );
    let lower: Vec<String> = offered.iter().map(|c| c.to_lowercase()).collect();
    let mut sorted = lower.clone();
    sorted.sort();
    assert_eq!(lower, sorted, "sorted");
}

pub async fn analytics_count_what_is_stored(store: S) {
    approved_mentor(&store).await;
    let before = store.analytics().await.unwrap();
    let (_, lead_id) = verified_lead(&store).await;
    let after = store.analytics().await.unwrap();
    assert_eq!(after.total_events, before.total_events + 1);
    assert_eq!(after.total_leads, before.total_leads + 1);
    assert_eq!(after.verified_leads, before.verified_leads + 1);
    assert_eq!(after.total_users, before.total_users + 1);
    let opened = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    store
        .record_payment(capture(&opened.payment.razorpay_order_id))
        .await
        .unwrap();
    let paid = store.analytics().await.unwrap();
    assert_eq!(paid.purchased_leads, before.purchased_leads + 1);
    assert_eq!(
        paid.verified_leads,
        before.verified_leads + 1,
        "purchased leads stay counted as verified"
    );
    assert_eq!(paid.total_revenue, before.total_revenue + 500);
    assert_eq!(
        paid.total_learners,
        before.total_learners + 1,
        "the buyer's learner"
    );

    // Each lead once, in its state now: one cancelled, one rejected.
    let event = event(&store, 5).await;
    let (a, b) = (
        user(&store, Role::User).await,
        user(&store, Role::User).await,
    );
    let kept = store
        .book_slot(booking(&event.event_id, &a, 21))
        .await
        .unwrap();
    store
        .cancel_booking(UserId::new(&a), LeadId::new(&kept.lead_id), now())
        .await
        .unwrap();
    let mut flagged = booking(&event.event_id, &b, 22);
    flagged.flags = vec!["DISPOSABLE_EMAIL".into()];
    let flagged = store.book_slot(flagged).await.unwrap();
    assert_eq!(flagged.status, LeadStatus::Pending);
    store
        .verify_lead(LeadDecision {
            lead_id: flagged.lead_id.clone(),
            status: LeadStatus::Rejected,
            reason: Some("unreachable".into()),
            admin_id: "admin_1".into(),
            now: now(),
        })
        .await
        .unwrap();
    let now_ = store.analytics().await.unwrap();
    assert_eq!(now_.cancelled_leads, paid.cancelled_leads + 1);
    assert_eq!(now_.rejected_leads, paid.rejected_leads + 1);
    assert_eq!(now_.pending_leads, paid.pending_leads);
    assert_eq!(now_.total_learners, paid.total_learners + 2);
    let waiting_purchase = now_.verified_leads - now_.purchased_leads;
    assert_eq!(
        now_.pending_leads
            + waiting_purchase
            + now_.purchased_leads
            + now_.rejected_leads
            + now_.cancelled_leads,
        now_.total_leads,
        "every lead counted once"
    );
}

pub async fn each_day_counts_bookings_verifications_purchases_and_revenue(store: S) {
    // Summed over the days since yesterday, so a test that crosses midnight still adds up.
    let since = now() - Duration::days(1);
    let summed = |days: Vec<leadbridge::store::DayActivity>| {
        days.into_iter()
            .fold(leadbridge::store::DayActivity::default(), |mut sum, d| {
                sum.bookings += d.bookings;
                sum.verified += d.verified;
                sum.purchases += d.purchases;
                sum.revenue += d.revenue;
                sum
            })
    };
    let start = summed(store.daily_activity(since).await.unwrap());
    // One lead verified at booking and bought, one flagged then verified by an admin.
    let (event, lead_id) = verified_lead(&store).await;
    let opened = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    store
        .record_payment(capture(&opened.payment.razorpay_order_id))
        .await
        .unwrap();
    let learner = user(&store, Role::User).await;
    let mut flagged = booking(&event.event_id, &learner, 31);
    flagged.flags = vec!["DISPOSABLE_EMAIL".into()];
    let flagged = store.book_slot(flagged).await.unwrap();
    store
        .verify_lead(LeadDecision {
            lead_id: flagged.lead_id.clone(),
            status: LeadStatus::Verified,
            reason: None,
            admin_id: "admin_1".into(),
            now: now(),
        })
        .await
        .unwrap();
    let after = summed(store.daily_activity(since).await.unwrap());
    assert_eq!(after.bookings, start.bookings + 2);
    assert_eq!(after.verified, start.verified + 2);
    assert_eq!(after.purchases, start.purchases + 1);
    assert_eq!(after.revenue, start.revenue + 500);
}

pub async fn bootstrap_admin_never_takes_over_another_account(store: S) {
    let learner = user(&store, Role::User).await;
    let email = format!("{learner}@example.com");
    assert_eq!(
        conflict(store.upsert_admin(&email, "Admin", "h").await),
        Conflict::AdminEmailInUse
    );
    let still = store.credentials_by_email(&email).await.unwrap().unwrap();
    assert_eq!(
        (still.user.role, still.password_hash.as_str()),
        (Role::User, "hash")
    );
    // Resetting the real admin's password ends its sessions.
    let admin = store
        .upsert_admin("root@example.com", "Admin", "h1")
        .await
        .unwrap();
    store
        .create_session(session_of(
            "admin-session",
            &admin.user_id,
            now(),
            Duration::days(1),
        ))
        .await
        .unwrap();
    store
        .upsert_admin("root@example.com", "Admin", "h2")
        .await
        .unwrap();
    assert!(store.session("admin-session").await.unwrap().is_none());
}

pub async fn account_identities_read_back_unchanged(store: S) {
    let user_id = user(&store, Role::Mentor).await;
    let found = store.user(UserId::new(&user_id)).await.unwrap().unwrap();
    assert_eq!(found.email, format!("{user_id}@example.com"));
    assert_eq!(found.name, "Test Person");
    let profile = store
        .mentor_by_user(UserId::new(&user_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(profile.email, found.email);
    let page = store
        .list_users(&UserFilter::default(), PageRequest::first(100))
        .await
        .unwrap();
    assert!(page
        .items
        .iter()
        .any(|u| u.user_id == user_id && u.email == found.email));
}

pub async fn events_of_mentors_not_approved_refuse_bookings(store: S) {
    let event = event(&store, 5).await;
    store
        .decide_mentor(MentorDecision {
            mentor_id: MENTOR.into(),
            status: MentorStatus::Rejected,
            reason: Some("revoked".into()),
            admin_id: "admin_suite".into(),
        })
        .await
        .unwrap();
    let learner = user(&store, Role::User).await;
    assert_eq!(
        conflict(store.book_slot(booking(&event.event_id, &learner, 1)).await),
        Conflict::MentorNotAccepting
    );
    assert_eq!(booked(&store, &event.event_id).await, 0);
}

pub async fn selling_a_lead_voids_its_other_open_orders(store: S) {
    let (_, lead_id) = verified_lead(&store).await;
    let first = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap()
        .payment;
    // The first order fails; a second one is opened; then a late capture of the first
    // arrives and sells the lead.
    store
        .record_payment_failure(capture(&first.razorpay_order_id))
        .await
        .unwrap();
    let second = store
        .open_order(order(&lead_id), UserId::new("user_buyer"))
        .await
        .unwrap();
    assert!(second.created);
    let sold = store
        .record_payment(capture(&first.razorpay_order_id))
        .await
        .unwrap();
    assert_eq!(sold.lead.status, LeadStatus::Purchased);
    let voided = store
        .payment_by_order(OrderId::new(&second.payment.razorpay_order_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(voided.status, PaymentStatus::Failed);
    assert!(store
        .open_payment_for_lead(LeadId::new(&lead_id))
        .await
        .unwrap()
        .is_none());
    // Paying the voided order anyway is recorded as owed back, not as a second sale.
    let late = store
        .record_payment(capture(&second.payment.razorpay_order_id))
        .await
        .unwrap();
    assert_eq!(late.payment.status, PaymentStatus::RefundDue);
    assert_eq!(store.analytics().await.unwrap().total_revenue, 500);
    // And a sold lead takes no new order.
    assert_eq!(
        conflict(
            store
                .open_order(order(&lead_id), UserId::new("user_buyer"))
                .await
        )
        .code(),
        "ALREADY_PURCHASED"
    );
}

pub async fn foreign_cursors_are_refused(store: S) {
    let junk = PageRequest::from_cursor(10, "YWJj").unwrap();
    assert!(matches!(
        store.audit_log(&AuditFilter::default(), junk.clone()).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(matches!(
        store.list_users(&UserFilter::default(), junk.clone()).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(matches!(
        store.leads_by_status(None, junk.clone()).await,
        Err(StoreError::InvalidCursor)
    ));
    assert!(matches!(
        store.list_events(&EventFilter::default(), junk).await,
        Err(StoreError::InvalidCursor)
    ));
}

pub async fn review_claims_are_exclusive_renewable_and_expire(store: S) {
    let event = event(&store, 5).await;
    let (a, b) = (
        user(&store, Role::User).await,
        user(&store, Role::User).await,
    );
    store
        .book_slot(booking(&event.event_id, &a, 41))
        .await
        .unwrap();
    // Same contact under another account: PENDING, a queue item.
    let pending = store
        .book_slot(booking(&event.event_id, &b, 41))
        .await
        .unwrap();
    assert_eq!(pending.status, LeadStatus::Pending);
    let t0 = now();
    let ttl = Duration::minutes(2);
    let claim = store
        .claim_lead(
            LeadId::new(&pending.lead_id),
            UserId::new("admin_a"),
            t0,
            ttl,
        )
        .await
        .unwrap();
    assert_eq!(claim.admin_id, "admin_a");
    assert_eq!(
        conflict(
            store
                .claim_lead(
                    LeadId::new(&pending.lead_id),
                    UserId::new("admin_b"),
                    t0,
                    ttl
                )
                .await
        ),
        Conflict::ClaimedByOther {
            admin_id: "admin_a".into()
        }
    );
    let decide = |admin: &str| LeadDecision {
        lead_id: pending.lead_id.clone(),
        status: LeadStatus::Verified,
        reason: None,
        admin_id: admin.into(),
        now: now(),
    };
    assert_eq!(
        conflict(store.verify_lead(decide("admin_b")).await).code(),
        "CLAIMED_BY_OTHER"
    );
    // Renewal by the holder extends it; after expiry anyone may take it.
    let renewed = store
        .claim_lead(
            LeadId::new(&pending.lead_id),
            UserId::new("admin_a"),
            t0 + Duration::minutes(1),
            ttl,
        )
        .await
        .unwrap();
    assert!(renewed.expires_at > claim.expires_at);
    assert_eq!(store.active_claims(t0).await.unwrap().len(), 1);
    let later = t0 + Duration::minutes(10);
    assert_eq!(
        store.expire_claims(later).await.unwrap(),
        vec![pending.lead_id.clone()]
    );
    store
        .claim_lead(
            LeadId::new(&pending.lead_id),
            UserId::new("admin_b"),
            later,
            ttl,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .release_claims_of(UserId::new("admin_b"))
            .await
            .unwrap(),
        vec![pending.lead_id.clone()]
    );
    assert!(!store
        .release_claim(LeadId::new(&pending.lead_id), UserId::new("admin_b"))
        .await
        .unwrap());
    // The decision ends the review; a decided lead cannot be claimed.
    store.verify_lead(decide("admin_a")).await.unwrap();
    assert!(store.active_claims(t0).await.unwrap().is_empty());
    assert!(matches!(
        store
            .claim_lead(
                LeadId::new(&pending.lead_id),
                UserId::new("admin_a"),
                now(),
                ttl
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
}

pub async fn edits_keep_the_event_listed_where_it_now_belongs(store: S) {
    let event = event(&store, 3).await;
    let draft = |category: &str, days: i64| EventDraft {
        title: event.title.clone(),
        description: event.description.clone(),
        category: category.into(),
        event_datetime: event.event_datetime + Duration::days(days),
        duration: 30,
        total_slots: 3,
        price_per_lead: Rupees::parse("price", 700).unwrap(),
    };
    let listed = |filter: EventFilter| {
        let store = Arc::clone(&store);
        let id = event.event_id.clone();
        async move {
            let page = store
                .list_events(&filter, PageRequest::first(100))
                .await
                .unwrap();
            page.items.iter().filter(|e| e.event_id == id).count()
        }
    };
    let in_category = |category: &str| EventFilter {
        category: Some(category.into()),
        ..Default::default()
    };
    // Only the category changes, then only its case, then the day.
    for (category, days) in [("Design", 0), ("DESIGN", 0), ("Design", 1)] {
        store
            .update_event(
                MentorId::new(MENTOR),
                EventId::new(&event.event_id),
                draft(category, days),
            )
            .await
            .unwrap();
        let mine = store.mentor_events(MentorId::new(MENTOR)).await.unwrap();
        assert_eq!(
            mine.iter().filter(|e| e.event_id == event.event_id).count(),
            1,
            "{category} +{days}d: the mentor's list"
        );
        assert_eq!(
            listed(EventFilter::default()).await,
            1,
            "{category} +{days}d"
        );
        assert_eq!(
            listed(in_category("design")).await,
            1,
            "{category} +{days}d"
        );
        assert_eq!(
            listed(in_category("testing")).await,
            0,
            "{category} +{days}d"
        );
    }
}

/// The outbox's changes, read as the relay reads them (following the cursor), once there
/// are `count` or `wait` has passed (ScyllaDB holds back the last second's).
async fn changes_until(
    store: &S,
    count: usize,
    wait: std::time::Duration,
) -> Vec<leadbridge::domain::change::Change> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let (mut cursor, mut all) = (0, Vec::new());
        for _ in 0..100 {
            let page = store.changes_after(cursor, 100).await.unwrap();
            all.extend(page.changes.into_iter().map(|r| r.change));
            if page.cursor == cursor || all.len() >= count {
                break;
            }
            cursor = page.cursor;
        }
        if all.len() >= count || std::time::Instant::now() > deadline {
            return all;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

pub async fn every_change_is_recorded_with_it_in_commit_order(store: S) {
    use leadbridge::domain::change::Change;
    let event = event(&store, 5).await;
    let learner = user(&store, Role::User).await;
    let mut suspicious = booking(&event.event_id, &learner, 7);
    suspicious.flags = vec!["DISPOSABLE_EMAIL_DOMAIN".into()];
    let lead = store.book_slot(suspicious).await.unwrap();
    assert_eq!(lead.status, LeadStatus::Pending);
    store
        .claim_lead(
            LeadId::new(&lead.lead_id),
            UserId::new("admin_1"),
            now(),
            Duration::minutes(2),
        )
        .await
        .unwrap();
    store
        .verify_lead(LeadDecision {
            lead_id: lead.lead_id.clone(),
            status: LeadStatus::Rejected,
            reason: Some("Unreachable".into()),
            admin_id: "admin_1".into(),
            now: now(),
        })
        .await
        .unwrap();

    // The mentor's approval came first (made by `event`), then this lead's story.
    let changes = changes_until(&store, 4, std::time::Duration::from_secs(15)).await;
    let kinds: Vec<&str> = changes.iter().map(Change::kind).collect();
    assert_eq!(
        kinds,
        [
            "mentor_decided",
            "lead_booked",
            "lead_claimed",
            "lead_moved"
        ]
    );
    match &changes[3] {
        Change::LeadMoved {
            before,
            lead: moved,
            reason,
        } => {
            assert_eq!(*before, LeadStatus::Pending);
            assert_eq!(moved.status, LeadStatus::Rejected);
            assert_eq!(reason.as_deref(), Some("Unreachable"));
            // Read back whole: the contact survives its sealing.
            assert_eq!(moved.contact, lead.contact);
        }
        other => panic!("expected the rejection, got {other:?}"),
    }
    // A refused write records nothing.
    let refused = store
        .cancel_booking(UserId::new(&learner), LeadId::new(&lead.lead_id), now())
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))));
    let later = changes_until(&store, 5, std::time::Duration::from_secs(3)).await;
    assert_eq!(later.len(), 4, "{later:?}");
}

pub async fn one_relay_holds_the_lease_and_only_it_moves_the_cursor(store: S) {
    let lease = || now() + Duration::seconds(10);
    assert_eq!(
        store.take_relay_lease("a", now(), lease()).await.unwrap(),
        Some(0)
    );
    assert_eq!(
        store.take_relay_lease("b", now(), lease()).await.unwrap(),
        None
    );
    assert!(!store.changes_delivered("b", 5).await.unwrap());
    assert!(store.changes_delivered("a", 5).await.unwrap());
    // Renewing answers where delivery stands; the cursor never moves back.
    assert_eq!(
        store.take_relay_lease("a", now(), lease()).await.unwrap(),
        Some(5)
    );
    assert!(!store.changes_delivered("a", 3).await.unwrap());
    // Handed back (renewed to end now), it goes to the next node with the cursor.
    let handed = now();
    store.take_relay_lease("a", handed, handed).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        store.take_relay_lease("b", now(), lease()).await.unwrap(),
        Some(5)
    );
    assert!(!store.changes_delivered("a", 9).await.unwrap());
}
