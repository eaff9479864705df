//! The JSON shapes of disputes.

use crate::wire::rfc3339;
use domain::Dispute;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenDisputeRequest {
    /// Minor units disputed; by default everything not refunded (or asked back) yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub(crate) amount_minor: Option<i64>,
    /// The provider's reason code or the buyer's complaint; printable, 1 to 500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub(crate) reason: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DisputeBody {
    pub(crate) id: String,
    pub(crate) order_id: String,
    pub(crate) creator_id: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) reason: String,
    /// `open`, `won` or `lost`.
    pub(crate) state: &'static str,
    pub(crate) opened_by: String,
    pub(crate) opened_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) decided_at: Option<String>,
}

impl From<&Dispute> for DisputeBody {
    fn from(dispute: &Dispute) -> DisputeBody {
        DisputeBody {
            id: dispute.id.to_string(),
            order_id: dispute.order_id.to_string(),
            creator_id: dispute.creator_id.to_string(),
            amount_minor: dispute.amount.minor,
            currency: dispute.amount.currency.to_string(),
            reason: dispute.reason.clone(),
            state: dispute.state.as_str(),
            opened_by: dispute.opened_by.to_string(),
            opened_at: rfc3339(dispute.opened_at),
            decided_by: dispute.decided_by.map(|id| id.to_string()),
            decided_at: dispute.decided_at.map(rfc3339),
        }
    }
}
