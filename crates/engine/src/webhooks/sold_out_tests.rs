//! `drop.sold_out` is said at the sale of the last unit, once, whether the outbox reads a batch of
//! checkouts at once (live, with the state after the batch) or one event at a time (replay).

use super::*;
use domain::{
    Actor, Command, DropId, Envelope, Fulfilment, Money, NewDrop, PaymentOutcome, PayoutProfile, Reply, Role, SaleTerms,
};
use proptest::prelude::*;

const NOW: Timestamp = Timestamp(1_790_000_000_000);

fn ok(state: &mut State, events: &mut Vec<Event>, command: Command) -> Reply {
    state.execute(NOW, Envelope::plain(command), events).unwrap_or_else(|rejection| panic!("{rejection:?}"))
}

fn actor(state: &mut State, events: &mut Vec<Event>, handle: &str, role: Role) -> Actor {
    let create = Command::CreateAccount {
        partition: 4,
        handle: handle.into(),
        role,
        partner_kind: None,
        token_sha256: "00".repeat(32),
    };
    let Reply::Account(account) = ok(state, events, create) else { panic!() };
    Actor { id: account.id, role }
}

/// A drop of `units`, each claimed by its own buyer: the state before any checkout, and the
/// checkout commands.
fn claimed(units: u64) -> (State, DropId, Vec<Command>) {
    let (mut state, mut events) = (State::default(), Vec::new());
    let creator = actor(&mut state, &mut events, "maker", Role::Creator);
    let Reply::Room(room) =
        ok(&mut state, &mut events, Command::CreateRoom { actor: creator, title: "room".into(), template_id: None })
    else {
        panic!()
    };
    let price = Money { minor: 500, currency: "EUR".parse().unwrap() };
    let product = Command::CreateProduct {
        actor: creator,
        title: "tee".into(),
        price,
        stock: 100,
        fulfilment: Fulfilment::Ship,
        edition: None,
    };
    let Reply::Product(product) = ok(&mut state, &mut events, product) else { panic!() };
    let drop = NewDrop {
        room_id: room.id,
        split_contract_id: None,
        product_id: product.id,
        quantity: units,
        per_buyer_limit: 1,
        hold_seconds: 600,
        opens_at: None,
        closes_at: None,
    };
    let Reply::Drop(drop) = ok(&mut state, &mut events, Command::CreateDrop { actor: creator, drop }) else { panic!() };
    let mut checkouts = Vec::new();
    for n in 0..units {
        let buyer = actor(&mut state, &mut events, &format!("buyer{n}"), Role::Buyer);
        let claim = Command::Claim { actor: buyer, drop_id: drop.id, quantity: 1, risk: None };
        let Reply::Claimed(claim) = ok(&mut state, &mut events, claim) else { panic!() };
        let (lines, total) = state.checkout_quote(&buyer, claim.cart_id).unwrap();
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: format!("ch_{n}"),
            amount: total,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let terms = Box::new(SaleTerms {
            fee_bps: 1_000,
            default_profile: PayoutProfile::SAME_DAY,
            profiles: Vec::new(),
            pickup_seed: n,
        });
        checkouts.push(Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms });
    }
    (state, drop.id, checkouts)
}

/// The positions (in all the checkouts' events) of the sold-out messages.
fn sold_out_at(inputs: impl IntoIterator<Item = (usize, Input)>) -> Vec<usize> {
    inputs
        .into_iter()
        .filter(
            |(_, input)| matches!(input, Input::Source(source) if source.kind == domain::WebhookEventType::DropSoldOut),
        )
        .map(|(index, _)| index)
        .collect()
}

proptest! {
    /// However the checkouts are cut into batches, the batches say "sold out" at the event replay
    /// does, and once.
    #[test]
    fn sold_out_is_said_once_at_the_last_sale(units in 1..6u64, cuts in proptest::collection::vec(any::<bool>(), 6)) {
        let (mut live, drop_id, checkouts) = claimed(units);
        let mut replayed = live.clone();
        let (mut live_at, mut replay_at) = (Vec::new(), Vec::new());
        let (mut batch, mut offset, mut seen) = (Vec::new(), 0, 0);
        for (n, checkout) in checkouts.into_iter().enumerate() {
            ok(&mut live, &mut batch, checkout);
            if cuts[n] || n as u64 == units - 1 {
                live_at.extend(sold_out_at(inputs_of(&live, &batch)).into_iter().map(|i| offset + i));
                offset += batch.len();
                for event in batch.drain(..) {
                    replayed.apply(&event);
                    if input_of(&replayed, &event).is_some_and(|input| {
                        matches!(input, Input::Source(ref source) if source.kind == domain::WebhookEventType::DropSoldOut)
                    }) {
                        replay_at.push(seen);
                    }
                    seen += 1;
                }
            }
        }
        prop_assert_eq!(&live_at, &replay_at);
        prop_assert_eq!(live_at.len(), 1);
        prop_assert_eq!(live.drop(drop_id).unwrap().sold, units);
    }
}
