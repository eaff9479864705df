//! The JSON shapes of drops and claims.

use crate::wire::rfc3339;
use domain::{ClaimReceipt, Drop};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDropRequest {
    pub(crate) product_id: String,
    /// Units taken from the product's unallocated stock.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub(crate) quantity: u64,
    #[schema(minimum = 1, maximum = 1_000)]
    pub(crate) per_buyer_limit: u32,
    /// How long a claim holds its units before they return to the drop.
    #[schema(minimum = 10, maximum = 3_600)]
    pub(crate) hold_seconds: u64,
    /// RFC 3339, at most a year ahead; defaults to now.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub(crate) opens_at: Option<String>,
    /// RFC 3339, after `opens_at`; without it the drop stays open until its creator closes it.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub(crate) closes_at: Option<String>,
    /// An accepted split contract of yours: its partners share each sale of the drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) split_contract_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DropBody {
    pub(crate) id: String,
    pub(crate) room_id: String,
    pub(crate) product_id: String,
    pub(crate) title: String,
    /// `scheduled`, `open`, `sold_out` or `closed`.
    pub(crate) state: String,
    pub(crate) quantity: u64,
    pub(crate) remaining: u64,
    pub(crate) held: u64,
    pub(crate) sold: u64,
    /// Units sold, refunded and returned to the product's unallocated stock rather than to this
    /// drop; `remaining + held + sold + released == quantity`.
    pub(crate) released: u64,
    pub(crate) per_buyer_limit: u32,
    pub(crate) hold_seconds: u64,
    pub(crate) price_minor: i64,
    pub(crate) currency: String,
    pub(crate) opens_at: String,
    pub(crate) closes_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) split_contract_id: Option<String>,
    /// Who fulfils the drop's sales under which service terms (its hub partner's, from the split
    /// contract), from which the room shows a buyer the promise; on reads (`GET /v1/drops/{id}`,
    /// the room and its live feed), absent when the creator fulfils or the partner agreed no terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) service: Option<ServiceBody>,
}

/// A drop's fulfiller and its terms.
#[derive(Serialize, ToSchema)]
pub(crate) struct ServiceBody {
    /// `pickup` or `ship`.
    pub(crate) method: &'static str,
    pub(crate) partner_id: String,
    pub(crate) terms: crate::routes::contracts::wire::TermsWire,
}

impl DropBody {
    /// The drop as read from its shard's state, with its hub's service terms.
    pub(crate) fn read(state: &domain::State, drop: &Drop) -> DropBody {
        let mut body = DropBody::from(drop);
        body.service = state.drop_hub_share(drop.id).and_then(|share| {
            let terms = share.terms.as_ref()?;
            let method = match share.kind? {
                domain::PartnerKind::Venue => "pickup",
                _ => "ship",
            };
            Some(ServiceBody { method, partner_id: share.partner_id.to_string(), terms: terms.into() })
        });
        body
    }
}

impl From<&Drop> for DropBody {
    fn from(drop: &Drop) -> DropBody {
        DropBody {
            id: drop.id.to_string(),
            room_id: drop.room_id.to_string(),
            product_id: drop.product_id.to_string(),
            title: drop.title.clone(),
            state: drop.status().as_str().to_owned(),
            quantity: drop.quantity,
            remaining: drop.remaining,
            held: drop.held,
            sold: drop.sold,
            released: drop.released,
            per_buyer_limit: drop.per_buyer_limit,
            hold_seconds: drop.hold_ms / 1_000,
            price_minor: drop.unit_price.minor,
            currency: drop.unit_price.currency.to_string(),
            opens_at: rfc3339(drop.opens_at),
            closes_at: drop.closes_at.map(rfc3339),
            split_contract_id: drop.split_contract_id.map(|id| id.to_string()),
            service: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClaimRequest {
    /// Units to hold; at most the drop's per-buyer limit.
    #[schema(minimum = 1, maximum = 1_000)]
    pub(crate) quantity: u32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ClaimBody {
    pub(crate) hold_id: String,
    pub(crate) cart_id: String,
    pub(crate) drop_id: String,
    pub(crate) quantity: u32,
    pub(crate) expires_at: String,
}

impl From<&ClaimReceipt> for ClaimBody {
    fn from(receipt: &ClaimReceipt) -> ClaimBody {
        ClaimBody {
            hold_id: receipt.hold_id.to_string(),
            cart_id: receipt.cart_id.to_string(),
            drop_id: receipt.drop_id.to_string(),
            quantity: receipt.quantity,
            expires_at: rfc3339(receipt.expires_at),
        }
    }
}
