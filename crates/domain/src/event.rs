//! Facts. Every change of state is one of these, journaled before it is acknowledged.

use crate::{
    Account, AccountId, CartId, Drop, DropId, Hold, HoldId, Order, OrderId, Outcome, Partition, Product, Room, RoomId,
    Timestamp,
};
use risk::Verdict;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    AccountCreated {
        account: Account,
    },
    ProductCreated {
        product: Product,
    },
    RoomCreated {
        room: Room,
    },
    DropCreated {
        drop: Drop,
    },
    DropOpened {
        drop_id: DropId,
        at: Timestamp,
    },
    DropClosed {
        drop_id: DropId,
        at: Timestamp,
        by_creator: bool,
    },
    CartOpened {
        cart_id: CartId,
        room_id: RoomId,
        buyer_id: AccountId,
        at: Timestamp,
    },
    HoldPlaced {
        hold: Hold,
    },
    HoldExpired {
        hold_id: HoldId,
        drop_id: DropId,
        quantity: u32,
        at: Timestamp,
    },
    PaymentDeclined {
        cart_id: CartId,
        method: String,
        decline_code: String,
        at: Timestamp,
    },
    OrderPlaced {
        order: Order,
    },
    /// One per drop of an order, so that a drop's own stream accounts for every unit it ever had.
    HoldsSold {
        drop_id: DropId,
        order_id: OrderId,
        hold_ids: Vec<HoldId>,
        quantity: u64,
    },
    /// A fraud rule fired on a claim (`drop_id`) or a checkout; a `review` flags the cart, so its order
    /// waits for approval; a `block` is the whole effect of the request.
    RiskDecided {
        partition: Partition,
        buyer_id: AccountId,
        drop_id: Option<DropId>,
        /// The cart the claim went into or the checkout was for; `None` for a blocked claim.
        cart_id: Option<CartId>,
        verdict: Verdict,
        at: Timestamp,
    },
    /// The platform's fraud rules, replaced whole; `version` counts saves from 1.
    RiskRulesSaved {
        text: String,
        version: u64,
        at: Timestamp,
    },
    OrderReviewed {
        order_id: OrderId,
        approved: bool,
        reason: Option<String>,
        at: Timestamp,
    },
    IdempotencyRecorded {
        partition: Partition,
        owner: AccountId,
        key: String,
        fingerprint: String,
        outcome: Outcome,
        at: Timestamp,
    },
}

impl Event {
    /// The partition whose shard owns this fact.
    pub fn partition(&self) -> Partition {
        match self {
            Event::AccountCreated { account } => account.id.partition(),
            Event::ProductCreated { product } => product.id.partition(),
            Event::RoomCreated { room } => room.id.partition(),
            Event::DropCreated { drop } => drop.id.partition(),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. } => drop_id.partition(),
            Event::CartOpened { cart_id, .. } | Event::PaymentDeclined { cart_id, .. } => cart_id.partition(),
            Event::HoldPlaced { hold } => hold.id.partition(),
            Event::OrderPlaced { order } => order.id.partition(),
            Event::IdempotencyRecorded { partition, .. } | Event::RiskDecided { partition, .. } => *partition,
            Event::RiskRulesSaved { .. } => crate::command::RISK_RULES_PARTITION,
            Event::OrderReviewed { order_id, .. } => order_id.partition(),
        }
    }

    /// The hash-chained stream this fact belongs to: one per entity, so a drop's stream alone accounts
    /// for all of its units and can be audited on its own.
    pub fn stream(&self) -> String {
        match self {
            Event::AccountCreated { account } => format!("account/{}", account.id),
            Event::ProductCreated { product } => format!("product/{}", product.id),
            Event::RoomCreated { room } => format!("room/{}", room.id),
            Event::DropCreated { drop } => format!("drop/{}", drop.id),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. } => format!("drop/{drop_id}"),
            Event::HoldPlaced { hold } => format!("drop/{}", hold.drop_id),
            Event::CartOpened { cart_id, .. } | Event::PaymentDeclined { cart_id, .. } => {
                format!("cart/{cart_id}")
            }
            Event::OrderPlaced { order } => format!("order/{}", order.id),
            Event::IdempotencyRecorded { partition, owner, .. } => format!("idempotency/{owner}/{partition:02x}"),
            Event::RiskDecided { partition, .. } => format!("risk/{partition:02x}"),
            Event::RiskRulesSaved { .. } => "risk-rules".to_owned(),
            Event::OrderReviewed { order_id, .. } => format!("order/{order_id}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Event::AccountCreated { .. } => "account_created",
            Event::ProductCreated { .. } => "product_created",
            Event::RoomCreated { .. } => "room_created",
            Event::DropCreated { .. } => "drop_created",
            Event::DropOpened { .. } => "drop_opened",
            Event::DropClosed { .. } => "drop_closed",
            Event::CartOpened { .. } => "cart_opened",
            Event::HoldPlaced { .. } => "hold_placed",
            Event::HoldExpired { .. } => "hold_expired",
            Event::PaymentDeclined { .. } => "payment_declined",
            Event::OrderPlaced { .. } => "order_placed",
            Event::HoldsSold { .. } => "holds_sold",
            Event::IdempotencyRecorded { .. } => "idempotency_recorded",
            Event::RiskDecided { .. } => "risk_decided",
            Event::RiskRulesSaved { .. } => "risk_rules_saved",
            Event::OrderReviewed { .. } => "order_reviewed",
        }
    }

    /// The drop whose counters this fact changes, for live updates.
    pub fn drop_id(&self) -> Option<DropId> {
        match self {
            Event::DropCreated { drop } => Some(drop.id),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. } => Some(*drop_id),
            Event::HoldPlaced { hold } => Some(hold.drop_id),
            _ => None,
        }
    }
}
