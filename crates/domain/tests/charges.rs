//! Charges the journal never heard of (a crash between the provider's charge and the order's
//! commit): `KeepOrphanCharge` journals an unknown one as unused, once, refuses a known one, and a
//! checkout whose charge is already unused places no order.
use domain::*;

const START: Timestamp = Timestamp(1_790_000_000_000);

struct W {
    state: State,
    events: Vec<Event>,
}

impl W {
    fn run(&mut self, command: Command) -> (Outcome, Vec<Event>) {
        let before = self.events.len();
        let outcome = self.state.execute(START, Envelope::plain(command), &mut self.events);
        (outcome, self.events[before..].to_vec())
    }
    fn ok(&mut self, command: Command) -> Reply {
        self.run(command).0.unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }
    fn account(&mut self, partition: Partition, handle: &str, role: Role) -> Actor {
        let command = Command::CreateAccount {
            partition,
            handle: handle.into(),
            role,
            partner_kind: None,
            token_sha256: "00".repeat(32),
        };
        let Reply::Account(account) = self.ok(command) else { panic!() };
        Actor { id: account.id, role }
    }
    /// A buyer's cart with one unit of a 10.00 EUR drop.
    fn cart() -> (W, Actor, CartId) {
        let mut w = W { state: State::default(), events: Vec::new() };
        let buyer = w.account(20, "buyer", Role::Buyer);
        let creator = w.account(3, "creator", Role::Creator);
        let Reply::Room(room) = w.ok(Command::CreateRoom { actor: creator, title: "room".into(), template_id: None })
        else {
            panic!()
        };
        let price = Money { minor: 1_000, currency: "EUR".parse().unwrap() };
        let product = Command::CreateProduct {
            actor: creator,
            title: "tee".into(),
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
        let Reply::Drop(drop) = w.ok(Command::CreateDrop { actor: creator, drop }) else { panic!() };
        let claim = Command::Claim { actor: buyer, drop_id: drop.id, quantity: 1, risk: None };
        let Reply::Claimed(claim) = w.ok(claim) else { panic!() };
        (w, buyer, claim.cart_id)
    }
    /// A checkout of the cart's current quote, paid with `charge_id`.
    fn checkout(&self, buyer: Actor, cart_id: CartId, charge_id: &str) -> Command {
        let (lines, amount) = self.state.checkout_quote(&buyer, cart_id).unwrap();
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: charge_id.into(),
            amount,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        Command::Checkout { actor: buyer, cart_id, payment, risk: None, terms: Box::default() }
    }
    fn assert_replay_rebuilds(&self) {
        self.state.check_invariants().unwrap();
        let mut replayed = State::default();
        for event in &self.events {
            replayed.apply(event);
        }
        assert_eq!(replayed, self.state);
    }
}

fn eur(minor: i64) -> Money {
    Money { minor, currency: "EUR".parse().unwrap() }
}

fn keep(cart_id: CartId, charge_id: &str) -> Command {
    Command::KeepOrphanCharge { cart_id, charge_id: charge_id.into(), amount: eur(1_000) }
}

#[test]
fn an_orphan_charge_is_journaled_unused_once_and_then_pays_for_nothing() {
    let (mut w, buyer, cart_id) = W::cart();
    assert_eq!(w.state.charge_standing(cart_id, "ch_lost"), ChargeStanding::Orphan);
    let (outcome, events) = w.run(keep(cart_id, "ch_lost"));
    assert_eq!(outcome, Ok(Reply::ChargeUnused { charge_id: "ch_lost".into() }));
    assert_eq!(
        events,
        vec![Event::ChargeUnused { cart_id, charge_id: "ch_lost".into(), amount: eur(1_000), at: START }]
    );
    assert_eq!(w.state.charge_standing(cart_id, "ch_lost"), ChargeStanding::Unused);
    let unreleased: Vec<_> = w.state.unreleased_charges().collect();
    assert_eq!(unreleased, vec![(cart_id, "ch_lost", eur(1_000))], "the sweep pays it back next");

    // Known now: refused, nothing written (a second `ChargeUnused` would not even apply).
    assert_eq!(w.run(keep(cart_id, "ch_lost")), (Err(Rejection::ChargeUnused), vec![]));

    // A late retry that got the same charge from the provider places no order, and journals nothing
    // about the charge again.
    let (outcome, events) = w.run(w.checkout(buyer, cart_id, "ch_lost"));
    assert_eq!((outcome, events), (Err(Rejection::ChargeUnused), vec![]));
    assert!(matches!(w.state.cart(cart_id).unwrap().status, CartStatus::Open), "the cart can still be bought");

    // Paid back: the journal says so, and the charge still pays for nothing.
    let release = Command::ReleaseCharge { cart_id, charge_id: "ch_lost".into(), provider_refund_id: "re_1".into() };
    w.ok(release);
    assert_eq!(w.state.unused_charge("ch_lost"), Some((cart_id, eur(1_000), Some("re_1"))));
    assert_eq!(w.run(w.checkout(buyer, cart_id, "ch_lost")).0, Err(Rejection::ChargeUnused));
    assert_eq!(w.state.unreleased_charges().count(), 0);
    w.assert_replay_rebuilds();
}

#[test]
fn an_orders_charge_is_refused_and_another_charge_of_its_cart_is_an_orphan() {
    let (mut w, buyer, cart_id) = W::cart();
    let Reply::Ordered(order) = w.ok(w.checkout(buyer, cart_id, "ch_paid")) else { panic!() };
    assert_eq!(w.state.charge_standing(cart_id, "ch_paid"), ChargeStanding::Ordered);
    assert_eq!(w.run(keep(cart_id, "ch_paid")), (Err(Rejection::CartCheckedOut), vec![]));
    assert_eq!(w.state.unused_charge("ch_paid"), None);
    assert_eq!(w.state.order(order.id).unwrap().charge_id, "ch_paid", "the order keeps its charge");

    // A first attempt charged, then the process stopped; the retry under another key was paid with
    // a charge of its own. The first one is an orphan of the same cart.
    assert_eq!(w.state.charge_standing(cart_id, "ch_first"), ChargeStanding::Orphan);
    assert_eq!(w.run(keep(cart_id, "ch_first")).0, Ok(Reply::ChargeUnused { charge_id: "ch_first".into() }));
    w.assert_replay_rebuilds();
}

#[test]
fn a_charge_of_no_known_cart_or_out_of_shape_is_refused() {
    let (mut w, _buyer, cart_id) = W::cart();
    let elsewhere = CartId(EntityId { partition: 20, serial: 999 });
    assert_eq!(w.state.charge_standing(elsewhere, "ch_x"), ChargeStanding::NoCart);
    assert_eq!(w.run(keep(elsewhere, "ch_x")), (Err(Rejection::NotFound), vec![]));
    assert!(matches!(w.run(keep(cart_id, "")).0, Err(Rejection::Invalid { .. })));
    let free = Command::KeepOrphanCharge { cart_id, charge_id: "ch_free".into(), amount: eur(0) };
    assert!(matches!(w.run(free).0, Err(Rejection::Invalid { .. })));
    assert_eq!(w.state.unreleased_charges().count(), 0);
}
