//! How many claim decisions one core makes, in memory, with nothing but the domain: the ceiling the
//! shards, the journal and HTTP take their share of. Each claim carries an idempotency key, as over
//! HTTP, so a decision includes recording its answer.
//!
//! `cargo bench -p domain --bench decisions`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    Actor, Command, DropId, Envelope, Fulfilment, IdempotencyKey, Money, NewDrop, Reply, Role, State, Timestamp,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const START: Timestamp = Timestamp(1_800_000_000_000);

struct World {
    state: State,
    creator: Actor,
    buyers: Vec<Actor>,
}

fn run(state: &mut State, command: Command) -> Reply {
    state.execute(START, &Envelope::plain(command)).0.expect("setup command")
}

impl World {
    fn new(n_buyers: usize) -> World {
        let mut state = State::default();
        let mut account = |handle: String, role: Role| {
            let command = Command::CreateAccount { partition: 0, handle, role, token_sha256: "00".repeat(32) };
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
        };
        let Reply::Product(product) = run(&mut self.state, product) else { panic!("product") };
        let Reply::Room(room) = run(&mut self.state, Command::CreateRoom { actor: self.creator, title: "r".into() })
        else {
            panic!("room")
        };
        let drop = NewDrop {
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

fn keyed_claim(buyer: Actor, drop_id: DropId, serial: u64) -> Envelope {
    let key = IdempotencyKey { owner: buyer.id, key: format!("k{serial}"), fingerprint: format!("{serial:064x}") };
    Envelope { idempotency: Some(key), command: Command::Claim { actor: buyer, drop_id, quantity: 1 } }
}

/// Buyers claiming one unit each in turn, a new drop whenever every buyer has claimed
/// `per_buyer_limit` times, so the state keeps growing as it does during a day of drops.
struct Stream {
    world: World,
    quantity: u64,
    per_buyer_limit: u32,
    drop_id: DropId,
    serial: u64,
}

/// Envelopes are built in chunks before the clock starts, so only `execute` is timed.
const CHUNK_CLAIMS: u64 = 65_536;

impl Stream {
    fn new(n_buyers: usize, quantity: u64, per_buyer_limit: u32) -> Stream {
        let mut world = World::new(n_buyers);
        let drop_id = world.new_drop(quantity, per_buyer_limit);
        Stream { world, quantity, per_buyer_limit, drop_id, serial: 0 }
    }

    fn time(&mut self, iters: u64) -> Duration {
        let n_buyers = self.world.buyers.len() as u64;
        let mut elapsed = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let chunk = left.min(CHUNK_CLAIMS);
            left -= chunk;
            let mut envelopes = Vec::with_capacity(chunk as usize);
            for _ in 0..chunk {
                if self.serial > 0 && self.serial.is_multiple_of(n_buyers * u64::from(self.per_buyer_limit)) {
                    self.drop_id = self.world.new_drop(self.quantity, self.per_buyer_limit);
                }
                let buyer = self.world.buyers[(self.serial % n_buyers) as usize];
                envelopes.push(keyed_claim(buyer, self.drop_id, self.serial));
                self.serial += 1;
            }
            let started = Instant::now();
            for envelope in &envelopes {
                let _ = black_box(self.world.state.execute(START, envelope));
            }
            elapsed += started.elapsed();
        }
        elapsed
    }
}

fn decisions(c: &mut Criterion) {
    let mut group = c.benchmark_group("claim_decisions");
    group.throughput(Throughput::Elements(1));
    // Every claim succeeds: a hold, a cart on a buyer's first claim of a drop, an idempotency record.
    let mut placed = Stream::new(100_000, 200_000, 2);
    group.bench_function(BenchmarkId::new("hold_placed", "100k_buyers"), |b| b.iter_custom(|iters| placed.time(iters)));
    // A drop's burst: 10k units, 200k buyers, limit 2; after the first 10k claims of each drop every
    // answer is sold_out (still recorded under its key).
    let mut burst = Stream::new(200_000, 10_000, 2);
    group.bench_function(BenchmarkId::new("burst", "10k_units_200k_buyers"), |b| {
        b.iter_custom(|iters| burst.time(iters))
    });
    group.finish();
}

criterion_group!(benches, decisions);
criterion_main!(benches);
