//! Funds released by fulfilment: under a profile with `release_on_fulfilment`, a line's delayed
//! earnings and reserve mature at the first window after its delivery or pickup (a digital line's
//! at its sale, or once its fraud review approves it), or at the end of the delay if that comes
//! first. A payee's own word is no proof: a delivery its payee reports does not release the
//! payee's share (a pickup does, being handed over against the buyer's code). A return takes the
//! release back from what has not matured yet.

use super::super::State;
use crate::{AccountId, Fulfilment, FulfilmentChange, HoldId, OrderId, ReviewStatus, Timestamp};

impl State {
    /// Whether the line of `hold_id` sells a digital product, which needs no fulfilment.
    pub(super) fn is_digital(&self, hold_id: HoldId) -> bool {
        let product = self.holds.get(&hold_id).and_then(|hold| self.drops.get(&hold.drop_id)).map(|d| d.product_id);
        product.and_then(|id| self.products.get(&id)).is_some_and(|product| product.fulfilment == Fulfilment::Digital)
    }

    /// Whether the order waits for its fraud review.
    pub(super) fn in_review(&self, order_id: OrderId) -> bool {
        let review = self.orders.get(&order_id).and_then(|order| order.review.as_ref());
        review.is_some_and(|review| review.status == ReviewStatus::Pending)
    }

    /// The line of `hold_id` in `order_id` was delivered or picked up by `change`.
    pub(in crate::state) fn release_fulfilled(
        &mut self,
        order_id: OrderId,
        hold_id: HoldId,
        change: &FulfilmentChange,
        method: Fulfilment,
    ) {
        let unproven_for = (method != Fulfilment::Pickup).then_some(change.by);
        self.release_line(order_id, hold_id, change.at, unproven_for);
    }

    /// A fraud review approved the order: its digital lines are delivered now.
    pub(in crate::state) fn release_digital_lines(&mut self, order_id: OrderId, at: Timestamp) {
        let Some(order) = self.money.orders.get(&order_id) else { return };
        let digital: Vec<HoldId> =
            order.lines.iter().map(|line| line.hold_id).filter(|hold_id| self.is_digital(*hold_id)).collect();
        for hold_id in digital {
            self.release_line(order_id, hold_id, at, None);
        }
    }

    /// The line's earnings under a releasing profile become due at `at`, but `unproven_for`'s
    /// (the payee who reported the completion itself); the first release counts.
    fn release_line(&mut self, order_id: OrderId, hold_id: HoldId, at: Timestamp, unproven_for: Option<AccountId>) {
        let Some(order) = self.money.orders.get_mut(&order_id) else { return };
        let Some(line) = order.lines.iter_mut().find(|line| line.hold_id == hold_id) else { return };
        let mut released = false;
        for earning in line.earnings.iter_mut().filter(|earning| earning.profile.release_on_fulfilment) {
            if earning.released_at.is_none() && Some(earning.payee) != unproven_for {
                earning.released_at = Some(at);
                released = true;
            }
        }
        if released {
            self.money.books.entry(order_id.partition()).or_default().due.insert((at, order_id));
        }
    }

    /// The goods came back: what has not matured waits for its dates again (an index entry left
    /// behind is harmless: maturing re-checks each earning).
    pub(in crate::state) fn unrelease_returned(&mut self, order_id: OrderId, hold_id: HoldId) {
        let Some(order) = self.money.orders.get_mut(&order_id) else { return };
        let Some(line) = order.lines.iter_mut().find(|line| line.hold_id == hold_id) else { return };
        for earning in line.earnings.iter_mut().filter(|earning| earning.pending > 0 || earning.reserved > 0) {
            earning.released_at = None;
        }
    }
}
