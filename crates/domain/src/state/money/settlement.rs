//! Settlement windows and payouts. An admin (or the schedule) starts a settlement in partition 0;
//! the engine then asks every book to close it: earnings due by `closed_at` mature into available
//! money, debts are recovered from it, and each payee with at least the minimum available gets a
//! payout, journaled (the intent) before the provider is called. The provider's answer completes
//! the payout: paid, or failed and available again for the next window.

use super::super::decision::{Decision, ReadBack};
use super::super::{State, require_role};
use super::Draft;
use crate::ledger::{Cause, LedgerAccount};
use crate::{
    AccountId, Actor, Currency, EntityId, Event, LineKind, OrderId, Partition, PayoutId, PayoutResult, PayoutState,
    Rejection, Role, Settlement, SettlementId, StatementLine, Timestamp,
};
use std::collections::{BTreeMap, BTreeSet};

/// The partition that keeps the settlements (their ids, and so their order).
pub const SETTLEMENT_PARTITION: Partition = 0;

/// An earning (or its reserve) that becomes available at a close.
#[derive(Clone, Debug)]
pub(super) struct Maturing {
    pub(super) payee: AccountId,
    pub(super) currency: Currency,
    pub(super) amount: i64,
    /// `Sale` (from pending) or `ReserveReleased` (from reserved).
    pub(super) kind: LineKind,
}

impl State {
    /// What book `book` matures at a close at `closed_at`, order by order.
    pub(super) fn due(&self, book: Partition, closed_at: Timestamp) -> Vec<Maturing> {
        let Some(state) = self.money.books.get(&book) else { return Vec::new() };
        let end = (Timestamp(closed_at.0.saturating_add(1)), OrderId(EntityId { partition: 0, serial: 0 }));
        // A hash set: an order listed twice (its earnings and its reserve) is seen once, and at a
        // million orders a tree's inserts cost more than the rest of the close.
        let mut seen = hashbrown::HashSet::new();
        let mut due = Vec::new();
        for &(_, order_id) in state.due.range(..end) {
            if !seen.insert(order_id) {
                continue;
            }
            let order = &self.money.orders[&order_id];
            for line in &order.lines {
                for earning in &line.earnings {
                    let mut mature = |amount, kind| {
                        due.push(Maturing { payee: earning.payee, currency: order.currency, amount, kind })
                    };
                    let (pending_due, reserve_due) = earning.matures_by(closed_at);
                    if pending_due {
                        mature(earning.pending, LineKind::Sale);
                    }
                    if reserve_due {
                        mature(earning.reserved, LineKind::ReserveReleased);
                    }
                }
            }
        }
        due
    }

    pub(in crate::state) fn decide_start_settlement(
        &self,
        now: Timestamp,
        actor: Option<&Actor>,
        minimum_minor: i64,
    ) -> Result<Decision, Rejection> {
        if let Some(actor) = actor {
            require_role(actor, Role::Admin)?;
        }
        if minimum_minor < 1 {
            return Err(Rejection::invalid("minimum_minor", "must be at least 1"));
        }
        let settlement = Settlement {
            id: SettlementId(self.allocator(SETTLEMENT_PARTITION).next()),
            closed_at: now,
            closed_by: actor.map(|actor| actor.id),
            minimum_minor,
        };
        let id = settlement.id;
        Ok(Decision::read_back(vec![Event::SettlementStarted { settlement }], ReadBack::Settlement(id)))
    }

    /// Closes `settlement` in `book`. Closing a settlement the book already closed changes nothing;
    /// a book with nothing due and nothing to pay writes nothing.
    pub(in crate::state) fn decide_settle_book(
        &self,
        settlement: &Settlement,
        book: Partition,
    ) -> Result<Decision, Rejection> {
        let answer = ReadBack::BookPayouts { settlement_id: settlement.id, book };
        let state = self.money.books.get(&book);
        if state.and_then(|state| state.last_settlement).is_some_and(|last| last >= settlement.id) {
            return Ok(Decision::read_back(Vec::new(), answer));
        }
        let Some(state) = state else { return Ok(Decision::read_back(Vec::new(), answer)) };
        let closed_at = settlement.closed_at;
        let due = self.due(book, closed_at);
        // What becomes available per payee and currency at this close, and the lines that say why.
        let mut matured: BTreeMap<(Currency, AccountId), (i64, i64)> = BTreeMap::new();
        for item in &due {
            let entry = matured.entry((item.currency, item.payee)).or_default();
            match item.kind {
                LineKind::Sale => entry.0 += item.amount,
                _ => entry.1 += item.amount,
            }
        }
        let mut ids = self.allocator(book);
        let mut events = vec![Event::BookSettled { settlement_id: settlement.id, book, closed_at }];
        // Available after maturing and recovering debts, per payee and currency.
        let mut available: BTreeMap<(AccountId, Currency), i64> = BTreeMap::new();
        for &(payee, currency) in state.available_lines.keys() {
            available.insert((payee, currency), state.balances.balance(currency, LedgerAccount::Available(payee)));
        }
        let currencies: BTreeSet<Currency> = matured
            .keys()
            .map(|(currency, _)| *currency)
            .chain(state.balances.iter().map(|(currency, _, _)| currency))
            .collect();
        for currency in currencies {
            let mut draft = Draft::default();
            for (&(matured_currency, payee), &(from_pending, from_reserved)) in &matured {
                if matured_currency != currency {
                    continue;
                }
                draft.debit(LedgerAccount::Pending(payee), from_pending);
                draft.debit(LedgerAccount::Reserved(payee), from_reserved);
                draft.credit(LedgerAccount::Available(payee), from_pending + from_reserved);
                let before = state.balances.balance(currency, LedgerAccount::Available(payee));
                available.insert((payee, currency), before + from_pending + from_reserved);
            }
            // Debts come back out of what is available before anything is paid out.
            for (debt_currency, account, owed) in state.balances.iter() {
                let (LedgerAccount::Receivable(payee), true) = (account, debt_currency == currency) else { continue };
                let funds = available.get(&(payee, currency)).copied().unwrap_or(0);
                let recovered = owed.min(funds);
                if recovered > 0 {
                    draft.debit(LedgerAccount::Available(payee), recovered);
                    draft.credit(LedgerAccount::Receivable(payee), recovered);
                    available.insert((payee, currency), funds - recovered);
                }
            }
            if !draft.is_empty() {
                let cause = Cause::Matured { settlement_id: settlement.id };
                let transaction = draft.into_transaction(crate::LedgerTxId(ids.next()), currency, cause, closed_at);
                events.push(Event::LedgerPosted { transaction });
            }
        }
        for (&(payee, currency), &amount_minor) in &available {
            if amount_minor < settlement.minimum_minor {
                continue;
            }
            let payout_id = PayoutId(ids.next());
            events.push(Event::PayoutCreated {
                payout_id,
                settlement_id: settlement.id,
                payee,
                currency,
                amount_minor,
                at: closed_at,
            });
            let mut draft = Draft::default();
            draft.debit(LedgerAccount::Available(payee), amount_minor);
            draft.credit(LedgerAccount::PayoutsInTransit(payee), amount_minor);
            let cause = Cause::PayoutCreated { payout_id };
            let transaction = draft.into_transaction(crate::LedgerTxId(ids.next()), currency, cause, closed_at);
            events.push(Event::LedgerPosted { transaction });
        }
        // Only the marker: nothing matured and nobody is paid, so nothing is written.
        if events.len() == 1 {
            return Ok(Decision::read_back(Vec::new(), answer));
        }
        Ok(Decision::read_back(events, answer))
    }

    /// Records the payout provider's answer for a payout; answering a settled payout again changes
    /// nothing.
    pub(in crate::state) fn decide_complete_payout(
        &self,
        now: Timestamp,
        payout_id: PayoutId,
        result: &PayoutResult,
    ) -> Result<Decision, Rejection> {
        let payout = self.money.payouts.get(&payout_id).ok_or(Rejection::NotFound)?;
        if payout.state != PayoutState::Created {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Payout(payout_id)));
        }
        let mut draft = Draft::default();
        draft.debit(LedgerAccount::PayoutsInTransit(payout.payee), payout.amount_minor);
        let (event, cause) = match result {
            PayoutResult::Paid { provider_payout_id } => {
                if provider_payout_id.is_empty() {
                    return Err(Rejection::invalid("provider_payout_id", "must not be empty"));
                }
                draft.credit(LedgerAccount::ProcessorClearing, payout.amount_minor);
                let event = Event::PayoutSent { payout_id, provider_payout_id: provider_payout_id.clone(), at: now };
                (event, Cause::PayoutSent { payout_id })
            }
            PayoutResult::Failed { reason } => {
                draft.credit(LedgerAccount::Available(payout.payee), payout.amount_minor);
                (Event::PayoutFailed { payout_id, reason: reason.clone(), at: now }, Cause::PayoutFailed { payout_id })
            }
        };
        let id = crate::LedgerTxId(self.allocator(payout_id.partition()).next());
        let transaction = draft.into_transaction(id, payout.currency, cause, now);
        Ok(Decision::read_back(vec![event, Event::LedgerPosted { transaction }], ReadBack::Payout(payout_id)))
    }
}

/// The line a failed payout puts back among its payee's available money.
pub(super) fn returned_line(payout_id: PayoutId, amount_minor: i64, at: Timestamp) -> StatementLine {
    StatementLine {
        kind: LineKind::PayoutReturned,
        order_id: None,
        refund_id: None,
        payout_id: Some(payout_id),
        dispute_id: None,
        amount_minor,
        at,
    }
}
