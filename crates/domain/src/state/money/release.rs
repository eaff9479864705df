//! Funds released by fulfilment: under a profile with `release_on_fulfilment`, a line's delayed
//! earnings and reserve mature at the first window after its delivery or pickup (a digital line's
//! at its sale), or at the end of the delay if that comes first.

use super::super::State;
use crate::{Fulfilment, HoldId, OrderId, Timestamp};

impl State {
    /// Whether the line of `hold_id` sells a digital product, which needs no fulfilment.
    pub(super) fn is_digital(&self, hold_id: HoldId) -> bool {
        let product = self.holds.get(&hold_id).and_then(|hold| self.drops.get(&hold.drop_id)).map(|d| d.product_id);
        product.and_then(|id| self.products.get(&id)).is_some_and(|product| product.fulfilment == Fulfilment::Digital)
    }

    /// The line of `hold_id` in `order_id` was delivered or picked up at `at`: its earnings under a
    /// releasing profile become due then (the first completion counts; a later one changes nothing).
    pub(in crate::state) fn release_fulfilled(&mut self, order_id: OrderId, hold_id: HoldId, at: Timestamp) {
        let Some(order) = self.money.orders.get_mut(&order_id) else { return };
        let Some(line) = order.lines.iter_mut().find(|line| line.hold_id == hold_id) else { return };
        let mut released = false;
        for earning in line.earnings.iter_mut().filter(|earning| earning.profile.release_on_fulfilment) {
            if earning.released_at.is_none() {
                earning.released_at = Some(at);
                released = true;
            }
        }
        if released {
            self.money.books.entry(order_id.partition()).or_default().due.insert((at, order_id));
        }
    }
}
