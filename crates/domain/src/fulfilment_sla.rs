//! How well fulfilment orders were fulfilled, measured from their changes: acceptance time, time to
//! ready (pickup) or dispatch (shipping), completion, the promise kept (on time against the last
//! ETA given before completion) and the ETA's error. Pure: samples are gathered per shard and
//! merged, so the figures cover every partition an account's orders are in.

use crate::{FulfilmentOrder, FulfilmentState};

/// Raw durations (milliseconds) of a set of fulfilment orders, to merge and then summarise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FulfilmentSamples {
    pub orders: u64,
    pub cancelled: u64,
    pub completed: u64,
    /// Opened → accepted.
    pub acceptance_ms: Vec<i64>,
    /// Opened → ready for pickup or in transit.
    pub ready_or_dispatch_ms: Vec<i64>,
    /// Completed with an ETA promised before: completed at or before it.
    pub promised: u64,
    pub on_time: u64,
    /// Completion minus the last ETA promised before it (negative: early).
    pub eta_error_ms: Vec<i64>,
}

/// Percentiles of one duration, in milliseconds (nearest rank); absent without samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    pub count: u64,
    pub p50: i64,
    pub p90: i64,
    pub max: i64,
}

impl Spread {
    pub fn of(samples: &[i64]) -> Option<Spread> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |q: f64| sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        (!sorted.is_empty()).then(|| Spread {
            count: sorted.len() as u64,
            p50: rank(0.5),
            p90: rank(0.9),
            max: rank(1.0),
        })
    }
}

impl FulfilmentSamples {
    pub fn add(&mut self, order: &FulfilmentOrder) {
        self.orders += 1;
        let first = |wanted: &[FulfilmentState]| order.changes.iter().find(|change| wanted.contains(&change.state));
        if let Some(accepted) = first(&[FulfilmentState::Accepted]) {
            self.acceptance_ms.push(accepted.at.0 - order.created_at.0);
        }
        if let Some(moved) = first(&[FulfilmentState::ReadyForPickup, FulfilmentState::InTransit]) {
            self.ready_or_dispatch_ms.push(moved.at.0 - order.created_at.0);
        }
        if order.state == FulfilmentState::Cancelled {
            self.cancelled += 1;
        }
        let completion = order.changes.iter().position(|change| change.state.is_completed());
        if let Some(index) = completion {
            self.completed += 1;
            let done = &order.changes[index];
            if let Some(eta) = order.changes[..index].iter().rev().find_map(|change| change.eta) {
                self.promised += 1;
                if done.at <= eta {
                    self.on_time += 1;
                }
                self.eta_error_ms.push(done.at.0 - eta.0);
            }
        }
    }

    pub fn merge(&mut self, other: FulfilmentSamples) {
        self.orders += other.orders;
        self.cancelled += other.cancelled;
        self.completed += other.completed;
        self.acceptance_ms.extend(other.acceptance_ms);
        self.ready_or_dispatch_ms.extend(other.ready_or_dispatch_ms);
        self.promised += other.promised;
        self.on_time += other.on_time;
        self.eta_error_ms.extend(other.eta_error_ms);
    }

    /// Completed on time, of those completed with a promise; absent without one.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.promised > 0).then(|| self.on_time as f64 / self.promised as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountId, EntityId, Fulfilment, FulfilmentChange, FulfilmentId, Timestamp};

    fn order(changes: &[(FulfilmentState, i64, Option<i64>)]) -> FulfilmentOrder {
        let id = EntityId { partition: 1, serial: 1 };
        FulfilmentOrder {
            id: FulfilmentId(id),
            order_id: crate::OrderId(id),
            hold_id: crate::HoldId(id),
            drop_id: crate::DropId(id),
            product_id: crate::ProductId(id),
            quantity: 1,
            method: Fulfilment::Ship,
            creator_id: AccountId(id),
            buyer_id: AccountId(id),
            partner_id: None,
            state: changes.last().map_or(FulfilmentState::Open, |c| c.0),
            eta: None,
            created_at: Timestamp(0),
            changes: changes
                .iter()
                .map(|&(state, at, eta)| FulfilmentChange {
                    state,
                    at: Timestamp(at),
                    by: AccountId(id),
                    eta: eta.map(Timestamp),
                    version: None,
                })
                .collect(),
            pickup_code: None,
            wrong_codes: Vec::new(),
            eta_version: 0,
        }
    }

    #[test]
    fn figures_come_from_the_changes() {
        use FulfilmentState::*;
        let mut samples = FulfilmentSamples::default();
        // Accepted after 60 s with a promise of 1 h, shipped at 10 min, delivered at 50 min: on time.
        samples.add(&order(&[
            (Accepted, 60_000, Some(3_600_000)),
            (InTransit, 600_000, None),
            (Delivered, 3_000_000, None),
        ]));
        // Accepted after 120 s, promised 20 min, then 30 min; delivered at 40 min: late by 10 min.
        samples.add(&order(&[
            (Accepted, 120_000, Some(1_200_000)),
            (InTransit, 900_000, Some(1_800_000)),
            (Delivered, 2_400_000, None),
        ]));
        let mut other = FulfilmentSamples::default();
        other.add(&order(&[(Cancelled, 5_000, None)]));
        other.add(&order(&[]));
        samples.merge(other);
        assert_eq!(
            (samples.orders, samples.cancelled, samples.completed, samples.promised, samples.on_time),
            (4, 1, 2, 2, 1)
        );
        assert_eq!(
            Spread::of(&samples.acceptance_ms),
            Some(Spread { count: 2, p50: 60_000, p90: 120_000, max: 120_000 })
        );
        assert_eq!(samples.eta_error_ms, [-600_000, 600_000]);
        assert_eq!(samples.on_time_rate(), Some(0.5));
        assert_eq!(Spread::of(&[]), None);
    }
}
