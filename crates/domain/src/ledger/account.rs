//! The chart of accounts. Each ledger account has a normal balance (the side that increases it);
//! a balance is kept in that direction and, but for the processor's clearing account, may never go
//! below zero: money a payee owes is an account of its own (`Receivable`), never a negative payable.

use crate::AccountId;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LedgerAccount {
    /// Asset: money captured from buyers and held at the payment processor until refunded or paid out.
    ProcessorClearing,
    /// Income: the platform's fee on each sale.
    PlatformFees,
    /// Liability: a payee's earnings that have not matured under its payout profile yet.
    Pending(AccountId),
    /// Liability: the rolling reserve, a share of a payee's earnings held until its release date.
    Reserved(AccountId),
    /// Liability: matured earnings, paid out at the next settlement window.
    Available(AccountId),
    /// Liability: payouts created and handed to the payout provider, not yet confirmed.
    PayoutsInTransit(AccountId),
    /// Liability: a payee's funds set aside while a dispute of its sale is open.
    DisputeHold(AccountId),
    /// Asset: what a payee owes after refunds or lost disputes took more than its funds held; the
    /// explicit rule that lets a payee's position go negative, recovered from its next earnings.
    Receivable(AccountId),
}

/// The side that increases an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NormalBalance {
    Debit,
    Credit,
}

impl LedgerAccount {
    pub fn normal_balance(self) -> NormalBalance {
        match self {
            LedgerAccount::ProcessorClearing | LedgerAccount::Receivable(_) => NormalBalance::Debit,
            _ => NormalBalance::Credit,
        }
    }

    /// Only the processor's clearing account may go below zero: a refund of a sale whose earnings
    /// were already paid out is advanced by the processor (which then debits the platform's bank
    /// account), while the payee's share becomes its `Receivable`. Every payable, fee and debt
    /// account stays at zero or above.
    pub fn may_go_negative(self) -> bool {
        self == LedgerAccount::ProcessorClearing
    }

    /// The payee the account belongs to, if any.
    pub fn payee(self) -> Option<AccountId> {
        match self {
            LedgerAccount::ProcessorClearing | LedgerAccount::PlatformFees => None,
            LedgerAccount::Pending(id)
            | LedgerAccount::Reserved(id)
            | LedgerAccount::Available(id)
            | LedgerAccount::PayoutsInTransit(id)
            | LedgerAccount::DisputeHold(id)
            | LedgerAccount::Receivable(id) => Some(id),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            LedgerAccount::ProcessorClearing => "processor_clearing",
            LedgerAccount::PlatformFees => "platform_fees",
            LedgerAccount::Pending(_) => "pending",
            LedgerAccount::Reserved(_) => "reserved",
            LedgerAccount::Available(_) => "available",
            LedgerAccount::PayoutsInTransit(_) => "payouts_in_transit",
            LedgerAccount::DisputeHold(_) => "dispute_hold",
            LedgerAccount::Receivable(_) => "receivable",
        }
    }
}

/// `processor_clearing`, `platform_fees`, or `<kind>:<payee id>` such as `pending:acct_0a0000000001`.
impl fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payee() {
            Some(payee) => write!(f, "{}:{payee}", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAccountError;

impl fmt::Display for LedgerAccountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a ledger account")
    }
}

impl FromStr for LedgerAccount {
    type Err = LedgerAccountError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "processor_clearing" => return Ok(LedgerAccount::ProcessorClearing),
            "platform_fees" => return Ok(LedgerAccount::PlatformFees),
            _ => {}
        }
        let (kind, payee) = text.split_once(':').ok_or(LedgerAccountError)?;
        let payee: AccountId = payee.parse().map_err(|_| LedgerAccountError)?;
        Ok(match kind {
            "pending" => LedgerAccount::Pending(payee),
            "reserved" => LedgerAccount::Reserved(payee),
            "available" => LedgerAccount::Available(payee),
            "payouts_in_transit" => LedgerAccount::PayoutsInTransit(payee),
            "dispute_hold" => LedgerAccount::DisputeHold(payee),
            "receivable" => LedgerAccount::Receivable(payee),
            _ => return Err(LedgerAccountError),
        })
    }
}

impl serde::Serialize for LedgerAccount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for LedgerAccount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntityId;

    #[test]
    fn accounts_round_trip_through_their_names() {
        let payee = AccountId(EntityId { partition: 0x0a, serial: 1 });
        let all = [
            LedgerAccount::ProcessorClearing,
            LedgerAccount::PlatformFees,
            LedgerAccount::Pending(payee),
            LedgerAccount::Reserved(payee),
            LedgerAccount::Available(payee),
            LedgerAccount::PayoutsInTransit(payee),
            LedgerAccount::DisputeHold(payee),
            LedgerAccount::Receivable(payee),
        ];
        for account in all {
            assert_eq!(account.to_string().parse::<LedgerAccount>(), Ok(account));
        }
        assert_eq!(LedgerAccount::Pending(payee).to_string(), "pending:acct_0a0000000001");
        for bad in ["", "pending", "pending:", "owed:acct_0a0000000001", "platform_fees:acct_0a0000000001"] {
            assert!(bad.parse::<LedgerAccount>().is_err(), "{bad}");
        }
    }
}
