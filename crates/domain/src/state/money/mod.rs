//! Money in the state: the ledger's books, what each order owes each payee and when, split
//! contracts, payout profiles, settlement windows and payouts.
//!
//! A **book** is a partition's ledger. Every money fact of a sale (the sale, its refunds, its
//! maturing, the payouts it funds) is decided in the order's partition, the creator's, so each is one
//! shard's single commit and the books never need a transaction across shards. A payee's balance is
//! the sum over the books it earns in; a partner paid by creators of several partitions gets one
//! payout per book ([0026](../../../../docs/decisions/0026-ledger-books.md)).

mod apply;
pub(super) mod charges;
pub(super) mod contracts;
mod disputes;
mod invariants;
mod profiles;
mod release;
mod sale;
pub(super) mod settlement;

use crate::ledger::{Balances, LedgerAccount, LedgerTransaction};
use crate::{
    AccountId, Currency, HoldId, LineKind, OrderId, Partition, Payout, PayoutId, PayoutProfile, SettlementId,
    SplitContract, SplitContractId, StatementLine, Timestamp,
};
use hashbrown::HashMap;
use std::collections::{BTreeMap, BTreeSet};

/// A payee's share of one order line, as it matures and is refunded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EarningState {
    pub(super) payee: AccountId,
    pub(super) amount: i64,
    pub(super) refunded: i64,
    /// Not matured yet (in `Pending`).
    pub(super) pending: i64,
    /// Not released yet (in `Reserved`).
    pub(super) reserved: i64,
    pub(super) available_at: Timestamp,
    pub(super) reserve_until: Option<Timestamp>,
    pub(super) profile: PayoutProfile,
    /// Set aside for an open dispute, or lost to one.
    pub(super) disputed: i64,
    /// When its line was delivered or picked up, for a profile that releases it then.
    pub(super) released_at: Option<Timestamp>,
}

impl EarningState {
    /// What a refund or a dispute may still take of it.
    pub(super) fn remaining(&self) -> i64 {
        self.amount - self.refunded - self.disputed
    }

    /// When the part not reserved matures: after the delay, or at fulfilment if that came first.
    pub(super) fn pending_due(&self) -> Timestamp {
        self.released_at.map_or(self.available_at, |at| at.min(self.available_at))
    }

    /// When the reserve is released, likewise.
    pub(super) fn reserve_due(&self) -> Option<Timestamp> {
        self.reserve_until.map(|until| self.released_at.map_or(until, |at| at.min(until)))
    }

    /// Whether its pending part and its reserve mature at a close at `closed_at`.
    pub(super) fn matures_by(&self, closed_at: Timestamp) -> (bool, bool) {
        let pending = self.pending > 0 && self.pending_due() <= closed_at;
        let reserve = self.reserved > 0 && self.reserve_due().is_some_and(|due| due <= closed_at);
        (pending, reserve)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct LineMoney {
    pub(super) hold_id: HoldId,
    pub(super) fee: i64,
    pub(super) fee_refunded: i64,
    pub(super) fee_disputed: i64,
    pub(super) earnings: Vec<EarningState>,
}

/// What an order's charge became in its book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OrderMoney {
    pub(super) currency: Currency,
    pub(super) lines: Vec<LineMoney>,
}

/// One book's ledger and the order money behind its payables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Book {
    pub(super) balances: Balances,
    /// In the order applied.
    pub(super) transactions: Vec<LedgerTransaction>,
    /// When orders have earnings to mature or reserves to release; an entry may be stale (refunded).
    pub(super) due: BTreeSet<(Timestamp, OrderId)>,
    /// Each payee's available money, line by line since its last payout: they sum to its
    /// `Available` balance, and a payout takes them all.
    pub(super) available_lines: BTreeMap<(AccountId, Currency), Vec<StatementLine>>,
    /// The last settlement this book closed.
    pub(super) last_settlement: Option<SettlementId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct MoneyBook {
    pub(super) books: HashMap<Partition, Book>,
    pub(super) orders: HashMap<OrderId, OrderMoney>,
    /// Each payee's orders (in the shard's books), oldest first, so its earnings are read without
    /// scanning every order.
    pub(super) orders_by_payee: HashMap<AccountId, Vec<OrderId>>,
    pub(super) contracts: HashMap<SplitContractId, SplitContract>,
    /// Each creator's contracts, oldest first.
    pub(super) contracts_by_creator: HashMap<AccountId, Vec<SplitContractId>>,
    /// Contracts naming each partner (of this shard's books), oldest first.
    pub(super) contracts_by_partner: HashMap<AccountId, Vec<SplitContractId>>,
    /// Profiles of the shard's own accounts, set by admins or payout rules.
    pub(super) profiles: HashMap<AccountId, crate::ProfileInForce>,
    /// The payout rules' text, version and author (partition 0's shard only).
    pub(super) payout_rules: Option<(String, u64, AccountId)>,
    pub(super) payouts: HashMap<PayoutId, Payout>,
    pub(super) payouts_by_payee: HashMap<AccountId, Vec<PayoutId>>,
    pub(super) payouts_by_settlement: HashMap<SettlementId, Vec<PayoutId>>,
    /// Payouts whose intent is journaled and whose answer is not.
    pub(super) unsettled: BTreeSet<PayoutId>,
    pub(super) disputes: HashMap<crate::DisputeId, crate::Dispute>,
    pub(super) dispute_of_order: HashMap<OrderId, crate::DisputeId>,
    /// What each party set aside for each open or lost dispute.
    pub(super) dispute_parts: HashMap<crate::DisputeId, Vec<crate::ledger::RefundPart>>,
    /// Charges no order kept, by charge id.
    pub(super) unused_charges: HashMap<String, charges::UnusedCharge>,
    /// Settlements started (partition 0's shard only), in order.
    pub(super) settlements: BTreeMap<SettlementId, crate::Settlement>,
}

impl Book {
    pub(super) fn push_line(&mut self, payee: AccountId, currency: Currency, line: StatementLine) {
        self.available_lines.entry((payee, currency)).or_default().push(line);
    }
}

/// A payee's money in one currency, summed over books.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PayeeBalance {
    pub currency: Currency,
    pub pending_minor: i64,
    pub available_minor: i64,
    pub reserved_minor: i64,
    pub in_transit_minor: i64,
    /// Set aside while disputes of the payee's sales are open.
    pub disputed_minor: i64,
    pub paid_out_minor: i64,
    /// Owed after refunds took more than the payee's funds; recovered from its next earnings.
    pub owed_minor: i64,
}

impl PayeeBalance {
    pub fn zero(currency: Currency) -> PayeeBalance {
        PayeeBalance {
            currency,
            pending_minor: 0,
            available_minor: 0,
            reserved_minor: 0,
            in_transit_minor: 0,
            disputed_minor: 0,
            paid_out_minor: 0,
            owed_minor: 0,
        }
    }
}

/// When one of a payee's earnings becomes available, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EarningView {
    pub order_id: OrderId,
    pub hold_id: HoldId,
    pub currency: Currency,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub pending_minor: i64,
    pub reserved_minor: i64,
    /// When the part not reserved matures (the earlier of the delay's end and the release).
    pub available_at: Timestamp,
    pub reserve_until: Option<Timestamp>,
    /// The payout profile at the sale, which set the delay and the reserve.
    pub profile: PayoutProfile,
    /// When the line's delivery or pickup released it early, under such a profile.
    pub released_at: Option<Timestamp>,
}

impl crate::State {
    /// The balances `payee` has in this shard's books, per currency.
    pub fn payee_balances(&self, payee: AccountId) -> Vec<PayeeBalance> {
        let mut by_currency: BTreeMap<Currency, PayeeBalance> = BTreeMap::new();
        for book in self.money.books.values() {
            for (currency, account, balance) in book.balances.iter() {
                if account.payee() != Some(payee) {
                    continue;
                }
                let entry = by_currency.entry(currency).or_insert_with(|| PayeeBalance::zero(currency));
                match account {
                    LedgerAccount::Pending(_) => entry.pending_minor += balance,
                    LedgerAccount::Available(_) => entry.available_minor += balance,
                    LedgerAccount::Reserved(_) => entry.reserved_minor += balance,
                    LedgerAccount::DisputeHold(_) => entry.disputed_minor += balance,
                    LedgerAccount::PayoutsInTransit(_) => entry.in_transit_minor += balance,
                    LedgerAccount::Receivable(_) => entry.owed_minor += balance,
                    LedgerAccount::ProcessorClearing | LedgerAccount::PlatformFees => {}
                }
            }
        }
        for payout in self.payouts_of(payee).filter(|payout| payout.state == crate::PayoutState::Paid) {
            let currency = payout.currency;
            let entry = by_currency.entry(currency).or_insert_with(|| PayeeBalance::zero(currency));
            entry.paid_out_minor += payout.amount_minor;
        }
        by_currency.into_values().collect()
    }

    /// Every non-zero balance of the shard's books, per book.
    pub fn ledger_balances(&self) -> impl Iterator<Item = (Partition, Currency, LedgerAccount, i64)> + '_ {
        self.money.books.iter().flat_map(|(&book, state)| {
            state.balances.iter().map(move |(currency, account, balance)| (book, currency, account, balance))
        })
    }

    /// Debits and credits ever posted in the shard's books, per book and currency.
    pub fn ledger_totals(&self) -> impl Iterator<Item = (Partition, Currency, i64, i64)> + '_ {
        self.money.books.iter().flat_map(|(&book, state)| {
            state.balances.totals().map(move |(currency, debits, credits)| (book, currency, debits, credits))
        })
    }

    /// The shard's ledger transactions, each book's in order; `payee` keeps those touching it.
    pub fn ledger_transactions(&self, payee: Option<AccountId>) -> impl Iterator<Item = &LedgerTransaction> {
        self.money
            .books
            .values()
            .flat_map(|book| book.transactions.iter())
            .filter(move |transaction| payee.is_none_or(|payee| transaction.concerns(payee)))
    }

    pub fn split_contract(&self, id: SplitContractId) -> Option<&SplitContract> {
        self.money.contracts.get(&id)
    }

    /// Contracts `account` proposed (a creator) or is named in (a partner), oldest first.
    pub fn split_contracts_of(&self, account: AccountId) -> impl Iterator<Item = &SplitContract> {
        let proposed = self.money.contracts_by_creator.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        let named = self.money.contracts_by_partner.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        proposed.iter().chain(named).map(|id| &self.money.contracts[id])
    }

    pub fn payout_profile(&self, account: AccountId) -> Option<PayoutProfile> {
        self.money.profiles.get(&account).map(|in_force| in_force.profile)
    }

    /// A payee's own profile and what set it; `None` when the default applies.
    pub fn payout_profile_in_force(&self, account: AccountId) -> Option<&crate::ProfileInForce> {
        self.money.profiles.get(&account)
    }

    /// Every profile set for the shard's accounts.
    pub fn payout_profiles(&self) -> impl Iterator<Item = (AccountId, PayoutProfile)> + '_ {
        self.money.profiles.iter().map(|(id, in_force)| (*id, in_force.profile))
    }

    /// The payout rules' text, version and the admin who saved them, on `PAYOUT_RULES_PARTITION`'s
    /// shard.
    pub fn payout_rules(&self) -> Option<(&str, u64, AccountId)> {
        self.money.payout_rules.as_ref().map(|(text, version, by)| (text.as_str(), *version, *by))
    }

    pub fn payout(&self, id: PayoutId) -> Option<&Payout> {
        self.money.payouts.get(&id)
    }

    /// `payee`'s payouts in this shard's books, oldest first within each book.
    pub fn payouts_of(&self, payee: AccountId) -> impl Iterator<Item = &Payout> {
        let ids = self.money.payouts_by_payee.get(&payee).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.money.payouts[id])
    }

    /// Payouts of a settlement in this shard's books, oldest first within each book.
    pub fn settlement_payouts(&self, settlement_id: SettlementId) -> impl Iterator<Item = &Payout> {
        let ids = self.money.payouts_by_settlement.get(&settlement_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.money.payouts[id])
    }

    /// Payouts whose intent is journaled but whose result is not: the engine (re)sends them.
    pub fn unsettled_payouts(&self) -> impl Iterator<Item = &Payout> {
        self.money.unsettled.iter().map(|id| &self.money.payouts[id])
    }

    /// Up to `limit` of the shard's ledger transactions after `after`, in id order (book by book);
    /// `payee` keeps those touching it.
    pub fn ledger_page(
        &self,
        payee: Option<AccountId>,
        after: Option<crate::LedgerTxId>,
        limit: usize,
    ) -> Vec<&LedgerTransaction> {
        let mut books: Vec<_> = self.money.books.iter().collect();
        books.sort_by_key(|(book, _)| **book);
        let mut page = Vec::new();
        for (&book, state) in books {
            // A book's transactions are in id order: its ids are allocated as they are posted.
            let start = match after {
                Some(after) if after.partition() > book => continue,
                Some(after) if after.partition() == book => state.transactions.partition_point(|t| t.id <= after),
                _ => 0,
            };
            let matching = state.transactions[start..].iter().filter(|t| payee.is_none_or(|payee| t.concerns(payee)));
            page.extend(matching.take(limit - page.len()));
            if page.len() == limit {
                break;
            }
        }
        page
    }

    pub fn settlement(&self, id: SettlementId) -> Option<&crate::Settlement> {
        self.money.settlements.get(&id)
    }

    /// The latest settlement started (partition 0's shard).
    pub fn latest_settlement(&self) -> Option<&crate::Settlement> {
        self.money.settlements.values().next_back()
    }

    pub fn settlements(&self) -> impl DoubleEndedIterator<Item = &crate::Settlement> {
        self.money.settlements.values()
    }

    /// `payee`'s earnings in this shard's books: when each becomes available and why.
    /// At most `limit` orders' worth, the newest.
    pub fn earnings_of(&self, payee: AccountId, limit: usize) -> Vec<EarningView> {
        let mut views = Vec::new();
        let order_ids = self.money.orders_by_payee.get(&payee).map(Vec::as_slice).unwrap_or(&[]);
        for order_id in order_ids.iter().rev().take(limit) {
            let order = &self.money.orders[order_id];
            for line in &order.lines {
                for earning in line.earnings.iter().filter(|earning| earning.payee == payee) {
                    views.push(EarningView {
                        order_id: *order_id,
                        hold_id: line.hold_id,
                        currency: order.currency,
                        amount_minor: earning.amount,
                        refunded_minor: earning.refunded,
                        pending_minor: earning.pending,
                        reserved_minor: earning.reserved,
                        available_at: earning.pending_due(),
                        reserve_until: earning.reserve_due(),
                        profile: earning.profile,
                        released_at: earning.released_at,
                    });
                }
            }
        }
        views.sort_by_key(|view| (view.available_at, view.order_id, view.hold_id));
        views
    }

    /// The statement lines `payee` has available but not paid out yet, per currency.
    pub fn unpaid_lines(&self, payee: AccountId) -> Vec<(Currency, StatementLine)> {
        let mut lines = Vec::new();
        for book in self.money.books.values() {
            for ((line_payee, currency), book_lines) in &book.available_lines {
                if *line_payee == payee {
                    lines.extend(book_lines.iter().map(|line| (*currency, line.clone())));
                }
            }
        }
        lines
    }
}

/// A statement line of `kind` about an order.
pub(super) fn order_line(kind: LineKind, order_id: OrderId, amount_minor: i64, at: Timestamp) -> StatementLine {
    StatementLine {
        kind,
        order_id: Some(order_id),
        refund_id: None,
        payout_id: None,
        dispute_id: None,
        amount_minor,
        at,
    }
}

/// A transaction's postings, summed per account and side while a decision builds it.
#[derive(Default)]
pub(super) struct Draft {
    amounts: BTreeMap<(LedgerAccount, crate::ledger::Side), i64>,
}

impl Draft {
    pub(super) fn debit(&mut self, account: LedgerAccount, amount_minor: i64) {
        if amount_minor > 0 {
            *self.amounts.entry((account, crate::ledger::Side::Debit)).or_default() += amount_minor;
        }
    }
    pub(super) fn credit(&mut self, account: LedgerAccount, amount_minor: i64) {
        if amount_minor > 0 {
            *self.amounts.entry((account, crate::ledger::Side::Credit)).or_default() += amount_minor;
        }
    }
    pub(super) fn is_empty(&self) -> bool {
        self.amounts.is_empty()
    }
    pub(super) fn into_transaction(
        self,
        id: crate::LedgerTxId,
        currency: Currency,
        cause: crate::ledger::Cause,
        at: Timestamp,
    ) -> LedgerTransaction {
        let postings = self
            .amounts
            .into_iter()
            .map(|((account, side), amount_minor)| crate::ledger::Posting { account, side, amount_minor })
            .collect();
        LedgerTransaction { id, currency, cause, postings, at }
    }
}

/// Takes back `share` of a payee's earning on one line: from the earning's pending and reserved
/// money (in that order, or the reserve first), then from the payee's available balance less what
/// this transaction already took (`taken`), and what is left becomes a debt. Posts the debits and
/// answers the part that says where it came from.
#[allow(clippy::too_many_arguments)] // each is one fact of the taking; a struct would only rename them
pub(super) fn take_back(
    draft: &mut Draft,
    balances: &Balances,
    currency: Currency,
    taken: &mut BTreeMap<AccountId, i64>,
    hold_id: HoldId,
    earning: &EarningState,
    share: i64,
    reserve_first: bool,
) -> crate::ledger::RefundPart {
    let payee = earning.payee;
    let (from_pending, from_reserved) = if reserve_first {
        let from_reserved = share.min(earning.reserved);
        ((share - from_reserved).min(earning.pending), from_reserved)
    } else {
        let from_pending = share.min(earning.pending);
        (from_pending, (share - from_pending).min(earning.reserved))
    };
    let rest = share - from_pending - from_reserved;
    let taken_here = taken.entry(payee).or_default();
    let available = balances.balance(currency, LedgerAccount::Available(payee)) - *taken_here;
    let from_available = rest.min(available.max(0));
    *taken_here += from_available;
    let owed = rest - from_available;
    draft.debit(LedgerAccount::Pending(payee), from_pending);
    draft.debit(LedgerAccount::Reserved(payee), from_reserved);
    draft.debit(LedgerAccount::Available(payee), from_available);
    draft.debit(LedgerAccount::Receivable(payee), owed);
    crate::ledger::RefundPart {
        hold_id,
        payee: Some(payee),
        amount_minor: share,
        from_pending_minor: from_pending,
        from_reserved_minor: from_reserved,
        from_available_minor: from_available,
        owed_minor: owed,
    }
}
