//! What buyers do: when each arrives, which drop it wants, and how it behaves (retries, a reused key
//! with another body, a second unit, abandoning, a declined card), all drawn from one seed. And the
//! ledger of what the server acknowledged, checked at the end for oversells and duplicates.

use loadgen::api::Api;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Shares of buyers with each behaviour, in percent (the workload).
pub(crate) const RETRY_SAME_KEY_PERCENT: u32 = 10;
pub(crate) const REUSE_KEY_OTHER_BODY_PERCENT: u32 = 5;
pub(crate) const SECOND_UNIT_PERCENT: u32 = 25;
/// Of those taking a second unit, the share that then tries a third: over the limit of 2, so the
/// server must refuse it.
pub(crate) const THIRD_UNIT_PERCENT: u32 = 20;
/// Buyers whose first request asks for more units than the limit at once (must be refused).
pub(crate) const OVER_LIMIT_AT_ONCE_PERCENT: u32 = 2;
pub(crate) const ABANDON_PERCENT: u32 = 15;
pub(crate) const DECLINED_CARD_PERCENT: u32 = 10;

#[derive(Clone, Copy)]
pub(crate) enum Payment {
    Card,
    Declined,
    Abandon,
}

pub(crate) struct Buyer {
    pub(crate) token: String,
    pub(crate) drop_idx: usize,
    /// When the buyer presses buy, from the start of the run.
    pub(crate) arrival_us: u64,
    pub(crate) retry_same_key: bool,
    pub(crate) reuse_key_other_body: bool,
    pub(crate) second_unit: bool,
    pub(crate) third_unit: bool,
    pub(crate) over_limit_at_once: bool,
    pub(crate) payment: Payment,
}

/// How arrivals spread over time.
#[derive(Clone, Copy)]
pub(crate) enum Arrivals {
    /// `share_percent` of buyers uniformly within the first `head_ms`, the rest within `tail_ms` after.
    Burst { head_ms: u64, share_percent: u32, tail_ms: u64 },
    /// A fixed rate, evenly spaced.
    Steady { buyers_per_second: f64 },
}

/// Draws each buyer's drop (Zipf-like popularity with exponent 1 over `n_drops`), arrival and behaviour.
pub(crate) fn plan(tokens: Vec<String>, n_drops: usize, arrivals: Arrivals, seed: u64) -> Vec<Buyer> {
    let mut rng = StdRng::seed_from_u64(seed);
    let weights: Vec<f64> = (1..=n_drops).map(|rank| 1.0 / rank as f64).collect();
    let total_weight: f64 = weights.iter().sum();
    let cumulative: Vec<f64> =
        weights.iter().scan(0.0, |sum, w| Some(*sum + w / total_weight).inspect(|s| *sum = *s)).collect();
    let n_buyers = tokens.len();
    let mut buyers: Vec<Buyer> = tokens
        .into_iter()
        .enumerate()
        .map(|(idx, token)| {
            let pick: f64 = rng.random();
            let drop_idx = cumulative.partition_point(|&edge| edge < pick).min(n_drops - 1);
            let arrival_us = match arrivals {
                Arrivals::Burst { head_ms, share_percent, tail_ms } => {
                    if rng.random_range(0..100) < share_percent {
                        rng.random_range(0..head_ms * 1_000)
                    } else {
                        head_ms * 1_000 + rng.random_range(0..tail_ms.max(1) * 1_000)
                    }
                }
                Arrivals::Steady { buyers_per_second } => (idx as f64 * 1e6 / buyers_per_second) as u64,
            };
            let roll = rng.random_range(0..100);
            let payment = if roll < ABANDON_PERCENT {
                Payment::Abandon
            } else if roll < ABANDON_PERCENT + DECLINED_CARD_PERCENT {
                Payment::Declined
            } else {
                Payment::Card
            };
            Buyer {
                token,
                drop_idx,
                arrival_us,
                retry_same_key: rng.random_range(0..100) < RETRY_SAME_KEY_PERCENT,
                reuse_key_other_body: rng.random_range(0..100) < REUSE_KEY_OTHER_BODY_PERCENT,
                second_unit: rng.random_range(0..100) < SECOND_UNIT_PERCENT,
                third_unit: rng.random_range(0..100) < THIRD_UNIT_PERCENT,
                over_limit_at_once: rng.random_range(0..100) < OVER_LIMIT_AT_ONCE_PERCENT,
                payment,
            }
        })
        .collect();
    buyers.sort_by_key(|buyer| buyer.arrival_us);
    debug_assert_eq!(buyers.len(), n_buyers);
    buyers
}

/// Latencies (µs, from when a request was due, so queueing in the client counts: coordinated
/// omission corrected) and statuses, by request kind.
pub(crate) struct Recorder {
    pub(crate) claims: hdrhistogram::Histogram<u64>,
    pub(crate) checkouts: hdrhistogram::Histogram<u64>,
    pub(crate) statuses: HashMap<(&'static str, u16), u64>,
    pub(crate) first_due: Option<Instant>,
    pub(crate) last_claim_answer: Option<Instant>,
    pub(crate) last_checkout_answer: Option<Instant>,
    pub(crate) last_unit_acknowledged: Option<Instant>,
    pub(crate) transport_errors: u64,
    /// Answers no correct server gives here: claims answer 201, 409 or 422, checkouts 201, 402 or 409
    /// (and both 403 when fraud rules are installed).
    pub(crate) unexpected_statuses: u64,
    risk_rules: bool,
}

impl Recorder {
    pub(crate) fn new(risk_rules: bool) -> Recorder {
        let histogram = || hdrhistogram::Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds");
        Recorder {
            claims: histogram(),
            checkouts: histogram(),
            statuses: HashMap::new(),
            first_due: None,
            last_claim_answer: None,
            last_checkout_answer: None,
            last_unit_acknowledged: None,
            transport_errors: 0,
            unexpected_statuses: 0,
            risk_rules,
        }
    }

    fn record(&mut self, kind: &'static str, due: Instant, status: u16) {
        let now = Instant::now();
        let micros = now.duration_since(due).as_micros() as u64;
        let histogram = if kind == "claim" { &mut self.claims } else { &mut self.checkouts };
        histogram.saturating_record(micros.max(1));
        *self.statuses.entry((kind, status)).or_default() += 1;
        let expected: &[u16] = if kind == "claim" { &[201, 409, 422] } else { &[201, 402, 409] };
        let blocked_by_rules = self.risk_rules && status == 403;
        if !expected.contains(&status) && !blocked_by_rules {
            self.unexpected_statuses += 1;
        }
        self.first_due = Some(self.first_due.map_or(due, |first| first.min(due)));
        if kind == "claim" {
            self.last_claim_answer = Some(now);
        } else {
            self.last_checkout_answer = Some(now);
        }
    }
}

/// Everything the server acknowledged, to check against the drops' stock and limits.
#[derive(Default)]
pub(crate) struct Acknowledged {
    /// hold id -> (drop index, buyer index, quantity)
    pub(crate) holds: HashMap<String, (usize, usize, u64)>,
    /// Acknowledged orders' hold ids, with the buyer who ordered.
    pub(crate) ordered_holds: Vec<(String, usize)>,
    pub(crate) duplicate_holds: u64,
    /// A retry under the same key answered something else than the first time.
    pub(crate) replay_mismatches: u64,
    /// A key reused with another body was not refused with 422.
    pub(crate) reuse_not_refused: u64,
    pub(crate) orders: u64,
    pub(crate) declines: u64,
}

/// What every buyer task shares.
pub(crate) struct Run {
    pub(crate) api: Api,
    pub(crate) drop_ids: Vec<String>,
    pub(crate) per_buyer_limit: u32,
    /// Requests in flight at most: the client's connection pool. Waiting here counts as latency.
    pub(crate) inflight: Semaphore,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) acknowledged: Mutex<Acknowledged>,
}

impl Run {
    /// One request, timed from `due`: waiting for a free connection counts as latency.
    async fn call(
        &self,
        kind: &'static str,
        due: Instant,
        path: &str,
        token: &str,
        key: &str,
        body: Value,
    ) -> Option<(u16, Value)> {
        let _slot = self.inflight.acquire().await.expect("semaphore open");
        // One device per buyer, as a phone app would send it; read by the fraud rules.
        let device = format!("dev-{}", &token[token.len().saturating_sub(12)..]);
        match self.api.send(reqwest::Method::POST, path, Some(token), Some(key), Some(&device), &body).await {
            Ok((status, answer)) => {
                self.recorder.lock().expect("recorder").record(kind, due, status);
                Some((status, answer))
            }
            Err(_) => {
                self.recorder.lock().expect("recorder").transport_errors += 1;
                None
            }
        }
    }

    pub(crate) async fn buyer(&self, buyer_idx: usize, buyer: &Buyer, due: Instant) {
        let drop_id = &self.drop_ids[buyer.drop_idx];
        let claim_path = format!("/v1/drops/{drop_id}/claims");
        let token = &buyer.token;
        // The arrival's due time belongs to its first request; later ones are due when sent.
        let mut first_due = due;
        if buyer.over_limit_at_once {
            let body = json!({"quantity": self.per_buyer_limit + 1});
            if let Some((201, hold)) = self.call("claim", due, &claim_path, token, "cx", body).await {
                self.hold_acknowledged(buyer_idx, buyer.drop_idx, &hold);
            }
            first_due = Instant::now();
        }
        let Some(first) = self.call("claim", first_due, &claim_path, token, "c1", json!({"quantity": 1})).await else {
            return;
        };
        let mut cart_id = None;
        if first.0 == 201 {
            cart_id = first.1["cart_id"].as_str().map(str::to_owned);
            self.hold_acknowledged(buyer_idx, buyer.drop_idx, &first.1);
        }
        // Only a decided first answer is recorded under the key (a 5xx is not), so only that must replay.
        if buyer.retry_same_key && first.0 < 500 {
            let again = self.call("claim", Instant::now(), &claim_path, token, "c1", json!({"quantity": 1})).await;
            if again.is_some_and(|again| again != first) {
                self.acknowledged.lock().expect("ledger").replay_mismatches += 1;
            }
        }
        if buyer.reuse_key_other_body && first.0 < 500 {
            let reused = self.call("claim", Instant::now(), &claim_path, token, "c1", json!({"quantity": 2})).await;
            if reused.is_some_and(|(status, _)| status != 422) {
                self.acknowledged.lock().expect("ledger").reuse_not_refused += 1;
            }
        }
        if first.0 == 201
            && buyer.second_unit
            && let Some((201, second)) =
                self.call("claim", Instant::now(), &claim_path, token, "c2", json!({"quantity": 1})).await
        {
            self.hold_acknowledged(buyer_idx, buyer.drop_idx, &second);
            if buyer.third_unit
                && let Some((201, third)) =
                    self.call("claim", Instant::now(), &claim_path, token, "c3", json!({"quantity": 1})).await
            {
                self.hold_acknowledged(buyer_idx, buyer.drop_idx, &third);
            }
        }
        let Some(cart_id) = cart_id else { return };
        let method = match buyer.payment {
            Payment::Abandon => return,
            Payment::Card => "pm_card_visa",
            Payment::Declined => "pm_card_chargeDeclined",
        };
        let path = format!("/v1/carts/{cart_id}/checkout");
        let paid = self.call("checkout", Instant::now(), &path, token, "p1", json!({"payment_method": method})).await;
        let mut ledger = self.acknowledged.lock().expect("ledger");
        match paid {
            Some((201, order)) => {
                ledger.orders += 1;
                let lines = order["lines"].as_array().cloned().unwrap_or_default();
                let holds = lines.iter().filter_map(|line| line["hold_id"].as_str());
                ledger.ordered_holds.extend(holds.map(|hold| (hold.to_owned(), buyer_idx)));
            }
            Some((402, _)) => ledger.declines += 1,
            _ => {}
        }
    }

    fn hold_acknowledged(&self, buyer_idx: usize, drop_idx: usize, claim: &Value) {
        let hold_id = claim["hold_id"].as_str().unwrap_or_default().to_owned();
        let quantity = claim["quantity"].as_u64().unwrap_or(0);
        let mut ledger = self.acknowledged.lock().expect("ledger");
        if ledger.holds.insert(hold_id, (drop_idx, buyer_idx, quantity)).is_some() {
            ledger.duplicate_holds += 1;
        } else {
            // A new hold, not a replayed answer: the stock moved now.
            self.recorder.lock().expect("recorder").last_unit_acknowledged = Some(Instant::now());
        }
    }
}

/// What the acknowledgements say about the drops: units acknowledged per drop and buyer.
pub(crate) struct Verdict {
    pub(crate) units_acknowledged: u64,
    pub(crate) oversold_drops: usize,
    pub(crate) buyers_over_limit: usize,
    /// Order lines naming a hold that was never acknowledged, or acknowledged to another buyer.
    pub(crate) orders_of_unknown_holds: usize,
    pub(crate) holds_ordered_twice: usize,
}

pub(crate) fn verdict(ledger: &Acknowledged, units_per_drop: &[u64], per_buyer_limit: u64) -> Verdict {
    let mut per_drop = vec![0u64; units_per_drop.len()];
    let mut per_buyer: HashMap<(usize, usize), u64> = HashMap::new();
    for &(drop_idx, buyer_idx, quantity) in ledger.holds.values() {
        per_drop[drop_idx] += quantity;
        *per_buyer.entry((drop_idx, buyer_idx)).or_default() += quantity;
    }
    let mut ordered = HashSet::new();
    let holds_ordered_twice = ledger.ordered_holds.iter().filter(|(hold, _)| !ordered.insert(hold)).count();
    Verdict {
        units_acknowledged: per_drop.iter().sum(),
        oversold_drops: per_drop.iter().zip(units_per_drop).filter(|(sold, units)| sold > units).count(),
        buyers_over_limit: per_buyer.values().filter(|&&units| units > per_buyer_limit).count(),
        orders_of_unknown_holds: ledger
            .ordered_holds
            .iter()
            .filter(|(hold, buyer_idx)| ledger.holds.get(hold).is_none_or(|&(_, owner, _)| owner != *buyer_idx))
            .count(),
        holds_ordered_twice,
    }
}
