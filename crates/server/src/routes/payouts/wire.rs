//! The JSON shapes of settlements, payouts, their statement lines.

use crate::wire::rfc3339;
use domain::{LineKind, Payout, Settlement, StatementLine};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct PayoutSummaryBody {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) currency: String,
    pub(crate) amount_minor: i64,
    /// `created` (sent to the provider, no answer yet), `paid` or `failed`.
    pub(crate) state: &'static str,
}

impl From<&Payout> for PayoutSummaryBody {
    fn from(payout: &Payout) -> PayoutSummaryBody {
        PayoutSummaryBody {
            id: payout.id.to_string(),
            account_id: payout.payee.to_string(),
            currency: payout.currency.to_string(),
            amount_minor: payout.amount_minor,
            state: payout.state.as_str(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SettlementBody {
    pub(crate) id: String,
    pub(crate) closed_at: String,
    /// The admin who closed it; absent when the schedule did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) closed_by: Option<String>,
    pub(crate) minimum_minor: i64,
    pub(crate) payouts: Vec<PayoutSummaryBody>,
}

impl SettlementBody {
    pub(crate) fn of(settlement: &Settlement, payouts: &[Payout]) -> SettlementBody {
        SettlementBody {
            id: settlement.id.to_string(),
            closed_at: rfc3339(settlement.closed_at),
            closed_by: settlement.closed_by.map(|id| id.to_string()),
            minimum_minor: settlement.minimum_minor,
            payouts: payouts.iter().map(PayoutSummaryBody::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SettlementListBody {
    /// Newest first, without their payouts.
    pub(crate) settlements: Vec<SettlementBody>,
}

pub(crate) fn line_kind(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Sale => "sale",
        LineKind::ReserveReleased => "reserve_released",
        LineKind::Refund => "refund",
        LineKind::DebtRecovered => "debt_recovered",
        LineKind::PayoutReturned => "payout_returned",
        LineKind::Dispute => "dispute",
        LineKind::DisputeWon => "dispute_won",
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct StatementLineBody {
    /// `sale`, `reserve_released`, `refund` (negative), `debt_recovered` (negative), `payout_returned`,
    /// `dispute` (negative) or `dispute_won`.
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) refund_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) payout_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dispute_id: Option<String>,
    pub(crate) amount_minor: i64,
    /// When the amount became available (or was taken back).
    pub(crate) at: String,
}

impl From<&StatementLine> for StatementLineBody {
    fn from(line: &StatementLine) -> StatementLineBody {
        StatementLineBody {
            kind: line_kind(line.kind),
            order_id: line.order_id.map(|id| id.to_string()),
            refund_id: line.refund_id.map(|id| id.to_string()),
            payout_id: line.payout_id.map(|id| id.to_string()),
            dispute_id: line.dispute_id.map(|id| id.to_string()),
            amount_minor: line.amount_minor,
            at: rfc3339(line.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PayoutBody {
    pub(crate) id: String,
    pub(crate) settlement_id: String,
    pub(crate) account_id: String,
    pub(crate) currency: String,
    pub(crate) amount_minor: i64,
    pub(crate) state: &'static str,
    pub(crate) created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) settled_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) provider_payout_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) failure: Option<String>,
    /// What it pays; they sum to `amount_minor`.
    pub(crate) lines: Vec<StatementLineBody>,
}

impl From<&Payout> for PayoutBody {
    fn from(payout: &Payout) -> PayoutBody {
        PayoutBody {
            id: payout.id.to_string(),
            settlement_id: payout.settlement_id.to_string(),
            account_id: payout.payee.to_string(),
            currency: payout.currency.to_string(),
            amount_minor: payout.amount_minor,
            state: payout.state.as_str(),
            created_at: rfc3339(payout.created_at),
            settled_at: payout.settled_at.map(rfc3339),
            provider_payout_id: payout.provider_payout_id.clone(),
            failure: payout.failure.clone(),
            lines: payout.lines.iter().map(StatementLineBody::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PayoutListBody {
    /// Newest first.
    pub(crate) payouts: Vec<PayoutSummaryBody>,
}
