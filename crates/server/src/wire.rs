//! The JSON shapes of the API and their conversion from domain types. Only this crate (and the
//! journal) knows a serialization format; the domain stays format-free.

use crate::error::ApiError;
use domain::{
    Account, Cart, CartStatus, ClaimReceipt, Drop, Episode, EpisodeId, Fulfilment, Hold, HoldStatus, Order, PollTally,
    Product, Question, Refund, RefundApproval, RefundSide, ReviewStatus, Rituals, Role, Room, Slot, StageMember,
    Template, Timestamp,
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
    /// One of your templates (a version's id): the room records it and gets a copy of its slots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) template_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RoomBody {
    pub(crate) id: String,
    pub(crate) creator_id: String,
    pub(crate) title: String,
    pub(crate) created_at: String,
    pub(crate) drops: Vec<DropBody>,
    /// The template version the room was built from.
    pub(crate) template: Option<TemplateRefBody>,
    /// The room's slots, copied from its template when it was created.
    pub(crate) slots: Vec<SlotBody>,
    /// Every episode of the room, oldest first.
    pub(crate) episodes: Vec<EpisodeBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TemplateRefBody {
    pub(crate) id: String,
    pub(crate) version: u32,
}

impl RoomBody {
    pub(crate) fn of(room: &Room, drops: Vec<DropBody>, episodes: Vec<EpisodeBody>) -> RoomBody {
        RoomBody {
            id: room.id.to_string(),
            creator_id: room.creator_id.to_string(),
            title: room.title.clone(),
            created_at: rfc3339(room.created_at),
            drops,
            template: room
                .template
                .map(|template| TemplateRefBody { id: template.id.to_string(), version: template.version }),
            slots: room.slots.iter().map(SlotBody::from).collect(),
            episodes,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SlotKind {
    Buy,
    Demo,
    Poll,
    Qa,
    Drop,
}

/// One slot of a template (and of a room). Which fields it takes depends on `kind`: `buy` and
/// `drop` a `product_id`; `demo` a `product_id` and `seconds` (60 or 90); `poll` a `question` and
/// 2 to 6 distinct `options`; `qa` nothing more. Any other field is refused.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlotBody {
    pub(crate) kind: SlotKind,
    /// One of your products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) product_id: Option<String>,
    /// The demo's countdown: 60 or 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 60, maximum = 90)]
    pub(crate) seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) question: Option<String>,
    /// Each 1 to 100 printable characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 2, max_items = 6)]
    pub(crate) options: Option<Vec<String>>,
}

impl From<&Slot> for SlotBody {
    fn from(slot: &Slot) -> SlotBody {
        let mut body = SlotBody { kind: SlotKind::Qa, product_id: None, seconds: None, question: None, options: None };
        match slot {
            Slot::Buy { product_id } => (body.kind, body.product_id) = (SlotKind::Buy, Some(product_id.to_string())),
            Slot::Drop { product_id } => (body.kind, body.product_id) = (SlotKind::Drop, Some(product_id.to_string())),
            Slot::Demo { product_id, seconds } => {
                (body.kind, body.product_id, body.seconds) =
                    (SlotKind::Demo, Some(product_id.to_string()), Some(*seconds))
            }
            Slot::Poll { question, options } => {
                (body.kind, body.question, body.options) =
                    (SlotKind::Poll, Some(question.clone()), Some(options.clone()))
            }
            Slot::Qa => {}
        }
        body
    }
}

impl SlotBody {
    /// The domain slot, or a 400 naming the field that does not belong to the kind or is missing.
    /// Values (durations, option counts, whose product) are the domain's to check.
    pub(crate) fn to_slot(&self, slot_idx: usize) -> Result<Slot, ApiError> {
        let field = |name: &str| format!("slots[{slot_idx}].{name}");
        let present = [
            ("product_id", self.product_id.is_some()),
            ("seconds", self.seconds.is_some()),
            ("question", self.question.is_some()),
            ("options", self.options.is_some()),
        ];
        let takes: &[&str] = match self.kind {
            SlotKind::Buy | SlotKind::Drop => &["product_id"],
            SlotKind::Demo => &["product_id", "seconds"],
            SlotKind::Poll => &["question", "options"],
            SlotKind::Qa => &[],
        };
        for (name, is_present) in present {
            if is_present != takes.contains(&name) {
                let problem =
                    if is_present { "not taken by this kind of slot" } else { "required by this kind of slot" };
                return Err(ApiError::invalid(&field(name), problem));
            }
        }
        let product_id = || -> Result<domain::ProductId, ApiError> {
            let text = self.product_id.as_deref().unwrap_or_default();
            text.parse().map_err(|_| ApiError::invalid(&field("product_id"), "malformed id"))
        };
        Ok(match self.kind {
            SlotKind::Buy => Slot::Buy { product_id: product_id()? },
            SlotKind::Drop => Slot::Drop { product_id: product_id()? },
            SlotKind::Demo => Slot::Demo { product_id: product_id()?, seconds: self.seconds.unwrap_or_default() },
            SlotKind::Poll => Slot::Poll {
                question: self.question.clone().unwrap_or_default(),
                options: self.options.clone().unwrap_or_default(),
            },
            SlotKind::Qa => Slot::Qa,
        })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateTemplateRequest {
    /// Saving a name you saved before makes its next version.
    #[schema(min_length = 1, max_length = 100, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) name: String,
    #[schema(min_items = 1, max_items = 12)]
    pub(crate) slots: Vec<SlotBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TemplateBody {
    pub(crate) id: String,
    pub(crate) creator_id: String,
    pub(crate) name: String,
    /// 1 for a name's first save; versions never change once saved.
    pub(crate) version: u32,
    /// The newest version of this name.
    pub(crate) latest_version: u32,
    pub(crate) slots: Vec<SlotBody>,
    pub(crate) created_at: String,
}

impl TemplateBody {
    pub(crate) fn of(template: &Template, latest_version: u32) -> TemplateBody {
        TemplateBody {
            id: template.id.to_string(),
            creator_id: template.creator_id.to_string(),
            name: template.name.clone(),
            version: template.version,
            latest_version,
            slots: template.slots.iter().map(SlotBody::from).collect(),
            created_at: rfc3339(template.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEpisodeRequest {
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) title: String,
    /// RFC 3339, within a year of now.
    #[schema(format = DateTime)]
    pub(crate) starts_at: String,
    /// RFC 3339, after `starts_at` and at most a day later.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub(crate) ends_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EpisodeBody {
    pub(crate) id: String,
    pub(crate) room_id: String,
    /// The room's creator.
    pub(crate) host_id: String,
    pub(crate) title: String,
    /// `scheduled`, `live` or `ended`.
    pub(crate) status: String,
    pub(crate) starts_at: String,
    pub(crate) ends_at: Option<String>,
    pub(crate) started_at: Option<String>,
    pub(crate) ended_at: Option<String>,
    /// Members of the stage right now (see `/v1/episodes/{id}/stage`).
    pub(crate) members: usize,
    pub(crate) created_at: String,
}

impl From<&Episode> for EpisodeBody {
    fn from(episode: &Episode) -> EpisodeBody {
        EpisodeBody {
            id: episode.id.to_string(),
            room_id: episode.room_id.to_string(),
            host_id: episode.host_id.to_string(),
            title: episode.title.clone(),
            status: episode.status.as_str().to_owned(),
            starts_at: rfc3339(episode.starts_at),
            ends_at: episode.ends_at.map(rfc3339),
            started_at: episode.started_at.map(rfc3339),
            ended_at: episode.ended_at.map(rfc3339),
            members: episode.stage.members.len(),
            created_at: rfc3339(episode.created_at),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageTargetRequest {
    /// The member the action is about.
    pub(crate) account_id: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct StageMemberBody {
    pub(crate) account_id: String,
    /// `host`, `moderator`, `speaker` or `listener`.
    pub(crate) role: String,
    pub(crate) hand_raised: bool,
    pub(crate) muted: bool,
    /// Whether the member's audio may be published now: on stage (host, moderator, speaker) and not muted.
    pub(crate) may_publish: bool,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct StageBody {
    pub(crate) episode_id: String,
    /// `scheduled`, `live` or `ended`.
    pub(crate) status: String,
    /// In account id order.
    pub(crate) members: Vec<StageMemberBody>,
    pub(crate) raised_hands: Vec<String>,
    pub(crate) muted: Vec<String>,
    /// Removed from the episode; they may not join it again.
    pub(crate) banned: Vec<String>,
}

impl From<&Episode> for StageBody {
    fn from(episode: &Episode) -> StageBody {
        let members = &episode.stage.members;
        let ids_where = |keep: fn(&StageMember) -> bool| {
            members.iter().filter(|(_, member)| keep(member)).map(|(id, _)| id.to_string()).collect()
        };
        StageBody {
            episode_id: episode.id.to_string(),
            status: episode.status.as_str().to_owned(),
            members: members
                .iter()
                .map(|(id, member)| StageMemberBody {
                    account_id: id.to_string(),
                    role: member.role.as_str().to_owned(),
                    hand_raised: member.hand_raised,
                    muted: member.muted,
                    may_publish: domain::may_publish(episode, *id),
                })
                .collect(),
            raised_hands: ids_where(|member| member.hand_raised),
            muted: ids_where(|member| member.muted),
            banned: episode.stage.banned.iter().map(ToString::to_string).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PinRequest {
    /// A drop of the episode's room.
    pub(crate) drop_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DemoRequest {
    /// One of the room creator's products.
    pub(crate) product_id: String,
    /// The demo's countdown: 60 or 90.
    #[schema(minimum = 60, maximum = 90)]
    pub(crate) seconds: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartPollRequest {
    /// Printable characters, not only spaces.
    #[schema(min_length = 1, max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) question: String,
    /// Distinct, each 1 to 100 printable characters.
    #[schema(min_items = 2, max_items = 6)]
    pub(crate) options: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PinBody {
    pub(crate) drop_id: String,
    pub(crate) pinned_at: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DemoBody {
    pub(crate) product_id: String,
    /// The length asked for: 60 or 90.
    pub(crate) seconds: u32,
    pub(crate) started_at: String,
    /// `started_at` + `seconds`, or when it was stopped; the demo runs while the server's time is
    /// before it (the live feed's snapshot carries `server_time`).
    pub(crate) ends_at: String,
}

/// The host's rituals of an episode: the pinned buy slot and the last demo window. An ended
/// episode keeps its last rituals, read-only.
#[derive(Serialize, ToSchema)]
pub(crate) struct RitualsBody {
    pub(crate) episode_id: String,
    pub(crate) pinned: Option<PinBody>,
    pub(crate) demo: Option<DemoBody>,
}

impl RitualsBody {
    pub(crate) fn of(episode_id: EpisodeId, rituals: &Rituals) -> RitualsBody {
        RitualsBody {
            episode_id: episode_id.to_string(),
            pinned: rituals
                .pinned
                .map(|pin| PinBody { drop_id: pin.drop_id.to_string(), pinned_at: rfc3339(pin.pinned_at) }),
            demo: rituals.demo.map(|demo| DemoBody {
                product_id: demo.product_id.to_string(),
                seconds: demo.seconds,
                started_at: rfc3339(demo.started_at),
                ends_at: rfc3339(demo.ends_at),
            }),
        }
    }
}

impl From<&Episode> for RitualsBody {
    fn from(episode: &Episode) -> RitualsBody {
        RitualsBody::of(episode.id, &episode.rituals)
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VoteRequest {
    /// The option's index, from 0.
    #[schema(minimum = 0, maximum = 5)]
    pub(crate) option: u32,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PollBody {
    pub(crate) episode_id: String,
    /// The poll's index among the room's slots (below 1000), or 1000 + n for the n-th poll (from 0)
    /// started live in the episode.
    pub(crate) slot: u32,
    pub(crate) question: String,
    pub(crate) options: Vec<String>,
    /// Votes per option, in the options' order; one vote per account.
    pub(crate) tallies: Vec<u64>,
    /// False once the host or a moderator closed it: no more votes.
    pub(crate) open: bool,
}

impl From<&PollTally> for PollBody {
    fn from(tally: &PollTally) -> PollBody {
        PollBody {
            episode_id: tally.episode_id.to_string(),
            slot: tally.slot,
            question: tally.question.clone(),
            options: tally.options.clone(),
            tallies: tally.tallies.clone(),
            open: tally.open,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PollsBody {
    pub(crate) polls: Vec<PollBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AskRequest {
    #[schema(min_length = 1, max_length = 280, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub(crate) text: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionBody {
    /// Counts from 1 in the episode.
    pub(crate) number: u32,
    pub(crate) asked_by: String,
    pub(crate) text: String,
    pub(crate) upvotes: usize,
    /// `open`, `answered` or `dismissed`.
    pub(crate) status: String,
    pub(crate) asked_at: String,
}

impl From<&Question> for QuestionBody {
    fn from(question: &Question) -> QuestionBody {
        QuestionBody {
            number: question.number,
            asked_by: question.asked_by.to_string(),
            text: question.text.clone(),
            upvotes: question.upvoters.len(),
            status: question.status.as_str().to_owned(),
            asked_at: rfc3339(question.asked_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct QuestionsBody {
    /// Open questions first, most upvoted first (then in the order asked), then the answered and
    /// dismissed ones in the order asked.
    pub(crate) questions: Vec<QuestionBody>,
}
