//! Property tests of the domain: stock is conserved, no buyer exceeds the limit, idempotency keys
//! answer consistently, refunds never exceed what was paid nor refund a unit twice, and replaying the
//! produced events rebuilds an identical state.

use domain::*;
use proptest::prelude::*;

const N_BUYERS: usize = 4;
const START: Timestamp = Timestamp(1_700_000_000_000);

#[derive(Clone, Debug)]
enum Op {
    Claim {
        buyer_idx: usize,
        quantity: u32,
    },
    ClaimWithKey {
        buyer_idx: usize,
        key_idx: u8,
        quantity: u32,
    },
    AdvanceMs(u64),
    /// Past the idempotency TTL, so records are forgotten and keys become new again.
    AdvanceDay,
    Checkout {
        buyer_idx: usize,
        declined: bool,
        wrong_amount: bool,
    },
    CloseDrop,
    /// A refund of an order placed so far, by its buyer or creator: the whole rest of the order, or
    /// some units of one line; under a threshold of 0 or 1 000 000 minor units.
    RequestRefund {
        order_idx: usize,
        by_creator: bool,
        line: Option<(usize, u32)>,
        restock: bool,
        needs_approval: bool,
    },
    DecideRefund {
        refund_idx: usize,
        admin: bool,
        approve: bool,
    },
    CompleteRefund {
        refund_idx: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        32 => (0..N_BUYERS, 1..4u32).prop_map(|(buyer_idx, quantity)| Op::Claim { buyer_idx, quantity }),
        8 => (0..N_BUYERS, 0..3u8, 1..3u32)
            .prop_map(|(buyer_idx, key_idx, quantity)| Op::ClaimWithKey { buyer_idx, key_idx, quantity }),
        12 => (0..25_000u64).prop_map(Op::AdvanceMs),
        24 => (0..N_BUYERS, any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(buyer_idx, declined, wrong_amount)| Op::Checkout { buyer_idx, declined, wrong_amount }),
        // Rare: a closed drop refuses every later claim, which would cut most sequences short.
        1 => Just(Op::CloseDrop),
        1 => Just(Op::AdvanceDay),
        6 => (0..4usize, any::<bool>(), prop::option::of((0..3usize, 0..4u32)), any::<bool>(), any::<bool>())
            .prop_map(|(order_idx, by_creator, line, restock, needs_approval)| {
                Op::RequestRefund { order_idx, by_creator, line, restock, needs_approval }
            }),
        6 => (0..4usize, any::<bool>(), prop::bool::weighted(0.8))
            .prop_map(|(refund_idx, admin, approve)| Op::DecideRefund { refund_idx, admin, approve }),
        6 => (0..4usize).prop_map(|refund_idx| Op::CompleteRefund { refund_idx }),
    ]
}

struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    creator: Actor,
    buyers: Vec<Actor>,
    drop_id: DropId,
    orders: Vec<Order>,
    refunds: Vec<RefundId>,
}

impl World {
    fn run(&mut self, envelope: Envelope) -> Outcome {
        self.state.execute(self.now, envelope, &mut self.events)
    }

    fn new(quantity: u64, per_buyer_limit: u32) -> World {
        let mut world = World {
            state: State::default(),
            events: Vec::new(),
            now: START,
            creator: Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Creator },
            buyers: Vec::new(),
            drop_id: DropId(EntityId { partition: 0, serial: 0 }),
            orders: Vec::new(),
            refunds: Vec::new(),
        };
        let create_account = |world: &mut World, handle: String, role: Role| {
            let command = Command::CreateAccount {
                partition: 7,
                handle,
                role,
                partner_kind: None,
                token_sha256: "00".repeat(32),
            };
            match world.run(Envelope::plain(command)) {
                Ok(Reply::Account(account)) => Actor { id: account.id, role },
                other => panic!("account: {other:?}"),
            }
        };
        world.creator = create_account(&mut world, "creator".into(), Role::Creator);
        for buyer_idx in 0..N_BUYERS {
            let buyer = create_account(&mut world, format!("buyer_{buyer_idx}"), Role::Buyer);
            world.buyers.push(buyer);
        }
        let creator = world.creator;
        let price = Money { minor: 1_500, currency: "EUR".parse().unwrap() };
        let product_id = match world.run(Envelope::plain(Command::CreateProduct {
            actor: creator,
            title: "tee".into(),
            price,
            stock: 50,
            fulfilment: Fulfilment::Ship,
            edition: None,
        })) {
            Ok(Reply::Product(product)) => product.id,
            other => panic!("product: {other:?}"),
        };
        let room_id = match world.run(Envelope::plain(Command::CreateRoom {
            actor: creator,
            title: "room".into(),
            template_id: None,
        })) {
            Ok(Reply::Room(room)) => room.id,
            other => panic!("room: {other:?}"),
        };
        world.drop_id = match world.run(Envelope::plain(Command::CreateDrop {
            actor: creator,
            drop: NewDrop {
                split_contract_id: None,
                room_id,
                product_id,
                quantity,
                per_buyer_limit,
                hold_seconds: 10,
                opens_at: Some(START.plus_ms(1_000)),
                closes_at: None,
            },
        })) {
            Ok(Reply::Drop(drop)) => drop.id,
            other => panic!("drop: {other:?}"),
        };
        world
    }

    fn open_cart(&self, buyer: Actor) -> Option<CartId> {
        // The newest cart with a hold of this buyer: the one a checkout would target.
        let mut newest = None;
        for hold_serial in 0..=1_000u64 {
            let hold_id = HoldId(EntityId { partition: self.drop_id.partition(), serial: hold_serial });
            if let Some(hold) = self.state.hold(hold_id)
                && hold.buyer_id == buyer.id
            {
                newest = Some(hold.cart_id);
            }
        }
        newest
    }
}

/// Units of an order line named by its refunds that were not rejected.
fn claimed_units(state: &State, order: &Order, hold_id: HoldId) -> u32 {
    let refunds = state.order_refunds(order.id).filter(|refund| refund.status != RefundStatus::Rejected);
    refunds.flat_map(|refund| &refund.lines).filter(|line| line.hold_id == hold_id).map(|line| line.quantity).sum()
}

fn check(world: &World) -> Result<(), TestCaseError> {
    world.state.check_invariants().map_err(TestCaseError::fail)?;
    let drop = world.state.drop(world.drop_id).unwrap();
    prop_assert_eq!(drop.remaining + drop.held + drop.sold + drop.released, drop.quantity);
    for order in &world.orders {
        // Independent of the state's own counters: what its refunds name never exceeds the order.
        let live = world.state.order_refunds(order.id).filter(|refund| refund.status != RefundStatus::Rejected);
        prop_assert!(live.map(|refund| refund.amount.minor).sum::<i64>() <= order.total.minor);
        for line in &order.lines {
            prop_assert!(claimed_units(&world.state, order, line.hold_id) <= line.quantity);
        }
    }
    for buyer in &world.buyers {
        prop_assert!(world.state.buyer_units(world.drop_id, buyer.id) <= drop.per_buyer_limit);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn stock_is_conserved_and_replay_rebuilds_the_state(
        quantity in 1..12u64,
        per_buyer_limit in 1..5u32,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut world = World::new(quantity, per_buyer_limit);
        // The first request under each key, its outcome and when it was recorded.
        let mut key_outcomes: std::collections::BTreeMap<(usize, u8), (u32, Outcome, Timestamp)> = Default::default();
        world.now = START.plus_ms(1_000);
        // Every checkout's payment is a charge of its own, as the provider's would be: a charge
        // journaled unused pays for no later order.
        let mut n_charges = 0u32;
        for op in ops {
            match op {
                Op::Claim { buyer_idx, quantity } => {
                    let actor = world.buyers[buyer_idx];
                    let before = world.state.drop(world.drop_id).unwrap().clone();
                    let outcome = world.run(Envelope::plain(Command::Claim { actor, drop_id: world.drop_id, quantity, risk: None }));
                    if let Ok(Reply::Claimed(receipt)) = &outcome {
                        let hold = world.state.hold(receipt.hold_id).unwrap();
                        prop_assert_eq!(hold.status, HoldStatus::Active);
                        prop_assert_eq!(hold.quantity, quantity);
                        prop_assert!(before.remaining >= u64::from(quantity));
                    }
                }
                Op::ClaimWithKey { buyer_idx, key_idx, quantity } => {
                    let actor = world.buyers[buyer_idx];
                    let key = IdempotencyKey {
                        owner: actor.id,
                        key: format!("key-{key_idx}"),
                        fingerprint: format!("claim:{quantity}"),
                    };
                    let envelope = Envelope {
                        idempotency: Some(key),
                        command: Command::Claim { actor, drop_id: world.drop_id, quantity, risk: None },
                    };
                    let outcome = world.run(envelope);
                    let live = key_outcomes
                        .get(&(buyer_idx, key_idx))
                        .filter(|(_, _, at)| world.now < at.plus_ms(IDEMPOTENCY_TTL_MS));
                    match live {
                        Some((first_quantity, first_outcome, _)) if *first_quantity == quantity => {
                            prop_assert_eq!(&outcome, first_outcome);
                        }
                        Some(_) => prop_assert_eq!(outcome, Err(Rejection::IdempotencyKeyReused)),
                        None => {
                            key_outcomes.insert((buyer_idx, key_idx), (quantity, outcome, world.now));
                        }
                    }
                }
                Op::AdvanceMs(duration_ms) => {
                    world.now = world.now.plus_ms(duration_ms);
                    let events = world.state.advance(world.now);
                    world.events.extend(events);
                }
                Op::AdvanceDay => {
                    world.now = world.now.plus_ms(IDEMPOTENCY_TTL_MS + 1);
                    let events = world.state.advance(world.now);
                    world.events.extend(events);
                    prop_assert_eq!(world.state.n_idempotency_records(), 0, "records past their TTL are forgotten");
                }
                Op::Checkout { buyer_idx, declined, wrong_amount } => {
                    let actor = world.buyers[buyer_idx];
                    let Some(cart_id) = world.open_cart(actor) else { continue };
                    world.events.extend(world.state.advance(world.now));
                    let quote = world.state.checkout_quote(&actor, cart_id);
                    n_charges += 1;
                    let payment = match (&quote, declined) {
                        (_, true) => PaymentOutcome::Declined {
                            method: "pm_card_chargeDeclined".into(),
                            decline_code: "generic_decline".into(),
                        },
                        (Ok((lines, total)), false) => PaymentOutcome::Approved {
                            method: "pm_card_visa".into(),
                            charge_id: format!("ch_{n_charges}"),
                            amount: Money { minor: total.minor + i64::from(wrong_amount), currency: total.currency },
                            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
                        },
                        (Err(_), false) => PaymentOutcome::Approved {
                            method: "pm_card_visa".into(),
                            charge_id: format!("ch_{n_charges}"),
                            amount: Money { minor: 1, currency: "EUR".parse().unwrap() },
                            quoted_hold_ids: Vec::new(),
                        },
                    };
                    let outcome = world.run(Envelope::plain(Command::Checkout { actor, cart_id, payment, risk: None, terms: Default::default() }));
                    match (&quote, &outcome) {
                        (Err(rejection), _) => prop_assert_eq!(outcome.as_ref().err(), Some(rejection)),
                        (Ok((_, total)), Ok(Reply::Ordered(order))) => {
                            prop_assert!(!declined && !wrong_amount);
                            prop_assert_eq!(order.total, *total);
                            world.orders.push((**order).clone());
                        }
                        (Ok(_), Err(Rejection::PaymentDeclined { .. })) => prop_assert!(declined),
                        (Ok(_), Err(Rejection::CartChanged)) => prop_assert!(wrong_amount),
                        (Ok(_), other) => prop_assert!(false, "unexpected checkout outcome {:?}", other),
                    }
                }
                Op::CloseDrop => {
                    let creator = world.creator;
                    let outcome = world.run(Envelope::plain(Command::CloseDrop { actor: creator, drop_id: world.drop_id }));
                    prop_assert!(outcome.is_ok());
                }
                Op::RequestRefund { order_idx, by_creator, line, restock, needs_approval } => {
                    let Some(order) = world.orders.get(order_idx).cloned() else { continue };
                    let actor = if by_creator { world.creator } else { world.buyers.iter().copied().find(|buyer| buyer.id == order.buyer_id).unwrap() };
                    let refunded_before: u64 = order.lines.iter().map(|line| u64::from(claimed_units(&world.state, &order, line.hold_id))).sum();
                    let ordered: u64 = order.lines.iter().map(|line| u64::from(line.quantity)).sum();
                    let lines = line.map(|(idx, quantity)| vec![(order.lines[idx % order.lines.len()].hold_id, quantity)]);
                    let refund = NewRefund {
                        lines: lines.clone(),
                        reason: "changed my mind".into(),
                        restock,
                        approval_threshold_minor: if needs_approval { 0 } else { 1_000_000 },
                    };
                    let outcome = world.run(Envelope::plain(Command::RequestRefund { actor, order_id: order.id, refund }));
                    match (&lines, &outcome) {
                        (Some(lines), Err(Rejection::Invalid { .. })) => prop_assert_eq!(lines[0].1, 0),
                        (_, Err(Rejection::RefundExceedsPaid { refundable_units })) => {
                            prop_assert_eq!(*refundable_units, ordered - refunded_before);
                            let asked = lines.as_ref().map_or(1, |lines| u64::from(lines[0].1));
                            let line_left = lines.as_ref().map_or(0, |lines| {
                                let line = order.lines.iter().find(|line| line.hold_id == lines[0].0).unwrap();
                                u64::from(line.quantity - claimed_units(&world.state, &order, line.hold_id))
                            });
                            prop_assert!(asked > line_left);
                        }
                        (_, Ok(Reply::Refund(refund))) => {
                            prop_assert!(refund.units() <= ordered - refunded_before);
                            let status = if needs_approval { RefundStatus::PendingApproval } else { RefundStatus::Approved };
                            prop_assert_eq!(refund.status, status);
                            prop_assert_eq!(refund.amount.minor, 1_500 * refund.units() as i64);
                            world.refunds.push(refund.id);
                        }
                        (_, other) => prop_assert!(false, "unexpected refund outcome {:?}", other),
                    }
                }
                Op::DecideRefund { refund_idx, admin, approve } => {
                    let Some(&refund_id) = world.refunds.get(refund_idx) else { continue };
                    let before = world.state.refund(refund_id).unwrap().clone();
                    let actor = if admin { Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin } } else { world.creator };
                    let decision = if approve { RefundDecision::Approve } else { RefundDecision::Reject { reason: "no".into() } };
                    let outcome = world.run(Envelope::plain(Command::DecideRefund { actor, refund_id, decision }));
                    let after = world.state.refund(refund_id).unwrap();
                    match (before.status, approve) {
                        (RefundStatus::PendingApproval, true) => {
                            let both = if admin { before.creator_approval.is_some() } else { before.platform_approval.is_some() };
                            let status = if both { RefundStatus::Approved } else { RefundStatus::PendingApproval };
                            prop_assert_eq!(after.status, status);
                        }
                        (RefundStatus::PendingApproval, false) => prop_assert_eq!(after.status, RefundStatus::Rejected),
                        (RefundStatus::Approved, true) => prop_assert_eq!(after, &before),
                        (RefundStatus::Executed, true)
                            if if admin { before.platform_approval.is_some() } else { before.creator_approval.is_some() } =>
                        {
                            prop_assert_eq!(outcome, Ok(Reply::Refund(Box::new(before.clone()))));
                            prop_assert_eq!(after, &before);
                        }
                        (status, _) => {
                            prop_assert_eq!(outcome, Err(Rejection::RefundNotPending { status }));
                            prop_assert_eq!(after, &before);
                        }
                    }
                }
                Op::CompleteRefund { refund_idx } => {
                    let Some(&refund_id) = world.refunds.get(refund_idx) else { continue };
                    let before = world.state.refund(refund_id).unwrap().clone();
                    let drop_before = world.state.drop(world.drop_id).unwrap().clone();
                    let command = Command::CompleteRefund { refund_id, provider_refund_id: "re_1".into() };
                    let outcome = world.run(Envelope::plain(command));
                    let drop = world.state.drop(world.drop_id).unwrap();
                    match before.status {
                        RefundStatus::Approved => {
                            prop_assert!(outcome.is_ok());
                            prop_assert_eq!(drop.sold, drop_before.sold - before.units());
                            let restocked = before.restock && drop_before.phase == DropPhase::Open;
                            let (to_remaining, to_released) = if restocked { (before.units(), 0) } else { (0, before.units()) };
                            prop_assert_eq!(drop.remaining, drop_before.remaining + to_remaining);
                            prop_assert_eq!(drop.released, drop_before.released + to_released);
                        }
                        RefundStatus::Executed => {
                            prop_assert!(outcome.is_ok());
                            prop_assert_eq!(drop, &drop_before);
                        }
                        status => prop_assert_eq!(outcome, Err(Rejection::RefundNotPending { status })),
                    }
                }
            }
            check(&world)?;
        }

        let due = world.state.advance(world.now);
        world.events.extend(due);
        let mut replayed = State::default();
        for event in &world.events {
            replayed.apply(event);
        }
        // Every timer due by now already fired in the live run, so advancing the replayed state only
        // forgets the idempotency records the live run forgot.
        prop_assert!(replayed.advance(world.now).is_empty());
        prop_assert_eq!(replayed, world.state);
    }
}

#[test]
fn a_drop_opens_on_time_and_expired_holds_return_units() {
    let mut world = World::new(2, 2);
    let buyer = world.buyers[0];
    let drop_id = world.drop_id;
    let claim = |quantity| Envelope::plain(Command::Claim { actor: buyer, drop_id, quantity, risk: None });
    assert_eq!(world.run(claim(1)), Err(Rejection::DropNotOpen));
    world.now = START.plus_ms(1_000);
    assert!(matches!(world.run(claim(2)), Ok(Reply::Claimed(_))));
    assert_eq!(world.state.drop(drop_id).unwrap().status(), DropStatus::SoldOut);
    assert_eq!(world.run(claim(1)), Err(Rejection::LimitExceeded { limit: 2, already: 2 }));
    world.now = START.plus_ms(11_000);
    let expired = world.state.advance(world.now);
    assert!(matches!(expired.as_slice(), [Event::HoldExpired { quantity: 2, .. }]));
    let drop = world.state.drop(drop_id).unwrap();
    assert_eq!((drop.status(), drop.remaining, drop.held), (DropStatus::Open, 2, 0));
}

#[test]
fn a_cart_whose_holds_all_expired_is_over() {
    let mut world = World::new(5, 5);
    let buyer = world.buyers[0];
    world.now = START.plus_ms(1_000);
    let claim = Envelope::plain(Command::Claim { actor: buyer, drop_id: world.drop_id, quantity: 1, risk: None });
    let Ok(Reply::Claimed(eur_hold)) = world.run(claim) else { panic!("claim") };
    world.now = world.now.plus_ms(11_000);
    let creator = world.creator;
    let room_id = world.state.drop(world.drop_id).unwrap().room_id;
    let usd = Money { minor: 900, currency: "USD".parse().unwrap() };
    let product = Command::CreateProduct {
        actor: creator,
        title: "zine".into(),
        price: usd,
        stock: 3,
        fulfilment: Fulfilment::Digital,
        edition: None,
    };
    let Ok(Reply::Product(product)) = world.run(Envelope::plain(product)) else { panic!("product") };
    let new_drop = NewDrop {
        split_contract_id: None,
        room_id,
        product_id: product.id,
        quantity: 3,
        per_buyer_limit: 3,
        hold_seconds: 60,
        opens_at: None,
        closes_at: None,
    };
    let Ok(Reply::Drop(usd_drop)) = world.run(Envelope::plain(Command::CreateDrop { actor: creator, drop: new_drop }))
    else {
        panic!("drop")
    };
    let claim = Envelope::plain(Command::Claim { actor: buyer, drop_id: usd_drop.id, quantity: 1, risk: None });
    let Ok(Reply::Claimed(usd_hold)) = world.run(claim) else { panic!("a USD claim after the EUR hold expired") };
    assert_ne!(usd_hold.cart_id, eur_hold.cart_id, "the expired cart is over; the claim opened a new one");
    let old_cart = Envelope::plain(Command::Checkout {
        actor: buyer,
        cart_id: eur_hold.cart_id,
        payment: PaymentOutcome::NotAttempted,
        risk: None,
        terms: Default::default(),
    });
    assert_eq!(world.run(old_cart), Err(Rejection::CartExpired));
}

#[test]
fn an_order_is_refused_unless_the_charged_holds_are_still_the_cart() {
    let mut world = World::new(5, 5);
    let buyer = world.buyers[0];
    let claim = |world: &mut World| {
        world.run(Envelope::plain(Command::Claim { actor: buyer, drop_id: world.drop_id, quantity: 1, risk: None }))
    };
    world.now = START.plus_ms(1_000);
    let Ok(Reply::Claimed(first)) = claim(&mut world) else { panic!("claim") };
    world.now = world.now.plus_ms(5_000);
    let Ok(Reply::Claimed(_second)) = claim(&mut world) else { panic!("claim") };
    let (lines, total) = world.state.checkout_quote(&buyer, first.cart_id).unwrap();
    assert_eq!(lines.len(), 2);
    // Between quote and completion the first hold expires and another of the same price joins the
    // still-live cart: the same total, different holds.
    world.now = world.now.plus_ms(6_000);
    let Ok(Reply::Claimed(third)) = claim(&mut world) else { panic!("claim") };
    assert_eq!(third.cart_id, first.cart_id);
    assert_eq!(world.state.checkout_quote(&buyer, first.cart_id).unwrap().1, total);
    let payment = PaymentOutcome::Approved {
        method: "pm_card_visa".into(),
        charge_id: "ch_1".into(),
        amount: total,
        quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
    };
    let outcome = world.run(Envelope::plain(Command::Checkout {
        actor: buyer,
        cart_id: first.cart_id,
        payment,
        risk: None,
        terms: Default::default(),
    }));
    assert_eq!(outcome, Err(Rejection::CartChanged));
}

#[test]
fn risk_verdicts_are_obeyed_journaled_and_replayed() {
    let mut world = World::new(5, 5);
    world.now = START.plus_ms(1_000);
    let buyer = world.buyers[0];
    let admin = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };
    let verdict = |action| {
        Some(Box::new(risk::Verdict {
            action,
            rule_index: 0,
            rule_name: Some("r".into()),
            signals: vec![("quantity".into(), 2)],
        }))
    };
    let drop_id = world.drop_id;
    let claim = |risk| Envelope::plain(Command::Claim { actor: buyer, drop_id, quantity: 2, risk });
    let n_events = world.events.len();
    assert_eq!(world.run(claim(verdict(risk::Action::Block))), Err(Rejection::BlockedByRisk));
    let new_events = &world.events[n_events..];
    assert!(matches!(new_events.last(), Some(Event::RiskDecided { cart_id: None, .. })), "{new_events:?}");
    assert!(!new_events.iter().any(|event| matches!(event, Event::HoldPlaced { .. })), "a block places nothing");
    assert_eq!(world.state.drop(drop_id).unwrap().remaining, 5);

    let Ok(Reply::Claimed(receipt)) = world.run(claim(verdict(risk::Action::Review))) else { panic!("claim") };
    assert!(world.state.cart(receipt.cart_id).unwrap().flagged_for_review);
    let (lines, amount) = world.state.checkout_quote(&buyer, receipt.cart_id).unwrap();
    let payment = PaymentOutcome::Approved {
        method: "pm_card_visa".into(),
        charge_id: "ch_1".into(),
        amount,
        quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
    };
    let checkout =
        Command::Checkout { actor: buyer, cart_id: receipt.cart_id, payment, risk: None, terms: Default::default() };
    let Ok(Reply::Ordered(order)) = world.run(Envelope::plain(checkout)) else { panic!("checkout") };
    assert_eq!(order.review.as_ref().map(|review| review.status), Some(ReviewStatus::Pending));

    let review =
        |actor| Envelope::plain(Command::ReviewOrder { actor, order_id: order.id, approve: true, reason: None });
    assert_eq!(world.run(review(buyer)), Err(Rejection::Forbidden));
    let Ok(Reply::Ordered(approved)) = world.run(review(admin)) else { panic!("review") };
    assert_eq!(approved.review.map(|review| review.status), Some(ReviewStatus::Approved));
    assert_eq!(world.run(review(admin)), Err(Rejection::OrderNotInReview));

    let save = |actor, text: &str| {
        let rules = risk::parse(text).map(std::sync::Arc::new);
        Envelope::plain(Command::SaveRiskRules { actor, text: text.into(), rules })
    };
    assert_eq!(world.run(save(buyer, "")), Err(Rejection::Forbidden));
    assert!(matches!(world.run(save(admin, "block if nope > 1")), Err(Rejection::Invalid { .. })));
    assert_eq!(
        world.run(save(admin, "block if quantity > 1")),
        Ok(Reply::RiskRules { text: "block if quantity > 1".into(), version: 1 })
    );
    assert_eq!(world.state.risk_rules(), Some(("block if quantity > 1", 1)));

    let mut replayed = State::default();
    for event in &world.events {
        replayed.apply(event);
    }
    assert_eq!(replayed, world.state);
    world.state.check_invariants().unwrap();
}
