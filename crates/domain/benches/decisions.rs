//! How many claim decisions one core makes, in memory, with nothing but the domain: the ceiling the
//! shards, the journal and HTTP take their share of. Each claim carries an idempotency key, as over
//! HTTP, so a decision includes recording its answer.
//!
//! `cargo bench -p domain --bench decisions`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    Actor, Command, DropId, Envelope, Fulfilment, IdempotencyKey, Money, NewDrop, Reply, Role, State, Timestamp,
};
use std::hint::black_box;

const START: Timestamp = Timestamp(1_800_000_000_000);

struct World {
    state: State,
    creator: Actor,
    buyers: Vec<Actor>,
}

fn run(state: &mut State, command: Command) -> Reply {
    state.execute(START, Envelope::plain(command), &mut Vec::new()).expect("setup command")
}

impl World {
    fn new(n_buyers: usize) -> World {
        let mut state = State::default();
        let mut account = |handle: String, role: Role| {
            let command = Command::CreateAccount {
                partition: 0,
                handle,
                role,
                partner_kind: None,
                token_sha256: "00".repeat(32),
            };
            match run(&mut state, command) {
                Reply::Account(account) => Actor { id: account.id, role },
                other => panic!("{other:?}"),
            }
        };
        let creator = account("creator".into(), Role::Creator);
        let buyers = (0..n_buyers).map(|idx| account(format!("buyer_{idx}"), Role::Buyer)).collect();
        World { state, creator, buyers }
    }

    /// A drop open now, in a room of its own (so every buyer's cart is fresh).
    fn new_drop(&mut self, quantity: u64, per_buyer_limit: u32) -> DropId {
        let price = Money { minor: 2_500, currency: "EUR".parse().unwrap() };
        let product = Command::CreateProduct {
            actor: self.creator,
            title: "tee".into(),
            price,
            stock: quantity,
            fulfilment: Fulfilment::Ship,
            edition: None,
        };
        let Reply::Product(product) = run(&mut self.state, product) else { panic!("product") };
        let Reply::Room(room) =
            run(&mut self.state, Command::CreateRoom { actor: self.creator, title: "r".into(), template_id: None })
        else {
            panic!("room")
        };
        let drop = NewDrop {
            split_contract_id: None,
            room_id: room.id,
            product_id: product.id,
            quantity,
            per_buyer_limit,
            hold_seconds: 600,
            opens_at: None,
            closes_at: None,
        };
        match run(&mut self.state, Command::CreateDrop { actor: self.creator, drop }) {
            Reply::Drop(drop) => drop.id,
            other => panic!("{other:?}"),
        }
    }
}

/// A buyer's claim as over HTTP, under an idempotency key (so its answer is recorded), or without
/// one, to show what the decision costs on its own.
fn claim(buyer: Actor, drop_id: DropId, serial: u64, keyed: bool) -> Envelope {
    let command = Command::Claim { actor: buyer, drop_id, quantity: 1, risk: None };
    if !keyed {
        return Envelope::plain(command);
    }
    let key = IdempotencyKey { owner: buyer.id, key: format!("k{serial}"), fingerprint: format!("{serial:064x}") };
    Envelope { idempotency: Some(key), command }
}

/// A shard's batch: its events are collected in one vector, then encoded and dropped.
const BATCH_COMMANDS: usize = 512;

/// One drop's sale as an iteration: every buyer presses buy once, on a fresh copy of the same state
/// (copied outside the timing), so every iteration does the same work. Events are collected and
/// dropped per batch of `BATCH_COMMANDS`, as in a shard.
fn sale(c: &mut Criterion, name: &str, n_buyers: usize, units: u64, keyed: bool) {
    let mut world = World::new(n_buyers);
    let drop_id = world.new_drop(units, 2);
    let envelopes: Vec<Envelope> =
        world.buyers.iter().enumerate().map(|(serial, buyer)| claim(*buyer, drop_id, serial as u64, keyed)).collect();
    let mut group = c.benchmark_group("claim_decisions");
    group.throughput(Throughput::Elements(n_buyers as u64)).sample_size(10);
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || (world.state.clone(), envelopes.clone()),
            |(state, envelopes)| {
                let mut events = Vec::new();
                for (claim_idx, envelope) in envelopes.drain(..).enumerate() {
                    if claim_idx % BATCH_COMMANDS == 0 {
                        events.clear();
                    }
                    let _ = black_box(state.execute(START, envelope, &mut events));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn decisions(c: &mut Criterion) {
    // Every claim succeeds: a cart, a hold and an idempotency record per buyer.
    sale(c, "hold_placed/100k_buyers_100k_units", 100_000, 100_000, true);
    // A drop's burst: 200k buyers for 10k units; after the first 10k every answer is sold_out (still
    // recorded under its key, as a retry must get the same answer).
    sale(c, "burst/200k_buyers_10k_units", 200_000, 10_000, true);
    // The same burst without keys: the decision and its events alone, no answer recorded.
    sale(c, "burst_unkeyed/200k_buyers_10k_units", 200_000, 10_000, false);
}

criterion_group!(benches, decisions);
criterion_main!(benches);
