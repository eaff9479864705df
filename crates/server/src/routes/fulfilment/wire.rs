//! The JSON shapes of fulfilment orders.

use crate::wire::rfc3339;
use domain::{Fulfilment, FulfilmentChange, FulfilmentOrder, FulfilmentSamples, Spread};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeRequest {
    /// The next state: `accepted`, `ready_for_pickup`, `picked_up`, `in_transit`, `delivered`,
    /// `cancelled` or `returned`; absent to promise a new `eta` only.
    #[serde(default)]
    pub(crate) state: Option<String>,
    /// RFC 3339: when the goods will be delivered or ready for pickup, now to 90 days ahead.
    #[serde(default)]
    pub(crate) eta: Option<String>,
    /// The buyer's six-digit code: needed to mark a pickup `picked_up`. Five wrong codes within
    /// 15 minutes make entering one wait (429).
    #[serde(default)]
    pub(crate) pickup_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ChangeBody {
    pub(crate) state: &'static str,
    pub(crate) at: String,
    pub(crate) by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) eta: Option<String>,
}

impl From<&FulfilmentChange> for ChangeBody {
    fn from(change: &FulfilmentChange) -> ChangeBody {
        ChangeBody {
            state: change.state.name(),
            at: rfc3339(change.at),
            by: change.by.to_string(),
            eta: change.eta.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FulfilmentBody {
    pub(crate) id: String,
    pub(crate) order_id: String,
    pub(crate) hold_id: String,
    pub(crate) drop_id: String,
    pub(crate) product_id: String,
    pub(crate) quantity: u32,
    /// `ship` or `pickup`.
    pub(crate) method: &'static str,
    /// The partner who fulfils it; absent when the creator does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) partner_id: Option<String>,
    pub(crate) creator_id: String,
    pub(crate) buyer_id: String,
    pub(crate) state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) eta: Option<String>,
    pub(crate) created_at: String,
    /// Every change after `open`, oldest first.
    pub(crate) changes: Vec<ChangeBody>,
    /// For a pickup, shown to its buyer only: the code to give at the venue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pickup_code: Option<String>,
}

impl FulfilmentBody {
    /// As `viewer` may see it: the pickup code is the buyer's alone.
    pub(crate) fn for_viewer(fulfilment: &FulfilmentOrder, viewer: domain::AccountId) -> FulfilmentBody {
        let mut body = FulfilmentBody::from(fulfilment);
        if viewer == fulfilment.buyer_id {
            body.pickup_code = fulfilment.pickup_code.clone();
        }
        body
    }
}

impl From<&FulfilmentOrder> for FulfilmentBody {
    fn from(fulfilment: &FulfilmentOrder) -> FulfilmentBody {
        FulfilmentBody {
            id: fulfilment.id.to_string(),
            order_id: fulfilment.order_id.to_string(),
            hold_id: fulfilment.hold_id.to_string(),
            drop_id: fulfilment.drop_id.to_string(),
            product_id: fulfilment.product_id.to_string(),
            quantity: fulfilment.quantity,
            method: match fulfilment.method {
                Fulfilment::Pickup => "pickup",
                Fulfilment::Ship => "ship",
                Fulfilment::Digital => "digital", // never opened: digital lines need none
            },
            partner_id: fulfilment.partner_id.map(|id| id.to_string()),
            creator_id: fulfilment.creator_id.to_string(),
            buyer_id: fulfilment.buyer_id.to_string(),
            state: fulfilment.state.name(),
            eta: fulfilment.eta.map(rfc3339),
            created_at: rfc3339(fulfilment.created_at),
            changes: fulfilment.changes.iter().map(ChangeBody::from).collect(),
            pickup_code: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FulfilmentListBody {
    pub(crate) fulfilment_orders: Vec<FulfilmentBody>,
}

/// Percentiles of one duration, in milliseconds.
#[derive(Serialize, ToSchema)]
pub(crate) struct SpreadBody {
    pub(crate) count: u64,
    pub(crate) p50: i64,
    pub(crate) p90: i64,
    pub(crate) max: i64,
}

fn spread(samples: &[i64]) -> Option<SpreadBody> {
    Spread::of(samples).map(|Spread { count, p50, p90, max }| SpreadBody { count, p50, p90, max })
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FiguresBody {
    pub(crate) orders: u64,
    pub(crate) completed: u64,
    pub(crate) cancelled: u64,
    /// Opened to accepted.
    pub(crate) acceptance_ms: Option<SpreadBody>,
    /// Opened to ready for pickup or in transit.
    pub(crate) ready_or_dispatch_ms: Option<SpreadBody>,
    /// Completed with an ETA promised before completion.
    pub(crate) promised: u64,
    /// Of those, completed by the last ETA promised; absent without any.
    pub(crate) on_time_rate: Option<f64>,
    /// Completion minus the last ETA promised (negative: early).
    pub(crate) eta_error_ms: Option<SpreadBody>,
}

impl From<&FulfilmentSamples> for FiguresBody {
    fn from(samples: &FulfilmentSamples) -> FiguresBody {
        FiguresBody {
            orders: samples.orders,
            completed: samples.completed,
            cancelled: samples.cancelled,
            acceptance_ms: spread(&samples.acceptance_ms),
            ready_or_dispatch_ms: spread(&samples.ready_or_dispatch_ms),
            promised: samples.promised,
            on_time_rate: samples.on_time_rate(),
            eta_error_ms: spread(&samples.eta_error_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct FulfillerFiguresBody {
    /// The partner, or the creator itself when it fulfils its own sales.
    pub(crate) fulfiller_id: String,
    #[serde(flatten)]
    pub(crate) figures: FiguresBody,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct StatsBody {
    /// The fulfilment orders the caller fulfils (its newest 10 000 per shard).
    pub(crate) as_fulfiller: FiguresBody,
    /// The caller's sales, per fulfiller.
    pub(crate) fulfillers_of_my_sales: Vec<FulfillerFiguresBody>,
}
