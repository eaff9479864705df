//! Which shard executes a command: ids carry the partition of the creator (or handle) they belong
//! to, and a command goes to the partition of the entity it acts on.

use crate::{Command, Partition};

impl Command {
    /// The partition whose shard executes this command, and so keeps its idempotency record.
    pub fn partition(&self) -> Partition {
        match self {
            Command::CreateAccount { partition, .. } => *partition,
            Command::CreateProduct { actor, .. }
            | Command::CreateRoom { actor, .. }
            | Command::CreateDrop { actor, .. }
            | Command::SaveTemplate { actor, .. } => actor.id.partition(),
            Command::ScheduleEpisode { room_id, .. } => room_id.partition(),
            Command::StartEpisode { episode_id, .. }
            | Command::EndEpisode { episode_id, .. }
            | Command::ChangeStage { episode_id, .. }
            | Command::VotePoll { episode_id, .. }
            | Command::AskQuestion { episode_id, .. }
            | Command::UpvoteQuestion { episode_id, .. }
            | Command::ResolveQuestion { episode_id, .. }
            | Command::PinDrop { episode_id, .. }
            | Command::UnpinDrop { episode_id, .. }
            | Command::StartDemo { episode_id, .. }
            | Command::StopDemo { episode_id, .. }
            | Command::StartPoll { episode_id, .. }
            | Command::ClosePoll { episode_id, .. } => episode_id.partition(),
            Command::CloseDrop { drop_id, .. } | Command::Claim { drop_id, .. } => drop_id.partition(),
            Command::Checkout { cart_id, .. } => cart_id.partition(),
            Command::RequestRefund { order_id, .. } => order_id.partition(),
            Command::DecideRefund { refund_id, .. } | Command::CompleteRefund { refund_id, .. } => {
                refund_id.partition()
            }
            Command::SaveRiskRules { .. } => crate::RISK_RULES_PARTITION,
            Command::ReviewOrder { order_id, .. } => order_id.partition(),
        }
    }
}
