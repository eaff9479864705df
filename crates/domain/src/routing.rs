//! Which shard executes a command, and what the partitions of its ids alone rule out. Ids carry the
//! partition of the creator (or handle) they belong to, and a command goes to the partition of the
//! entity it acts on; these rules need no state, so they sit beside the routing rather than in a
//! decision.

use crate::{Command, OwnedOnly, Partition, Rejection};

impl Command {
    /// The partition whose shard executes this command, and so keeps its idempotency record.
    pub fn partition(&self) -> Partition {
        match self {
            Command::CreateAccount { partition, .. } | Command::ConfigureAdmin { partition, .. } => *partition,
            Command::CreateProduct { actor, .. }
            | Command::CreateRoom { actor, .. }
            | Command::CreateDrop { actor, .. }
            | Command::SaveTemplate { actor, .. }
            | Command::IssueToken { actor, .. }
            | Command::RevokeToken { actor, .. }
            | Command::CreateWebhookEndpoint { actor, .. }
            | Command::SetInboundSecret { actor, .. } => actor.id.partition(),
            Command::DeleteWebhookEndpoint { endpoint_id, .. }
            | Command::RotateWebhookSecret { endpoint_id, .. }
            | Command::RedeliverWebhook { endpoint_id, .. } => endpoint_id.partition(),
            Command::RecordWebhookAttempt { attempt } => attempt.endpoint_id.partition(),
            Command::UpdateFulfilment { fulfilment_id, .. } | Command::SignalFulfilment { fulfilment_id, .. } => {
                fulfilment_id.partition()
            }
            Command::SignalStock { drop_id, .. } => drop_id.partition(),
            Command::DecideReconciliation { case_id, .. } => case_id.partition(),
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
            Command::ProposeSplitContract { actor, .. } => actor.id.partition(),
            Command::AnswerSplitContract { contract_id, .. } => contract_id.partition(),
            Command::SetPayoutProfile { account_id, .. }
            | Command::ClearPayoutProfile { account_id, .. }
            | Command::ApplyPayoutRule { account_id, .. } => account_id.partition(),
            Command::SavePayoutRules { .. } => crate::PAYOUT_RULES_PARTITION,
            Command::StartSettlement { .. } => crate::SETTLEMENT_PARTITION,
            Command::SettleBook { book, .. } => *book,
            Command::CompletePayout { payout_id, .. } => payout_id.partition(),
            Command::OpenDispute { order_id, .. } => order_id.partition(),
            Command::ReleaseCharge { cart_id, .. } | Command::KeepOrphanCharge { cart_id, .. } => cart_id.partition(),
            Command::DecideDispute { dispute_id, .. } => dispute_id.partition(),
        }
    }

    /// Refuses a command that names, where only the caller's own may be named, a room or template
    /// of another partition: rooms and templates live in their creator's partition, so it is not the
    /// caller's. Decided from the ids alone because the state cannot decide it the same way every
    /// time: the shard the command is routed to knows the entity only when its partition happens to
    /// share that shard (then `Forbidden`), and otherwise does not (then `NotFound`).
    pub fn check_partitions(&self) -> Result<(), Rejection> {
        let owned_only = match self {
            Command::CreateRoom { actor, template_id: Some(template_id), .. }
                if template_id.partition() != actor.id.partition() =>
            {
                OwnedOnly::RoomTemplate
            }
            Command::CreateDrop { actor, drop } if drop.room_id.partition() != actor.id.partition() => {
                OwnedOnly::DropRoom
            }
            Command::ScheduleEpisode { actor, room_id, .. } if room_id.partition() != actor.id.partition() => {
                OwnedOnly::EpisodeRoom
            }
            _ => return Ok(()),
        };
        Err(Rejection::NotYours { rule: owned_only })
    }
}
