//! Fulfilment orders in the order's partition: opened with the order (one per physical line),
//! moved by their fulfiller (the assigned partner, or the creator), cancelled by the creator too.

use super::State;
use super::decision::{Decision, ReadBack};
use crate::{
    AccountId, Actor, Event, Fulfilment, FulfilmentChange, FulfilmentId, FulfilmentOrder, FulfilmentState, Order,
    OrderId, PartnerKind, Rejection, Timestamp,
};
use hashbrown::HashMap;

/// A promised time at most this far ahead.
const ETA_AHEAD_MS_MAX: i64 = 90 * 24 * 3_600 * 1_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct FulfilmentBook {
    orders: HashMap<FulfilmentId, FulfilmentOrder>,
    /// Each order's fulfilment orders, in line order.
    by_order: HashMap<OrderId, Vec<FulfilmentId>>,
    /// Each fulfiller's (partner's or creator's) fulfilment orders of this shard, oldest first.
    by_fulfiller: HashMap<AccountId, Vec<FulfilmentId>>,
    /// Each creator's fulfilment orders, oldest first.
    by_creator: HashMap<AccountId, Vec<FulfilmentId>>,
}

impl State {
    pub fn fulfilment(&self, id: FulfilmentId) -> Option<&FulfilmentOrder> {
        self.fulfilment.orders.get(&id)
    }

    /// An order's fulfilment orders, in line order.
    pub fn order_fulfilment(&self, order_id: OrderId) -> impl Iterator<Item = &FulfilmentOrder> {
        let ids = self.fulfilment.by_order.get(&order_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.fulfilment.orders[id])
    }

    /// The fulfilment orders `account` fulfils in this shard, oldest first.
    pub fn fulfilment_of(&self, account: AccountId) -> impl Iterator<Item = &FulfilmentOrder> {
        let ids = self.fulfilment.by_fulfiller.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.fulfilment.orders[id])
    }

    /// The fulfilment orders of `creator`'s sales in this shard, oldest first.
    pub fn fulfilment_sold_by(&self, creator: AccountId) -> impl Iterator<Item = &FulfilmentOrder> {
        let ids = self.fulfilment.by_creator.get(&creator).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.fulfilment.orders[id])
    }

    /// The fulfilment orders a new order opens: one per line of a shipped or picked-up product,
    /// assigned to the drop's contract's first partner of the matching kind, else to the creator.
    pub(super) fn open_fulfilment(
        &self,
        order: &Order,
        mut next_id: impl FnMut() -> FulfilmentId,
        now: Timestamp,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        for line in &order.lines {
            let Some(product) = self.products.get(&line.product_id) else { continue };
            let kind = match product.fulfilment {
                Fulfilment::Digital => continue,
                Fulfilment::Pickup => PartnerKind::Venue,
                Fulfilment::Ship => PartnerKind::Logistics,
            };
            let partner_id = self
                .drops
                .get(&line.drop_id)
                .and_then(|drop| drop.split_contract_id)
                .and_then(|contract_id| self.money.contracts.get(&contract_id))
                .and_then(|contract| contract.shares.iter().find(|share| share.kind == Some(kind)))
                .map(|share| share.partner_id);
            let fulfilment = FulfilmentOrder {
                id: next_id(),
                order_id: order.id,
                hold_id: line.hold_id,
                drop_id: line.drop_id,
                product_id: line.product_id,
                quantity: line.quantity,
                method: product.fulfilment,
                creator_id: order.creator_id,
                buyer_id: order.buyer_id,
                partner_id,
                state: FulfilmentState::Open,
                eta: None,
                created_at: now,
                changes: Vec::new(),
            };
            events.push(Event::FulfilmentOpened { fulfilment });
        }
        events
    }

    /// Moves a fulfilment order to `to` and/or promises `eta`. Its fulfiller may make any legal
    /// change; its creator may cancel it too. Anyone else is told it does not exist.
    pub(super) fn decide_update_fulfilment(
        &self,
        now: Timestamp,
        actor: &Actor,
        fulfilment_id: FulfilmentId,
        to: Option<FulfilmentState>,
        eta: Option<Timestamp>,
    ) -> Result<Decision, Rejection> {
        let fulfilment = self.fulfilment.orders.get(&fulfilment_id).ok_or(Rejection::NotFound)?;
        let is_fulfiller = fulfilment.fulfiller() == actor.id;
        let is_creator = fulfilment.creator_id == actor.id;
        if !is_fulfiller && !is_creator {
            return Err(Rejection::NotFound);
        }
        if to.is_none() && eta.is_none() {
            return Err(Rejection::invalid("state", "name a state, an eta, or both"));
        }
        if let Some(eta) = eta
            && (eta.0 < now.0 - 60_000 || eta.0 - now.0 > ETA_AHEAD_MS_MAX)
        {
            return Err(Rejection::invalid("eta", "must be from now to 90 days ahead"));
        }
        let to = to.unwrap_or(fulfilment.state);
        if to == fulfilment.state && eta.is_none_or(|eta| fulfilment.eta == Some(eta)) {
            // Asked again: nothing changes, and it is answered as it is.
            return Ok(Decision::read_back(Vec::new(), ReadBack::Fulfilment(fulfilment_id)));
        }
        if to != fulfilment.state {
            if !fulfilment.state.may_become(to, fulfilment.method) {
                return Err(Rejection::FulfilmentTransition { from: fulfilment.state, to });
            }
            // The creator of a partner's order may only call it off.
            if !is_fulfiller && to != FulfilmentState::Cancelled {
                return Err(Rejection::Forbidden);
            }
        } else if !is_fulfiller {
            return Err(Rejection::Forbidden);
        }
        let change = FulfilmentChange { state: to, at: now, by: actor.id, eta };
        Ok(Decision::read_back(
            vec![Event::FulfilmentChanged { fulfilment_id, change }],
            ReadBack::Fulfilment(fulfilment_id),
        ))
    }

    pub(super) fn apply_fulfilment_event(&mut self, event: &Event) {
        match event {
            Event::FulfilmentOpened { fulfilment } => {
                self.note_id(fulfilment.id.0);
                assert!(self.orders.contains_key(&fulfilment.order_id), "fulfilment of an unknown order");
                self.fulfilment.by_order.entry(fulfilment.order_id).or_default().push(fulfilment.id);
                self.fulfilment.by_fulfiller.entry(fulfilment.fulfiller()).or_default().push(fulfilment.id);
                self.fulfilment.by_creator.entry(fulfilment.creator_id).or_default().push(fulfilment.id);
                let previous = self.fulfilment.orders.insert(fulfilment.id, fulfilment.clone());
                assert!(previous.is_none(), "fulfilment {} opened twice", fulfilment.id);
            }
            Event::FulfilmentChanged { fulfilment_id, change } => {
                let fulfilment = self.fulfilment.orders.get_mut(fulfilment_id).expect("known fulfilment");
                assert!(
                    change.state == fulfilment.state || fulfilment.state.may_become(change.state, fulfilment.method),
                    "fulfilment {fulfilment_id}: {:?} cannot become {:?}",
                    fulfilment.state,
                    change.state
                );
                fulfilment.state = change.state;
                if change.eta.is_some() {
                    fulfilment.eta = change.eta;
                }
                fulfilment.changes.push(change.clone());
            }
            _ => unreachable!("not a fulfilment event"),
        }
    }

    /// Every fulfilment order belongs to a known order and line, is listed once under its order
    /// and its fulfiller, and its state is where its changes led.
    pub(super) fn check_fulfilment_invariants(&self) -> Result<(), String> {
        let n_by_order: usize = self.fulfilment.by_order.values().map(Vec::len).sum();
        let n_by_fulfiller: usize = self.fulfilment.by_fulfiller.values().map(Vec::len).sum();
        let n_by_creator: usize = self.fulfilment.by_creator.values().map(Vec::len).sum();
        let n = self.fulfilment.orders.len();
        if n_by_order != n || n_by_fulfiller != n || n_by_creator != n {
            return Err("fulfilment orders and their lists out of step".to_owned());
        }
        for fulfilment in self.fulfilment.orders.values() {
            let order =
                self.orders.get(&fulfilment.order_id).ok_or_else(|| format!("{}: unknown order", fulfilment.id))?;
            if !order
                .lines
                .iter()
                .any(|line| line.hold_id == fulfilment.hold_id && line.quantity == fulfilment.quantity)
            {
                return Err(format!("{}: not a line of {}", fulfilment.id, order.id));
            }
            let last = fulfilment.changes.last().map_or(FulfilmentState::Open, |change| change.state);
            if last != fulfilment.state {
                return Err(format!("{}: state {:?} but its changes end at {last:?}", fulfilment.id, fulfilment.state));
            }
        }
        Ok(())
    }
}
