//! The stored bytes of the fulfilment events, added after version 1 was pinned without a version
//! bump (payloads of version 1 still decode): hand-made samples are snapshotted here until the next
//! version's fixture journal holds them.
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::{
    AccountId, DropId, EntityId, Event, Fulfilment, FulfilmentChange, FulfilmentId, FulfilmentOrder, FulfilmentState,
    HoldId, OrderId, ProductId, Timestamp,
};
use expect_test::expect_file;

const AT: Timestamp = Timestamp(1_796_119_200_000);
const ID: FulfilmentId = FulfilmentId(EntityId { partition: 7, serial: 12 });

fn round_trip(event: &Event, kind: &str) -> String {
    assert_eq!(event.kind(), kind);
    assert_eq!(event.stream(), "fulfilment/ful_07000000000c");
    let payload = codec::encode(event);
    assert_eq!(&codec::decode(&payload).unwrap(), event, "{kind} decodes to what was encoded");
    assert_eq!(codec::encode(&codec::decode(&payload).unwrap()), payload, "{kind} encodes to the same bytes");
    format!("{payload}\n")
}

#[test]
fn fulfilment_events_are_snapshotted() {
    let id = |serial| EntityId { partition: 7, serial };
    let opened = Event::FulfilmentOpened {
        fulfilment: FulfilmentOrder {
            id: ID,
            order_id: OrderId(id(10)),
            hold_id: HoldId(id(8)),
            drop_id: DropId(id(4)),
            product_id: ProductId(id(3)),
            quantity: 2,
            method: Fulfilment::Pickup,
            creator_id: AccountId(id(1)),
            buyer_id: AccountId(EntityId { partition: 9, serial: 1 }),
            partner_id: Some(AccountId(EntityId { partition: 4, serial: 1 })),
            state: FulfilmentState::Open,
            eta: None,
            created_at: AT,
            changes: Vec::new(),
            pickup_code: Some(domain::pickup_code(7, 0)),
            wrong_codes: Vec::new(),
            eta_version: 0,
        },
    };
    expect_file!["snapshots/fulfilment_opened.json"].assert_eq(&round_trip(&opened, "fulfilment_opened"));
    let changed = Event::FulfilmentChanged {
        fulfilment_id: ID,
        change: FulfilmentChange {
            state: FulfilmentState::ReadyForPickup,
            at: Timestamp(AT.0 + 60_000),
            by: AccountId(EntityId { partition: 4, serial: 1 }),
            eta: Some(Timestamp(AT.0 + 3_600_000)),
            version: Some(41),
        },
    };
    expect_file!["snapshots/fulfilment_changed.json"].assert_eq(&round_trip(&changed, "fulfilment_changed"));
    let rejected = Event::PickupCodeRejected {
        fulfilment_id: ID,
        by: AccountId(EntityId { partition: 4, serial: 1 }),
        at: Timestamp(AT.0 + 120_000),
    };
    expect_file!["snapshots/pickup_code_rejected.json"].assert_eq(&round_trip(&rejected, "pickup_code_rejected"));
}
