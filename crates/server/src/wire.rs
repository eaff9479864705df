//! The JSON shapes of the API and their conversion from domain types. Only this crate (and the
//! journal) knows a serialization format; the domain stays format-free.

use crate::error::ApiError;
use domain::{
    Account, Cart, CartStatus, ClaimReceipt, Drop, Fulfilment, Hold, HoldStatus, Order, Product, Refund,
    RefundApproval, RefundSide, ReviewStatus, Role, Room, Timestamp,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

pub(crate) fn rfc3339(at: Timestamp) -> String {
    let nanos = i128::from(at.0) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

pub(crate) fn parse_rfc3339(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    let moment = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time such as 2026-11-25T18:00:00Z"))?;
    let millis = moment.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).map(Timestamp).map_err(|_| ApiError::invalid(field, "out of range"))
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SignupRole {
    Buyer,
    Creator,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountRequest {
    /// 3 to 32 characters of a-z, 0-9 and _.
    #[schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9_]{3,32}$")]
    pub(crate) handle: String,
    pub(crate) role: SignupRole,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AccountBody {
    pub(crate) id: String,
    pub(crate) handle: String,
    pub(crate) role: String,
    /// The bearer token; shown once, stored only as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    pub(crate) created_at: String,
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Buyer => "buyer",
        Role::Creator => "creator",
        Role::Admin => "admin",
    }
}

impl AccountBody {
    pub(crate) fn of(account: &Account, token: Option<String>) -> AccountBody {
        AccountBody {
            id: account.id.to_string(),
            handle: account.handle.clone(),
            role: role_name(account.role).to_owned(),
            token,
            created_at: rfc3339(account.created_at),
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FulfilmentWire {
    Ship,
    Pickup,
    Digital,
}

impl From<FulfilmentWire> for Fulfilment {
    fn from(wire: FulfilmentWire) -> Fulfilment {
        match wire {
            FulfilmentWire::Ship => Fulfilment::Ship,
            FulfilmentWire::Pickup => Fulfilment::Pickup,
            FulfilmentWire::Digital => Fulfilment::Digital,
        }
    }
}

fn fulfilment_name(fulfilment: Fulfilment) -> &'static str {
    match fulfilment {
        Fulfilment::Ship => "ship",
        Fulfilment::Pickup => "pickup",
        Fulfilment::Digital => "digital",
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProductRequest {
    /// Printable characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) title: String,
    /// Price in minor units of `currency` (cents for USD).
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub(crate) price_minor: i64,
    /// An active ISO 4217 code, for example `EUR`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub(crate) currency: String,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub(crate) stock: u64,
    pub(crate) fulfilment: FulfilmentWire,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProductBody {
    pub(crate) id: String,
    pub(crate) creator_id: String,
    pub(crate) title: String,
    pub(crate) price_minor: i64,
    pub(crate) currency: String,
    pub(crate) stock: u64,
    /// Units promised to drops.
    pub(crate) allocated: u64,
    pub(crate) fulfilment: String,
    pub(crate) created_at: String,
}

impl From<&Product> for ProductBody {
    fn from(product: &Product) -> ProductBody {
        ProductBody {
            id: product.id.to_string(),
            creator_id: product.creator_id.to_string(),
            title: product.title.clone(),
            price_minor: product.price.minor,
            currency: product.price.currency.to_string(),
            stock: product.stock,
            allocated: product.allocated,
            fulfilment: fulfilment_name(product.fulfilment).to_owned(),
            created_at: rfc3339(product.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRoomRequest {
    /// Printable characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) title: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RoomBody {
    pub(crate) id: String,
    pub(crate) creator_id: String,
    pub(crate) title: String,
    pub(crate) created_at: String,
    pub(crate) drops: Vec<DropBody>,
}

impl RoomBody {
    pub(crate) fn of(room: &Room, drops: Vec<DropBody>) -> RoomBody {
        RoomBody {
            id: room.id.to_string(),
            creator_id: room.creator_id.to_string(),
            title: room.title.clone(),
            created_at: rfc3339(room.created_at),
            drops,
        }
    }
}

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
    pub(crate) receipt: Option<transparency::Receipt>,
    /// Present only when a `review` fraud rule fired on the order's claims or checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) review: Option<ReviewBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ReviewBody {
    /// `pending` until an admin decides, then `approved` or `rejected`.
    pub(crate) status: String,
    pub(crate) reason: Option<String>,
    pub(crate) decided_at: Option<String>,
}

impl OrderBody {
    pub(crate) fn of(order: &Order, receipt: Option<transparency::Receipt>) -> OrderBody {
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

#[derive(Serialize, ToSchema)]
pub(crate) struct KeyBody {
    pub(crate) key_id: String,
    /// Always `ed25519`.
    pub(crate) algorithm: String,
    /// The 32-byte public key, standard base64.
    pub(crate) public_key: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct KeysBody {
    pub(crate) keys: Vec<KeyBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CheckpointsBody {
    pub(crate) checkpoints: Vec<transparency::SignedCheckpoint>,
    /// Where the next page starts, if there may be one.
    pub(crate) next_start: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LogEntryBody {
    pub(crate) index: u64,
    /// The leaf's exact bytes (a journaled event, JSON); its leaf hash is `SHA-256(0x00 ‖ leaf)`.
    pub(crate) leaf: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LogBody {
    /// Leaves in the log now.
    pub(crate) tree_size: u64,
    pub(crate) entries: Vec<LogEntryBody>,
    pub(crate) next_start: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct InclusionBody {
    pub(crate) leaf_index: u64,
    pub(crate) tree_size: u64,
    /// The head of the tree of `tree_size` leaves, lowercase hex.
    pub(crate) root_hash: String,
    /// Sibling hashes from the leaf up (RFC 6962 §2.1.1), lowercase hex.
    pub(crate) inclusion_proof: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ConsistencyBody {
    pub(crate) first: u64,
    pub(crate) second: u64,
    pub(crate) first_root_hash: String,
    pub(crate) second_root_hash: String,
    /// RFC 6962 §2.1.2, lowercase hex.
    pub(crate) consistency_proof: Vec<String>,
}

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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskRulesRequest {
    /// The whole rule set, one rule per line, replacing the current one; empty allows everything.
    #[schema(max_length = 16_384)]
    pub(crate) rules: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRuleBody {
    /// Position in the set, from 0: the `rule_index` journaled with each decision.
    pub(crate) index: usize,
    /// Line in the text, from 1.
    pub(crate) line: usize,
    pub(crate) name: Option<String>,
    /// `allow`, `block` or `review`.
    pub(crate) action: String,
    /// The condition in canonical form.
    pub(crate) condition: String,
    pub(crate) signals: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesBody {
    /// As saved.
    pub(crate) rules: String,
    /// How many times rules were saved; 0 while the default (empty) set is in force.
    pub(crate) version: u64,
    pub(crate) parsed: Vec<RiskRuleBody>,
    /// Rules are evaluated in this fixed order of actions, whatever their order in the text.
    pub(crate) evaluation_order: Vec<String>,
    /// The signals a rule may read.
    pub(crate) signals: Vec<SignalBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SignalBody {
    pub(crate) name: String,
    pub(crate) description: String,
}

impl RiskRulesBody {
    pub(crate) fn of(text: &str, version: u64, rules: &risk::RuleSet) -> RiskRulesBody {
        let parsed = rules
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| RiskRuleBody {
                index,
                line: rule.line,
                name: rule.name.clone(),
                action: rule.action.as_str().to_owned(),
                condition: rule.condition.to_string(),
                signals: rule.signals.iter().map(|signal| signal.name().to_owned()).collect(),
            })
            .collect();
        RiskRulesBody {
            rules: text.to_owned(),
            version,
            parsed,
            evaluation_order: ["allow", "block", "review"].map(str::to_owned).to_vec(),
            signals: risk::Signal::ALL
                .iter()
                .map(|signal| SignalBody {
                    name: signal.name().to_owned(),
                    description: signal.description().to_owned(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RuleErrorBody {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesErrorDetail {
    /// `invalid_risk_rules`.
    pub(crate) code: String,
    /// The first error, as `line L, column C: message`.
    pub(crate) message: String,
    /// Every error, one per faulty line.
    pub(crate) errors: Vec<RuleErrorBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesErrorBody {
    pub(crate) error: RiskRulesErrorDetail,
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
