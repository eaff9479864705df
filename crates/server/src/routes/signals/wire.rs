//! The JSON shapes of partner signals.

use crate::wire::rfc3339;
use domain::FulfilmentOrder;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignalRequest {
    pub(crate) fulfilment_id: String,
    /// A state further along the order's path (the states between are passed through).
    #[serde(default)]
    pub(crate) state: Option<String>,
    /// RFC 3339: the time promised; the newest version's stands.
    #[serde(default)]
    pub(crate) eta: Option<String>,
    /// The partner's own version of what it says about this order (a counter or a time), from 1:
    /// an ETA older than the one in force changes nothing.
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

#[derive(Serialize, ToSchema)]
pub(crate) struct SignalResultBody {
    pub(crate) fulfilment_id: String,
    /// `applied`, `stale` or `refused`.
    pub(crate) outcome: &'static str,
    /// The order's state after the signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) eta: Option<String>,
    /// Why it was refused: the error a change would have answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<SignalErrorBody>,
}

impl SignalResultBody {
    pub(crate) fn of(id: &str, fulfilment: &FulfilmentOrder, outcome: domain::SignalOutcome) -> SignalResultBody {
        SignalResultBody {
            fulfilment_id: id.to_owned(),
            outcome: match outcome {
                domain::SignalOutcome::Applied => "applied",
                domain::SignalOutcome::Stale => "stale",
            },
            state: Some(fulfilment.state.name()),
            eta: fulfilment.eta.map(rfc3339),
            error: None,
        }
    }

    pub(crate) fn refused(id: &str, error: crate::error::ApiError) -> SignalResultBody {
        let error = SignalErrorBody { code: error.code, message: error.message };
        SignalResultBody {
            fulfilment_id: id.to_owned(),
            outcome: "refused",
            state: None,
            eta: None,
            error: Some(error),
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
