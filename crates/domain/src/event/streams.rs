//! Where each fact belongs: the partition whose shard owns it, the hash-chained stream it is in,
//! its kind's stored name, and the drop whose log it is a leaf of.

use super::Event;
use crate::{DropId, Partition};

impl Event {
    /// The partition whose shard owns this fact.
    pub fn partition(&self) -> Partition {
        match self {
            Event::AccountCreated { account } => account.id.partition(),
            Event::TokenIssued { token } => token.account_id.partition(),
            Event::TokenRevoked { account_id, .. } | Event::InboundSecretSet { account_id, .. } => {
                account_id.partition()
            }
            Event::ProductCreated { product } => product.id.partition(),
            Event::RoomCreated { room } => room.id.partition(),
            Event::DropCreated { drop } => drop.id.partition(),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. }
            | Event::UnitsRefunded { drop_id, .. }
            | Event::StockCounted { drop_id, .. }
            | Event::StockWrittenOff { drop_id, .. }
            | Event::LogCheckpointed { drop_id, .. } => drop_id.partition(),
            Event::ReconciliationOpened { case } => case.id.partition(),
            Event::ReconciliationDecided { case_id, .. } => case_id.partition(),
            Event::RefundRequested { refund } => refund.id.partition(),
            Event::RefundApproved { refund_id, .. }
            | Event::RefundRejected { refund_id, .. }
            | Event::RefundExecuted { refund_id, .. } => refund_id.partition(),
            Event::CartOpened { cart_id, .. } | Event::PaymentDeclined { cart_id, .. } => cart_id.partition(),
            Event::HoldPlaced { hold } => hold.id.partition(),
            Event::OrderPlaced { order } => order.id.partition(),
            Event::IdempotencyRecorded { partition, .. } | Event::RiskDecided { partition, .. } => *partition,
            Event::RiskRulesSaved { .. } => crate::command::RISK_RULES_PARTITION,
            Event::OrderReviewed { order_id, .. } => order_id.partition(),
            Event::SplitContractProposed { contract } => contract.id.partition(),
            Event::SplitContractAnswered { contract_id, .. } => contract_id.partition(),
            Event::PayoutProfileSet { account_id, .. } | Event::PayoutProfileCleared { account_id, .. } => {
                account_id.partition()
            }
            Event::PayoutRulesSaved { .. } => crate::command::PAYOUT_RULES_PARTITION,
            Event::LedgerPosted { transaction } => transaction.id.partition(),
            Event::SettlementStarted { settlement } => settlement.id.partition(),
            Event::BookSettled { book, .. } => *book,
            Event::PayoutCreated { payout_id, .. }
            | Event::PayoutSent { payout_id, .. }
            | Event::PayoutFailed { payout_id, .. } => payout_id.partition(),
            Event::ChargeUnused { cart_id, .. } | Event::ChargeReleased { cart_id, .. } => cart_id.partition(),
            Event::DisputeOpened { dispute, .. } => dispute.id.partition(),
            Event::DisputeDecided { dispute_id, .. } => dispute_id.partition(),
            Event::TemplateSaved { template } => template.id.partition(),
            Event::WebhookEndpointCreated { endpoint } => endpoint.id.partition(),
            Event::FulfilmentOpened { fulfilment } => fulfilment.id.partition(),
            Event::FulfilmentChanged { fulfilment_id, .. } | Event::PickupCodeRejected { fulfilment_id, .. } => {
                fulfilment_id.partition()
            }
            Event::WebhookSecretRotated { endpoint_id, .. }
            | Event::WebhookEndpointDisabled { endpoint_id, .. }
            | Event::WebhookRedeliveryRequested { endpoint_id, .. } => endpoint_id.partition(),
            Event::WebhookAttempted { attempt } => attempt.endpoint_id.partition(),
            Event::EpisodeScheduled { episode } => episode.id.partition(),
            Event::EpisodeStarted { episode_id, .. }
            | Event::EpisodeEnded { episode_id, .. }
            | Event::StageChanged { episode_id, .. }
            | Event::PollVoted { episode_id, .. }
            | Event::QuestionAsked { episode_id, .. }
            | Event::QuestionUpvoted { episode_id, .. }
            | Event::QuestionResolved { episode_id, .. }
            | Event::DropPinned { episode_id, .. }
            | Event::DropUnpinned { episode_id, .. }
            | Event::DemoStarted { episode_id, .. }
            | Event::DemoStopped { episode_id, .. }
            | Event::PollStarted { episode_id, .. }
            | Event::PollClosed { episode_id, .. } => episode_id.partition(),
        }
    }

    /// The hash-chained stream this fact belongs to: one per entity, so a drop's stream alone accounts
    /// for all of its units and can be audited on its own. The drop streams are exactly the events
    /// [`Event::drop_id`] names a drop for: the leaves of that drop's transparency log.
    pub fn stream(&self) -> String {
        if let Some(drop_id) = self.drop_id() {
            return format!("drop/{drop_id}");
        }
        match self {
            Event::DropCreated { .. }
            | Event::DropOpened { .. }
            | Event::DropClosed { .. }
            | Event::HoldExpired { .. }
            | Event::HoldsSold { .. }
            | Event::UnitsRefunded { .. }
            | Event::StockWrittenOff { .. }
            | Event::HoldPlaced { .. } => unreachable!("drop events are in their drop's stream"),
            Event::StockCounted { drop_id, .. } => format!("stock/{drop_id}"),
            Event::ReconciliationOpened { case } => format!("reconciliation/{}", case.id),
            Event::ReconciliationDecided { case_id, .. } => format!("reconciliation/{case_id}"),
            Event::AccountCreated { account } => format!("account/{}", account.id),
            Event::TokenIssued { token } => format!("account/{}", token.account_id),
            Event::TokenRevoked { account_id, .. } | Event::InboundSecretSet { account_id, .. } => {
                format!("account/{account_id}")
            }
            Event::ProductCreated { product } => format!("product/{}", product.id),
            Event::RoomCreated { room } => format!("room/{}", room.id),
            Event::LogCheckpointed { drop_id, .. } => format!("checkpoint/{drop_id}"),
            Event::RefundRequested { refund } => format!("refund/{}", refund.id),
            Event::RefundApproved { refund_id, .. }
            | Event::RefundRejected { refund_id, .. }
            | Event::RefundExecuted { refund_id, .. } => format!("refund/{refund_id}"),
            Event::CartOpened { cart_id, .. } | Event::PaymentDeclined { cart_id, .. } => {
                format!("cart/{cart_id}")
            }
            Event::OrderPlaced { order } => format!("order/{}", order.id),
            Event::IdempotencyRecorded { partition, owner, .. } => format!("idempotency/{owner}/{partition:02x}"),
            Event::RiskDecided { partition, .. } => format!("risk/{partition:02x}"),
            Event::RiskRulesSaved { .. } => "risk-rules".to_owned(),
            Event::OrderReviewed { order_id, .. } => format!("order/{order_id}"),
            Event::SplitContractProposed { contract } => format!("split/{}", contract.id),
            Event::SplitContractAnswered { contract_id, .. } => format!("split/{contract_id}"),
            Event::PayoutProfileSet { account_id, .. } | Event::PayoutProfileCleared { account_id, .. } => {
                format!("account/{account_id}")
            }
            Event::PayoutRulesSaved { .. } => "payout-rules".to_owned(),
            Event::LedgerPosted { transaction } => format!("ledger/{:02x}", transaction.id.partition()),
            Event::BookSettled { book, .. } => format!("ledger/{book:02x}"),
            Event::SettlementStarted { settlement } => format!("settlement/{}", settlement.id),
            Event::PayoutCreated { payout_id, .. }
            | Event::PayoutSent { payout_id, .. }
            | Event::PayoutFailed { payout_id, .. } => format!("payout/{payout_id}"),
            Event::ChargeUnused { cart_id, .. } | Event::ChargeReleased { cart_id, .. } => format!("cart/{cart_id}"),
            Event::DisputeOpened { dispute, .. } => format!("dispute/{}", dispute.id),
            Event::DisputeDecided { dispute_id, .. } => format!("dispute/{dispute_id}"),
            Event::TemplateSaved { template } => format!("template/{}", template.id),
            Event::WebhookEndpointCreated { endpoint } => format!("webhook/{}", endpoint.id),
            Event::FulfilmentOpened { fulfilment } => format!("fulfilment/{}", fulfilment.id),
            Event::FulfilmentChanged { fulfilment_id, .. } | Event::PickupCodeRejected { fulfilment_id, .. } => {
                format!("fulfilment/{fulfilment_id}")
            }
            Event::WebhookSecretRotated { endpoint_id, .. }
            | Event::WebhookEndpointDisabled { endpoint_id, .. }
            | Event::WebhookRedeliveryRequested { endpoint_id, .. } => format!("webhook/{endpoint_id}"),
            Event::WebhookAttempted { attempt } => format!("webhook/{}", attempt.endpoint_id),
            Event::EpisodeScheduled { episode } => format!("episode/{}", episode.id),
            Event::EpisodeStarted { episode_id, .. }
            | Event::EpisodeEnded { episode_id, .. }
            | Event::StageChanged { episode_id, .. }
            | Event::PollVoted { episode_id, .. }
            | Event::QuestionAsked { episode_id, .. }
            | Event::QuestionUpvoted { episode_id, .. }
            | Event::QuestionResolved { episode_id, .. }
            | Event::DropPinned { episode_id, .. }
            | Event::DropUnpinned { episode_id, .. }
            | Event::DemoStarted { episode_id, .. }
            | Event::DemoStopped { episode_id, .. }
            | Event::PollStarted { episode_id, .. }
            | Event::PollClosed { episode_id, .. } => format!("episode/{episode_id}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Event::AccountCreated { .. } => "account_created",
            Event::TokenIssued { .. } => "token_issued",
            Event::TokenRevoked { .. } => "token_revoked",
            Event::ProductCreated { .. } => "product_created",
            Event::RoomCreated { .. } => "room_created",
            Event::DropCreated { .. } => "drop_created",
            Event::DropOpened { .. } => "drop_opened",
            Event::DropClosed { .. } => "drop_closed",
            Event::CartOpened { .. } => "cart_opened",
            Event::HoldPlaced { .. } => "hold_placed",
            Event::HoldExpired { .. } => "hold_expired",
            Event::PaymentDeclined { .. } => "payment_declined",
            Event::OrderPlaced { .. } => "order_placed",
            Event::HoldsSold { .. } => "holds_sold",
            Event::RefundRequested { .. } => "refund_requested",
            Event::RefundApproved { .. } => "refund_approved",
            Event::RefundRejected { .. } => "refund_rejected",
            Event::RefundExecuted { .. } => "refund_executed",
            Event::UnitsRefunded { .. } => "units_refunded",
            Event::IdempotencyRecorded { .. } => "idempotency_recorded",
            Event::LogCheckpointed { .. } => "log_checkpointed",
            Event::RiskDecided { .. } => "risk_decided",
            Event::RiskRulesSaved { .. } => "risk_rules_saved",
            Event::OrderReviewed { .. } => "order_reviewed",
            Event::SplitContractProposed { .. } => "split_contract_proposed",
            Event::SplitContractAnswered { .. } => "split_contract_answered",
            Event::PayoutProfileSet { .. } => "payout_profile_set",
            Event::PayoutProfileCleared { .. } => "payout_profile_cleared",
            Event::PayoutRulesSaved { .. } => "payout_rules_saved",
            Event::LedgerPosted { .. } => "ledger_posted",
            Event::SettlementStarted { .. } => "settlement_started",
            Event::BookSettled { .. } => "book_settled",
            Event::PayoutCreated { .. } => "payout_created",
            Event::PayoutSent { .. } => "payout_sent",
            Event::PayoutFailed { .. } => "payout_failed",
            Event::ChargeUnused { .. } => "charge_unused",
            Event::ChargeReleased { .. } => "charge_released",
            Event::DisputeOpened { .. } => "dispute_opened",
            Event::DisputeDecided { .. } => "dispute_decided",
            Event::TemplateSaved { .. } => "template_saved",
            Event::EpisodeScheduled { .. } => "episode_scheduled",
            Event::EpisodeStarted { .. } => "episode_started",
            Event::EpisodeEnded { .. } => "episode_ended",
            Event::StageChanged { .. } => "stage_changed",
            Event::PollVoted { .. } => "poll_voted",
            Event::QuestionAsked { .. } => "question_asked",
            Event::QuestionUpvoted { .. } => "question_upvoted",
            Event::QuestionResolved { .. } => "question_resolved",
            Event::DropPinned { .. } => "drop_pinned",
            Event::DropUnpinned { .. } => "drop_unpinned",
            Event::DemoStarted { .. } => "demo_started",
            Event::DemoStopped { .. } => "demo_stopped",
            Event::PollStarted { .. } => "poll_started",
            Event::PollClosed { .. } => "poll_closed",
            Event::WebhookEndpointCreated { .. } => "webhook_endpoint_created",
            Event::FulfilmentOpened { .. } => "fulfilment_opened",
            Event::FulfilmentChanged { .. } => "fulfilment_changed",
            Event::PickupCodeRejected { .. } => "pickup_code_rejected",
            Event::WebhookSecretRotated { .. } => "webhook_secret_rotated",
            Event::WebhookEndpointDisabled { .. } => "webhook_endpoint_disabled",
            Event::WebhookRedeliveryRequested { .. } => "webhook_redelivery_requested",
            Event::WebhookAttempted { .. } => "webhook_attempted",
            Event::InboundSecretSet { .. } => "inbound_secret_set",
            Event::StockCounted { .. } => "stock_counted",
            Event::ReconciliationOpened { .. } => "reconciliation_opened",
            Event::ReconciliationDecided { .. } => "reconciliation_decided",
            Event::StockWrittenOff { .. } => "stock_written_off",
        }
    }

    /// The drop whose stream (and transparency log) this fact belongs to; these are also the facts
    /// that change a drop's counters, for live updates.
    pub fn drop_id(&self) -> Option<DropId> {
        match self {
            Event::DropCreated { drop } => Some(drop.id),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. }
            | Event::UnitsRefunded { drop_id, .. }
            | Event::StockWrittenOff { drop_id, .. } => Some(*drop_id),
            Event::HoldPlaced { hold } => Some(hold.drop_id),
            _ => None,
        }
    }
}
