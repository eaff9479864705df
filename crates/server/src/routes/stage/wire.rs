//! The JSON shapes of an episode's stage and of the actions on it.

use domain::{Episode, StageMember};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
