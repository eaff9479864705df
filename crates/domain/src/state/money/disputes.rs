//! Disputes (chargebacks), opened and decided by an admin standing in for the payment provider's
//! webhooks. Opening one sets each party's share of the disputed amount aside in its
//! `dispute_hold` (split over what each still has of the order, by the largest remainder rule),
//! taken from its reserve first, then its pending, then its available money, and what is left as a
//! debt. Won, the money set aside is available again; lost, the processor takes the amount back from
//! it and from the platform's fee.

use super::super::decision::{Decision, ReadBack};
use super::super::{State, require_role};
use super::{Draft, take_back};
use crate::ledger::{Cause, LedgerAccount, RefundPart, allocate};
use crate::limits::REFUND_REASON_CHARS_MAX;
use crate::{
    AccountId, Actor, Dispute, DisputeId, DisputeState, Event, HoldId, LedgerTxId, Money, OrderId, RefundStatus,
    Rejection, Role, Timestamp,
};
use std::collections::BTreeMap;

impl State {
    pub fn dispute(&self, id: DisputeId) -> Option<&Dispute> {
        self.money.disputes.get(&id)
    }

    pub fn order_dispute(&self, order_id: OrderId) -> Option<&Dispute> {
        self.money.dispute_of_order.get(&order_id).map(|id| &self.money.disputes[id])
    }

    /// Whether refunds of the order are refused: its charge is disputed and the dispute not won.
    pub(in crate::state) fn refund_blocked_by_dispute(&self, order_id: OrderId) -> bool {
        self.order_dispute(order_id).is_some_and(|dispute| dispute.state != DisputeState::Won)
    }

    pub(in crate::state) fn decide_open_dispute(
        &self,
        now: Timestamp,
        actor: &Actor,
        order_id: OrderId,
        amount_minor: Option<i64>,
        reason: &str,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        let order = self.orders.get(&order_id).ok_or(Rejection::NotFound)?;
        let n_chars = reason.chars().count();
        if reason.trim().is_empty() || n_chars > REFUND_REASON_CHARS_MAX || reason.chars().any(char::is_control) {
            return Err(Rejection::invalid(
                "reason",
                format!("must be 1 to {REFUND_REASON_CHARS_MAX} printable characters"),
            ));
        }
        if self.money.dispute_of_order.contains_key(&order_id) {
            return Err(Rejection::AlreadyDisputed);
        }
        // Whatever refunds asked for (not rejected) is the buyer's already: a dispute takes the rest.
        let asked: i64 = self
            .order_refunds(order_id)
            .filter(|refund| refund.status != RefundStatus::Rejected)
            .map(|refund| refund.amount.minor)
            .sum();
        let disputable = order.total.minor - asked;
        let amount = amount_minor.unwrap_or(disputable);
        if !(1..=disputable).contains(&amount) {
            return Err(Rejection::invalid(
                "amount_minor",
                format!("must be 1 to {disputable} (what is not refunded)"),
            ));
        }
        let mut ids = self.allocator(order_id.partition());
        let dispute = Dispute {
            id: DisputeId(ids.next()),
            order_id,
            creator_id: order.creator_id,
            amount: Money { minor: amount, currency: order.total.currency },
            reason: reason.to_owned(),
            state: DisputeState::Open,
            opened_by: actor.id,
            opened_at: now,
            decided_by: None,
            decided_at: None,
        };
        let dispute_id = dispute.id;
        let (parts, transaction) = self.dispute_opening(LedgerTxId(ids.next()), &dispute, now);
        let mut events = vec![Event::DisputeOpened { dispute, parts }];
        events.extend(transaction.map(|transaction| Event::LedgerPosted { transaction }));
        Ok(Decision::read_back(events, ReadBack::Dispute(dispute_id)))
    }

    /// Each party's share of the disputed amount and the transaction setting the payees' shares
    /// aside (none when only the platform's fee is disputed, or for an order paid before the ledger).
    fn dispute_opening(
        &self,
        id: LedgerTxId,
        dispute: &Dispute,
        now: Timestamp,
    ) -> (Vec<RefundPart>, Option<crate::ledger::LedgerTransaction>) {
        let (Some(order), Some(book)) =
            (self.money.orders.get(&dispute.order_id), self.money.books.get(&dispute.order_id.partition()))
        else {
            return (Vec::new(), None);
        };
        let balances = &book.balances;
        // Refunds asked for and not paid back yet will take their lines' amounts: a dispute leaves
        // those, so it is split over the lines by what each has free, then over each line's parties
        // by what each still has (payees first, the fee last), and every later refund still fits.
        let mut promised: BTreeMap<HoldId, i64> = BTreeMap::new();
        let unpaid = self
            .order_refunds(dispute.order_id)
            .filter(|refund| matches!(refund.status, RefundStatus::PendingApproval | RefundStatus::Approved));
        for line in unpaid.flat_map(|refund| &refund.lines) {
            *promised.entry(line.hold_id).or_default() += line.unit_price.minor * i64::from(line.quantity);
        }
        let fee_left = |line: &super::LineMoney| line.fee - line.fee_refunded - line.fee_disputed;
        let line_free: Vec<u64> = order
            .lines
            .iter()
            .map(|line| {
                let remaining = line.earnings.iter().map(super::EarningState::remaining).sum::<i64>() + fee_left(line);
                (remaining - promised.get(&line.hold_id).copied().unwrap_or(0)).max(0) as u64
            })
            .collect();
        let mut slots = Vec::new();
        let mut shares = Vec::new();
        for (line, line_share) in order.lines.iter().zip(allocate(dispute.amount.minor, &line_free)) {
            let mut weights: Vec<u64> = line.earnings.iter().map(|earning| earning.remaining() as u64).collect();
            weights.push(fee_left(line) as u64);
            shares.extend(allocate(line_share, &weights));
            slots.extend(line.earnings.iter().map(|earning| (line.hold_id, Some(earning))));
            slots.push((line.hold_id, None));
        }
        let mut taken: BTreeMap<AccountId, i64> = BTreeMap::new();
        let mut draft = Draft::default();
        let mut parts = Vec::new();
        for ((hold_id, earning), share) in slots.into_iter().zip(shares) {
            if share == 0 {
                continue;
            }
            let Some(earning) = earning else {
                // The platform's part stays in its fees until the outcome.
                parts.push(RefundPart {
                    hold_id,
                    payee: None,
                    amount_minor: share,
                    from_pending_minor: 0,
                    from_reserved_minor: 0,
                    from_available_minor: 0,
                    owed_minor: 0,
                });
                continue;
            };
            let part = take_back(&mut draft, balances, order.currency, &mut taken, hold_id, earning, share, true);
            draft.credit(LedgerAccount::DisputeHold(earning.payee), share);
            parts.push(part);
        }
        if draft.is_empty() {
            return (parts, None);
        }
        let cause = Cause::DisputeOpened { dispute_id: dispute.id };
        (parts, Some(draft.into_transaction(id, order.currency, cause, now)))
    }

    pub(in crate::state) fn decide_dispute_outcome(
        &self,
        now: Timestamp,
        actor: &Actor,
        dispute_id: DisputeId,
        won: bool,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        let dispute = self.money.disputes.get(&dispute_id).ok_or(Rejection::NotFound)?;
        if dispute.state != DisputeState::Open {
            return Err(Rejection::DisputeNotOpen { state: dispute.state });
        }
        let mut events = vec![Event::DisputeDecided { dispute_id, won, by: actor.id, at: now }];
        // An order paid before the ledger set nothing aside: nothing to move back or to lose.
        let parts = self.money.dispute_parts.get(&dispute_id).filter(|parts| !parts.is_empty());
        let book = self.money.books.get(&dispute_id.partition());
        if let (Some(parts), Some(book)) = (parts, book) {
            let currency = dispute.amount.currency;
            let mut draft = Draft::default();
            // Debts the opening created and not yet recovered, per payee, cancelled when won.
            let mut owed_left: BTreeMap<AccountId, i64> = BTreeMap::new();
            for part in parts {
                let Some(payee) = part.payee else {
                    if !won {
                        draft.debit(LedgerAccount::PlatformFees, part.amount_minor);
                    }
                    continue;
                };
                draft.debit(LedgerAccount::DisputeHold(payee), part.amount_minor);
                if !won {
                    continue;
                }
                // Won: each share goes back where it was taken from, so the delay and the reserve
                // still apply; a debt it created is cancelled as far as it is still owed.
                draft.credit(LedgerAccount::Pending(payee), part.from_pending_minor);
                draft.credit(LedgerAccount::Reserved(payee), part.from_reserved_minor);
                draft.credit(LedgerAccount::Available(payee), part.from_available_minor);
                let owed = owed_left
                    .entry(payee)
                    .or_insert_with(|| book.balances.balance(currency, LedgerAccount::Receivable(payee)));
                let cancelled = part.owed_minor.min(*owed);
                *owed -= cancelled;
                draft.credit(LedgerAccount::Receivable(payee), cancelled);
                draft.credit(LedgerAccount::Available(payee), part.owed_minor - cancelled);
            }
            if !won {
                draft.credit(LedgerAccount::ProcessorClearing, dispute.amount.minor);
            }
            let cause = if won { Cause::DisputeWon { dispute_id } } else { Cause::DisputeLost { dispute_id } };
            if !draft.is_empty() {
                let id = LedgerTxId(self.allocator(dispute_id.partition()).next());
                events.push(Event::LedgerPosted { transaction: draft.into_transaction(id, currency, cause, now) });
            }
        }
        Ok(Decision::read_back(events, ReadBack::Dispute(dispute_id)))
    }
}
