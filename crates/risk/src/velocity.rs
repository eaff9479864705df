//! Sliding-window counters keyed by buyer, IP address, device and payment method.
//!
//! Each counter is an *approximate* sliding window (as Cloudflare's rate limiter): two fixed windows
//! of the counter's length, the current one and the one before, and the estimate
//! `current + previous × (share of the window still covered by the sliding one)`, rounded down. It
//! assumes the previous window's events were spread evenly, so it is exact when they were and off by
//! at most the previous window's count otherwise; it never counts an event older than two windows.
//! 24 bytes of state per key, whatever the rate, instead of a timestamp per event.
//!
//! Memory is bounded: `STRIPES` maps of at most `KEYS_PER_STRIPE_MAX` keys each (1 048 576 keys, about
//! 40 MB at worst). A full stripe first forgets keys idle for longer than two of the longest windows
//! (their counts are zero anyway), then, under a burst of distinct keys, the least recently touched
//! half: a forgotten key starts again from zero (rules fail open for it), which an attacker can only
//! cause by sending more distinct keys than the rules could have blocked one by one.
//!
//! Keys are 64-bit SipHash values with per-process random keys (std's `RandomState`), so device ids
//! and payment methods of any length cost 8 bytes and collisions cannot be aimed at; two keys
//! colliding by chance (about 1 in 30 million with a million keys) share a counter.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Mutex;

pub const STRIPES: usize = 64;
pub const KEYS_PER_STRIPE_MAX: usize = 16_384;

/// What is counted, over which window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    ClaimsPerBuyer1m,
    ClaimsPerIp10m,
    ClaimsPerDevice10m,
    DeclinesPerBuyer1h,
    DeclinesPerPaymentMethod1h,
    CheckoutsPerPaymentMethod1h,
    /// Idempotency keys seen lately, so a retry is not counted twice.
    RequestsSeen1h,
}

const MINUTE_MS: i64 = 60_000;
const LONGEST_WINDOW_MS: i64 = 60 * MINUTE_MS;

impl Counter {
    pub fn window_ms(self) -> i64 {
        match self {
            Counter::ClaimsPerBuyer1m => MINUTE_MS,
            Counter::ClaimsPerIp10m | Counter::ClaimsPerDevice10m => 10 * MINUTE_MS,
            Counter::DeclinesPerBuyer1h
            | Counter::DeclinesPerPaymentMethod1h
            | Counter::CheckoutsPerPaymentMethod1h
            | Counter::RequestsSeen1h => LONGEST_WINDOW_MS,
        }
    }
}

/// What a counter is kept for: the caller's identifiers, hashed by `Velocity::key`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VelocityKey<'a> {
    Account(u64),
    Ip(std::net::IpAddr),
    Text(&'a str),
}

#[derive(Clone, Copy, Debug)]
struct Window {
    /// Start of the current fixed window (a multiple of the window length), ms since the epoch.
    start_ms: i64,
    /// Last time the key was counted or read, for eviction.
    touched_ms: i64,
    previous: u32,
    current: u32,
}

impl Window {
    fn roll(&mut self, now_ms: i64, window_ms: i64) {
        let aligned = now_ms - now_ms.rem_euclid(window_ms);
        // A clock stepping back keeps counting into the current window.
        if aligned > self.start_ms {
            self.previous = if aligned - self.start_ms == window_ms { self.current } else { 0 };
            self.current = 0;
            self.start_ms = aligned;
        }
        self.touched_ms = self.touched_ms.max(now_ms);
    }

    fn estimate(&self, now_ms: i64, window_ms: i64) -> i64 {
        let elapsed = (now_ms - self.start_ms).clamp(0, window_ms);
        i64::from(self.current) + i64::from(self.previous) * (window_ms - elapsed) / window_ms
    }
}

/// Keys are already uniformly random 64-bit hashes; hashing them again would only cost time.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Stripe = HashMap<u64, Window, BuildHasherDefault<PassThrough>>;

/// The counters of every key, shared by all shards and request handlers.
pub struct Velocity {
    stripes: Vec<Mutex<Stripe>>,
    hasher: RandomState,
}

impl Default for Velocity {
    fn default() -> Self {
        Velocity { stripes: (0..STRIPES).map(|_| Mutex::new(Stripe::default())).collect(), hasher: RandomState::new() }
    }
}

impl Velocity {
    fn slot(&self, counter: Counter, key: VelocityKey<'_>) -> u64 {
        self.hasher.hash_one((counter, key))
    }

    fn with_window<T>(
        &self,
        counter: Counter,
        key: VelocityKey<'_>,
        now_ms: i64,
        f: impl FnOnce(&mut Window) -> T,
    ) -> T {
        let slot = self.slot(counter, key);
        let mut stripe = self.stripes[(slot % STRIPES as u64) as usize].lock().expect("velocity stripe");
        if stripe.len() >= KEYS_PER_STRIPE_MAX && !stripe.contains_key(&slot) {
            evict(&mut stripe, now_ms);
        }
        let window_ms = counter.window_ms();
        let start_ms = now_ms - now_ms.rem_euclid(window_ms);
        let window = stripe.entry(slot).or_insert(Window { start_ms, touched_ms: now_ms, previous: 0, current: 0 });
        window.roll(now_ms, window_ms);
        f(window)
    }

    /// Counts one event now and answers the count over the window, this event included.
    pub fn add(&self, counter: Counter, key: VelocityKey<'_>, now_ms: i64) -> i64 {
        let window_ms = counter.window_ms();
        self.with_window(counter, key, now_ms, |window| {
            window.current = window.current.saturating_add(1);
            window.estimate(now_ms, window_ms)
        })
    }

    /// The count over the window, without counting anything.
    pub fn peek(&self, counter: Counter, key: VelocityKey<'_>, now_ms: i64) -> i64 {
        let slot = self.slot(counter, key);
        let stripe = self.stripes[(slot % STRIPES as u64) as usize].lock().expect("velocity stripe");
        match stripe.get(&slot) {
            Some(window) => {
                let mut window = *window;
                window.roll(now_ms, counter.window_ms());
                window.estimate(now_ms, counter.window_ms())
            }
            None => 0,
        }
    }

    /// True the first time `request` is seen within an hour (and remembers it): a retry under the
    /// same idempotency key is then decided again but not counted again.
    pub fn first_sighting(&self, request: &str, now_ms: i64) -> bool {
        self.with_window(Counter::RequestsSeen1h, VelocityKey::Text(request), now_ms, |window| {
            let first = window.estimate(now_ms, LONGEST_WINDOW_MS) == 0;
            window.current = window.current.saturating_add(1);
            first
        })
    }

    /// Keys held, for tests and metrics.
    pub fn n_keys(&self) -> usize {
        self.stripes.iter().map(|stripe| stripe.lock().expect("velocity stripe").len()).sum()
    }
}

/// Makes room in a full stripe: keys idle past every window first, else the least recently touched half.
fn evict(stripe: &mut Stripe, now_ms: i64) {
    stripe.retain(|_, window| now_ms - window.touched_ms <= 2 * LONGEST_WINDOW_MS);
    if stripe.len() < KEYS_PER_STRIPE_MAX {
        return;
    }
    let mut touched: Vec<i64> = stripe.values().map(|window| window.touched_ms).collect();
    let middle = touched.len() / 2;
    let (_, median, _) = touched.select_nth_unstable(middle);
    let median = *median;
    stripe.retain(|_, window| window.touched_ms > median);
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000_000; // a multiple of every window

    #[test]
    fn counts_within_the_window_and_forgets_after_two() {
        let velocity = Velocity::default();
        let ip = VelocityKey::Ip("10.0.0.1".parse().unwrap());
        for n in 1..=4 {
            assert_eq!(velocity.add(Counter::ClaimsPerIp10m, ip, T0 + n * 1_000), n);
        }
        assert_eq!(velocity.peek(Counter::ClaimsPerIp10m, ip, T0 + 9 * MINUTE_MS), 4, "same fixed window");
        // Halfway through the next window, half of the previous one still counts.
        assert_eq!(velocity.peek(Counter::ClaimsPerIp10m, ip, T0 + 15 * MINUTE_MS), 2);
        assert_eq!(velocity.peek(Counter::ClaimsPerIp10m, ip, T0 + 20 * MINUTE_MS), 0, "slid out entirely");
        assert_eq!(velocity.add(Counter::ClaimsPerIp10m, ip, T0 + 25 * MINUTE_MS), 1);
        let other = VelocityKey::Ip("10.0.0.2".parse().unwrap());
        assert_eq!(velocity.peek(Counter::ClaimsPerIp10m, other, T0), 0, "keys are separate");
        assert_eq!(velocity.peek(Counter::ClaimsPerDevice10m, ip, T0), 0, "counters are separate");
    }

    #[test]
    fn a_retry_is_seen_once_per_hour() {
        let velocity = Velocity::default();
        assert!(velocity.first_sighting("buyer/key", T0));
        assert!(!velocity.first_sighting("buyer/key", T0 + 1_000));
        assert!(velocity.first_sighting("buyer/other", T0 + 1_000));
        assert!(velocity.first_sighting("buyer/key", T0 + 2 * LONGEST_WINDOW_MS + 1));
    }

    #[test]
    fn memory_stays_bounded_under_a_burst_of_distinct_keys() {
        let velocity = Velocity::default();
        let n_keys = STRIPES * KEYS_PER_STRIPE_MAX + 200_000;
        for buyer in 0..n_keys as u64 {
            velocity.add(Counter::ClaimsPerBuyer1m, VelocityKey::Account(buyer), T0 + (buyer / 1_000) as i64);
        }
        assert!(velocity.n_keys() <= STRIPES * KEYS_PER_STRIPE_MAX, "{} keys", velocity.n_keys());
        // The most recent buyers are still counted.
        let last = VelocityKey::Account(n_keys as u64 - 1);
        assert_eq!(velocity.peek(Counter::ClaimsPerBuyer1m, last, T0 + (n_keys / 1_000) as i64), 1);
    }
}
