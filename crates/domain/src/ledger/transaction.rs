//! A ledger transaction: postings in one currency whose debits equal their credits, and the fact
//! that caused them. Every transaction is journaled whole (`Event::LedgerPosted`), in the same commit
//! as its cause, so the ledger can never drift from the orders.

use super::LedgerAccount;
use crate::{
    AccountId, Currency, DisputeId, HoldId, LedgerTxId, OrderId, PayoutId, PayoutProfile, RefundId, SettlementId,
    Timestamp,
};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Posting {
    pub account: LedgerAccount,
    pub side: Side,
    /// Strictly positive; the side says which way it moves.
    pub amount_minor: i64,
}

impl Posting {
    pub fn debit(account: LedgerAccount, amount_minor: i64) -> Posting {
        Posting { account, side: Side::Debit, amount_minor }
    }
    pub fn credit(account: LedgerAccount, amount_minor: i64) -> Posting {
        Posting { account, side: Side::Credit, amount_minor }
    }
}

/// Who a share of a sale is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarningRole {
    Creator,
    Partner,
}

/// A payee's share of one order line, and when it becomes available under the payee's payout
/// profile at the time of the sale.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Earning {
    pub payee: AccountId,
    pub role: EarningRole,
    pub amount_minor: i64,
    /// The part held in the rolling reserve until `reserve_until`; the rest matures at `available_at`.
    pub reserved_minor: i64,
    pub available_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve_until: Option<Timestamp>,
    /// The payee's payout profile at the sale: why `available_at` and the reserve are what they are.
    pub profile: PayoutProfile,
}

/// One order line's split: the platform's fee and each payee's earning, which sum to the line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SaleLine {
    pub hold_id: HoldId,
    pub amount_minor: i64,
    pub fee_minor: i64,
    pub earnings: Vec<Earning>,
}

/// What one party gives back of one refunded order line, and from where: a payee's share is taken
/// from its pending, then its reserved, then its available money; what is left becomes a debt.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefundPart {
    pub hold_id: HoldId,
    /// `None` for the platform's fee.
    pub payee: Option<AccountId>,
    pub amount_minor: i64,
    #[serde(default)]
    pub from_pending_minor: i64,
    #[serde(default)]
    pub from_reserved_minor: i64,
    #[serde(default)]
    pub from_available_minor: i64,
    #[serde(default)]
    pub owed_minor: i64,
}

/// The fact a transaction records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Cause {
    /// An order was paid: its charge is split into the fee and the payees' earnings. `fee_bps` is the
    /// platform fee in force then, kept so that replay never reads configuration.
    Sale {
        order_id: OrderId,
        fee_bps: u32,
        lines: Vec<SaleLine>,
    },
    /// An executed refund takes its amount back from each party in proportion to what it still has
    /// of the refunded lines.
    Refund {
        refund_id: RefundId,
        order_id: OrderId,
        parts: Vec<RefundPart>,
    },
    /// At a settlement window's close: matured earnings and released reserves become available, and
    /// debts are recovered from them.
    Matured {
        settlement_id: SettlementId,
    },
    PayoutCreated {
        payout_id: PayoutId,
    },
    PayoutSent {
        payout_id: PayoutId,
    },
    /// The provider refused the payout: its amount is available again for the next window.
    PayoutFailed {
        payout_id: PayoutId,
    },
    /// A chargeback sets each party's share aside in its `dispute_hold`, from its reserve first,
    /// then pending, then available money; what is left becomes a debt.
    /// The split is in `Event::DisputeOpened`.
    DisputeOpened {
        dispute_id: DisputeId,
    },
    /// Won: each share goes back where it was taken from (a debt it created is cancelled).
    DisputeWon {
        dispute_id: DisputeId,
    },
    /// Lost: the processor takes the amount back from the money set aside and the platform's fee.
    DisputeLost {
        dispute_id: DisputeId,
    },
}

impl Cause {
    pub fn kind(&self) -> &'static str {
        match self {
            Cause::Sale { .. } => "sale",
            Cause::Refund { .. } => "refund",
            Cause::Matured { .. } => "matured",
            Cause::PayoutCreated { .. } => "payout_created",
            Cause::PayoutSent { .. } => "payout_sent",
            Cause::PayoutFailed { .. } => "payout_failed",
            Cause::DisputeOpened { .. } => "dispute_opened",
            Cause::DisputeWon { .. } => "dispute_won",
            Cause::DisputeLost { .. } => "dispute_lost",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LedgerTransaction {
    pub id: LedgerTxId,
    pub currency: Currency,
    pub cause: Cause,
    pub postings: Vec<Posting>,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionError {
    Empty,
    NonPositive { account: LedgerAccount },
    Unbalanced { debits: i64, credits: i64 },
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionError::Empty => f.write_str("a transaction needs postings"),
            TransactionError::NonPositive { account } => write!(f, "a posting to {account} is not positive"),
            TransactionError::Unbalanced { debits, credits } => {
                write!(f, "debits {debits} and credits {credits} differ")
            }
        }
    }
}

impl LedgerTransaction {
    /// Its debits equal its credits, and every posting moves a positive amount.
    pub fn check(&self) -> Result<(), TransactionError> {
        if self.postings.is_empty() {
            return Err(TransactionError::Empty);
        }
        let (mut debits, mut credits) = (0i64, 0i64);
        for posting in &self.postings {
            if posting.amount_minor <= 0 {
                return Err(TransactionError::NonPositive { account: posting.account });
            }
            match posting.side {
                Side::Debit => debits += posting.amount_minor,
                Side::Credit => credits += posting.amount_minor,
            }
        }
        if debits != credits {
            return Err(TransactionError::Unbalanced { debits, credits });
        }
        Ok(())
    }

    /// Whether the transaction touches one of `payee`'s accounts.
    pub fn concerns(&self, payee: AccountId) -> bool {
        self.postings.iter().any(|posting| posting.account.payee() == Some(payee))
    }

    /// The transaction as `payee` may see it: its own postings only (so they need not balance), and
    /// of the cause only its own earnings and refund parts. A book is shared by every creator of a
    /// partition, so one window's maturing, say, holds many payees' postings.
    pub fn seen_by(&self, payee: AccountId) -> Option<LedgerTransaction> {
        if !self.concerns(payee) {
            return None;
        }
        let postings = self.postings.iter().filter(|posting| posting.account.payee() == Some(payee)).cloned().collect();
        let cause = match &self.cause {
            Cause::Sale { order_id, fee_bps, lines } => Cause::Sale {
                order_id: *order_id,
                fee_bps: *fee_bps,
                lines: lines
                    .iter()
                    .map(|line| SaleLine {
                        earnings: line.earnings.iter().filter(|earning| earning.payee == payee).cloned().collect(),
                        ..line.clone()
                    })
                    .filter(|line| !line.earnings.is_empty())
                    .collect(),
            },
            Cause::Refund { refund_id, order_id, parts } => Cause::Refund {
                refund_id: *refund_id,
                order_id: *order_id,
                parts: parts.iter().filter(|part| part.payee == Some(payee)).cloned().collect(),
            },
            other => other.clone(),
        };
        Some(LedgerTransaction { id: self.id, currency: self.currency, cause, postings, at: self.at })
    }
}
