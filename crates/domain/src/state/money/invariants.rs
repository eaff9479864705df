//! The ledger's invariants, recomputed from the order money, the statement lines and the payouts.

use super::super::State;
use crate::ledger::{LedgerAccount, NormalBalance};
use crate::{Currency, Partition, PayoutState};
use std::collections::BTreeMap;

impl State {
    /// Every book balances (debits equal credits, and debit-normal balances equal credit-normal
    /// ones); each payee's pending and reserved balances are what its orders still hold; its
    /// available balance is the sum of its unpaid statement lines; in-transit is its unsettled
    /// payouts. No balance is negative (the ledger refuses that on apply).
    pub(in crate::state) fn check_money(&self) -> Result<(), String> {
        for (&book, state) in &self.money.books {
            for (currency, debits, credits) in state.balances.totals() {
                if debits != credits {
                    return Err(format!("book {book:02x} {currency}: debits {debits} != credits {credits}"));
                }
            }
            let mut sides: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
            for (currency, account, balance) in state.balances.iter() {
                let entry = sides.entry(currency).or_default();
                match account.normal_balance() {
                    NormalBalance::Debit => entry.0 += balance,
                    NormalBalance::Credit => entry.1 += balance,
                }
            }
            for (currency, (debit_side, credit_side)) in sides {
                if debit_side != credit_side {
                    return Err(format!("book {book:02x} {currency}: trial balance {debit_side} != {credit_side}"));
                }
            }
            for (&(payee, currency), lines) in &state.available_lines {
                let sum: i64 = lines.iter().map(|line| line.amount_minor).sum();
                let balance = state.balances.balance(currency, LedgerAccount::Available(payee));
                if sum != balance {
                    return Err(format!("book {book:02x}: {payee}'s lines sum to {sum}, available is {balance}"));
                }
            }
        }
        let mut held: BTreeMap<(Partition, Currency, LedgerAccount), i64> = BTreeMap::new();
        for (order_id, order) in &self.money.orders {
            for earning in order.lines.iter().flat_map(|line| &line.earnings) {
                let book = order_id.partition();
                *held.entry((book, order.currency, LedgerAccount::Pending(earning.payee))).or_default() +=
                    earning.pending;
                *held.entry((book, order.currency, LedgerAccount::Reserved(earning.payee))).or_default() +=
                    earning.reserved;
            }
        }
        let unsettled: std::collections::BTreeSet<_> =
            self.money.payouts.values().filter(|payout| payout.state == PayoutState::Created).map(|p| p.id).collect();
        if unsettled != self.money.unsettled {
            return Err("the unsettled payouts' index is out of step".to_owned());
        }
        for payout in self.money.payouts.values().filter(|payout| payout.state == PayoutState::Created) {
            let key = (payout.id.partition(), payout.currency, LedgerAccount::PayoutsInTransit(payout.payee));
            *held.entry(key).or_default() += payout.amount_minor;
        }
        for (dispute_id, parts) in &self.money.dispute_parts {
            let dispute = &self.money.disputes[dispute_id];
            if dispute.state != crate::DisputeState::Open {
                continue;
            }
            for part in parts {
                if let Some(payee) = part.payee {
                    let key =
                        (dispute.order_id.partition(), dispute.amount.currency, LedgerAccount::DisputeHold(payee));
                    *held.entry(key).or_default() += part.amount_minor;
                }
            }
        }
        held.retain(|_, amount| *amount != 0);
        let mut booked: BTreeMap<(Partition, Currency, LedgerAccount), i64> = BTreeMap::new();
        for (book, currency, account, balance) in self.ledger_balances() {
            if matches!(
                account,
                LedgerAccount::Pending(_)
                    | LedgerAccount::Reserved(_)
                    | LedgerAccount::PayoutsInTransit(_)
                    | LedgerAccount::DisputeHold(_)
            ) {
                booked.insert((book, currency, account), balance);
            }
        }
        if held != booked {
            let mismatch: Vec<_> = held
                .iter()
                .filter(|(key, amount)| booked.get(key) != Some(amount))
                .map(|((book, currency, account), amount)| format!("{book:02x} {currency} {account}: {amount}"))
                .take(3)
                .collect();
            return Err(format!("payables out of step with the orders and payouts: {mismatch:?}"));
        }
        Ok(())
    }
}
