//! What one durable commit costs and how group commit spreads it: appends of batches of a claim's
//! events (a hold and its idempotency record), one fsync each, on this machine's disk; the same
//! batches on SQLite and, when PG_URL is set, on PostgreSQL (in a schema of its own, dropped after).
//!
//! `cargo bench -p journal --bench append` (`PG_URL=postgres://… cargo bench …` for both)

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    AccountId, CartId, ClaimReceipt, DropId, EntityId, Event, Hold, HoldId, HoldStatus, Money, Reply, Timestamp,
};
use journal::{Journal, JournalLocation};
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

/// Runs `statements` on a thread of its own: the sync client must not run inside the runtime.
fn sql(url: &str, statements: &str) {
    let (url, statements) = (url.to_owned(), statements.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connecting to PG_URL");
        client.batch_execute(&statements).expect("running SQL");
    })
    .join()
    .unwrap();
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", JournalLocation::Sqlite(data_dir.path().to_owned()))];
    let schema = format!("ld_bench_{}", std::process::id());
    let pg_url = std::env::var("PG_URL").ok();
    match &pg_url {
        Some(url) => {
            sql(url, &format!("CREATE SCHEMA {schema}"));
            let separator = if url.contains('?') { '&' } else { '?' };
            let location = format!("{url}{separator}options=-c%20search_path%3D{schema}");
            backends.push(("postgres", JournalLocation::Postgres(location)));
        }
        None => eprintln!("journal_append on PostgreSQL: skipped: PG_URL not set"),
    }
    for (name, location) in backends {
        let (journal, writer, _) = runtime.block_on(async { Journal::open_at(&location, |_| {}) }).unwrap();
        let mut group = c.benchmark_group(format!("journal_append/{name}"));
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
        drop(journal);
        writer.join();
    }
    if let Some(url) = &pg_url {
        sql(url, &format!("DROP SCHEMA {schema} CASCADE"));
    }
}

criterion_group!(benches, append);
criterion_main!(benches);
