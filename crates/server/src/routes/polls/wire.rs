//! The JSON shapes of an episode's polls and votes.

use domain::PollTally;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
