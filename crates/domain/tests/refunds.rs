//! Refunds in the domain: the threshold, both sign-offs, rejection, execution with restock or
//! release, what may never be refunded twice, who may do what, and replay.

use domain::*;

const START: Timestamp = Timestamp(1_700_000_000_000);
const THRESHOLD: i64 = 5_000;
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };

struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    creator: Actor,
    buyer: Actor,
    stranger: Actor,
    /// Drop A: 1 500 EUR a unit, 2 bought; drop B: 4 000 EUR a unit, 1 bought.
    drops: [DropId; 2],
    products: [ProductId; 2],
    order: Order,
}

impl World {
    fn run(&mut self, envelope: Envelope) -> Outcome {
        let outcome = self.state.execute(self.now, envelope, &mut self.events);
        self.state.check_invariants().unwrap();
        outcome
    }

    fn ok(&mut self, command: Command) -> Reply {
        match self.run(Envelope::plain(command)) {
            Ok(reply) => reply,
            Err(rejection) => panic!("refused: {rejection:?}"),
        }
    }

    fn new() -> World {
        World::with_checkout_verdict(None)
    }

    /// The same world, with a fraud rule's verdict on the checkout.
    fn with_checkout_verdict(verdict: Option<Box<risk::Verdict>>) -> World {
        let mut state = State::default();
        let mut events = Vec::new();
        macro_rules! run {
            ($command:expr) => {{ state.execute(START, Envelope::plain($command), &mut events).unwrap() }};
        }
        let mut account = |handle: &str, role: Role| match run!(Command::CreateAccount {
            partition: 3,
            handle: handle.into(),
            role,
            partner_kind: None,
            token_sha256: "00".repeat(32),
        }) {
            Reply::Account(account) => Actor { id: account.id, role },
            other => panic!("{other:?}"),
        };
        let creator = account("creator", Role::Creator);
        let buyer = account("buyer", Role::Buyer);
        let stranger = account("stranger", Role::Buyer);
        let Reply::Room(room) = run!(Command::CreateRoom { actor: creator, title: "room".into(), template_id: None })
        else {
            panic!()
        };
        let mut drops = Vec::new();
        let mut products = Vec::new();
        for price in [1_500, 4_000] {
            let price = Money { minor: price, currency: "EUR".parse().unwrap() };
            let Reply::Product(product) = run!(Command::CreateProduct {
                actor: creator,
                title: "tee".into(),
                price,
                stock: 20,
                fulfilment: Fulfilment::Ship,
                edition: None
            }) else {
                panic!()
            };
            let new_drop = NewDrop {
                split_contract_id: None,
                room_id: room.id,
                product_id: product.id,
                quantity: 10,
                per_buyer_limit: 2,
                hold_seconds: 60,
                opens_at: None,
                closes_at: None,
            };
            let Reply::Drop(drop) = run!(Command::CreateDrop { actor: creator, drop: new_drop }) else { panic!() };
            drops.push(drop.id);
            products.push(product.id);
        }
        let Reply::Claimed(first) = run!(Command::Claim { actor: buyer, drop_id: drops[0], quantity: 2, risk: None })
        else {
            panic!()
        };
        run!(Command::Claim { actor: buyer, drop_id: drops[1], quantity: 1, risk: None });
        let (lines, total) = state.checkout_quote(&buyer, first.cart_id).unwrap();
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: "ch_1".into(),
            amount: total,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let Reply::Ordered(order) = run!(Command::Checkout {
            actor: buyer,
            cart_id: first.cart_id,
            payment,
            risk: verdict,
            terms: Default::default()
        }) else {
            panic!()
        };
        assert_eq!(order.total.minor, 7_000);
        World {
            state,
            events,
            now: START,
            creator,
            buyer,
            stranger,
            drops: [drops[0], drops[1]],
            products: [products[0], products[1]],
            order: *order,
        }
    }

    fn request(&self, actor: Actor, lines: Option<Vec<(usize, u32)>>, restock: bool) -> Command {
        let lines = lines.map(|lines| lines.into_iter().map(|(idx, n)| (self.order.lines[idx].hold_id, n)).collect());
        let refund = NewRefund { lines, reason: "damaged".into(), restock, approval_threshold_minor: THRESHOLD };
        Command::RequestRefund { actor, order_id: self.order.id, refund }
    }

    fn refund(&mut self, command: Command) -> Refund {
        match self.ok(command) {
            Reply::Refund(refund) => *refund,
            other => panic!("{other:?}"),
        }
    }

    fn decide(&mut self, actor: Actor, refund_id: RefundId, decision: RefundDecision) -> Outcome {
        self.run(Envelope::plain(Command::DecideRefund { actor, refund_id, decision }))
    }

    fn complete(&mut self, refund_id: RefundId) -> Outcome {
        let provider_refund_id = format!("re_{refund_id}");
        self.run(Envelope::plain(Command::CompleteRefund { refund_id, provider_refund_id }))
    }

    fn counters(&self, idx: usize) -> (u64, u64, u64, u64) {
        let drop = self.state.drop(self.drops[idx]).unwrap();
        (drop.remaining, drop.held, drop.sold, drop.released)
    }

    fn assert_replay_rebuilds(&self) {
        let mut replayed = State::default();
        for event in &self.events {
            replayed.apply(event);
        }
        assert_eq!(replayed, self.state);
    }
}

#[test]
fn at_or_under_the_threshold_a_refund_is_approved_at_once_and_restocks_an_open_drop() {
    let mut world = World::new();
    let buyer = world.buyer;
    let refund = world.refund(world.request(buyer, Some(vec![(0, 1)]), true));
    assert_eq!((refund.status, refund.amount.minor, refund.needs_approval), (RefundStatus::Approved, 1_500, false));
    assert_eq!(world.counters(0), (8, 0, 2, 0), "nothing moves before the money is back");
    let Ok(Reply::Refund(executed)) = world.complete(refund.id) else { panic!() };
    assert_eq!(executed.status, RefundStatus::Executed);
    assert_eq!(executed.provider_refund_id.as_deref(), Some(format!("re_{}", refund.id).as_str()));
    assert_eq!(world.counters(0), (9, 0, 1, 0), "the unit is back on sale");
    assert_eq!(world.state.buyer_units(world.drops[0], buyer.id), 1, "and frees the buyer's limit");
    let drop_events: Vec<&Event> =
        world.events.iter().filter(|event| event.stream() == format!("drop/{}", world.drops[0])).collect();
    assert!(matches!(
        drop_events.last(),
        Some(Event::UnitsRefunded { quantity: 1, restocked: true, refund_id, .. }) if *refund_id == refund.id
    ));
    let not_pending = Err(Rejection::RefundNotPending { status: RefundStatus::Executed });
    assert_eq!(world.decide(ADMIN, refund.id, RefundDecision::Approve), not_pending, "nothing to sign off");
    // Completing again (a retry after a lost answer) changes nothing and answers the same refund.
    let n_events = world.events.len();
    assert_eq!(world.complete(refund.id), Ok(Reply::Refund(executed)));
    assert_eq!(world.events.len(), n_events);
    // Exactly the threshold is not above it: 1 500 asked before and 1 500 now against 3 000.
    let at_threshold = NewRefund {
        lines: Some(vec![(world.order.lines[0].hold_id, 1)]),
        reason: "late".into(),
        restock: false,
        approval_threshold_minor: 3_000,
    };
    let command = Command::RequestRefund { actor: buyer, order_id: world.order.id, refund: at_threshold };
    assert_eq!(world.refund(command).status, RefundStatus::Approved);
    world.assert_replay_rebuilds();
}

#[test]
fn above_the_threshold_both_sides_must_sign_off_and_a_closed_drop_releases_the_units() {
    let mut world = World::new();
    let (creator, buyer) = (world.creator, world.buyer);
    // The creator asks; that is not the creator's sign-off.
    let refund = world.refund(world.request(creator, None, true));
    assert_eq!((refund.status, refund.amount.minor, refund.units()), (RefundStatus::PendingApproval, 7_000, 3));
    assert_eq!(world.complete(refund.id), Err(Rejection::RefundNotPending { status: RefundStatus::PendingApproval }));
    assert_eq!(world.decide(buyer, refund.id, RefundDecision::Approve), Err(Rejection::Forbidden));
    assert_eq!(world.decide(world.stranger, refund.id, RefundDecision::Approve), Err(Rejection::NotFound));

    let Ok(Reply::Refund(one_side)) = world.decide(creator, refund.id, RefundDecision::Approve) else { panic!() };
    assert_eq!(one_side.status, RefundStatus::PendingApproval, "one side is not enough");
    assert!(one_side.creator_approval.is_some() && one_side.platform_approval.is_none());
    let n_events = world.events.len();
    assert_eq!(world.decide(creator, refund.id, RefundDecision::Approve), Ok(Reply::Refund(one_side)));
    assert_eq!(world.events.len(), n_events, "the same side approving twice is one sign-off");
    assert_eq!(world.counters(0), (8, 0, 2, 0));

    world.ok(Command::CloseDrop { actor: creator, drop_id: world.drops[1] });
    let Ok(Reply::Refund(approved)) = world.decide(ADMIN, refund.id, RefundDecision::Approve) else { panic!() };
    assert_eq!(approved.status, RefundStatus::Approved);
    assert_eq!(world.decide(creator, refund.id, RefundDecision::Approve), Ok(Reply::Refund(approved)));
    let reject = RefundDecision::Reject { reason: "too late".into() };
    let not_pending = Err(Rejection::RefundNotPending { status: RefundStatus::Approved });
    assert_eq!(world.decide(ADMIN, refund.id, reject), not_pending);
    let allocated_before = world.state.product(world.products[1]).unwrap().allocated;
    let Ok(Reply::Refund(executed)) = world.complete(refund.id) else { panic!() };
    assert_eq!(executed.status, RefundStatus::Executed);
    // Either side approving again (a retry whose answer was lost) answers the executed refund.
    assert_eq!(world.decide(creator, refund.id, RefundDecision::Approve), Ok(Reply::Refund(executed.clone())));
    let reject = RefundDecision::Reject { reason: "too late".into() };
    let not_pending = Err(Rejection::RefundNotPending { status: RefundStatus::Executed });
    assert_eq!(world.decide(ADMIN, refund.id, reject), not_pending);
    assert_eq!(world.counters(0), (10, 0, 0, 0), "the open drop is restocked");
    assert_eq!(world.counters(1), (9, 0, 0, 1), "the closed drop's unit is released");
    assert_eq!(world.state.product(world.products[1]).unwrap().allocated, allocated_before - 1);
    assert_eq!(
        world.run(Envelope::plain(world.request(buyer, None, true))),
        Err(Rejection::RefundExceedsPaid { refundable_units: 0 })
    );
    world.assert_replay_rebuilds();
}

#[test]
fn either_side_may_reject_and_the_units_can_be_asked_for_again() {
    for rejecter in [Side::Creator, Side::Platform] {
        let mut world = World::new();
        let buyer = world.buyer;
        let refund = world.refund(world.request(buyer, Some(vec![(1, 1), (0, 2)]), false));
        assert_eq!(refund.amount.minor, 7_000);
        let actor = match rejecter {
            Side::Creator => world.creator,
            Side::Platform => ADMIN,
        };
        let other = match rejecter {
            Side::Creator => ADMIN,
            Side::Platform => world.creator,
        };
        assert!(world.decide(other, refund.id, RefundDecision::Approve).is_ok());
        let blank = RefundDecision::Reject { reason: " ".into() };
        assert!(matches!(world.decide(actor, refund.id, blank), Err(Rejection::Invalid { .. })));
        let reject = RefundDecision::Reject { reason: "worn".into() };
        let Ok(Reply::Refund(rejected)) = world.decide(actor, refund.id, reject) else { panic!() };
        assert_eq!(rejected.status, RefundStatus::Rejected);
        assert_eq!(rejected.rejection.as_ref().map(|rejection| rejection.reason.as_str()), Some("worn"));
        let not_pending = Err(Rejection::RefundNotPending { status: RefundStatus::Rejected });
        assert_eq!(world.decide(actor, refund.id, RefundDecision::Approve), not_pending.clone());
        assert_eq!(world.decide(other, refund.id, RefundDecision::Approve), not_pending.clone());
        assert_eq!(world.complete(refund.id), not_pending);
        assert_eq!((world.counters(0), world.counters(1)), ((8, 0, 2, 0), (9, 0, 1, 0)), "nothing refunded");
        // A rejection gives the units back to the order: they may be asked for again.
        let again = world.refund(world.request(buyer, None, false));
        assert_eq!(again.units(), 3);
        world.assert_replay_rebuilds();
    }
}

enum Side {
    Creator,
    Platform,
}

#[test]
fn no_unit_is_refunded_twice_and_no_refund_exceeds_what_was_paid() {
    let mut world = World::new();
    let buyer = world.buyer;
    let too_many = world.run(Envelope::plain(world.request(buyer, Some(vec![(0, 3)]), true)));
    assert_eq!(too_many, Err(Rejection::RefundExceedsPaid { refundable_units: 3 }));
    let pending = world.refund(world.request(buyer, Some(vec![(1, 1)]), true));
    assert_eq!(pending.status, RefundStatus::Approved, "4 000 is under the threshold");
    // A pending (not yet executed) refund already claims its unit.
    let again = world.run(Envelope::plain(world.request(buyer, Some(vec![(1, 1)]), true)));
    assert_eq!(again, Err(Rejection::RefundExceedsPaid { refundable_units: 2 }));
    let rest = world.refund(world.request(world.creator, None, true));
    assert_eq!((rest.units(), rest.amount.minor), (2, 3_000), "a full refund takes what is left");
    let nothing_left = world.run(Envelope::plain(world.request(buyer, None, true)));
    assert_eq!(nothing_left, Err(Rejection::RefundExceedsPaid { refundable_units: 0 }));
    // 4 000 asked before and 3 000 now are above the order's 5 000 allowance.
    assert_eq!(rest.status, RefundStatus::PendingApproval);
    world.decide(ADMIN, rest.id, RefundDecision::Approve).unwrap();
    world.decide(world.creator, rest.id, RefundDecision::Approve).unwrap();
    world.complete(pending.id).unwrap();
    world.complete(rest.id).unwrap();
    let refunded: i64 = world.state.order_refunds(world.order.id).map(|refund| refund.amount.minor).sum();
    assert_eq!(refunded, world.order.total.minor);
    world.assert_replay_rebuilds();
}

#[test]
fn requests_are_checked_and_refused_without_a_trace() {
    let mut world = World::new();
    let (buyer, stranger) = (world.buyer, world.stranger);
    let hold = world.order.lines[0].hold_id;
    let n_events = world.events.len();
    let with = |lines: Option<Vec<(HoldId, u32)>>, reason: &str| NewRefund {
        lines,
        reason: reason.into(),
        restock: true,
        approval_threshold_minor: THRESHOLD,
    };
    let unknown_hold = HoldId(EntityId { partition: hold.partition(), serial: 999 });
    for refund in [
        with(None, ""),
        with(None, &"x".repeat(REFUND_REASON_CHARS_MAX + 1)),
        with(None, "bad\u{7}"),
        with(Some(Vec::new()), "ok"),
        with(Some(vec![(hold, 0)]), "ok"),
        with(Some(vec![(hold, 1), (hold, 1)]), "ok"),
        with(Some(vec![(unknown_hold, 1)]), "ok"),
    ] {
        let keyed = Envelope {
            idempotency: Some(IdempotencyKey { owner: buyer.id, key: "k".into(), fingerprint: "f".into() }),
            command: Command::RequestRefund { actor: buyer, order_id: world.order.id, refund },
        };
        assert!(matches!(world.run(keyed), Err(Rejection::Invalid { .. })));
    }
    assert_eq!(world.events.len(), n_events, "invalid requests record nothing, not even their key");
    let stranger_asks = world.run(Envelope::plain(world.request(stranger, None, true)));
    assert_eq!(stranger_asks, Err(Rejection::NotFound));
    assert_eq!(world.run(Envelope::plain(world.request(ADMIN, None, true))), Err(Rejection::Forbidden));
    let missing = OrderId(EntityId { partition: world.order.id.partition(), serial: 999 });
    let refund = with(None, "ok");
    let no_order = Command::RequestRefund { actor: buyer, order_id: missing, refund };
    assert_eq!(world.run(Envelope::plain(no_order)), Err(Rejection::NotFound));
    assert_eq!(world.events.len(), n_events);
}

#[test]
fn a_keyed_request_answers_the_same_refund_and_refunds_once() {
    let mut world = World::new();
    let buyer = world.buyer;
    let keyed = |world: &World, fingerprint: &str| Envelope {
        idempotency: Some(IdempotencyKey { owner: buyer.id, key: "refund-1".into(), fingerprint: fingerprint.into() }),
        command: world.request(buyer, None, true),
    };
    let first = world.run(keyed(&world, "full"));
    let replay = world.run(keyed(&world, "full"));
    assert_eq!(first, replay);
    assert_eq!(world.state.order_refunds(world.order.id).count(), 1);
    assert_eq!(world.run(keyed(&world, "other")), Err(Rejection::IdempotencyKeyReused));
    world.now = world.now.plus_ms(1_000);
    world.assert_replay_rebuilds();
}

#[test]
fn rejecting_an_order_in_review_refunds_all_of_it_and_overrides_refunds_awaiting_sign_off() {
    let verdict = risk::Verdict {
        action: risk::Action::Review,
        rule_index: 0,
        rule_name: Some("bulk".into()),
        signals: vec![("is_checkout".into(), 1)],
    };
    let mut world = World::with_checkout_verdict(Some(Box::new(verdict)));
    assert!(world.order.review.is_some(), "the verdict holds the order for review");
    // The buyer asks for everything back: 70.00 EUR is above the threshold, so it waits.
    let pending = world.refund(world.request(world.buyer, None, true));
    assert_eq!(pending.status, RefundStatus::PendingApproval);
    let reject = Command::ReviewOrder {
        actor: ADMIN,
        order_id: world.order.id,
        approve: false,
        reason: Some("stolen card".into()),
    };
    let Reply::Ordered(order) = world.ok(reject) else { panic!() };
    assert_eq!(order.review.map(|review| review.status), Some(ReviewStatus::Rejected));
    assert_eq!(world.state.refund(pending.id).unwrap().status, RefundStatus::Rejected, "the platform decided");
    let refunds: Vec<Refund> = world.state.order_refunds(world.order.id).cloned().collect();
    let whole = refunds.last().unwrap();
    assert_eq!((whole.status, whole.amount.minor, whole.restock), (RefundStatus::Approved, 7_000, true));
    assert_eq!(whole.reason, "order rejected in a fraud review: stolen card");
    assert!(world.complete(whole.id).is_ok());
    assert_eq!((world.counters(0), world.counters(1)), ((10, 0, 0, 0), (10, 0, 0, 0)), "all restocked");
    world.assert_replay_rebuilds();
}

#[test]
fn an_order_has_one_allowance_so_splitting_or_asking_again_after_a_rejection_needs_both_sign_offs() {
    // The order is 2 × 15.00 and 1 × 40.00; the threshold 50.00.
    let mut world = World::new();
    let buyer = world.buyer;
    let whole = world.refund(world.request(buyer, None, true));
    assert_eq!((whole.status, whole.amount.minor), (RefundStatus::PendingApproval, 7_000));
    let reject = RefundDecision::Reject { reason: "used".into() };
    world.decide(world.creator, whole.id, reject).unwrap();
    // After the rejection the same units, asked for in parts each under the threshold, still wait.
    for line in [(0, 1), (0, 1), (1, 1)] {
        let part = world.refund(world.request(buyer, Some(vec![line]), true));
        assert_eq!(part.status, RefundStatus::PendingApproval, "{line:?} asked after a rejection");
        assert!(part.needs_approval);
    }
    world.assert_replay_rebuilds();

    // Without a rejection: parts are paid back at once while their sum is within the allowance.
    let mut world = World::new();
    let first = world.refund(world.request(buyer, Some(vec![(0, 1)]), true));
    let second = world.refund(world.request(buyer, Some(vec![(0, 1)]), true));
    assert_eq!((first.status, second.status), (RefundStatus::Approved, RefundStatus::Approved), "3 000 of 5 000");
    let third = world.refund(world.request(buyer, Some(vec![(1, 1)]), true));
    assert_eq!(third.status, RefundStatus::PendingApproval, "7 000 is above the allowance");
    world.assert_replay_rebuilds();
}
