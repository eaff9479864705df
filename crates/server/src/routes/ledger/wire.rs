//! The JSON shapes of balances, earnings, ledger transactions and the trial balance.

use crate::wire::rfc3339;
use domain::ledger::LedgerTransaction;
use domain::{EarningView, PayeeBalance, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountQuery {
    /// Admins only: whose figures; others see their own.
    pub(crate) account_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct BalanceBody {
    pub(crate) currency: String,
    /// Earned, not matured under the payout profile yet.
    pub(crate) pending_minor: i64,
    /// Matured; paid out at the next settlement window (if at least the minimum).
    pub(crate) available_minor: i64,
    /// Held in the rolling reserve.
    pub(crate) reserved_minor: i64,
    /// Set aside while disputes of the payee's sales are open.
    pub(crate) disputed_minor: i64,
    /// Handed to the payout provider, not confirmed yet.
    pub(crate) in_transit_minor: i64,
    pub(crate) paid_out_minor: i64,
    /// Owed after refunds took more than was held; recovered from the next earnings.
    pub(crate) owed_minor: i64,
}

impl From<&PayeeBalance> for BalanceBody {
    fn from(balance: &PayeeBalance) -> BalanceBody {
        BalanceBody {
            currency: balance.currency.to_string(),
            pending_minor: balance.pending_minor,
            available_minor: balance.available_minor,
            reserved_minor: balance.reserved_minor,
            disputed_minor: balance.disputed_minor,
            in_transit_minor: balance.in_transit_minor,
            paid_out_minor: balance.paid_out_minor,
            owed_minor: balance.owed_minor,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct BalancesBody {
    pub(crate) account_id: String,
    pub(crate) balances: Vec<BalanceBody>,
    /// When the next scheduled settlement window closes, paying out what is available by then;
    /// absent when windows close only on an admin's request (`--settlement-every off`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_settlement_at: Option<String>,
}

/// One order line's earning for its payee: when it becomes available, and why.
#[derive(Serialize, ToSchema)]
pub(crate) struct EarningBody {
    pub(crate) order_id: String,
    pub(crate) hold_id: String,
    pub(crate) currency: String,
    pub(crate) amount_minor: i64,
    pub(crate) refunded_minor: i64,
    /// Still pending (not matured).
    pub(crate) pending_minor: i64,
    /// Still held in the rolling reserve.
    pub(crate) reserved_minor: i64,
    /// When the part not reserved matures: it is available at the first settlement window from then.
    pub(crate) available_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reserve_until: Option<String>,
    /// When the line's delivery or pickup released it early (a profile with
    /// `release_on_fulfilment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) released_at: Option<String>,
    /// In words: "available 2026-12-08: delayed 7 days; 1000 reserved until 2027-01-01".
    pub(crate) why: String,
}

fn day(at: Timestamp) -> String {
    rfc3339(at).chars().take(10).collect()
}

impl From<&EarningView> for EarningBody {
    fn from(view: &EarningView) -> EarningBody {
        let mut why = format!("available {}: {}", day(view.available_at), view.profile.terms());
        if let Some(at) = view.released_at {
            why.push_str(&format!("; fulfilled {}", day(at)));
        }
        if let Some(until) = view.reserve_until {
            why.push_str(&format!(
                "; {} of {} reserved until {}",
                view.amount_minor * i64::from(view.profile.reserve_bps) / 10_000,
                view.amount_minor,
                day(until)
            ));
        }
        EarningBody {
            order_id: view.order_id.to_string(),
            hold_id: view.hold_id.to_string(),
            currency: view.currency.to_string(),
            amount_minor: view.amount_minor,
            refunded_minor: view.refunded_minor,
            pending_minor: view.pending_minor,
            reserved_minor: view.reserved_minor,
            available_at: rfc3339(view.available_at),
            reserve_until: view.reserve_until.map(rfc3339),
            released_at: view.released_at.map(rfc3339),
            why,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EarningsBody {
    pub(crate) account_id: String,
    pub(crate) earnings: Vec<EarningBody>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransactionsQuery {
    /// Admins only: a payee's transactions; without it an admin sees all, others their own.
    pub(crate) account_id: Option<String>,
    /// Transactions after this id (the previous page's `next_after`).
    pub(crate) after: Option<String>,
    /// 1 to 500; 100 by default.
    pub(crate) limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PostingBody {
    /// `processor_clearing`, `platform_fees`, or `<kind>:<payee id>` (`pending`, `reserved`,
    /// `available`, `payouts_in_transit`, `dispute_hold`, `receivable`).
    pub(crate) account: String,
    /// `debit` or `credit`.
    pub(crate) side: &'static str,
    pub(crate) amount_minor: i64,
}

#[derive(Serialize, ToSchema)]
/// A transaction; a payee reading its own sees only its postings (which then need not balance) and
/// of the cause only its own earnings and refund parts.
pub(crate) struct TransactionBody {
    pub(crate) id: String,
    pub(crate) currency: String,
    /// What caused it: `{"kind": "sale" | "refund" | "matured" | "payout_created" | "payout_sent" | "payout_failed", ...}`.
    #[schema(value_type = Object)]
    pub(crate) cause: serde_json::Value,
    pub(crate) postings: Vec<PostingBody>,
    pub(crate) at: String,
}

impl From<&LedgerTransaction> for TransactionBody {
    fn from(transaction: &LedgerTransaction) -> TransactionBody {
        TransactionBody {
            id: transaction.id.to_string(),
            currency: transaction.currency.to_string(),
            cause: serde_json::to_value(&transaction.cause).unwrap_or_default(),
            postings: transaction
                .postings
                .iter()
                .map(|posting| PostingBody {
                    account: posting.account.to_string(),
                    side: match posting.side {
                        domain::ledger::Side::Debit => "debit",
                        domain::ledger::Side::Credit => "credit",
                    },
                    amount_minor: posting.amount_minor,
                })
                .collect(),
            at: rfc3339(transaction.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TransactionsBody {
    pub(crate) transactions: Vec<TransactionBody>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_after: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CurrencyTotalsBody {
    pub(crate) currency: String,
    pub(crate) debits_minor: i64,
    pub(crate) credits_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccountBalanceBody {
    pub(crate) account: String,
    pub(crate) currency: String,
    /// In the account's normal direction (debit for `processor_clearing` and `receivable`, credit
    /// for the rest); never negative, but for `processor_clearing` when refunds of paid-out sales
    /// were advanced by the processor.
    pub(crate) balance_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TrialBalanceBody {
    /// Debits equal credits in every currency, and the debit-normal balances equal the credit-normal ones.
    pub(crate) balanced: bool,
    pub(crate) currencies: Vec<CurrencyTotalsBody>,
    pub(crate) accounts: Vec<AccountBalanceBody>,
}
