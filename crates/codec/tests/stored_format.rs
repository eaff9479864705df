//! The stored bytes of every event kind, pinned. The fixture journal (`fixtures/journal-v1/`,
//! written by the engine when version 1 was pinned; its replay is checked by
//! `crates/engine/tests/fixture_journal.rs`) holds every kind of version 1. Each of its payloads
//! must decode and encode back to the very same bytes, so renaming, adding, removing or reordering
//! a field of any event, entity or reply fails here; the first payload of each kind is kept as a
//! readable snapshot in `snapshots/<kind>.json`.
//!
//! A change that fails here is a change of the public format: bump `codec::SCHEMA_VERSION`, add an
//! upcaster, keep this fixture and add one of the new version (docs/decisions, event format).
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::{Event, Outcome, RefundStatus, Rejection};
use expect_test::expect_file;
use std::collections::BTreeMap;
use std::path::Path;

/// Every event kind of schema version 1. A kind added later without a version bump (old payloads
/// still decode) gets its snapshot from the next version's fixture.
const KINDS_V1: [&str; 37] = [
    "account_created",
    "product_created",
    "room_created",
    "drop_created",
    "drop_opened",
    "drop_closed",
    "cart_opened",
    "hold_placed",
    "hold_expired",
    "payment_declined",
    "order_placed",
    "holds_sold",
    "refund_requested",
    "refund_approved",
    "refund_rejected",
    "refund_executed",
    "units_refunded",
    "risk_decided",
    "risk_rules_saved",
    "order_reviewed",
    "template_saved",
    "episode_scheduled",
    "episode_started",
    "episode_ended",
    "stage_changed",
    "poll_voted",
    "question_asked",
    "question_upvoted",
    "question_resolved",
    "drop_pinned",
    "drop_unpinned",
    "demo_started",
    "demo_stopped",
    "poll_started",
    "poll_closed",
    "idempotency_recorded",
    "log_checkpointed",
];

struct Row {
    seq: i64,
    kind: String,
    schema_version: i64,
    payload: String,
}

fn fixture_rows() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journal-v1/journal.sqlite3");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let connection = rusqlite::Connection::open_with_flags(path, flags).expect("the fixture journal is there");
    let mut statement =
        connection.prepare("SELECT seq, kind, schema_version, payload FROM events ORDER BY seq").unwrap();
    let rows = statement.query_map([], |row| {
        Ok(Row { seq: row.get(0)?, kind: row.get(1)?, schema_version: row.get(2)?, payload: row.get(3)? })
    });
    rows.unwrap().map(Result::unwrap).collect()
}

#[test]
fn every_stored_payload_decodes_and_encodes_to_the_same_bytes() {
    let rows = fixture_rows();
    assert!(!rows.is_empty());
    for row in &rows {
        let event = codec::decode(&row.payload)
            .unwrap_or_else(|error| panic!("row {} ({}) no longer decodes: {error}", row.seq, row.kind));
        assert_eq!(row.schema_version, 1, "row {}", row.seq);
        assert_eq!(event.kind(), row.kind, "row {}", row.seq);
        assert_eq!(codec::encode(&event), row.payload, "row {} ({}) encodes differently now", row.seq, row.kind);
    }
}

#[test]
fn every_kind_of_version_1_is_in_the_fixture_and_snapshotted() {
    let mut first_of_kind: BTreeMap<String, String> = BTreeMap::new();
    for row in fixture_rows() {
        first_of_kind.entry(row.kind).or_insert(row.payload);
    }
    let kinds: Vec<&str> = first_of_kind.keys().map(String::as_str).collect();
    let mut expected = KINDS_V1.to_vec();
    expected.sort_unstable();
    assert_eq!(kinds, expected);
    for (kind, payload) in &first_of_kind {
        expect_file![format!("snapshots/{kind}.json")].assert_eq(&format!("{payload}\n"));
    }
}

/// Every refusal a keyed request can record (its idempotency record keeps it for a retry).
fn every_rejection() -> Vec<Rejection> {
    vec![
        Rejection::invalid("quantity", "must be 1 to 1000"),
        Rejection::Forbidden,
        Rejection::NotFound,
        Rejection::HandleTaken,
        Rejection::InsufficientStock { available: 4 },
        Rejection::SoldOut { remaining: 0 },
        Rejection::LimitExceeded { limit: 2, already: 2 },
        Rejection::DropNotOpen,
        Rejection::CartExpired,
        Rejection::CartCheckedOut,
        Rejection::CartFull,
        Rejection::CartChanged,
        Rejection::CurrencyMismatch,
        Rejection::PaymentDeclined { decline_code: "card_declined".into() },
        Rejection::IdempotencyKeyReused,
        Rejection::RefundExceedsPaid { refundable_units: 1 },
        Rejection::RefundNotPending { status: RefundStatus::Executed },
        Rejection::BlockedByRisk,
        Rejection::OrderNotInReview,
        Rejection::EpisodeAlreadyLive,
        Rejection::EpisodeNotLive,
        Rejection::EpisodeEnded,
        Rejection::EpisodeOver,
        Rejection::BannedFromEpisode,
        Rejection::NotInEpisode,
        Rejection::EpisodeFull,
        Rejection::AlreadyVoted,
        Rejection::QuestionClosed,
        Rejection::DemoRunning,
        Rejection::PollClosed,
        Rejection::TooManyTokens { limit: 20 },
        Rejection::SplitNotAccepted { state: domain::ContractState::Pending },
        Rejection::ContractAnswered { state: domain::ContractState::Accepted },
        Rejection::SharesExceedWhole { total_bps: 10_001 },
        Rejection::UnknownPartner { partner_id: domain::AccountId(domain::EntityId { partition: 7, serial: 2 }) },
        Rejection::AlreadyDisputed,
        Rejection::DisputeNotOpen { state: domain::DisputeState::Lost },
        Rejection::OrderDisputed,
        Rejection::ChargeUnused,
        Rejection::TooManyWebhookEndpoints { limit: 16 },
        Rejection::WebhookEndpointDisabled,
        Rejection::FulfilmentTransition {
            from: domain::FulfilmentState::Delivered,
            to: domain::FulfilmentState::InTransit,
        },
        Rejection::WrongPickupCode { attempts_left: 3 },
        Rejection::PickupCodeLocked { retry_after_secs: 600 },
        Rejection::OrderInReview,
        Rejection::CaseDecided,
    ]
}

/// The exhaustive match makes a new refusal fail to compile here until it is added above.
fn listed(rejection: &Rejection) -> bool {
    match rejection {
        Rejection::Invalid { .. }
        | Rejection::Forbidden
        | Rejection::NotFound
        | Rejection::HandleTaken
        | Rejection::InsufficientStock { .. }
        | Rejection::SoldOut { .. }
        | Rejection::LimitExceeded { .. }
        | Rejection::DropNotOpen
        | Rejection::CartExpired
        | Rejection::CartCheckedOut
        | Rejection::CartFull
        | Rejection::CartChanged
        | Rejection::CurrencyMismatch
        | Rejection::PaymentDeclined { .. }
        | Rejection::IdempotencyKeyReused
        | Rejection::RefundExceedsPaid { .. }
        | Rejection::RefundNotPending { .. }
        | Rejection::BlockedByRisk
        | Rejection::OrderNotInReview
        | Rejection::EpisodeAlreadyLive
        | Rejection::EpisodeNotLive
        | Rejection::EpisodeEnded
        | Rejection::EpisodeOver
        | Rejection::BannedFromEpisode
        | Rejection::NotInEpisode
        | Rejection::EpisodeFull
        | Rejection::AlreadyVoted
        | Rejection::QuestionClosed
        | Rejection::DemoRunning
        | Rejection::PollClosed
        | Rejection::TooManyTokens { .. }
        | Rejection::SplitNotAccepted { .. }
        | Rejection::ContractAnswered { .. }
        | Rejection::SharesExceedWhole { .. }
        | Rejection::UnknownPartner { .. }
        | Rejection::AlreadyDisputed
        | Rejection::DisputeNotOpen { .. }
        | Rejection::OrderDisputed
        | Rejection::ChargeUnused
        | Rejection::TooManyWebhookEndpoints { .. }
        | Rejection::WebhookEndpointDisabled
        | Rejection::FulfilmentTransition { .. }
        | Rejection::WrongPickupCode { .. }
        | Rejection::PickupCodeLocked { .. }
        | Rejection::OrderInReview
        | Rejection::CaseDecided => true,
        // Refused from the command's ids before the idempotency record is read or written: never stored.
        Rejection::NotYours { .. } => false,
    }
}

#[test]
fn every_recorded_refusal_is_snapshotted() {
    let rejections = every_rejection();
    assert!(rejections.iter().all(listed));
    let mut text = String::new();
    for rejection in rejections {
        let recorded = Event::IdempotencyRecorded {
            partition: 7,
            owner: domain::AccountId(domain::EntityId { partition: 7, serial: 1 }),
            key: "k".into(),
            fingerprint: "f".into(),
            outcome: Outcome::Err(rejection),
            at: domain::Timestamp(1_796_119_200_000),
        };
        let payload = codec::encode(&recorded);
        assert_eq!(codec::decode(&payload).unwrap(), recorded);
        text.push_str(&payload);
        text.push('\n');
    }
    expect_file!["snapshots/refusals.jsonl"].assert_eq(&text);
}
