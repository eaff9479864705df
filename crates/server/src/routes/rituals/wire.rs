//! The JSON shapes of the host's rituals: the pinned drop and the demo window.

use crate::wire::rfc3339;
use domain::{Episode, EpisodeId, Rituals};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
