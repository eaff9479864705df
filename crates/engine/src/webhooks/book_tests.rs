//! The outbox's book: what is owed does not depend on the order in which shards' commits reach it,
//! attempts are taken per endpoint within its limit, and a redelivery of a waiting message changes
//! nothing.

use super::*;
use domain::{EndpointSecret, EntityId, WebhookEventType, WebhookSecret};
use proptest::prelude::*;

const OWNER: AccountId = AccountId(EntityId { partition: 3, serial: 1 });
const ENDPOINT: WebhookEndpointId = WebhookEndpointId(EntityId { partition: 3, serial: 2 });

fn endpoint(disabled: bool) -> WebhookEndpoint {
    WebhookEndpoint {
        id: ENDPOINT,
        owner_id: OWNER,
        url: "https://hooks.example.com/".into(),
        events: vec![WebhookEventType::OrderPaid],
        secrets: vec![EndpointSecret { secret: WebhookSecret("whsec_x".into()), expires_at: None }],
        created_at: Timestamp(0),
        disabled: disabled.then_some(domain::EndpointDisabled::ByOwner),
        disabled_at: disabled.then_some(Timestamp(0)),
        attempts: 0,
        delivered: 0,
    }
}

fn source(at: i64) -> Input {
    Input::Source(Source {
        owners: vec![OWNER],
        kind: WebhookEventType::OrderPaid,
        data: serde_json::json!({"n": at}),
        at: Timestamp(at),
    })
}

fn attempt(message_id: String, n: u32, outcome: AttemptOutcome) -> Input {
    Input::Attempted(WebhookAttempt {
        endpoint_id: ENDPOINT,
        message_id,
        attempt: n,
        status: Some(500),
        error: None,
        duration_ms: 1,
        outcome,
        at: Timestamp(0),
    })
}

/// The message ids owed, sorted.
fn owed(book: &Book) -> Vec<String> {
    let mut ids: Vec<String> =
        book.endpoints.get(&ENDPOINT).map(|b| b.waiting.keys().cloned().collect()).unwrap_or_default();
    ids.sort();
    ids
}

proptest! {
    /// Facts of other partitions reach the outbox in any order relative to the endpoint's own
    /// (which keep theirs); what is owed at the end is what the journal order gives.
    #[test]
    fn what_is_owed_does_not_depend_on_the_order_commits_arrive(
        n_sources in 1usize..30,
        created_at in 0usize..30,
        disabled_after in proptest::option::of(0usize..30),
        shuffle in proptest::collection::vec(any::<u32>(), 40),
    ) {
        // The journal: sources at their positions, the endpoint created (and maybe disabled) among them.
        let mut journal: Vec<(u64, Input, bool)> = Vec::new();
        let mut seq = 1u64;
        for i in 0..=n_sources {
            if i == created_at.min(n_sources) {
                journal.push((seq, Input::Endpoint(Box::new(endpoint(false))), true));
                seq += 1;
            }
            if disabled_after.is_some_and(|after| i == (created_at + after).min(n_sources)) {
                journal.push((seq, Input::Endpoint(Box::new(endpoint(true))), true));
                seq += 1;
            }
            if i < n_sources {
                journal.push((seq, source(i as i64), false));
                seq += 1;
            }
        }
        let mut in_order = Book::default();
        for (seq, input, _) in &journal {
            in_order.observe(*seq, clone_input(input));
        }
        // Live: sources move anywhere; the endpoint's own facts keep their relative order (they
        // are one partition's, which reach the outbox in commit order).
        let mut keyed: Vec<(u32, usize)> = (0..journal.len()).map(|i| (shuffle[i % shuffle.len()].wrapping_mul(i as u32 + 1), i)).collect();
        keyed.sort();
        let own_in_order: Vec<usize> = (0..journal.len()).filter(|i| journal[*i].2).collect();
        let mut own = own_in_order.into_iter();
        let order: Vec<usize> =
            keyed.into_iter().map(|(_, i)| if journal[i].2 { own.next().unwrap() } else { i }).collect();
        let live: Vec<(u64, Input)> = order.iter().map(|i| (journal[*i].0, clone_input(&journal[*i].1))).collect();
        let mut out_of_order = Book::default();
        for (seq, input) in live {
            out_of_order.observe(seq, input);
        }
        prop_assert_eq!(owed(&out_of_order), owed(&in_order));
    }
}

fn clone_input(input: &Input) -> Input {
    match input {
        Input::Source(source) => Input::Source(source.clone()),
        Input::Endpoint(endpoint) => Input::Endpoint(endpoint.clone()),
        Input::Attempted(attempt) => Input::Attempted(attempt.clone()),
        Input::Redeliver { endpoint_id, message_id, at } => {
            Input::Redeliver { endpoint_id: *endpoint_id, message_id: message_id.clone(), at: *at }
        }
    }
}

#[test]
fn attempts_are_taken_per_endpoint_within_its_limit_and_retried_on_schedule() {
    let mut book = Book::default();
    book.observe(1, Input::Endpoint(Box::new(endpoint(false))));
    for i in 0..5 {
        book.observe(2 + i, source(i as i64));
    }
    let jobs = book.take_due(Timestamp(100), 64);
    assert_eq!(jobs.len(), IN_FLIGHT_PER_ENDPOINT_MAX, "no more at once than an endpoint may have");
    assert_eq!(book.next_due(), None, "a full endpoint is not ready, so nothing spins on it");
    assert!(book.take_due(Timestamp(100), 64).is_empty());
    // The first fails and is retried at 5 s; a slot frees, so the next message starts.
    let first = jobs[0].message.id.clone();
    book.observe(20, attempt(first.clone(), 1, AttemptOutcome::Retry { next_at: Timestamp(5_000) }));
    let next = book.take_due(Timestamp(100), 64);
    assert_eq!(next.len(), 1);
    assert_ne!(next[0].message.id, first, "the retry waits for its time");
    for job in jobs.iter().skip(1).chain(&next) {
        book.observe(21, attempt(job.message.id.clone(), 1, AttemptOutcome::Delivered));
    }
    let later = book.take_due(Timestamp(5_000), 64);
    assert!(later.iter().any(|job| job.message.id == first && job.attempt == 2), "the retry is attempt 2");
    // A redelivery of a message still owed changes nothing; of a delivered one, starts it again.
    let delivered = next[0].message.id.clone();
    let waiting_before = book.waiting();
    let redeliver = |message_id: &String| Input::Redeliver {
        endpoint_id: ENDPOINT,
        message_id: message_id.clone(),
        at: Timestamp(6_000),
    };
    assert!(!book.observe(30, redeliver(&first)));
    assert_eq!(book.waiting(), waiting_before);
    assert!(book.observe(31, redeliver(&delivered)));
    assert!(book.is_waiting(ENDPOINT, &delivered));
    // Disabling drops everything owed, under way or not.
    book.observe(32, Input::Endpoint(Box::new(endpoint(true))));
    assert_eq!((book.waiting(), book.next_due()), (0, None));
    book.observe(33, attempt(first, 2, AttemptOutcome::Retry { next_at: Timestamp(9_000) }));
    assert_eq!(book.waiting(), 0, "an attempt under way when it was disabled is not retried");
}
