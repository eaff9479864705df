//! The messages of the live feed (`GET /v1/rooms/{id}/live`): one JSON object per WebSocket text
//! message, told apart by `type`.

use crate::routes::catalogue::wire::RoomBody;
use crate::routes::polls::wire::PollBody;
use crate::routes::questions::wire::QuestionBody;
use crate::routes::rituals::wire::RitualsBody;
use crate::routes::rooms::wire::EpisodeBody;
use crate::routes::stage::wire::StageBody;
use serde::Serialize;
use utoipa::ToSchema;

/// One message of the live feed. Each carries a whole current state, never a delta, and `seq`, the
/// journal position it reflects: it never decreases, and everything changed in one shard batch
/// shares it.
#[derive(Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum LiveMessage {
    /// The first message, and again after the subscriber fell behind: the room with its drops and
    /// episodes, and its live episode, if any, in full.
    Snapshot {
        seq: u64,
        /// The server's clock, for countdowns such as a demo's `ends_at`.
        server_time: String,
        /// `null` if the room is gone. Boxed, as is the live episode, so that the other, small
        /// messages do not take a snapshot's size.
        room: Option<Box<RoomBody>>,
        live_episode: Option<Box<LiveEpisodeBody>>,
    },
    /// A drop's counters; `remaining + held + sold + released == quantity`.
    Drop {
        seq: u64,
        drop_id: String,
        /// `scheduled`, `open`, `sold_out` or `closed`.
        state: String,
        quantity: u64,
        remaining: u64,
        held: u64,
        sold: u64,
        released: u64,
    },
    /// An episode of the room went live or ended.
    Episode {
        seq: u64,
        episode_id: String,
        /// `scheduled`, `live` or `ended`.
        state: String,
    },
    /// The episode's whole stage, as `GET /v1/episodes/{id}/stage` answers it.
    Stage {
        seq: u64,
        #[serde(flatten)]
        stage: StageBody,
    },
    /// One poll with its tallies, question, options and whether it is open, so a poll started live
    /// can be shown from its first message.
    Poll {
        seq: u64,
        #[serde(flatten)]
        poll: PollBody,
    },
    /// The whole Q&A queue, in the order `GET /v1/episodes/{id}/questions` answers it.
    Questions { seq: u64, episode_id: String, questions: Vec<QuestionBody> },
    /// The pinned drop and the demo window, as `GET /v1/episodes/{id}/rituals` answers them.
    Rituals {
        seq: u64,
        #[serde(flatten)]
        rituals: RitualsBody,
    },
}

/// The room's live episode in a snapshot, read in the same shard turn as the room.
#[derive(Serialize, ToSchema)]
pub(crate) struct LiveEpisodeBody {
    pub(crate) episode: EpisodeBody,
    pub(crate) stage: StageBody,
    /// Every poll of the episode, as `GET /v1/episodes/{id}/polls` lists them.
    pub(crate) polls: Vec<PollBody>,
    pub(crate) questions: Vec<QuestionBody>,
    pub(crate) rituals: RitualsBody,
}
