//! The JSON shapes of partner signals.

use crate::wire::rfc3339;
use domain::FulfilmentOrder;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalRequest {
    /// A status or ETA signal names a fulfilment order; a stock count names a drop instead.
    #[serde(default)]
    pub(crate) fulfilment_id: Option<String>,
    /// A stock count: the drop whose units the partner (its hub) counted on its shelf.
    #[serde(default)]
    pub(crate) drop_id: Option<String>,
    /// With `drop_id`: the units counted.
    #[serde(default)]
    pub(crate) on_hand: Option<u64>,
    /// A state further along the order's path (the states between are passed through).
    #[serde(default)]
    pub(crate) state: Option<String>,
    /// RFC 3339: the time promised; the newest version's stands.
    #[serde(default)]
    pub(crate) eta: Option<String>,
    /// The partner's own version of what it says about this order or drop (a counter or a time),
    /// from 1: an ETA or a count older than the one in force changes nothing.
    pub(crate) version: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalsRequest {
    /// 1 to 100 signals, applied in order.
    pub(crate) signals: Vec<SignalRequest>,
}

/// A refused signal's error, as an error body says it.
#[derive(Serialize, ToSchema)]
pub(crate) struct SignalErrorBody {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

#[derive(Default, Serialize, ToSchema)]
pub(crate) struct SignalResultBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fulfilment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) drop_id: Option<String>,
    /// `applied`, `stale` or `refused`.
    pub(crate) outcome: &'static str,
    /// The order's state after the signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) eta: Option<String>,
    /// A stock count: the drop's last count and what the drop expected on the shelf then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) on_hand: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expected: Option<u64>,
    /// The reconciliation case this count opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) case_id: Option<String>,
    /// Why it was refused: the error a change would have answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<SignalErrorBody>,
}

fn outcome_name(outcome: domain::SignalOutcome) -> &'static str {
    match outcome {
        domain::SignalOutcome::Applied => "applied",
        domain::SignalOutcome::Stale => "stale",
    }
}

impl SignalResultBody {
    pub(crate) fn of(id: &str, fulfilment: &FulfilmentOrder, outcome: domain::SignalOutcome) -> SignalResultBody {
        SignalResultBody {
            fulfilment_id: Some(id.to_owned()),
            outcome: outcome_name(outcome),
            state: Some(fulfilment.state.name()),
            eta: fulfilment.eta.map(rfc3339),
            ..SignalResultBody::default()
        }
    }

    pub(crate) fn of_count(
        drop_id: &str,
        count: &domain::StockCount,
        outcome: domain::SignalOutcome,
        case: Option<&domain::ReconciliationCase>,
    ) -> SignalResultBody {
        SignalResultBody {
            drop_id: Some(drop_id.to_owned()),
            outcome: outcome_name(outcome),
            on_hand: Some(count.on_hand),
            expected: Some(count.expected),
            case_id: case.map(|case| case.id.to_string()),
            ..SignalResultBody::default()
        }
    }

    /// `request` names the fulfilment order or the drop the refused signal was about.
    pub(crate) fn refused(request: &SignalRequest, error: crate::error::ApiError) -> SignalResultBody {
        let error = SignalErrorBody { code: error.code, message: error.message };
        SignalResultBody {
            fulfilment_id: request.fulfilment_id.clone(),
            drop_id: request.drop_id.clone(),
            outcome: "refused",
            error: Some(error),
            ..SignalResultBody::default()
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SignalsBody {
    pub(crate) results: Vec<SignalResultBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct InboundSecretBody {
    /// The `whsec_` secret to sign inbound webhooks with: shown this once. The one it replaces
    /// verifies for 24 hours more.
    pub(crate) secret: String,
    /// Where signed signals go: `POST` it the same body as `/v1/partner-signals`.
    pub(crate) url: String,
}
