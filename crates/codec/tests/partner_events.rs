//! The stored bytes of the partner facts (hub stock counts, reconciliation cases, curators'
//! editions), added after version 1 was pinned
//! without a version bump (payloads of version 1 still decode): hand-made samples are snapshotted
//! here until the next version's fixture journal holds them. `stock_written_off` is a leaf of the
//! drop's transparency log, so its bytes are public.
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::{AccountId, CaseState, DropId, EntityId, Event, ReconciliationCase, ReconciliationId, Timestamp};
use expect_test::expect_file;

const AT: Timestamp = Timestamp(1_796_119_200_000);

fn round_trip(event: &Event, kind: &str, stream: &str) -> String {
    assert_eq!((event.kind(), event.stream().as_str()), (kind, stream));
    let payload = codec::encode(event);
    assert_eq!(&codec::decode(&payload).unwrap(), event, "{kind} decodes to what was encoded");
    assert_eq!(codec::encode(&codec::decode(&payload).unwrap()), payload, "{kind} encodes to the same bytes");
    format!("{payload}\n")
}

#[test]
fn reconciliation_events_are_snapshotted() {
    let id = |serial| EntityId { partition: 7, serial };
    let drop_id = DropId(id(4));
    let case_id = ReconciliationId(id(20));
    let venue = AccountId(EntityId { partition: 4, serial: 1 });
    let counted = Event::StockCounted { drop_id, partner_id: venue, on_hand: 45, expected: 50, version: 2, at: AT };
    let case = ReconciliationCase {
        id: case_id,
        drop_id,
        creator_id: AccountId(id(1)),
        partner_id: venue,
        on_hand: 45,
        version: 2,
        expected: 50,
        opened_at: AT,
        state: CaseState::Open,
        decided_at: None,
        decided_by: None,
        written_off: 0,
        reason: None,
    };
    let opened = Event::ReconciliationOpened { case };
    let accepted = Event::ReconciliationDecided {
        case_id,
        accepted: true,
        written_off: 5,
        reason: None,
        by: AccountId(id(1)),
        at: AT.plus_ms(60_000),
    };
    let disputed = Event::ReconciliationDecided {
        case_id,
        accepted: false,
        written_off: 0,
        reason: Some("two on the shelf".into()),
        by: AccountId(id(1)),
        at: AT.plus_ms(60_000),
    };
    let written_off = Event::StockWrittenOff { drop_id, case_id, quantity: 5, at: AT.plus_ms(60_000) };
    let stream = "reconciliation/rec_070000000014";
    expect_file!["snapshots/stock_counted.json"].assert_eq(&round_trip(
        &counted,
        "stock_counted",
        "stock/drop_070000000004",
    ));
    expect_file!["snapshots/reconciliation_opened.json"].assert_eq(&round_trip(
        &opened,
        "reconciliation_opened",
        stream,
    ));
    expect_file!["snapshots/reconciliation_accepted.json"].assert_eq(&round_trip(
        &accepted,
        "reconciliation_decided",
        stream,
    ));
    expect_file!["snapshots/reconciliation_disputed.json"].assert_eq(&round_trip(
        &disputed,
        "reconciliation_decided",
        stream,
    ));
    expect_file!["snapshots/stock_written_off.json"].assert_eq(&round_trip(
        &written_off,
        "stock_written_off",
        "drop/drop_070000000004",
    ));
}

/// A curator's edition adds one field to a product and one to an order line; products and lines
/// without one keep their old bytes (the fixture journal's), and old bytes decode to none.
#[test]
fn an_edition_is_snapshotted() {
    use domain::{Edition, Fulfilment, Money, Product, ProductId};
    let product = Product {
        id: ProductId(EntityId { partition: 7, serial: 3 }),
        creator_id: AccountId(EntityId { partition: 7, serial: 1 }),
        title: "Print".into(),
        price: Money { minor: 5_000, currency: "EUR".parse().unwrap() },
        stock: 50,
        allocated: 0,
        fulfilment: Fulfilment::Ship,
        created_at: AT,
        edition: Some(Edition {
            label: "Summer '26, 1 of 50".into(),
            curator_id: AccountId(EntityId { partition: 9, serial: 1 }),
        }),
    };
    let created = Event::ProductCreated { product };
    let payload = round_trip(&created, "product_created", "product/prod_070000000003");
    expect_file!["snapshots/product_created_edition.json"].assert_eq(&payload);
    let Event::ProductCreated { product } = codec::decode(
        &payload.replace(r#","edition":{"label":"Summer '26, 1 of 50","curator_id":"acct_090000000001"}"#, ""),
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(product.edition, None, "bytes from before editions decode to none");
}
