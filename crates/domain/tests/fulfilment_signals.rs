//! Partners' signals about fulfilment orders: whatever order they arrive in, late, repeated or
//! reordered, they end where the same signals in order do (the state only moves forward along its
//! path, the ETA is the newest version's), and replay rebuilds the result.
use domain::*;
use proptest::prelude::*;

const START: Timestamp = Timestamp(1_790_000_000_000);

struct W {
    state: State,
    events: Vec<Event>,
}

impl W {
    fn ok(&mut self, command: Command) -> Reply {
        self.state.execute(START, Envelope::plain(command), &mut self.events).unwrap_or_else(|r| panic!("{r:?}"))
    }

    /// A creator who ships its own sale: one open fulfilment order.
    fn shipped() -> (W, Actor, FulfilmentId) {
        let mut w = W { state: State::default(), events: Vec::new() };
        let account = |w: &mut W, partition, handle: &str, role| {
            let command = Command::CreateAccount {
                partition,
                handle: handle.into(),
                role,
                partner_kind: None,
                token_sha256: "00".repeat(32),
            };
            let Reply::Account(account) = w.ok(command) else { panic!() };
            Actor { id: account.id, role }
        };
        let buyer = account(&mut w, 20, "buyer", Role::Buyer);
        let creator = account(&mut w, 3, "creator", Role::Creator);
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
        let Reply::Claimed(claim) = w.ok(Command::Claim { actor: buyer, drop_id: drop.id, quantity: 1, risk: None })
        else {
            panic!()
        };
        let (lines, amount) = w.state.checkout_quote(&buyer, claim.cart_id).unwrap();
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: "ch_1".into(),
            amount,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let checkout =
            Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms: Box::default() };
        let Reply::Ordered(order) = w.ok(checkout) else { panic!() };
        let fulfilment = w.state.order_fulfilment(order.id).next().unwrap().id;
        (w, creator, fulfilment)
    }

    fn signal(&mut self, actor: Actor, id: FulfilmentId, signal: &Signal) -> SignalOutcome {
        let command = Command::SignalFulfilment {
            actor,
            fulfilment_id: id,
            to: signal.to,
            eta: signal.eta,
            version: signal.version,
        };
        match self.ok(command) {
            Reply::FulfilmentSignal { outcome, .. } => outcome,
            other => panic!("{other:?}"),
        }
    }
}

#[derive(Clone, Debug)]
struct Signal {
    version: u64,
    to: Option<FulfilmentState>,
    eta: Option<Timestamp>,
}

/// A partner's signals in its own order: along the shipping path, each with a state, an ETA or both.
fn signals() -> impl Strategy<Value = Vec<Signal>> {
    use FulfilmentState::*;
    let path = [Accepted, InTransit, Delivered];
    proptest::collection::vec((0usize..3, any::<bool>(), any::<bool>(), 1i64..1_000), 1..10).prop_map(move |steps| {
        let mut reached = 0usize;
        steps
            .into_iter()
            .enumerate()
            .map(|(i, (advance, with_state, with_eta, minutes))| {
                reached = (reached + advance).min(path.len() - 1);
                let to = (with_state || !with_eta).then_some(path[reached]);
                Signal { version: i as u64 + 1, to, eta: with_eta.then_some(START.plus_ms(minutes as u64 * 60_000)) }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn signals_in_any_order_end_where_they_do_in_order(
        signals in signals(),
        order in proptest::collection::vec(any::<u16>(), 20),
        repeats in proptest::collection::vec(any::<u16>(), 0..5),
    ) {
        let (mut in_order, partner, id) = W::shipped();
        for signal in &signals {
            in_order.signal(partner, id, signal);
        }
        let (mut shuffled, partner, id) = W::shipped();
        let mut arrivals: Vec<Signal> = signals.clone();
        for (i, r) in order.iter().enumerate() {
            let (a, b) = (i % arrivals.len(), *r as usize % arrivals.len());
            arrivals.swap(a, b);
        }
        for r in &repeats {
            arrivals.push(signals[*r as usize % signals.len()].clone());
        }
        for signal in &arrivals {
            shuffled.signal(partner, id, signal);
        }
        let end = |w: &W| {
            let f = w.state.fulfilment(id).unwrap();
            (f.state, f.eta, f.eta_version)
        };
        prop_assert_eq!(end(&shuffled), end(&in_order));
        // A repeat of the newest changes nothing.
        let last = signals.last().unwrap().clone();
        prop_assert_eq!(shuffled.signal(partner, id, &last), SignalOutcome::Stale);
        shuffled.state.check_invariants().unwrap();
        let mut replayed = State::default();
        for event in &shuffled.events {
            replayed.apply(event);
        }
        prop_assert_eq!(replayed.fulfilment(id), shuffled.state.fulfilment(id));
    }
}

#[test]
fn a_signal_against_the_path_or_from_another_account_changes_nothing() {
    let (mut w, creator, id) = W::shipped();
    let to = |state| Signal { version: 5, to: Some(state), eta: None };
    assert_eq!(w.signal(creator, id, &to(FulfilmentState::Delivered)), SignalOutcome::Applied);
    let states: Vec<FulfilmentState> = w.state.fulfilment(id).unwrap().changes.iter().map(|c| c.state).collect();
    assert_eq!(
        states,
        [FulfilmentState::Accepted, FulfilmentState::InTransit, FulfilmentState::Delivered],
        "through the states between"
    );
    let command = |actor, to: FulfilmentState| Command::SignalFulfilment {
        actor,
        fulfilment_id: id,
        to: Some(to),
        eta: None,
        version: 9,
    };
    let before = w.state.fulfilment(id).cloned();
    let cancel = w.state.execute(START, Envelope::plain(command(creator, FulfilmentState::Cancelled)), &mut w.events);
    assert!(matches!(cancel, Err(Rejection::FulfilmentTransition { .. })), "{cancel:?}");
    let stranger = Actor { id: AccountId(EntityId { partition: 3, serial: 999 }), role: Role::Partner };
    let refused = w.state.execute(START, Envelope::plain(command(stranger, FulfilmentState::Returned)), &mut w.events);
    assert_eq!(refused, Err(Rejection::NotFound));
    assert_eq!(w.state.fulfilment(id).cloned(), before);
}
