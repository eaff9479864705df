//! The JSON shapes of templates (and their slots) and episodes.

use crate::error::ApiError;
use crate::wire::rfc3339;
use domain::{Episode, Slot, Template};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
