//! The entities the state is made of. Counters live on the entity that owns them (a drop owns its
//! `remaining`, `held` and `sold`), so the conservation invariant can be checked locally.

use crate::{AccountId, CartId, DropId, HoldId, Money, OrderId, ProductId, RefundId, RoomId, Timestamp, TokenId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Buyer,
    Creator,
    /// Operator-configured: made by `ConfigureAdmin` at start, never through `CreateAccount`.
    Admin,
    /// A venue, logistics partner or curator that takes a share of sales under a split contract.
    Partner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fulfilment {
    Ship,
    Pickup,
    Digital,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub handle: String,
    pub role: Role,
    /// SHA-256 of the bearer token, hex; the token itself is never stored.
    pub token_sha256: String,
    pub created_at: Timestamp,
    /// A partner's kind; absent for every other role (and so in every account written before partners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_kind: Option<crate::PartnerKind>,
}

/// A bearer token of an account. The sign-up token is one too: its id is the account's entity id
/// and it comes from `AccountCreated`; others are issued by `TokenIssued`. A token is live until it
/// is revoked or its `expires_at` passes, whichever comes first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub id: TokenId,
    pub account_id: AccountId,
    /// SHA-256 of the bearer token, hex; the token itself is never stored.
    pub token_sha256: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl Token {
    /// Neither revoked nor expired at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub creator_id: AccountId,
    pub title: String,
    pub price: Money,
    pub stock: u64,
    /// Units promised to drops; `stock - allocated` is what a new drop may take.
    pub allocated: u64,
    pub fulfilment: Fulfilment,
    pub created_at: Timestamp,
    /// A curator's co-branded limited edition: every drop of it shares its sales with the curator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<Edition>,
}

/// A co-branded limited edition: its label ("Summer '26, 1 of 50") and the curator it is made with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Edition {
    pub label: String,
    pub curator_id: AccountId,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Room {
    pub id: RoomId,
    pub creator_id: AccountId,
    pub title: String,
    pub drop_ids: Vec<DropId>,
    pub created_at: Timestamp,
    /// The template version the room was built from, if any; its slots were copied at creation, so
    /// later versions of the template do not change the room. Absent in journals written before
    /// templates, like the two fields after it.
    #[serde(default)]
    pub template: Option<crate::TemplateRef>,
    #[serde(default)]
    pub slots: Vec<crate::Slot>,
    /// Every episode the room scheduled, oldest first.
    #[serde(default)]
    pub episode_ids: Vec<crate::EpisodeId>,
}

/// The stored lifecycle of a drop; `sold_out` is derived from the counters, see [`DropStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropPhase {
    Scheduled,
    Open,
    Closed,
}

/// What clients see: an open drop with nothing remaining is `sold_out`, and turns `open` again when an
/// expired hold returns units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropStatus {
    Scheduled,
    Open,
    SoldOut,
    Closed,
}

impl DropStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DropStatus::Scheduled => "scheduled",
            DropStatus::Open => "open",
            DropStatus::SoldOut => "sold_out",
            DropStatus::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Drop {
    pub id: DropId,
    pub room_id: RoomId,
    pub product_id: ProductId,
    pub creator_id: AccountId,
    pub title: String,
    /// The product's price when the drop was created; later price changes do not touch a live drop.
    pub unit_price: Money,
    pub quantity: u64,
    pub remaining: u64,
    pub held: u64,
    pub sold: u64,
    /// Units that left the drop for good: sold, refunded and not put back on sale (back to the
    /// product's unallocated stock), or written off as missing from the hub's shelf (gone from the
    /// product's stock too). So `remaining + held + sold + released == quantity`, and the
    /// product's `allocated` counts `quantity - released`. Absent in journals written before refunds.
    #[serde(default)]
    pub released: u64,
    pub per_buyer_limit: u32,
    pub hold_ms: u64,
    pub opens_at: Timestamp,
    pub closes_at: Option<Timestamp>,
    pub phase: DropPhase,
    pub created_at: Timestamp,
    /// The accepted split contract that shares this drop's sales with partners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split_contract_id: Option<crate::SplitContractId>,
}

impl Drop {
    pub fn status(&self) -> DropStatus {
        match self.phase {
            DropPhase::Scheduled => DropStatus::Scheduled,
            DropPhase::Closed => DropStatus::Closed,
            DropPhase::Open if self.remaining == 0 => DropStatus::SoldOut,
            DropPhase::Open => DropStatus::Open,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Active,
    Expired,
    Sold,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hold {
    pub id: HoldId,
    pub drop_id: DropId,
    pub cart_id: CartId,
    pub buyer_id: AccountId,
    pub quantity: u32,
    pub unit_price: Money,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub status: HoldStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "order_id")]
pub enum CartStatus {
    Open,
    CheckedOut(OrderId),
}

/// A buyer's session basket in one room. Claims in the room go into the buyer's open cart; checkout
/// buys its active holds and closes it, and the next claim opens a new one.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cart {
    pub id: CartId,
    pub room_id: RoomId,
    pub buyer_id: AccountId,
    pub hold_ids: Vec<HoldId>,
    pub status: CartStatus,
    pub declined_payments: u32,
    /// A `review` rule fired on a claim into this cart: its order waits for an admin's approval.
    #[serde(default)]
    pub flagged_for_review: bool,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderLine {
    pub hold_id: HoldId,
    pub drop_id: DropId,
    pub product_id: ProductId,
    pub title: String,
    pub quantity: u32,
    pub unit_price: Money,
    /// The edition's label, for a curator's limited edition, as the receipt shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub cart_id: CartId,
    pub room_id: RoomId,
    pub buyer_id: AccountId,
    pub creator_id: AccountId,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    pub payment_method: String,
    pub charge_id: String,
    pub paid_at: Timestamp,
    /// Set when a `review` fraud rule fired on the order's claims or checkout. Boxed: most orders
    /// have none, and every reply carrying an order would grow by it.
    #[serde(default)]
    pub review: Option<Box<OrderReview>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderReview {
    pub status: ReviewStatus,
    pub reason: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// Who signs off a refund above the approval threshold: the platform (any admin) and the order's
/// creator. Both are needed; either may reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundSide {
    Platform,
    Creator,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Above the threshold and waiting for a sign-off of both sides.
    PendingApproval,
    /// Cleared (at once under the threshold, or signed off by both sides); the provider refund and
    /// `RefundExecuted` follow. A refund found here after a restart is executed then.
    Approved,
    /// Refused by either side; its units are free to be refunded by another request.
    Rejected,
    /// Paid back through the provider, units restocked or released.
    Executed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::PendingApproval => "pending_approval",
            RefundStatus::Approved => "approved",
            RefundStatus::Rejected => "rejected",
            RefundStatus::Executed => "executed",
        }
    }
}

/// Units of one order line (one hold) a refund pays back, at the price the buyer paid.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefundLine {
    pub hold_id: HoldId,
    pub drop_id: DropId,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefundApproval {
    pub by: AccountId,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefundRejection {
    pub side: RefundSide,
    pub by: AccountId,
    pub reason: String,
    pub at: Timestamp,
}

/// A request to pay back some or all of an order. Lives in the order's partition; its amount is
/// computed from the order's unit prices, never taken from the client.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Refund {
    pub id: RefundId,
    pub order_id: OrderId,
    pub buyer_id: AccountId,
    pub creator_id: AccountId,
    /// The order's charge, which the provider pays the amount back from.
    pub charge_id: String,
    pub lines: Vec<RefundLine>,
    pub amount: Money,
    pub requested_by: AccountId,
    pub reason: String,
    /// Put the units back on sale in their drop if it is still open; otherwise (or when false) they
    /// are released to the product's unallocated stock.
    pub restock: bool,
    /// Whether the amount was above the threshold, so both sides must sign off.
    pub needs_approval: bool,
    pub status: RefundStatus,
    pub platform_approval: Option<RefundApproval>,
    pub creator_approval: Option<RefundApproval>,
    pub rejection: Option<RefundRejection>,
    pub requested_at: Timestamp,
    pub provider_refund_id: Option<String>,
    pub executed_at: Option<Timestamp>,
}

impl Refund {
    pub fn units(&self) -> u64 {
        self.lines.iter().map(|line| u64::from(line.quantity)).sum()
    }
}

/// What a successful claim answers; stored whole in idempotency records so a replay is byte-identical.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClaimReceipt {
    pub hold_id: HoldId,
    pub cart_id: CartId,
    pub drop_id: DropId,
    pub quantity: u32,
    pub expires_at: Timestamp,
}
