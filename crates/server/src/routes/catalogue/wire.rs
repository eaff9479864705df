//! The JSON shapes of products and rooms.

use crate::routes::drops::wire::DropBody;
use crate::routes::rooms::wire::{EpisodeBody, SlotBody};
use crate::wire::rfc3339;
use domain::{Fulfilment, Product, Room};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// A curator's co-branded limited edition; its drops must name a split contract that gives the
    /// curator a share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) edition: Option<EditionWire>,
}

/// A co-branded limited edition.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditionWire {
    /// "Summer '26, 1 of 50": 1 to 80 printable characters, shown in the room and on the receipt.
    #[schema(min_length = 1, max_length = 80)]
    pub(crate) label: String,
    /// The curator partner it is made with.
    pub(crate) curator_id: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) edition: Option<EditionWire>,
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
            edition: product.edition.as_ref().map(|edition| EditionWire {
                label: edition.label.clone(),
                curator_id: edition.curator_id.to_string(),
            }),
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
