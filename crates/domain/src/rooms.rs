//! Live audio rooms: templates (named, versioned sets of slots), episodes (scheduled live sessions of
//! a room) and the stage of a live episode (who is host, moderator, speaker or listener). All of it
//! lives in the creator's partition, beside the creator's rooms and drops.

use crate::{AccountId, DropId, EpisodeId, ProductId, RoomId, TemplateId, Timestamp};
use std::collections::{BTreeMap, BTreeSet};

/// One building block of a room. Only its configuration for now; live slot state (tallies, queues)
/// belongs to an episode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Slot {
    /// A pinned product with a buy button.
    Buy { product_id: ProductId },
    /// A countdown of 60 or 90 seconds while the host demonstrates a product.
    Demo { product_id: ProductId, seconds: u32 },
    /// A question with options, one vote per listener.
    Poll { question: String, options: Vec<String> },
    /// A question-and-answer queue.
    Qa,
    /// A drop of a product: countdown to open, then live stock.
    Drop { product_id: ProductId },
}

impl Slot {
    pub fn product_id(&self) -> Option<ProductId> {
        match self {
            Slot::Buy { product_id } | Slot::Demo { product_id, .. } | Slot::Drop { product_id } => Some(*product_id),
            Slot::Poll { .. } | Slot::Qa => None,
        }
    }
}

/// One immutable version of a template. Saving the same name again makes a new template (a new id)
/// with the next version; earlier versions, and the rooms built from them, never change.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    pub id: TemplateId,
    pub creator_id: AccountId,
    pub name: String,
    /// 1 for a name's first save.
    pub version: u32,
    pub slots: Vec<Slot>,
    pub created_at: Timestamp,
}

/// The template version a room was built from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateRef {
    pub id: TemplateId,
    pub version: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpisodeStatus {
    Scheduled,
    Live,
    Ended,
}

impl EpisodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeStatus::Scheduled => "scheduled",
            EpisodeStatus::Live => "live",
            EpisodeStatus::Ended => "ended",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRole {
    /// The room's creator; exactly one while the episode is live.
    Host,
    /// Appointed by the host: on stage, and may invite, move, mute and remove speakers and listeners.
    Moderator,
    Speaker,
    Listener,
}

impl StageRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StageRole::Host => "host",
            StageRole::Moderator => "moderator",
            StageRole::Speaker => "speaker",
            StageRole::Listener => "listener",
        }
    }

    /// On the stage: the roles whose audio may be published (unless muted).
    pub fn on_stage(self) -> bool {
        self != StageRole::Listener
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StageMember {
    pub role: StageRole,
    pub hand_raised: bool,
    pub muted: bool,
}

/// Who is in a live episode and in which role. Ordered maps: the stage is answered whole, in account
/// order, the same on every replica of the state.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    pub members: BTreeMap<AccountId, StageMember>,
    /// Removed from the episode; they may not join it again.
    pub banned: BTreeSet<AccountId>,
}

/// A change of the stage, decided by the domain and journaled as `StageChanged`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "account_id")]
pub enum StageAction {
    /// The caller joins as a listener.
    Join,
    /// The caller (a listener) asks to speak.
    RaiseHand,
    /// Host or moderator: a listener becomes a speaker.
    Invite(AccountId),
    /// Host or moderator (or the member themselves): back to the listeners.
    MoveToAudience(AccountId),
    Mute(AccountId),
    Unmute(AccountId),
    /// Host or moderator: out of the episode, and banned from joining it again.
    Remove(AccountId),
    /// Host only: a member becomes a moderator.
    AppointModerator(AccountId),
}

/// A poll's votes in one episode: one per account, never changed once cast.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PollTally {
    pub episode_id: EpisodeId,
    /// The poll's index among the room's slots, or `LIVE_POLL_SLOT_FIRST + n` for the episode's
    /// n-th live poll (from 0).
    pub slot: u32,
    pub question: String,
    pub options: Vec<String>,
    /// Votes per option, in the options' order.
    pub tallies: Vec<u64>,
    /// False once the host or a moderator closed it: it takes no more votes.
    pub open: bool,
}

/// A poll the host or a moderator started during an episode, beside the room's template polls.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LivePoll {
    pub question: String,
    pub options: Vec<String>,
    pub started_by: AccountId,
    pub started_at: Timestamp,
}

/// The drop pinned as the episode's buy slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pin {
    pub drop_id: DropId,
    pub pinned_at: Timestamp,
}

/// A product's demo window: a countdown from `started_at` to `ends_at`. It stays as the episode's
/// last demo once over; whether it runs is a question about a given `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Demo {
    pub product_id: ProductId,
    /// One of `DEMO_SECONDS_ALLOWED`, as asked (stopping early moves `ends_at`, not this).
    pub seconds: u32,
    pub started_at: Timestamp,
    pub ends_at: Timestamp,
}

impl Demo {
    pub fn running(&self, now: Timestamp) -> bool {
        now < self.ends_at
    }
}

/// What the host runs during a live episode besides the stage: the pinned buy slot and the demo
/// window. Changed only while the episode is live; an ended episode keeps its last rituals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rituals {
    pub pinned: Option<Pin>,
    pub demo: Option<Demo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Open,
    Answered,
    Dismissed,
}

impl QuestionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionStatus::Open => "open",
            QuestionStatus::Answered => "answered",
            QuestionStatus::Dismissed => "dismissed",
        }
    }
}

/// A question in an episode's Q&A queue; `number` counts from 1 in the episode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Question {
    pub number: u32,
    pub asked_by: AccountId,
    pub text: String,
    /// Each account upvotes a question once.
    pub upvoters: BTreeSet<AccountId>,
    pub status: QuestionStatus,
    pub asked_at: Timestamp,
}

/// A scheduled live session of a room.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Episode {
    pub id: EpisodeId,
    pub room_id: RoomId,
    /// The room's creator, who hosts every episode of it.
    pub host_id: AccountId,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub status: EpisodeStatus,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub stage: Stage,
    /// Defaults when absent: episodes journaled before rituals existed had none.
    #[serde(default)]
    pub rituals: Rituals,
    pub created_at: Timestamp,
}

/// Whether `account` may publish audio in `episode` right now: the episode is live and the account
/// is on its stage (host, moderator or speaker), not muted and not banned. The SFU asks this before
/// it forwards a track; nothing else decides it.
pub fn may_publish(episode: &Episode, account: AccountId) -> bool {
    if episode.status != EpisodeStatus::Live || episode.stage.banned.contains(&account) {
        return false;
    }
    episode.stage.members.get(&account).is_some_and(|member| member.role.on_stage() && !member.muted)
}
