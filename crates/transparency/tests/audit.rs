//! The drop audit finds every kind of unfair log: a unit sold twice, a buyer over the limit, an
//! oversold drop, a claim outside the drop's opening, and a foreign event; a fair log passes.

use domain::{
    AccountId, CartId, Drop, DropId, DropPhase, EntityId, Event, Hold, HoldId, HoldStatus, Money, OrderId, ProductId,
    RefundId, RoomId, Timestamp,
};
use transparency::audit::DropAudit;

const DROP: DropId = DropId(EntityId { partition: 1, serial: 1 });

fn id(serial: u64) -> EntityId {
    EntityId { partition: 1, serial }
}

fn created(quantity: u64, per_buyer_limit: u32) -> Event {
    let price = Money { minor: 100, currency: "EUR".parse().unwrap() };
    Event::DropCreated {
        drop: Drop {
            id: DROP,
            room_id: RoomId(id(2)),
            product_id: ProductId(id(3)),
            creator_id: AccountId(id(4)),
            title: "Tee".into(),
            unit_price: price,
            quantity,
            remaining: quantity,
            held: 0,
            sold: 0,
            released: 0,
            per_buyer_limit,
            hold_ms: 60_000,
            opens_at: Timestamp(0),
            closes_at: None,
            phase: DropPhase::Scheduled,
            created_at: Timestamp(0),
            split_contract_id: None,
        },
    }
}

fn placed(hold: u64, buyer: u64, quantity: u32) -> Event {
    Event::HoldPlaced {
        hold: Hold {
            id: HoldId(id(100 + hold)),
            drop_id: DROP,
            cart_id: CartId(id(200 + buyer)),
            buyer_id: AccountId(id(300 + buyer)),
            quantity,
            unit_price: Money { minor: 100, currency: "EUR".parse().unwrap() },
            created_at: Timestamp(1),
            expires_at: Timestamp(60_001),
            status: HoldStatus::Active,
        },
    }
}

fn sold(order: u64, holds: &[u64], quantity: u64) -> Event {
    Event::HoldsSold {
        drop_id: DROP,
        order_id: OrderId(id(400 + order)),
        hold_ids: holds.iter().map(|hold| HoldId(id(100 + hold))).collect(),
        quantity,
    }
}

fn expired(hold: u64, quantity: u32) -> Event {
    Event::HoldExpired { hold_id: HoldId(id(100 + hold)), drop_id: DROP, quantity, at: Timestamp(60_001) }
}

fn refunded(holds: &[u64], quantity: u64, restocked: bool) -> Event {
    Event::UnitsRefunded {
        drop_id: DROP,
        order_id: OrderId(id(401)),
        refund_id: RefundId(id(500)),
        hold_ids: holds.iter().map(|hold| HoldId(id(100 + hold))).collect(),
        quantity,
        restocked,
        at: Timestamp(5),
    }
}

fn audit(events: &[Event]) -> transparency::audit::AuditReport {
    let mut audit = DropAudit::new(DROP);
    for event in events {
        audit.leaf(serde_json::to_string(event).unwrap().as_bytes());
    }
    audit.report()
}

fn opened() -> Event {
    Event::DropOpened { drop_id: DROP, at: Timestamp(0) }
}

#[test]
fn a_fair_log_passes() {
    let report = audit(&[
        created(3, 2),
        opened(),
        placed(1, 1, 2),
        placed(2, 2, 1),
        expired(2, 1),
        placed(3, 3, 1),
        sold(1, &[1], 2),
        sold(2, &[3], 1),
        // A restocked unit frees the buyer's limit and goes back on sale; buyer 1 claims it again.
        refunded(&[1], 1, true),
        placed(4, 1, 1),
        sold(3, &[4], 1),
        Event::DropClosed { drop_id: DROP, at: Timestamp(9), by_creator: true },
        refunded(&[3], 1, false),
    ]);
    assert_eq!(report.violations, Vec::<String>::new());
    assert_eq!(
        (report.sold, report.held, report.remaining, report.released, report.refunded, report.orders),
        (2, 0, 0, 1, 2, 3)
    );
    assert!(report.closed);
}

/// Closing stops claims, not purchases under way: a hold placed while open is paid after the close.
#[test]
fn a_hold_placed_before_the_close_may_be_sold_after_it() {
    let report = audit(&[
        created(2, 2),
        opened(),
        placed(1, 1, 1),
        placed(2, 2, 1),
        Event::DropClosed { drop_id: DROP, at: Timestamp(9), by_creator: true },
        sold(1, &[1], 1),
        expired(2, 1),
    ]);
    assert_eq!(report.violations, Vec::<String>::new());
    assert_eq!((report.sold, report.held, report.remaining), (1, 0, 1));
}

#[test]
fn every_kind_of_unfair_log_is_caught() {
    let cases: Vec<(&str, Vec<Event>)> = vec![
        ("sold twice", vec![created(3, 2), opened(), placed(1, 1, 1), sold(1, &[1], 1), sold(2, &[1], 1)]),
        ("over the limit", vec![created(5, 2), opened(), placed(1, 1, 2), placed(2, 1, 1)]),
        ("remained", vec![created(2, 5), opened(), placed(1, 1, 2), placed(2, 2, 1)]),
        ("not open", vec![created(2, 2), placed(1, 1, 1)]),
        ("sold after it expired", vec![created(2, 2), opened(), placed(1, 1, 1), expired(1, 1), sold(1, &[1], 1)]),
        ("whose holds held", vec![created(2, 2), opened(), placed(1, 1, 1), sold(1, &[1], 2)]),
        ("placed twice", vec![created(4, 4), opened(), placed(1, 1, 1), placed(1, 2, 1)]),
        ("never sold", vec![created(2, 2), opened(), placed(1, 1, 1), refunded(&[1], 1, true)]),
        (
            "had 0 to refund",
            vec![
                created(2, 2),
                opened(),
                placed(1, 1, 1),
                sold(1, &[1], 1),
                refunded(&[1], 1, true),
                refunded(&[1], 1, true),
            ],
        ),
        (
            "restocked after the drop closed",
            vec![
                created(2, 2),
                opened(),
                placed(1, 1, 1),
                sold(1, &[1], 1),
                Event::DropClosed { drop_id: DROP, at: Timestamp(9), by_creator: true },
                refunded(&[1], 1, true),
            ],
        ),
        ("does not start", vec![opened(), created(2, 2)]),
        ("not of drop", vec![created(2, 2), Event::DropOpened { drop_id: DropId(id(9)), at: Timestamp(0) }]),
    ];
    for (expected, events) in cases {
        let report = audit(&events);
        assert!(
            report.violations.iter().any(|violation| violation.contains(expected)),
            "expected a violation naming {expected:?}, got {:?}",
            report.violations
        );
    }
    let mut garbage = DropAudit::new(DROP);
    garbage.leaf(b"{\"type\":\"nonsense\"}");
    assert_eq!(garbage.report().n_violations, 1);
}

fn written_off(quantity: u64) -> Event {
    let case_id = domain::ReconciliationId(id(900));
    Event::StockWrittenOff { drop_id: DROP, case_id, quantity, at: Timestamp(5) }
}

#[test]
fn a_write_off_takes_only_units_nobody_holds_or_bought() {
    // Three units: one held, one sold; a write-off of the one left passes.
    let fair = [created(3, 3), opened(), placed(1, 1, 1), placed(2, 2, 1), sold(1, &[2], 1), written_off(1)];
    let report = audit(&fair);
    assert_eq!((report.n_violations, report.remaining, report.released), (0, 0, 1), "{report:?}");
    // Two units written off when one was left: a held or sold unit would be taken back.
    let unfair = [created(3, 3), opened(), placed(1, 1, 1), placed(2, 2, 1), sold(1, &[2], 1), written_off(2)];
    assert!(audit(&unfair).n_violations > 0);
}
