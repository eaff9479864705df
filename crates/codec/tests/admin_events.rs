//! The stored bytes of what named admins (decision 0025) write: an admin's `AccountCreated`, and
//! `OrderReviewed` and `RiskRulesSaved` naming the admin in `by`. No fixture journal holds them yet
//! (version 1 was pinned without them, and its payloads, which have no `by`, still decode and
//! encode to the same bytes: `stored_format.rs`), so hand-made samples are snapshotted here.
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::{Account, AccountId, EntityId, Event, OrderId, Role, Timestamp};
use expect_test::expect_file;

const ADMIN: AccountId = AccountId(EntityId { partition: 42, serial: 1 });
const AT: Timestamp = Timestamp(1_796_119_200_000);

/// Encodes, checks the round trip and the kind, and answers the payload.
fn round_trip(event: &Event, kind: &str) -> String {
    assert_eq!(event.kind(), kind);
    let payload = codec::encode(event);
    assert_eq!(&codec::decode(&payload).unwrap(), event, "{kind} decodes to what was encoded");
    assert_eq!(codec::encode(&codec::decode(&payload).unwrap()), payload, "{kind} encodes to the same bytes");
    format!("{payload}\n")
}

#[test]
fn an_admin_account_is_snapshotted() {
    let account = Account {
        id: ADMIN,
        handle: "alice".into(),
        role: Role::Admin,
        token_sha256: "a1".repeat(32),
        created_at: AT,
        partner_kind: None,
    };
    let created = Event::AccountCreated { account };
    expect_file!["snapshots/account_created_admin.json"].assert_eq(&round_trip(&created, "account_created"));
}

#[test]
fn reviews_and_rule_saves_name_their_admin() {
    let order_id = OrderId(EntityId { partition: 3, serial: 9 });
    let reviewed =
        Event::OrderReviewed { order_id, approved: false, reason: Some("stolen card".into()), at: AT, by: Some(ADMIN) };
    let payload = round_trip(&reviewed, "order_reviewed");
    assert!(payload.contains(r#""by":"acct_2a0000000001""#), "{payload}");
    expect_file!["snapshots/order_reviewed_by.json"].assert_eq(&payload);
    let saved =
        Event::RiskRulesSaved { text: "block when claims_per_minute > 5".into(), version: 2, at: AT, by: Some(ADMIN) };
    expect_file!["snapshots/risk_rules_saved_by.json"].assert_eq(&round_trip(&saved, "risk_rules_saved"));
    // Without `by`, as every fact before 0025: no field at all, so old bytes stay the same.
    let anonymous = Event::OrderReviewed { order_id, approved: true, reason: None, at: AT, by: None };
    assert!(!round_trip(&anonymous, "order_reviewed").contains("\"by\""));
}
