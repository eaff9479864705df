//! What one durable commit costs and how group commit spreads it: appends of batches of a claim's
//! events (a hold and its idempotency record), one fsync each, on this machine's disk.
//!
//! `cargo bench -p journal --bench append`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    AccountId, CartId, ClaimReceipt, DropId, EntityId, Event, Hold, HoldId, HoldStatus, Money, Reply, Timestamp,
};
use journal::Journal;
use std::time::{Duration, Instant};

fn claim_events(serial: u64) -> [Event; 2] {
    let id = |serial| EntityId { partition: 3, serial };
    let buyer_id = AccountId(EntityId { partition: 9, serial });
    let hold = Hold {
        id: HoldId(id(serial * 2 + 1)),
        drop_id: DropId(id(1)),
        cart_id: CartId(id(serial * 2)),
        buyer_id,
        quantity: 1,
        unit_price: Money { minor: 2_500, currency: "EUR".parse().unwrap() },
        created_at: Timestamp(1_800_000_000_000),
        expires_at: Timestamp(1_800_000_600_000),
        status: HoldStatus::Active,
    };
    let receipt = ClaimReceipt {
        hold_id: hold.id,
        cart_id: hold.cart_id,
        drop_id: hold.drop_id,
        quantity: 1,
        expires_at: hold.expires_at,
    };
    let recorded = Event::IdempotencyRecorded {
        partition: 3,
        owner: buyer_id,
        key: format!("claim-{serial}"),
        fingerprint: format!("{serial:064x}"),
        outcome: Ok(Reply::Claimed(receipt)),
        at: hold.created_at,
    };
    [Event::HoldPlaced { hold }, recorded]
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let (journal, _writer, _) = runtime.block_on(async { Journal::open(data_dir.path(), |_| {}) }).unwrap();
    let mut group = c.benchmark_group("journal_append");
    group.sample_size(20).measurement_time(Duration::from_secs(4));
    let mut serial = 0u64;
    for claims_per_commit in [1u64, 16, 128, 512] {
        group.throughput(Throughput::Elements(claims_per_commit));
        group.bench_function(BenchmarkId::new("claims_per_commit", claims_per_commit), |b| {
            b.iter_custom(|iters| {
                let batches: Vec<Vec<Event>> = (0..iters)
                    .map(|_| {
                        let events = (serial..serial + claims_per_commit).flat_map(claim_events).collect();
                        serial += claims_per_commit;
                        events
                    })
                    .collect();
                let started = Instant::now();
                runtime.block_on(async {
                    for events in batches {
                        journal.append(&events).await.expect("append");
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
