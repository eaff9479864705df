//! Balances per currency and ledger account, kept in each account's normal direction, and the
//! debit and credit totals per currency for the trial balance. A transaction that would take an
//! account below zero is refused whole (TigerBeetle's `debits_must_not_exceed_credits`, for every
//! account but the processor's clearing, see `may_go_negative`): the rules that allow a payee to owe
//! money post to its `Receivable` instead.

use super::{LedgerAccount, LedgerTransaction, NormalBalance, Side};
use crate::Currency;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Balances {
    balances: BTreeMap<(Currency, LedgerAccount), i64>,
    /// Every debit and credit ever posted, per currency.
    totals: BTreeMap<Currency, (i64, i64)>,
}

/// An account a transaction would take below zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overdrawn {
    pub account: LedgerAccount,
    pub balance: i64,
    pub change: i64,
}

fn signed(account: LedgerAccount, side: Side, amount: i64) -> i64 {
    match (account.normal_balance(), side) {
        (NormalBalance::Debit, Side::Debit) | (NormalBalance::Credit, Side::Credit) => amount,
        _ => -amount,
    }
}

impl Balances {
    pub fn balance(&self, currency: Currency, account: LedgerAccount) -> i64 {
        self.balances.get(&(currency, account)).copied().unwrap_or(0)
    }

    /// Every account with a non-zero balance, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (Currency, LedgerAccount, i64)> + '_ {
        self.balances.iter().map(|(&(currency, account), &balance)| (currency, account, balance))
    }

    /// Debits and credits ever posted in `currency`.
    pub fn totals(&self) -> impl Iterator<Item = (Currency, i64, i64)> + '_ {
        self.totals.iter().map(|(&currency, &(debits, credits))| (currency, debits, credits))
    }

    /// What applying `transaction` would take below zero, if anything.
    pub fn check(&self, transaction: &LedgerTransaction) -> Result<(), Overdrawn> {
        let mut changes: BTreeMap<LedgerAccount, i64> = BTreeMap::new();
        for posting in &transaction.postings {
            *changes.entry(posting.account).or_default() += signed(posting.account, posting.side, posting.amount_minor);
        }
        for (account, change) in changes {
            let balance = self.balance(transaction.currency, account);
            if balance + change < 0 && !account.may_go_negative() {
                return Err(Overdrawn { account, balance, change });
            }
        }
        Ok(())
    }

    /// Applies a transaction. Decisions build each to fit; one that does not (unbalanced, or taking
    /// an account below zero) is a bug and stops the process, like any fact that does not fit.
    pub fn apply(&mut self, transaction: &LedgerTransaction) {
        if let Err(error) = transaction.check() {
            panic!("ledger transaction {} is not balanced: {error}", transaction.id);
        }
        if let Err(overdrawn) = self.check(transaction) {
            panic!("ledger transaction {} overdraws {overdrawn:?}", transaction.id);
        }
        let totals = self.totals.entry(transaction.currency).or_default();
        for posting in &transaction.postings {
            match posting.side {
                Side::Debit => totals.0 += posting.amount_minor,
                Side::Credit => totals.1 += posting.amount_minor,
            }
            let key = (transaction.currency, posting.account);
            let balance = self.balances.entry(key).or_default();
            *balance += signed(posting.account, posting.side, posting.amount_minor);
            if *balance == 0 {
                self.balances.remove(&key);
            }
        }
    }
}
