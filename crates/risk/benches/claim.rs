//! What the fraud rules add to one claim, in memory: the idempotency-key sighting, three velocity
//! counters, and the five-rule benchmark set evaluated (every rule, as none matches first).

use criterion::{Criterion, criterion_group, criterion_main};
use risk::{Counter, Signal, SignalValues, Velocity, VelocityKey};
use std::hint::black_box;

fn claim(c: &mut Criterion) {
    let text = include_str!("../../../scripts/bench-risk-rules.txt");
    let rules = risk::parse(text).unwrap();
    let velocity = Velocity::default();
    let ip = VelocityKey::Ip("127.0.0.1".parse().unwrap());
    let mut buyer = 0u64;
    let now = 1_800_000_000_000i64;
    c.bench_function("evaluate five rules", |b| {
        let mut values = SignalValues::default();
        values.set(Signal::AccountAgeSeconds, 30);
        values.set(Signal::Quantity, 1);
        b.iter(|| black_box(rules.evaluate(black_box(&values))))
    });
    c.bench_function("count and evaluate one claim (200k distinct buyers)", |b| {
        b.iter(|| {
            buyer = (buyer + 1) % 200_000;
            let key = format!("buyer-{buyer}/7/c1");
            let first = velocity.first_sighting(&key, now);
            let mut values = SignalValues::default();
            values.set(
                Signal::ClaimsPerBuyer1m,
                velocity.add(Counter::ClaimsPerBuyer1m, VelocityKey::Account(buyer), now),
            );
            values.set(Signal::ClaimsPerIp10m, velocity.add(Counter::ClaimsPerIp10m, ip, now));
            let device = VelocityKey::Text(&key[..12]);
            values.set(Signal::ClaimsPerDevice10m, velocity.add(Counter::ClaimsPerDevice10m, device, now));
            values.set(
                Signal::DeclinesPerBuyer1h,
                velocity.peek(Counter::DeclinesPerBuyer1h, VelocityKey::Account(buyer), now),
            );
            values.set(Signal::Quantity, i64::from(first));
            black_box(rules.evaluate(&values))
        })
    });
}

criterion_group!(benches, claim);
criterion_main!(benches);
