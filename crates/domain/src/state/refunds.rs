//! Refunds: the request, the two-sided sign-off above the threshold, and the execution.
//!
//! From its request until it is rejected, a refund claims the units it names of each order line, so
//! no unit is refunded twice and the refunds of an order never add up to more than its total (each
//! amount is its units at the prices paid). Executing a refund moves its units out of `sold`: back
//! to `remaining` when asked to restock and the drop is still open, otherwise to `released`, which
//! gives them back to the product's unallocated stock. Either way they free the buyer's per-drop
//! limit: the limit counts units held or bought, and a refunded unit is neither.

use super::State;
use super::decision::{Decision, ReadBack};
use crate::limits::REFUND_REASON_CHARS_MAX;
use crate::{
    Actor, DropId, DropPhase, Event, HoldId, HoldStatus, NewRefund, Order, OrderId, OrderLine, Refund, RefundApproval,
    RefundDecision, RefundId, RefundLine, RefundRejection, RefundSide, RefundStatus, Rejection, Role, Timestamp,
};
use hashbrown::HashMap;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct RefundBook {
    pub(super) refunds: HashMap<RefundId, Refund>,
    /// Each order's refunds, oldest first.
    pub(super) by_order: HashMap<OrderId, Vec<RefundId>>,
    /// Units of each order line (hold) named by a refund that is not rejected.
    claimed: HashMap<HoldId, u32>,
    /// Units of each order line paid back; they are no longer counted in the drop's `sold`.
    executed: HashMap<HoldId, u32>,
}

impl RefundBook {
    fn claimed_units(&self, hold_id: HoldId) -> u32 {
        self.claimed.get(&hold_id).copied().unwrap_or(0)
    }

    pub(super) fn executed_units(&self, hold_id: HoldId) -> u32 {
        self.executed.get(&hold_id).copied().unwrap_or(0)
    }

    /// Recomputes the counters from the refunds and checks that no order line is refunded beyond
    /// its quantity and no order beyond its total.
    pub(super) fn check(&self, orders: &HashMap<OrderId, Order>) -> Result<(), String> {
        let mut claimed: BTreeMap<HoldId, u32> = BTreeMap::new();
        let mut executed: BTreeMap<HoldId, u32> = BTreeMap::new();
        for refund in self.refunds.values() {
            let amount = refund_amount(&refund.lines);
            if amount != Some(refund.amount) {
                return Err(format!("refund {}: amount does not match its lines", refund.id));
            }
            for line in &refund.lines {
                if refund.status != RefundStatus::Rejected {
                    *claimed.entry(line.hold_id).or_default() += line.quantity;
                }
                if refund.status == RefundStatus::Executed {
                    *executed.entry(line.hold_id).or_default() += line.quantity;
                }
            }
        }
        let nonzero = |map: &HashMap<HoldId, u32>| -> BTreeMap<HoldId, u32> {
            map.iter().filter(|(_, units)| **units > 0).map(|(hold_id, units)| (*hold_id, *units)).collect()
        };
        if nonzero(&self.claimed) != claimed || nonzero(&self.executed) != executed {
            return Err("refunded units out of step with the refunds".to_owned());
        }
        let mut n_indexed = 0;
        for (order_id, refund_ids) in &self.by_order {
            let order = orders.get(order_id).ok_or_else(|| format!("refund of unknown order {order_id}"))?;
            let mut refunded_minor = 0i64;
            for refund in refund_ids.iter().map(|id| &self.refunds[id]) {
                n_indexed += 1;
                if refund.order_id != *order_id || refund.amount.currency != order.total.currency {
                    return Err(format!("refund {} filed under the wrong order", refund.id));
                }
                if refund.status != RefundStatus::Rejected {
                    refunded_minor += refund.amount.minor;
                }
            }
            if refunded_minor > order.total.minor {
                return Err(format!("order {order_id}: refunds exceed what was paid"));
            }
            for line in &order.lines {
                if claimed.get(&line.hold_id).copied().unwrap_or(0) > line.quantity {
                    return Err(format!("order {order_id}: line {} refunded beyond its quantity", line.hold_id));
                }
            }
        }
        if n_indexed != self.refunds.len() {
            return Err("refunds and their order index out of step".to_owned());
        }
        Ok(())
    }
}

fn refund_amount(lines: &[RefundLine]) -> Option<crate::Money> {
    let mut total: Option<crate::Money> = None;
    for line in lines {
        let line_total = line.unit_price.times(u64::from(line.quantity))?;
        total = Some(match total {
            None => line_total,
            Some(sum) => sum.plus(line_total)?,
        });
    }
    total
}

fn check_reason(reason: &str) -> Result<(), Rejection> {
    let n_chars = reason.chars().count();
    if reason.trim().is_empty() || n_chars > REFUND_REASON_CHARS_MAX || reason.chars().any(char::is_control) {
        return Err(Rejection::invalid(
            "reason",
            format!("must be 1 to {REFUND_REASON_CHARS_MAX} printable characters"),
        ));
    }
    Ok(())
}

impl State {
    pub(super) fn decide_request_refund(
        &self,
        now: Timestamp,
        actor: &Actor,
        order_id: OrderId,
        new: &NewRefund,
    ) -> Result<Decision, Rejection> {
        let order = self.orders.get(&order_id).ok_or(Rejection::NotFound)?;
        if actor.id != order.buyer_id && actor.id != order.creator_id {
            // Others learn nothing about the order; an admin decides refunds but does not ask for them.
            return Err(if actor.role == Role::Admin { Rejection::Forbidden } else { Rejection::NotFound });
        }
        check_reason(&new.reason)?;
        if self.refund_blocked_by_dispute(order_id) {
            return Err(Rejection::OrderDisputed);
        }
        let refundable = |line: &OrderLine| line.quantity - self.refunds.claimed_units(line.hold_id);
        let refundable_units: u64 = order.lines.iter().map(|line| u64::from(refundable(line))).sum();
        let refund_line = |line: &OrderLine, quantity: u32| RefundLine {
            hold_id: line.hold_id,
            drop_id: line.drop_id,
            quantity,
            unit_price: line.unit_price,
        };
        let mut lines = Vec::new();
        match &new.lines {
            None => {
                for line in &order.lines {
                    let quantity = refundable(line);
                    if quantity > 0 {
                        lines.push(refund_line(line, quantity));
                    }
                }
            }
            Some(requested) => {
                if requested.is_empty() || requested.len() > order.lines.len() {
                    return Err(Rejection::invalid(
                        "lines",
                        "must name 1 to all of the order's lines, or be left out to refund the whole order",
                    ));
                }
                // Every value is checked before the business refusal, so invalid input records nothing.
                let mut named = Vec::with_capacity(requested.len());
                for (idx, &(hold_id, quantity)) in requested.iter().enumerate() {
                    if requested[..idx].iter().any(|(earlier, _)| *earlier == hold_id) {
                        return Err(Rejection::invalid("lines", format!("{hold_id} is named twice")));
                    }
                    let Some(line) = order.lines.iter().find(|line| line.hold_id == hold_id) else {
                        return Err(Rejection::invalid("lines", format!("{hold_id} is not a line of this order")));
                    };
                    if quantity == 0 {
                        return Err(Rejection::invalid("lines", "a quantity must be at least 1"));
                    }
                    named.push((line, quantity));
                }
                for (line, quantity) in named {
                    if quantity > refundable(line) {
                        return Err(Rejection::RefundExceedsPaid { refundable_units });
                    }
                    lines.push(refund_line(line, quantity));
                }
            }
        }
        if lines.is_empty() {
            return Err(Rejection::RefundExceedsPaid { refundable_units });
        }
        let amount = refund_amount(&lines).expect("a refund is part of an order whose total is in range");
        // An order has one allowance: a refund that, with everything asked of the order before it
        // (pending, approved, executed or rejected), comes to strictly more than the threshold
        // needs both sign-offs; within it, it is paid back at once. Asking in parts, or again after
        // a rejection, changes nothing.
        let asked_before: i64 = self.order_refunds(order_id).map(|refund| refund.amount.minor).sum();
        let needs_approval = asked_before.saturating_add(amount.minor) > new.approval_threshold_minor;
        let refund = self.new_refund(now, actor, order, lines, new.reason.clone(), new.restock, needs_approval);
        let refund_id = refund.id;
        Ok(Decision::read_back(vec![Event::RefundRequested { refund }], ReadBack::Refund(refund_id)))
    }

    /// What an admin rejecting an order in a fraud review does to its refunds: refunds still waiting
    /// for sign-off are rejected (the platform decided), and everything not yet refunded or being
    /// paid back is refunded in one refund, approved at once and restocked.
    pub(super) fn refund_rejected_order(
        &self,
        now: Timestamp,
        admin: &Actor,
        order: &Order,
        reason: Option<&str>,
    ) -> Vec<Event> {
        let reason = match reason {
            Some(reason) => format!("order rejected in a fraud review: {reason}"),
            None => "order rejected in a fraud review".to_owned(),
        };
        let mut events = Vec::new();
        let mut freed: HashMap<HoldId, u32> = HashMap::new();
        let pending = self.order_refunds(order.id).filter(|refund| refund.status == RefundStatus::PendingApproval);
        for refund in pending {
            for line in &refund.lines {
                *freed.entry(line.hold_id).or_default() += line.quantity;
            }
            events.push(Event::RefundRejected {
                refund_id: refund.id,
                side: RefundSide::Platform,
                by: admin.id,
                reason: reason.clone(),
                at: now,
            });
        }
        // A disputed charge is the dispute's to settle, not a refund's: paying back both would pay the
        // buyer twice.
        if self.refund_blocked_by_dispute(order.id) {
            return events;
        }
        let lines: Vec<RefundLine> = order
            .lines
            .iter()
            .map(|line| RefundLine {
                hold_id: line.hold_id,
                drop_id: line.drop_id,
                quantity: line.quantity - self.refunds.claimed_units(line.hold_id)
                    + freed.get(&line.hold_id).copied().unwrap_or(0),
                unit_price: line.unit_price,
            })
            .filter(|line| line.quantity > 0)
            .collect();
        if !lines.is_empty() {
            events.push(Event::RefundRequested {
                refund: self.new_refund(now, admin, order, lines, reason, true, false),
            });
        }
        events
    }

    #[allow(clippy::too_many_arguments)] // each is one fact of the new refund; a struct would only rename them
    fn new_refund(
        &self,
        now: Timestamp,
        requested_by: &Actor,
        order: &Order,
        lines: Vec<RefundLine>,
        reason: String,
        restock: bool,
        needs_approval: bool,
    ) -> Refund {
        let amount = refund_amount(&lines).expect("a refund is part of an order whose total is in range");
        Refund {
            id: RefundId(self.allocator(order.id.partition()).next()),
            order_id: order.id,
            buyer_id: order.buyer_id,
            creator_id: order.creator_id,
            charge_id: order.charge_id.clone(),
            lines,
            amount,
            requested_by: requested_by.id,
            reason,
            restock,
            needs_approval,
            status: if needs_approval { RefundStatus::PendingApproval } else { RefundStatus::Approved },
            platform_approval: None,
            creator_approval: None,
            rejection: None,
            requested_at: now,
            provider_refund_id: None,
            executed_at: None,
        }
    }

    /// Any admin signs for the platform, the order's creator for the creator; a creator's own
    /// request is not their sign-off (both are explicit). The buyer may read but not decide.
    pub(super) fn decide_refund_decision(
        &self,
        now: Timestamp,
        actor: &Actor,
        refund_id: RefundId,
        decision: &RefundDecision,
    ) -> Result<Decision, Rejection> {
        let refund = self.refunds.refunds.get(&refund_id).ok_or(Rejection::NotFound)?;
        let side = if actor.role == Role::Admin {
            RefundSide::Platform
        } else if actor.id == refund.creator_id {
            RefundSide::Creator
        } else if actor.id == refund.buyer_id {
            return Err(Rejection::Forbidden);
        } else {
            return Err(Rejection::NotFound);
        };
        if let RefundDecision::Reject { reason } = decision {
            check_reason(reason)?;
        }
        let already_approved = match side {
            RefundSide::Platform => refund.platform_approval.is_some(),
            RefundSide::Creator => refund.creator_approval.is_some(),
        };
        let events = match (refund.status, decision) {
            // A side approving again (a retry whose answer was lost) is the same sign-off.
            (RefundStatus::PendingApproval | RefundStatus::Executed, RefundDecision::Approve) if already_approved => {
                Vec::new()
            }
            // The charge is disputed: the dispute, not this refund, decides where its money goes.
            (RefundStatus::PendingApproval, RefundDecision::Approve)
                if self.refund_blocked_by_dispute(refund.order_id) =>
            {
                return Err(Rejection::OrderDisputed);
            }
            (RefundStatus::PendingApproval, RefundDecision::Approve) => {
                vec![Event::RefundApproved { refund_id, side, by: actor.id, at: now }]
            }
            (RefundStatus::PendingApproval, RefundDecision::Reject { reason }) => {
                vec![Event::RefundRejected { refund_id, side, by: actor.id, reason: reason.clone(), at: now }]
            }
            // Approved but not paid back yet (the provider failed, or the process stopped first):
            // approving again answers it as it is, and the engine retries the payment.
            (RefundStatus::Approved, RefundDecision::Approve) => Vec::new(),
            (status, _) => return Err(Rejection::RefundNotPending { status }),
        };
        Ok(Decision::read_back(events, ReadBack::Refund(refund_id)))
    }

    /// Completing an executed refund again (the engine retrying after a restart) changes nothing and
    /// answers the refund as it is.
    pub(super) fn decide_complete_refund(
        &self,
        now: Timestamp,
        refund_id: RefundId,
        provider_refund_id: &str,
    ) -> Result<Decision, Rejection> {
        let refund = self.refunds.refunds.get(&refund_id).ok_or(Rejection::NotFound)?;
        match refund.status {
            RefundStatus::Executed => return Ok(Decision::read_back(Vec::new(), ReadBack::Refund(refund_id))),
            RefundStatus::Approved => {}
            status => return Err(Rejection::RefundNotPending { status }),
        }
        if provider_refund_id.is_empty() {
            return Err(Rejection::invalid("provider_refund_id", "must not be empty"));
        }
        let mut by_drop: BTreeMap<DropId, (Vec<HoldId>, u64)> = BTreeMap::new();
        for line in &refund.lines {
            let entry = by_drop.entry(line.drop_id).or_default();
            entry.0.push(line.hold_id);
            entry.1 += u64::from(line.quantity);
        }
        let mut events = Vec::with_capacity(by_drop.len() + 2);
        events.push(Event::RefundExecuted { refund_id, provider_refund_id: provider_refund_id.to_owned(), at: now });
        // The money back from each party, in the same commit as the refund.
        let id = crate::LedgerTxId(self.allocator(refund_id.partition()).next());
        events.extend(self.refund_transaction(id, refund, now).map(|transaction| Event::LedgerPosted { transaction }));
        for (drop_id, (hold_ids, quantity)) in by_drop {
            let restocked = refund.restock && self.drops[&drop_id].phase == DropPhase::Open;
            events.push(Event::UnitsRefunded {
                drop_id,
                order_id: refund.order_id,
                refund_id,
                hold_ids,
                quantity,
                restocked,
                at: now,
            });
        }
        // A line paid back whole is not handed over any more.
        let order = &self.orders[&refund.order_id];
        let fully_refunded = |hold_id: HoldId| {
            let in_refund: u32 =
                refund.lines.iter().filter(|line| line.hold_id == hold_id).map(|line| line.quantity).sum();
            let bought = order.lines.iter().find(|line| line.hold_id == hold_id).map_or(0, |line| line.quantity);
            in_refund > 0 && self.refunds.executed_units(hold_id) + in_refund >= bought
        };
        events.extend(self.cancel_fulfilment(refund.order_id, fully_refunded, refund.requested_by, now));
        Ok(Decision::read_back(events, ReadBack::Refund(refund_id)))
    }

    pub(super) fn apply_refund_event(&mut self, event: &Event) {
        match event {
            Event::RefundRequested { refund } => {
                self.note_id(refund.id.0);
                let order = &self.orders[&refund.order_id];
                for line in &refund.lines {
                    let claimed = self.refunds.claimed.entry(line.hold_id).or_insert(0);
                    *claimed += line.quantity;
                    let order_line = order.lines.iter().find(|order_line| order_line.hold_id == line.hold_id);
                    assert!(
                        order_line.is_some_and(|order_line| *claimed <= order_line.quantity),
                        "refund {} beyond its order line {}",
                        refund.id,
                        line.hold_id
                    );
                }
                self.refunds.by_order.entry(refund.order_id).or_default().push(refund.id);
                self.refunds.refunds.insert(refund.id, refund.clone());
            }
            Event::RefundApproved { refund_id, side, by, at } => {
                let refund = self.refunds.refunds.get_mut(refund_id).expect("known refund");
                assert_eq!(
                    refund.status,
                    RefundStatus::PendingApproval,
                    "refund {refund_id} approved while not pending"
                );
                let approval = Some(RefundApproval { by: *by, at: *at });
                match side {
                    RefundSide::Platform => refund.platform_approval = approval,
                    RefundSide::Creator => refund.creator_approval = approval,
                }
                if refund.platform_approval.is_some() && refund.creator_approval.is_some() {
                    refund.status = RefundStatus::Approved;
                }
            }
            Event::RefundRejected { refund_id, side, by, reason, at } => {
                let refund = self.refunds.refunds.get_mut(refund_id).expect("known refund");
                assert_eq!(
                    refund.status,
                    RefundStatus::PendingApproval,
                    "refund {refund_id} rejected while not pending"
                );
                refund.status = RefundStatus::Rejected;
                refund.rejection = Some(RefundRejection { side: *side, by: *by, reason: reason.clone(), at: *at });
                for line in &refund.lines {
                    *self.refunds.claimed.get_mut(&line.hold_id).expect("claimed units of a refund") -= line.quantity;
                }
            }
            Event::RefundExecuted { refund_id, provider_refund_id, at } => {
                let refund = self.refunds.refunds.get_mut(refund_id).expect("known refund");
                assert_eq!(refund.status, RefundStatus::Approved, "refund {refund_id} executed while not approved");
                refund.status = RefundStatus::Executed;
                refund.provider_refund_id = Some(provider_refund_id.clone());
                refund.executed_at = Some(*at);
            }
            Event::UnitsRefunded { drop_id, refund_id, hold_ids, quantity, restocked, .. } => {
                let refund = &self.refunds.refunds[refund_id];
                assert_eq!(
                    refund.status,
                    RefundStatus::Executed,
                    "units of refund {refund_id} returned before it executed"
                );
                let mut n_units = 0;
                for hold_id in hold_ids {
                    let line = refund.lines.iter().find(|line| line.hold_id == *hold_id).expect("a line of the refund");
                    assert_eq!(line.drop_id, *drop_id, "units_refunded lists holds of its drop");
                    let hold = &self.holds[hold_id];
                    assert_eq!(hold.status, HoldStatus::Sold, "refunded hold {hold_id} was sold");
                    *self.refunds.executed.entry(*hold_id).or_insert(0) += line.quantity;
                    let units = self.buyer_units.get_mut(&(*drop_id, hold.buyer_id)).expect("buyer units of a hold");
                    *units -= line.quantity;
                    n_units += u64::from(line.quantity);
                }
                assert_eq!(n_units, *quantity, "units_refunded quantity matches its holds");
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                assert!(drop.sold >= *quantity, "drop {drop_id} refunded more than it sold");
                drop.sold -= quantity;
                if *restocked {
                    drop.remaining += quantity;
                } else {
                    drop.released += quantity;
                    let product = self.products.get_mut(&drop.product_id).expect("drop of a known product");
                    product.allocated -= quantity;
                }
            }
            other => unreachable!("{} is not a refund event", other.kind()),
        }
    }
}
