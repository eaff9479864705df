//! Fulfilment orders in the order's partition: opened with the order (one per physical line),
//! moved by their fulfiller (the assigned partner, or the creator), cancelled by the creator too.

use super::State;
use super::decision::{Decision, ReadBack};
use crate::{
    AccountId, Actor, Event, Fulfilment, FulfilmentChange, FulfilmentId, FulfilmentOrder, FulfilmentState, Order,
    OrderId, PICKUP_CODE_ATTEMPTS_MAX, PICKUP_CODE_WINDOW_MS, Rejection, Reply, SignalOutcome, Timestamp,
};
use hashbrown::HashMap;

/// A promised time at most this far ahead, and at most this far past (clocks differ a little).
const ETA_AHEAD_MS_MAX: i64 = 90 * 24 * 3_600 * 1_000;
const ETA_PAST_MS_MAX: i64 = 60_000;
/// Changes one fulfilment order takes at most before new ETAs alone are refused, so an ETA changed
/// back and forth cannot grow it (and its webhooks) without end. Moves of state are always taken:
/// an order never gets stuck short of delivery, pickup or cancelling (at most five more).
const FULFILMENT_CHANGES_MAX: usize = 64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct FulfilmentBook {
    orders: HashMap<FulfilmentId, FulfilmentOrder>,
    /// Each order's fulfilment orders, in line order.
    by_order: HashMap<OrderId, Vec<FulfilmentId>>,
    /// Each fulfiller's (partner's or creator's) fulfilment orders of this shard, oldest first.
    by_fulfiller: HashMap<AccountId, Vec<FulfilmentId>>,
    /// Each creator's fulfilment orders, oldest first.
    by_creator: HashMap<AccountId, Vec<FulfilmentId>>,
    /// Each drop's fulfilment orders, oldest first.
    by_drop: HashMap<crate::DropId, Vec<FulfilmentId>>,
}

impl State {
    pub fn fulfilment(&self, id: FulfilmentId) -> Option<&FulfilmentOrder> {
        self.fulfilment.orders.get(&id)
    }

    /// Units of the drop sold, not paid back and not handed over or called off yet: still at the
    /// fulfiller's. Read when a hub counts (rarely), so it is summed rather than kept.
    pub(super) fn fulfilment_on_shelf(&self, drop_id: crate::DropId) -> u64 {
        let ids = self.fulfilment.by_drop.get(&drop_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter()
            .map(|id| &self.fulfilment.orders[id])
            .filter(|fulfilment| fulfilment.state.is_on_shelf())
            .map(|f| u64::from(f.quantity.saturating_sub(self.refunds.executed_units(f.hold_id))))
            .sum()
    }

    /// An order's fulfilment orders, in line order.
    pub fn order_fulfilment(&self, order_id: OrderId) -> impl DoubleEndedIterator<Item = &FulfilmentOrder> {
        let ids = self.fulfilment.by_order.get(&order_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.fulfilment.orders[id])
    }

    /// The fulfilment orders `account` fulfils in this shard, oldest first.
    pub fn fulfilment_of(&self, account: AccountId) -> impl DoubleEndedIterator<Item = &FulfilmentOrder> {
        let ids = self.fulfilment.by_fulfiller.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.fulfilment.orders[id])
    }

    /// The fulfilment orders of `creator`'s sales in this shard, oldest first.
    pub fn fulfilment_sold_by(&self, creator: AccountId) -> impl DoubleEndedIterator<Item = &FulfilmentOrder> {
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
        pickup_seed: u64,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        for (index, line) in order.lines.iter().enumerate() {
            let Some(product) = self.products.get(&line.product_id) else { continue };
            if product.fulfilment == Fulfilment::Digital {
                continue;
            }
            let hub = self.drop_hub_share(line.drop_id);
            let partner_id = hub.map(|share| share.partner_id);
            // The partner's terms promise the buyer a time: the order opens with it as its ETA.
            let eta =
                hub.and_then(|share| share.terms.as_ref()).map(|terms| terms.promised_by(now, product.fulfilment));
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
                eta,
                created_at: now,
                changes: Vec::new(),
                pickup_code: (product.fulfilment == Fulfilment::Pickup).then(|| crate::pickup_code(pickup_seed, index)),
                wrong_codes: Vec::new(),
                eta_version: 0,
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
        pickup_code: Option<&str>,
    ) -> Result<Decision, Rejection> {
        let fulfilment = self.fulfilment.orders.get(&fulfilment_id).ok_or(Rejection::NotFound)?;
        let is_fulfiller = fulfilment.fulfiller() == actor.id;
        if !is_fulfiller && fulfilment.creator_id != actor.id {
            return Err(Rejection::NotFound);
        }
        if to.is_none() && eta.is_none() {
            return Err(Rejection::invalid("state", "name a state, an eta, or both"));
        }
        let to = to.unwrap_or(fulfilment.state);
        // The creator of a partner's order may only call it off.
        if !is_fulfiller && (to != FulfilmentState::Cancelled || eta.is_some()) {
            return Err(Rejection::Forbidden);
        }
        if to == fulfilment.state && eta.is_none_or(|eta| fulfilment.eta == Some(eta)) {
            // Asked again: nothing changes, and it is answered as it is.
            return Ok(Decision::read_back(Vec::new(), ReadBack::Fulfilment(fulfilment_id)));
        }
        if let Some(eta) = eta {
            if !matches!(
                to,
                FulfilmentState::Open
                    | FulfilmentState::Accepted
                    | FulfilmentState::ReadyForPickup
                    | FulfilmentState::InTransit
            ) {
                return Err(Rejection::invalid("eta", "a fulfilment order that is done or called off takes no ETA"));
            }
            if eta.0 < now.0 - ETA_PAST_MS_MAX || eta.0 - now.0 > ETA_AHEAD_MS_MAX {
                return Err(Rejection::invalid("eta", "must be from now to 90 days ahead"));
            }
        }
        if to == fulfilment.state && fulfilment.changes.len() >= FULFILMENT_CHANGES_MAX {
            let message = format!("a fulfilment order takes new ETAs for {FULFILMENT_CHANGES_MAX} changes only");
            return Err(Rejection::invalid("eta", message));
        }
        if to != fulfilment.state {
            if !fulfilment.state.may_become(to, fulfilment.method) {
                return Err(Rejection::FulfilmentTransition { from: fulfilment.state, to });
            }
            // Goods do not leave before the fraud review says the order stands.
            let in_review = self.orders[&fulfilment.order_id]
                .review
                .as_ref()
                .is_some_and(|review| review.status == crate::ReviewStatus::Pending);
            if in_review && to != FulfilmentState::Cancelled {
                return Err(Rejection::OrderInReview);
            }
            // A pickup is handed over against the buyer's code, and guessing it is slowed down.
            if to == FulfilmentState::PickedUp
                && let Some(expected) = &fulfilment.pickup_code
            {
                let entered = pickup_code.ok_or_else(|| {
                    Rejection::invalid("pickup_code", "the buyer's pickup code is needed to hand a pickup over")
                })?;
                if let Some(until) = fulfilment.codes_locked_until(now) {
                    let retry_after_secs = u64::try_from((until.0 - now.0 + 999) / 1_000).unwrap_or(1);
                    return Err(Rejection::PickupCodeLocked { retry_after_secs });
                }
                if entered != expected {
                    let recent =
                        fulfilment.wrong_codes.iter().filter(|at| at.0 > now.0 - PICKUP_CODE_WINDOW_MS).count();
                    let attempts_left = (PICKUP_CODE_ATTEMPTS_MAX - recent - 1) as u32;
                    let rejected = Event::PickupCodeRejected { fulfilment_id, by: actor.id, at: now };
                    return Ok(Decision::immediate(vec![rejected], Err(Rejection::WrongPickupCode { attempts_left })));
                }
            }
        }
        let change = FulfilmentChange { state: to, at: now, by: actor.id, eta, version: None };
        Ok(Decision::read_back(
            vec![Event::FulfilmentChanged { fulfilment_id, change }],
            ReadBack::Fulfilment(fulfilment_id),
        ))
    }

    /// A partner's signal: the state it names if that lies ahead (through the states between, each
    /// a change), and its ETA if its version is newer than the ETA in force. A state already passed
    /// and an older ETA are stale and change nothing: the state only moves forward along its path
    /// and the ETA is the newest version's, so late, repeated and reordered signals end where the
    /// same signals in order do.
    pub(super) fn decide_fulfilment_signal(
        &self,
        now: Timestamp,
        actor: &Actor,
        fulfilment_id: FulfilmentId,
        to: Option<FulfilmentState>,
        eta: Option<Timestamp>,
        version: u64,
    ) -> Result<Decision, Rejection> {
        let fulfilment = self.fulfilment.orders.get(&fulfilment_id).ok_or(Rejection::NotFound)?;
        if fulfilment.fulfiller() != actor.id {
            return Err(Rejection::NotFound);
        }
        if to.is_none() && eta.is_none() {
            return Err(Rejection::invalid("state", "name a state, an eta, or both"));
        }
        if version == 0 {
            return Err(Rejection::invalid("version", "must be 1 or more"));
        }
        let stale = |fulfilment: &FulfilmentOrder| {
            Decision::immediate(
                Vec::new(),
                Ok(Reply::FulfilmentSignal { fulfilment: Box::new(fulfilment.clone()), outcome: SignalOutcome::Stale }),
            )
        };
        let path = match to {
            None => Vec::new(),
            Some(to) => match fulfilment.state.path_to(to, fulfilment.method) {
                Some(path) => path,
                // Already passed (the signal is late): nothing to move. Passed means the order was
                // there, not merely that it could have led here (an `accepted` after a cancel from
                // `open` is refused, not stale).
                None if to == FulfilmentState::Open || fulfilment.changes.iter().any(|change| change.state == to) => {
                    Vec::new()
                }
                None => return Err(Rejection::FulfilmentTransition { from: fulfilment.state, to }),
            },
        };
        // Handing a pickup over (also on the way to `returned`) takes the buyer's code.
        if fulfilment.pickup_code.is_some() && path.contains(&FulfilmentState::PickedUp) {
            return Err(Rejection::invalid("state", "a pickup is handed over against its code, not by a signal"));
        }
        // The newest version's promise stands, whatever the state (one that arrives after the goods
        // did is still the one given); of one version's two promises, the later time. A promise
        // already past when it arrives is stale, not refused, so a late signal still moves the state.
        // The tie applies to a signalled promise only: a manual ETA (no version) in force yields to a
        // newer version alone, so a repeated signal never undoes a correction made since.
        let signalled = fulfilment
            .changes
            .iter()
            .rev()
            .find(|change| change.eta.is_some())
            .is_some_and(|change| change.version == Some(fulfilment.eta_version));
        let newer = |eta: &Timestamp| {
            version > fulfilment.eta_version
                || (version == fulfilment.eta_version && signalled && fulfilment.eta < Some(*eta))
        };
        // A promise outside now .. 90 days ahead is stale (past) or ignored (too far), never a reason
        // to refuse the state the signal carries.
        let in_window = |eta: &Timestamp| eta.0 >= now.0 - ETA_PAST_MS_MAX && eta.0 - now.0 <= ETA_AHEAD_MS_MAX;
        let promises = eta.filter(|eta| in_window(eta) && newer(eta));
        if path.is_empty() && promises.is_none() {
            return Ok(stale(fulfilment));
        }
        let in_review = self.orders[&fulfilment.order_id]
            .review
            .as_ref()
            .is_some_and(|review| review.status == crate::ReviewStatus::Pending);
        if in_review && path.iter().any(|state| *state != FulfilmentState::Cancelled) {
            return Err(Rejection::OrderInReview);
        }
        if path.is_empty() && fulfilment.changes.len() >= FULFILMENT_CHANGES_MAX {
            let message = format!("a fulfilment order takes new ETAs for {FULFILMENT_CHANGES_MAX} changes only");
            return Err(Rejection::invalid("eta", message));
        }
        let change = |state, eta| FulfilmentChange { state, at: now, by: actor.id, eta, version: Some(version) };
        let mut changes: Vec<FulfilmentChange> = path.iter().map(|state| change(*state, None)).collect();
        match changes.last_mut() {
            Some(last) => last.eta = promises,
            None => changes.push(change(fulfilment.state, promises)),
        }
        let events = changes.into_iter().map(|change| Event::FulfilmentChanged { fulfilment_id, change }).collect();
        Ok(Decision::read_back(events, ReadBack::FulfilmentSignal(fulfilment_id)))
    }

    /// Calls off, as `by`, the fulfilment orders of `order_id` whose line `refunded` names and whose
    /// goods have not left the fulfiller's hands: a rejected or refunded line is not handed over.
    pub(super) fn cancel_fulfilment(
        &self,
        order_id: OrderId,
        refunded: impl Fn(crate::HoldId) -> bool,
        by: AccountId,
        now: Timestamp,
    ) -> Vec<Event> {
        self.order_fulfilment(order_id)
            .filter(|f| refunded(f.hold_id) && f.state.may_become(FulfilmentState::Cancelled, f.method))
            .map(|f| Event::FulfilmentChanged {
                fulfilment_id: f.id,
                change: FulfilmentChange { state: FulfilmentState::Cancelled, at: now, by, eta: None, version: None },
            })
            .collect()
    }

    pub(super) fn apply_fulfilment_event(&mut self, event: &Event) {
        match event {
            Event::FulfilmentOpened { fulfilment } => {
                self.note_id(fulfilment.id.0);
                assert!(self.orders.contains_key(&fulfilment.order_id), "fulfilment of an unknown order");
                self.fulfilment.by_order.entry(fulfilment.order_id).or_default().push(fulfilment.id);
                self.fulfilment.by_fulfiller.entry(fulfilment.fulfiller()).or_default().push(fulfilment.id);
                self.fulfilment.by_creator.entry(fulfilment.creator_id).or_default().push(fulfilment.id);
                self.fulfilment.by_drop.entry(fulfilment.drop_id).or_default().push(fulfilment.id);
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
                if let (Some(_), Some(version)) = (change.eta, change.version) {
                    fulfilment.eta_version = fulfilment.eta_version.max(version);
                }
                fulfilment.changes.push(change.clone());
                let (order_id, hold_id, method) = (fulfilment.order_id, fulfilment.hold_id, fulfilment.method);
                if change.state.is_completed() {
                    self.release_fulfilled(order_id, hold_id, change, method);
                } else if change.state == FulfilmentState::Returned {
                    self.unrelease_returned(order_id, hold_id);
                }
            }
            Event::PickupCodeRejected { fulfilment_id, at, .. } => {
                let fulfilment = self.fulfilment.orders.get_mut(fulfilment_id).expect("known fulfilment");
                fulfilment.wrong_codes.push(*at);
                if fulfilment.wrong_codes.len() > PICKUP_CODE_ATTEMPTS_MAX {
                    fulfilment.wrong_codes.remove(0);
                }
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
