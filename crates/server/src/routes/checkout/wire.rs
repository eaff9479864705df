//! The JSON shapes of carts, checkouts, orders and their fraud review.

use crate::wire::rfc3339;
use domain::{Cart, CartStatus, Hold, HoldStatus, Order, ReviewStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckoutRequest {
    /// A payment method id; the built-in test provider takes Stripe's test ids such as `pm_card_visa`.
    #[schema(min_length = 1, max_length = 255)]
    pub(crate) payment_method: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct OrderLineBody {
    pub(crate) hold_id: String,
    pub(crate) drop_id: String,
    pub(crate) product_id: String,
    pub(crate) title: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price_minor: i64,
    /// A curator's limited edition: its label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) edition: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct OrderBody {
    pub(crate) order_id: String,
    /// Always `paid`: an order exists only once its payment succeeded.
    pub(crate) status: String,
    pub(crate) total_minor: i64,
    pub(crate) currency: String,
    pub(crate) buyer_id: String,
    pub(crate) creator_id: String,
    pub(crate) room_id: String,
    pub(crate) cart_id: String,
    pub(crate) lines: Vec<OrderLineBody>,
    pub(crate) payment_method: String,
    pub(crate) charge_id: String,
    pub(crate) paid_at: String,
    /// Proof that the sale is in each drop's transparency log: per drop, the sale's leaf, its
    /// inclusion proof and a signed checkpoint. Check it offline with `livedrop verify`. The same
    /// bytes on every read of the order.
    pub(crate) receipt: Option<::transparency::Receipt>,
    /// Present only when a `review` fraud rule fired on the order's claims or checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) review: Option<ReviewBody>,
    /// `GET /v1/orders/{id}` only: each shipped or picked-up line's fulfilment order, as it is now
    /// (a checkout's answer, replayed byte for byte under its key, has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fulfilment: Option<Vec<crate::routes::fulfilment::wire::FulfilmentBody>>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ReviewBody {
    /// `pending` until an admin decides, then `approved` or `rejected`.
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) decided_at: Option<String>,
}

impl OrderBody {
    pub(crate) fn of(order: &Order, receipt: Option<::transparency::Receipt>) -> OrderBody {
        let lines = order
            .lines
            .iter()
            .map(|line| OrderLineBody {
                hold_id: line.hold_id.to_string(),
                drop_id: line.drop_id.to_string(),
                product_id: line.product_id.to_string(),
                title: line.title.clone(),
                quantity: line.quantity,
                unit_price_minor: line.unit_price.minor,
                edition: line.edition.clone(),
            })
            .collect();
        OrderBody {
            order_id: order.id.to_string(),
            status: "paid".to_owned(),
            total_minor: order.total.minor,
            currency: order.total.currency.to_string(),
            buyer_id: order.buyer_id.to_string(),
            creator_id: order.creator_id.to_string(),
            room_id: order.room_id.to_string(),
            cart_id: order.cart_id.to_string(),
            lines,
            payment_method: order.payment_method.clone(),
            charge_id: order.charge_id.clone(),
            paid_at: rfc3339(order.paid_at),
            receipt,
            review: order.review.as_ref().map(|review| ReviewBody {
                status: match review.status {
                    ReviewStatus::Pending => "pending",
                    ReviewStatus::Approved => "approved",
                    ReviewStatus::Rejected => "rejected",
                }
                .to_owned(),
                reason: review.reason.clone(),
                decided_at: review.decided_at.map(rfc3339),
            }),
            fulfilment: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct HoldBody {
    pub(crate) hold_id: String,
    pub(crate) drop_id: String,
    pub(crate) quantity: u32,
    pub(crate) unit_price_minor: i64,
    /// `active`, `expired` or `sold`.
    pub(crate) status: String,
    pub(crate) expires_at: String,
}

impl From<&Hold> for HoldBody {
    fn from(hold: &Hold) -> HoldBody {
        let status = match hold.status {
            HoldStatus::Active => "active",
            HoldStatus::Expired => "expired",
            HoldStatus::Sold => "sold",
        };
        HoldBody {
            hold_id: hold.id.to_string(),
            drop_id: hold.drop_id.to_string(),
            quantity: hold.quantity,
            unit_price_minor: hold.unit_price.minor,
            status: status.to_owned(),
            expires_at: rfc3339(hold.expires_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CartBody {
    pub(crate) id: String,
    pub(crate) room_id: String,
    /// `open` or `checked_out`.
    pub(crate) status: String,
    pub(crate) order_id: Option<String>,
    pub(crate) holds: Vec<HoldBody>,
}

impl CartBody {
    pub(crate) fn of(cart: &Cart, holds: Vec<HoldBody>) -> CartBody {
        let (status, order_id) = match cart.status {
            CartStatus::Open => ("open", None),
            CartStatus::CheckedOut(order_id) => ("checked_out", Some(order_id.to_string())),
        };
        CartBody {
            id: cart.id.to_string(),
            room_id: cart.room_id.to_string(),
            status: status.to_owned(),
            order_id,
            holds,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReviewDecision {
    Approve,
    Reject,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewRequest {
    pub(crate) decision: ReviewDecision,
    /// Printable characters, not only spaces.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) reason: Option<String>,
}
