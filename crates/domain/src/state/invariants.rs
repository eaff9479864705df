//! Every invariant the state promises, recomputed from the entities rather than trusted from the
//! counters; used by tests and after loading a journal, never on the hot path.

use super::State;
use super::timers::{Deadline, episode_end_deadline};
use crate::limits::IDEMPOTENCY_TTL_MS;
use crate::{AccountId, DropId, HoldStatus, ProductId};
use std::collections::BTreeMap;

impl State {
    /// Checks every invariant the state promises; used by tests and after loading a journal.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut held_by_drop: BTreeMap<DropId, u64> = BTreeMap::new();
        let mut sold_by_drop: BTreeMap<DropId, u64> = BTreeMap::new();
        let mut units_by_buyer: BTreeMap<(DropId, AccountId), u32> = BTreeMap::new();
        self.refunds.check(&self.orders)?;
        self.check_room_invariants()?;
        self.check_token_invariants()?;
        self.check_webhook_invariants()?;
        self.check_fulfilment_invariants()?;
        self.check_money()?;
        // A live episode with an `ends_at` has exactly its end timer; no other episode has one.
        let n_episode_timers =
            self.deadlines.iter().filter(|(_, deadline)| matches!(deadline, Deadline::EpisodeEnd(_))).count();
        for episode in self.room_book.episodes.values() {
            if let Some(at) = episode_end_deadline(episode)
                && !self.deadlines.contains(&(at, Deadline::EpisodeEnd(episode.id)))
            {
                return Err(format!("episode {}: live with an ends_at but no end timer", episode.id));
            }
        }
        let n_expected = self.room_book.episodes.values().filter_map(episode_end_deadline).count();
        if n_episode_timers != n_expected {
            return Err("episode end timers out of step with live episodes".to_owned());
        }
        for hold in self.holds.values() {
            // Refunded units leave `sold` and the buyer's count.
            let quantity = match hold.status {
                HoldStatus::Active => {
                    *held_by_drop.entry(hold.drop_id).or_default() += u64::from(hold.quantity);
                    hold.quantity
                }
                HoldStatus::Sold => {
                    let kept = hold.quantity - self.refunds.executed_units(hold.id);
                    *sold_by_drop.entry(hold.drop_id).or_default() += u64::from(kept);
                    kept
                }
                HoldStatus::Expired => continue,
            };
            *units_by_buyer.entry((hold.drop_id, hold.buyer_id)).or_default() += quantity;
        }
        let mut allocated_by_product: BTreeMap<ProductId, u64> = BTreeMap::new();
        for drop in self.drops.values() {
            if drop.remaining + drop.held + drop.sold + drop.released != drop.quantity {
                return Err(format!("drop {}: remaining + held + sold + released != quantity", drop.id));
            }
            if drop.held != held_by_drop.get(&drop.id).copied().unwrap_or(0) {
                return Err(format!("drop {}: held does not match its active holds", drop.id));
            }
            if drop.sold != sold_by_drop.get(&drop.id).copied().unwrap_or(0) {
                return Err(format!("drop {}: sold does not match its sold holds", drop.id));
            }
            *allocated_by_product.entry(drop.product_id).or_default() += drop.quantity - drop.released;
        }
        for (&(drop_id, buyer_id), &units) in &units_by_buyer {
            if units > self.drops[&drop_id].per_buyer_limit {
                return Err(format!("buyer {buyer_id} above the limit of drop {drop_id}"));
            }
            if self.buyer_units(drop_id, buyer_id) != units {
                return Err(format!("buyer {buyer_id} units of drop {drop_id} out of step"));
            }
        }
        // Every record has exactly one current entry in the expiry queue (others are stale).
        let n_indexed = self.idempotency_expiries.iter().filter(|(expires_at, key)| {
            let record = self.idempotency.get(key);
            record.is_some_and(|record| record.at.plus_ms(IDEMPOTENCY_TTL_MS) == *expires_at)
        });
        if n_indexed.count() != self.idempotency.len() {
            return Err("idempotency records and their expiry index out of step".to_owned());
        }
        for product in self.products.values() {
            let allocated = allocated_by_product.get(&product.id).copied().unwrap_or(0);
            if product.allocated != allocated || allocated > product.stock {
                return Err(format!("product {}: allocation out of step", product.id));
            }
        }
        Ok(())
    }
}
