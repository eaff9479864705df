//! The JSON shapes of refunds and of an order's refund summary.

use crate::wire::rfc3339;
use domain::{Refund, RefundApproval, RefundSide};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefundLineRequest {
    /// The order line, named by the hold it was bought with.
    pub(crate) hold_id: String,
    #[schema(minimum = 1, maximum = 1_000)]
    pub(crate) quantity: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRefundRequest {
    /// Order lines and units to refund; leave out to refund every unit not refunded yet.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub(crate) lines: Option<Vec<RefundLineRequest>>,
    /// Printable characters, not only spaces.
    #[schema(min_length = 1, max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) reason: String,
    /// Put the units back on sale in their drop if it is still open (default); otherwise, or when
    /// false, they return to the product's unallocated stock.
    #[serde(default)]
    pub(crate) restock: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectRefundRequest {
    /// Printable characters, not only spaces.
    #[schema(min_length = 1, max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) reason: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundLineBody {
    pub(crate) hold_id: String,
    pub(crate) drop_id: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price_minor: i64,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundApprovalBody {
    pub(crate) by: String,
    pub(crate) at: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundRejectionBody {
    /// `platform` or `creator`.
    pub(crate) side: String,
    pub(crate) by: String,
    pub(crate) reason: String,
    pub(crate) at: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RefundBody {
    pub(crate) id: String,
    pub(crate) order_id: String,
    /// `pending_approval`, `approved` (being paid back), `rejected` or `executed`.
    pub(crate) status: String,
    /// Computed from the order's unit prices.
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) lines: Vec<RefundLineBody>,
    pub(crate) reason: String,
    pub(crate) restock: bool,
    pub(crate) requested_by: String,
    /// True when the amount is above the approval threshold: a platform admin and the creator must
    /// both approve.
    pub(crate) needs_approval: bool,
    pub(crate) platform_approval: Option<RefundApprovalBody>,
    pub(crate) creator_approval: Option<RefundApprovalBody>,
    pub(crate) rejection: Option<RefundRejectionBody>,
    pub(crate) requested_at: String,
    /// The payment provider's refund id, once executed.
    pub(crate) provider_refund_id: Option<String>,
    pub(crate) executed_at: Option<String>,
}

fn approval_body(approval: &RefundApproval) -> RefundApprovalBody {
    RefundApprovalBody { by: approval.by.to_string(), at: rfc3339(approval.at) }
}

impl From<&Refund> for RefundBody {
    fn from(refund: &Refund) -> RefundBody {
        RefundBody {
            id: refund.id.to_string(),
            order_id: refund.order_id.to_string(),
            status: refund.status.as_str().to_owned(),
            amount_minor: refund.amount.minor,
            currency: refund.amount.currency.to_string(),
            lines: refund
                .lines
                .iter()
                .map(|line| RefundLineBody {
                    hold_id: line.hold_id.to_string(),
                    drop_id: line.drop_id.to_string(),
                    quantity: line.quantity,
                    unit_price_minor: line.unit_price.minor,
                })
                .collect(),
            reason: refund.reason.clone(),
            restock: refund.restock,
            requested_by: refund.requested_by.to_string(),
            needs_approval: refund.needs_approval,
            platform_approval: refund.platform_approval.as_ref().map(approval_body),
            creator_approval: refund.creator_approval.as_ref().map(approval_body),
            rejection: refund.rejection.as_ref().map(|rejection| RefundRejectionBody {
                side: match rejection.side {
                    RefundSide::Platform => "platform",
                    RefundSide::Creator => "creator",
                }
                .to_owned(),
                by: rejection.by.to_string(),
                reason: rejection.reason.clone(),
                at: rfc3339(rejection.at),
            }),
            requested_at: rfc3339(refund.requested_at),
            provider_refund_id: refund.provider_refund_id.clone(),
            executed_at: refund.executed_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct OrderRefundsBody {
    pub(crate) order_id: String,
    pub(crate) total_minor: i64,
    /// The sum of executed refunds: what was paid back.
    pub(crate) refunded_minor: i64,
    /// The sum of refunds pending approval or approved and not paid back yet.
    pub(crate) pending_minor: i64,
    pub(crate) currency: String,
    /// Oldest first.
    pub(crate) refunds: Vec<RefundBody>,
}
