//! Money edge cases that once broke `apply` or leaked data, each a fixed scenario: disputes on
//! orders paid before the ledger, disputes beside refunds asked for and not paid back yet, a fraud
//! review rejecting a disputed order, what a payee may see of a shared book, a won dispute
//! giving back money under its original delay and reserve, and payout rules moving profiles.
use domain::*;

const START: Timestamp = Timestamp(1_790_000_000_000);
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };

struct W {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    serial: u64,
}

impl W {
    fn ok(&mut self, command: Command) -> Reply {
        let outcome = self.state.execute(self.now, Envelope::plain(command), &mut self.events);
        outcome.unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }
    fn account(&mut self, partition: Partition, handle: &str, role: Role) -> Actor {
        let partner_kind = (role == Role::Partner).then_some(PartnerKind::Venue);
        let command = Command::CreateAccount {
            partition,
            handle: handle.into(),
            role,
            partner_kind,
            token_sha256: "00".repeat(32),
        };
        let Reply::Account(account) = self.ok(command) else { panic!() };
        Actor { id: account.id, role }
    }
    /// A creator with one drop of `price` EUR (no split); returns (creator, buyer, drop).
    fn new(price: i64) -> (W, Actor, Actor, DropId) {
        let mut w = W { state: State::default(), events: Vec::new(), now: START, serial: 0 };
        let buyer = w.account(20, "buyer", Role::Buyer);
        let creator = w.account(3, "creator", Role::Creator);
        let Reply::Room(room) = w.ok(Command::CreateRoom { actor: creator, title: "room".into(), template_id: None })
        else {
            panic!()
        };
        let price = Money { minor: price, currency: "EUR".parse().unwrap() };
        let Reply::Product(product) = w.ok(Command::CreateProduct {
            actor: creator,
            title: "tee".into(),
            price,
            stock: 1_000,
            fulfilment: Fulfilment::Ship,
            edition: None,
        }) else {
            panic!()
        };
        let drop = NewDrop {
            room_id: room.id,
            split_contract_id: None,
            product_id: product.id,
            quantity: 100,
            per_buyer_limit: 100,
            hold_seconds: 3_600,
            opens_at: None,
            closes_at: None,
        };
        let Reply::Drop(drop) = w.ok(Command::CreateDrop { actor: creator, drop }) else { panic!() };
        (w, creator, buyer, drop.id)
    }
    /// `claims` separate claims of one unit (so as many order lines), then checkout at `fee_bps`.
    fn buy(
        &mut self,
        buyer: Actor,
        drop_id: DropId,
        claims: usize,
        fee_bps: u32,
        risk: Option<risk::Verdict>,
    ) -> Order {
        let mut cart_id = None;
        for _ in 0..claims {
            let Reply::Claimed(claim) = self.ok(Command::Claim { actor: buyer, drop_id, quantity: 1, risk: None })
            else {
                panic!()
            };
            cart_id = Some(claim.cart_id);
        }
        let cart_id = cart_id.unwrap();
        let (lines, amount) = self.state.checkout_quote(&buyer, cart_id).unwrap();
        self.serial += 1;
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: format!("ch_{}", self.serial),
            amount,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let terms =
            Box::new(SaleTerms { fee_bps, default_profile: PayoutProfile::SAME_DAY, profiles: vec![], pickup_seed: 7 });
        let command = Command::Checkout { actor: buyer, cart_id, payment, risk: risk.map(Box::new), terms };
        let Reply::Ordered(order) = self.ok(command) else { panic!() };
        *order
    }
}

#[test]
fn a_dispute_lost_on_an_order_paid_before_the_ledger_moves_nothing() {
    let (mut w, _creator, buyer, drop_id) = W::new(1_000);
    let order = w.buy(buyer, drop_id, 1, 1_000, None);
    // The journal as an older version wrote it: no LedgerPosted.
    let mut old = State::default();
    for event in w.events.iter().filter(|event| !matches!(event, Event::LedgerPosted { .. })) {
        old.apply(event);
    }
    w.state = old;
    let open = Command::OpenDispute { actor: ADMIN, order_id: order.id, amount_minor: None, reason: "cb".into() };
    let Reply::Dispute(dispute) = w.ok(open) else { panic!() };
    let n_events = w.events.len();
    w.ok(Command::DecideDispute { actor: ADMIN, dispute_id: dispute.id, won: false });
    assert!(!w.events[n_events..].iter().any(|event| matches!(event, Event::LedgerPosted { .. })));
    w.state.check_invariants().unwrap();
}

#[test]
fn a_fraud_review_rejecting_a_disputed_order_refunds_nothing() {
    let (mut w, _creator, buyer, drop_id) = W::new(1_000);
    let verdict = risk::Verdict { action: risk::Action::Review, rule_index: 0, rule_name: None, signals: vec![] };
    let order = w.buy(buyer, drop_id, 1, 1_000, Some(verdict));
    w.ok(Command::OpenDispute { actor: ADMIN, order_id: order.id, amount_minor: None, reason: "cb".into() });
    w.ok(Command::ReviewOrder { actor: ADMIN, order_id: order.id, approve: false, reason: None });
    assert_eq!(w.state.order_refunds(order.id).count(), 0, "the dispute settles the charge, not a refund");
    w.state.check_invariants().unwrap();
}

/// A refund asked for before a dispute and paid back after it still fits: the dispute left its line.
#[test]
fn a_refund_paid_back_after_a_dispute_opened_still_fits() {
    for (price, claims, fee_bps, disputed) in [
        (3i64, 2, 5_000, None),
        (1_999, 3, 1_000, Some(1_998)),
        (4_999, 3, 1_000, Some(4_998)),
        (101, 3, 1_000, Some(100)),
    ] {
        let (mut w, _creator, buyer, drop_id) = W::new(price);
        let order = w.buy(buyer, drop_id, claims, fee_bps, None);
        let refund = NewRefund {
            lines: Some(vec![(order.lines[0].hold_id, 1)]),
            reason: "returned".into(),
            restock: false,
            approval_threshold_minor: i64::MAX,
        };
        let Reply::Refund(refund) = w.ok(Command::RequestRefund { actor: buyer, order_id: order.id, refund }) else {
            panic!()
        };
        assert_eq!(refund.status, RefundStatus::Approved, "waiting for the provider");
        let open =
            Command::OpenDispute { actor: ADMIN, order_id: order.id, amount_minor: disputed, reason: "cb".into() };
        w.ok(open);
        w.ok(Command::CompleteRefund { refund_id: refund.id, provider_refund_id: "re_1".into() });
        w.state.check_invariants().unwrap_or_else(|error| panic!("price {price}: {error}"));
        // And a refund asked for now is refused: the dispute decides.
        let later =
            NewRefund { lines: None, reason: "again".into(), restock: false, approval_threshold_minor: i64::MAX };
        let outcome = w.state.execute(
            w.now,
            Envelope::plain(Command::RequestRefund { actor: buyer, order_id: order.id, refund: later }),
            &mut w.events,
        );
        assert_eq!(outcome, Err(Rejection::OrderDisputed));
    }
}

/// Two creators of one partition share a book: each sees only its own postings and earnings.
#[test]
fn a_payee_sees_only_its_own_postings() {
    let (mut w, creator_a, buyer, drop_a) = W::new(1_000);
    let creator_b = w.account(3, "creator_b", Role::Creator);
    let Reply::Room(room) = w.ok(Command::CreateRoom { actor: creator_b, title: "room".into(), template_id: None })
    else {
        panic!()
    };
    let price = Money { minor: 777, currency: "EUR".parse().unwrap() };
    let product = Command::CreateProduct {
        actor: creator_b,
        title: "mug".into(),
        price,
        stock: 10,
        fulfilment: Fulfilment::Ship,
        edition: None,
    };
    let Reply::Product(product) = w.ok(product) else { panic!() };
    let drop = NewDrop {
        room_id: room.id,
        split_contract_id: None,
        product_id: product.id,
        quantity: 5,
        per_buyer_limit: 5,
        hold_seconds: 3_600,
        opens_at: None,
        closes_at: None,
    };
    let Reply::Drop(drop_b) = w.ok(Command::CreateDrop { actor: creator_b, drop }) else { panic!() };
    w.buy(buyer, drop_a, 1, 1_000, None);
    let buyer2 = w.account(21, "buyer2", Role::Buyer);
    w.buy(buyer2, drop_b.id, 1, 1_000, None);
    let Reply::Settlement(settlement) = w.ok(Command::StartSettlement { actor: Some(ADMIN), minimum_minor: 1 }) else {
        panic!()
    };
    w.ok(Command::SettleBook { settlement: *settlement, book: 3 });
    let seen: Vec<_> =
        w.state.ledger_transactions(Some(creator_a.id)).filter_map(|t| t.seen_by(creator_a.id)).collect();
    assert!(seen.iter().any(|t| t.cause.kind() == "matured"), "the shared maturing is shown");
    for transaction in &seen {
        assert!(!transaction.concerns(creator_b.id), "creator B's postings shown to A: {transaction:?}");
        assert!(!format!("{:?}", transaction.cause).contains(&creator_b.id.to_string()));
    }
}

/// A dispute won gives the money back where it was taken from: the delay and reserve still hold.
#[test]
fn a_won_dispute_keeps_the_delay_and_the_reserve() {
    let (mut w, creator, buyer, drop_id) = W::new(10_000);
    let profile = PayoutProfile { delay_days: 7, reserve_bps: 5_000, reserve_days: 90, release_on_fulfilment: false };
    w.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile });
    let Reply::Claimed(claim) = w.ok(Command::Claim { actor: buyer, drop_id, quantity: 1, risk: None }) else {
        panic!()
    };
    let (lines, total) = w.state.checkout_quote(&buyer, claim.cart_id).unwrap();
    let payment = PaymentOutcome::Approved {
        method: "pm_card_visa".into(),
        charge_id: "ch_x".into(),
        amount: total,
        quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
    };
    let terms = Box::new(SaleTerms {
        fee_bps: 1_000,
        default_profile: PayoutProfile::SAME_DAY,
        profiles: vec![(creator.id, profile)],
        pickup_seed: 7,
    });
    let checkout = Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms };
    let Reply::Ordered(order) = w.ok(checkout) else { panic!() };
    let before = w.state.payee_balances(creator.id);
    let open = Command::OpenDispute { actor: ADMIN, order_id: order.id, amount_minor: None, reason: "cb".into() };
    let Reply::Dispute(dispute) = w.ok(open) else { panic!() };
    w.ok(Command::DecideDispute { actor: ADMIN, dispute_id: dispute.id, won: true });
    assert_eq!(w.state.payee_balances(creator.id), before, "back to pending and reserved, nothing available");
    // It still matures on its dates: the delay's part after 7 days, the reserve after 90.
    for (days, available) in [(8, 4_500), (91, 9_000)] {
        w.now = START.plus_ms(days * 86_400_000);
        let start = Command::StartSettlement { actor: Some(ADMIN), minimum_minor: 1_000_000 };
        let Reply::Settlement(settlement) = w.ok(start) else { panic!() };
        w.ok(Command::SettleBook { settlement: *settlement, book: 3 });
        assert_eq!(w.state.payee_balances(creator.id)[0].available_minor, available, "day {days}");
    }
    w.state.check_invariants().unwrap();
}

fn rule_outcome(text: &str, age_days: i64, counts: risk::RecordCounts) -> Option<(PayoutProfile, risk::PayoutVerdict)> {
    let rules = risk::parse_payout_rules(text).unwrap();
    rules.first_match(&risk::PayeeRecord::of(age_days, &counts)).map(|(terms, verdict)| (terms.into(), verdict))
}

fn apply_rule(
    w: &mut W,
    account_id: AccountId,
    version: u64,
    outcome: Option<(PayoutProfile, risk::PayoutVerdict)>,
) -> bool {
    let command = Command::ApplyPayoutRule { account_id, rules_version: version, by: ADMIN.id, outcome };
    let Reply::PayoutRuleApplied { changed } = w.ok(command) else { panic!() };
    changed
}

/// A payee's record counts its recent orders and, of those, the refunded, disputed (lost) and
/// reviewed (rejected) ones; an order older than the record's start is left out.
#[test]
fn a_payee_record_counts_refunds_disputes_and_reviews() {
    let (mut w, creator, buyer, drop_id) = W::new(1_000);
    let old = w.buy(buyer, drop_id, 1, 1_000, None);
    w.now = START.plus_ms(100 * DAY_MS);
    let since = Timestamp(w.now.0 - 90 * DAY_MS as i64);
    let refunded = w.buy(buyer, drop_id, 2, 1_000, None);
    let refund = NewRefund {
        lines: Some(vec![(refunded.lines[0].hold_id, 1)]),
        reason: "x".into(),
        restock: false,
        approval_threshold_minor: 1_000_000,
    };
    let Reply::Refund(refund) = w.ok(Command::RequestRefund { actor: buyer, order_id: refunded.id, refund }) else {
        panic!()
    };
    w.ok(Command::CompleteRefund { refund_id: refund.id, provider_refund_id: "re_1".into() });
    let disputed = w.buy(buyer, drop_id, 1, 1_000, None);
    let Reply::Dispute(dispute) =
        w.ok(Command::OpenDispute { actor: ADMIN, order_id: disputed.id, amount_minor: None, reason: "cb".into() })
    else {
        panic!()
    };
    w.ok(Command::DecideDispute { actor: ADMIN, dispute_id: dispute.id, won: false });
    let verdict = risk::Verdict { action: risk::Action::Review, rule_index: 0, rule_name: None, signals: vec![] };
    let reviewed = w.buy(buyer, drop_id, 1, 1_000, Some(verdict));
    w.ok(Command::ReviewOrder { actor: ADMIN, order_id: reviewed.id, approve: false, reason: None });
    w.buy(buyer, drop_id, 1, 1_000, None);
    let records = w.state.payee_records(since, &w.state.earning_payees());
    // The rejected order's refund is approved, not paid back yet: not counted as refunded.
    let expected =
        risk::RecordCounts { orders: 4, refunded: 1, disputed: 1, disputes_lost: 1, reviewed: 1, rejected: 1 };
    assert_eq!(records, [(creator.id, expected)], "order {} is older than the record", old.id);
    assert_eq!(w.state.payee_records(w.now.plus_ms(1), &[creator.id]), []);
}

/// Rules move a profile and take it back to the default; an admin's profile is pinned against them
/// until cleared; a run under older rules than the profile's changes nothing.
#[test]
fn payout_rules_move_profiles_an_admin_did_not_pin() {
    let (mut w, creator, _buyer, _drop_id) = W::new(1_000);
    let text = "rule \"new\": delay 14 days if account_age_days < 30";
    let young = rule_outcome(text, 3, risk::RecordCounts::default());
    assert!(apply_rule(&mut w, creator.id, 1, young.clone()));
    assert!(!apply_rule(&mut w, creator.id, 1, young.clone()), "the same profile again: nothing journaled");
    let in_force = w.state.payout_profile_in_force(creator.id).unwrap();
    assert_eq!((in_force.profile.delay_days, in_force.rule.as_ref().unwrap().rules_version), (14, 1));
    // Newer rules giving the same terms by another rule: the profile must name the rule that set it.
    let other = rule_outcome("rule \"chargebacks\": delay 14 days if disputes_90d >= 0", 3, Default::default());
    assert!(apply_rule(&mut w, creator.id, 1, other));
    let in_force = w.state.payout_profile_in_force(creator.id).unwrap();
    assert_eq!(in_force.rule.as_ref().unwrap().verdict.rule_name.as_deref(), Some("chargebacks"));
    assert!(!apply_rule(&mut w, creator.id, 0, None), "older rules than the profile's");
    assert!(apply_rule(&mut w, creator.id, 2, None), "no rule matches any more: the default");
    assert_eq!(w.state.payout_profile(creator.id), None);

    let pinned = PayoutProfile { delay_days: 3, reserve_bps: 0, reserve_days: 0, release_on_fulfilment: false };
    w.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile: pinned });
    let before = w.events.len();
    assert!(!apply_rule(&mut w, creator.id, 3, young.clone()), "pinned by an admin");
    assert_eq!(w.events.len(), before);
    assert_eq!(w.state.payout_profile(creator.id), Some(pinned));
    let Reply::PayoutProfileCleared { .. } = w.ok(Command::ClearPayoutProfile { actor: ADMIN, account_id: creator.id })
    else {
        panic!()
    };
    assert!(apply_rule(&mut w, creator.id, 3, young), "cleared: the rules' again");

    // A rule-set profile an admin sets to the same terms becomes pinned.
    let same = w.state.payout_profile(creator.id).unwrap();
    w.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile: same });
    assert!(w.state.payout_profile_in_force(creator.id).unwrap().rule.is_none());
    w.state.check_invariants().unwrap();
}

#[test]
fn payout_rules_are_saved_by_admins_only_and_whole() {
    let (mut w, creator, buyer, _drop_id) = W::new(1_000);
    let save = |actor, text: &str| Command::SavePayoutRules {
        actor,
        text: text.into(),
        rules: risk::parse_payout_rules(text).map(std::sync::Arc::new),
    };
    let refused = w.state.execute(w.now, Envelope::plain(save(creator, "same_day if orders_90d > 1")), &mut w.events);
    assert_eq!(refused, Err(Rejection::Forbidden));
    let refused = w.state.execute(w.now, Envelope::plain(save(ADMIN, "same_day if orders > 1")), &mut w.events);
    assert!(matches!(refused, Err(Rejection::Invalid { ref mistakes, .. }) if mistakes.len() == 1), "{refused:?}");
    let Reply::PayoutRules { version, .. } = w.ok(save(ADMIN, "same_day if orders_90d > 1")) else { panic!() };
    let Reply::PayoutRules { version: next, .. } = w.ok(save(ADMIN, "")) else { panic!() };
    assert_eq!((version, next), (1, 2));
    assert_eq!(w.state.payout_rules().map(|(text, version, _)| (text.to_owned(), version)), Some((String::new(), 2)));
    let command = Command::ApplyPayoutRule { account_id: buyer.id, rules_version: 2, by: ADMIN.id, outcome: None };
    let refused = w.state.execute(w.now, Envelope::plain(command), &mut w.events);
    assert!(matches!(refused, Err(Rejection::Invalid { .. })), "a buyer is never paid out");
}

/// A profile that releases on fulfilment: a line handed over against the buyer's code matures at
/// the next window; one its payee reports delivered itself, and one returned, on their dates;
/// replay rebuilds the same.
#[test]
fn a_handover_releases_the_delay_and_the_reserve_early() {
    let (mut w, creator, buyer, ship_drop) = W::new(10_000);
    let profile = PayoutProfile { delay_days: 14, reserve_bps: 5_000, reserve_days: 30, release_on_fulfilment: true };
    w.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile });
    let room_id = w.state.drop(ship_drop).unwrap().room_id;
    let price = Money { minor: 10_000, currency: "EUR".parse().unwrap() };
    let product = Command::CreateProduct {
        actor: creator,
        title: "mug".into(),
        price,
        stock: 100,
        fulfilment: Fulfilment::Pickup,
        edition: None,
    };
    let Reply::Product(product) = w.ok(product) else { panic!() };
    let drop = NewDrop {
        room_id,
        split_contract_id: None,
        product_id: product.id,
        quantity: 10,
        per_buyer_limit: 10,
        hold_seconds: 3_600,
        opens_at: None,
        closes_at: None,
    };
    let Reply::Drop(pickup_drop) = w.ok(Command::CreateDrop { actor: creator, drop }) else { panic!() };
    let mut orders = Vec::new();
    for (charge, drop_id) in [("ch_a", pickup_drop.id), ("ch_b", ship_drop), ("ch_c", pickup_drop.id)] {
        let Reply::Claimed(claim) = w.ok(Command::Claim { actor: buyer, drop_id, quantity: 1, risk: None }) else {
            panic!()
        };
        let (lines, total) = w.state.checkout_quote(&buyer, claim.cart_id).unwrap();
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: charge.into(),
            amount: total,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let terms = Box::new(SaleTerms {
            fee_bps: 1_000,
            default_profile: PayoutProfile::SAME_DAY,
            profiles: vec![(creator.id, profile)],
            pickup_seed: 7,
        });
        let checkout = Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms };
        let Reply::Ordered(order) = w.ok(checkout) else { panic!() };
        orders.push(order);
    }
    // On day 1 the creator hands A and C over against the buyer's code (C comes back), and
    // reports B delivered itself.
    w.now = START.plus_ms(86_400_000);
    let steps = [
        (0, vec![FulfilmentState::Accepted, FulfilmentState::ReadyForPickup, FulfilmentState::PickedUp]),
        (1, vec![FulfilmentState::Accepted, FulfilmentState::InTransit, FulfilmentState::Delivered]),
        (
            2,
            vec![
                FulfilmentState::Accepted,
                FulfilmentState::ReadyForPickup,
                FulfilmentState::PickedUp,
                FulfilmentState::Returned,
            ],
        ),
    ];
    for (n, path) in steps {
        let fulfilment = w.state.order_fulfilment(orders[n].id).next().unwrap().clone();
        for to in path {
            let pickup_code = (to == FulfilmentState::PickedUp).then(|| fulfilment.pickup_code.clone().unwrap());
            let update = Command::UpdateFulfilment {
                actor: creator,
                fulfilment_id: fulfilment.id,
                to: Some(to),
                eta: None,
                pickup_code,
            };
            w.ok(update);
        }
    }
    // Each sale earns the creator 9 000 (10 % fee): 4 500 delayed 14 days, 4 500 reserved 30 days.
    let settle = |w: &mut W, days: u64| {
        w.now = START.plus_ms(days * 86_400_000);
        let start = Command::StartSettlement { actor: Some(ADMIN), minimum_minor: 1_000_000 };
        let Reply::Settlement(settlement) = w.ok(start) else { panic!() };
        w.ok(Command::SettleBook { settlement: *settlement, book: orders[0].id.partition() });
        let balance = w.state.payee_balances(creator.id)[0].clone();
        (balance.available_minor, balance.pending_minor, balance.reserved_minor)
    };
    assert_eq!(settle(&mut w, 2), (9_000, 9_000, 9_000), "only A, handed over against the code");
    let earnings = w.state.earnings_of(creator.id, 10);
    let released = earnings.iter().find(|view| view.order_id == orders[0].id).unwrap();
    assert_eq!(released.released_at, Some(START.plus_ms(86_400_000)));
    assert_eq!(released.available_at, START.plus_ms(86_400_000), "the release date, not the delay's end");
    assert!(earnings.iter().filter(|view| view.order_id != orders[0].id).all(|view| view.released_at.is_none()));
    assert_eq!(settle(&mut w, 15), (18_000, 0, 9_000));
    assert_eq!(settle(&mut w, 31), (27_000, 0, 0));
    w.state.check_invariants().unwrap();
    let mut replayed = State::default();
    for event in &w.events {
        replayed.apply(event);
    }
    assert_eq!(replayed.payee_balances(creator.id), w.state.payee_balances(creator.id));
    assert_eq!(replayed.earnings_of(creator.id, 10), w.state.earnings_of(creator.id, 10));
}

/// Releasing early needs something to release: a same-day profile with it is refused.
#[test]
fn release_on_fulfilment_needs_a_delay_or_a_reserve() {
    let (mut w, creator, _, _) = W::new(10_000);
    let profile = PayoutProfile { release_on_fulfilment: true, ..PayoutProfile::SAME_DAY };
    let set = Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile };
    let outcome = w.state.execute(w.now, Envelope::plain(set), &mut w.events);
    assert!(
        matches!(outcome, Err(Rejection::Invalid { ref field, .. }) if field == "release_on_fulfilment"),
        "{outcome:?}"
    );
}
