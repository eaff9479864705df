//! Facts. Every change of state is one of these, journaled before it is acknowledged.

use crate::ledger::LedgerTransaction;
use crate::{
    Account, AccountId, CartId, Currency, Dispute, DisputeId, Drop, DropId, Episode, EpisodeId, Hold, HoldId, Money,
    Order, OrderId, Outcome, Partition, PayoutId, PayoutProfile, Product, ProductId, Refund, RefundId, RefundSide,
    Room, RoomId, Settlement, SettlementId, SplitContract, SplitContractId, StageAction, Template, Timestamp, Token,
    TokenId, WebhookAttempt, WebhookEndpoint, WebhookEndpointId,
};
use risk::Verdict;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    AccountCreated {
        account: Account,
    },
    ProductCreated {
        product: Product,
    },
    RoomCreated {
        room: Room,
    },
    DropCreated {
        drop: Drop,
    },
    DropOpened {
        drop_id: DropId,
        at: Timestamp,
    },
    DropClosed {
        drop_id: DropId,
        at: Timestamp,
        by_creator: bool,
    },
    CartOpened {
        cart_id: CartId,
        room_id: RoomId,
        buyer_id: AccountId,
        at: Timestamp,
    },
    HoldPlaced {
        hold: Hold,
    },
    HoldExpired {
        hold_id: HoldId,
        drop_id: DropId,
        quantity: u32,
        at: Timestamp,
    },
    PaymentDeclined {
        cart_id: CartId,
        method: String,
        decline_code: String,
        at: Timestamp,
    },
    OrderPlaced {
        order: Order,
    },
    /// One per drop of an order, so that a drop's own stream accounts for every unit it ever had.
    HoldsSold {
        drop_id: DropId,
        order_id: OrderId,
        hold_ids: Vec<HoldId>,
        quantity: u64,
    },
    /// A refund was asked for; under the threshold it is `approved` at once.
    RefundRequested {
        refund: Refund,
    },
    /// One side signed off; with both sides the refund turns `approved`.
    RefundApproved {
        refund_id: RefundId,
        side: RefundSide,
        by: AccountId,
        at: Timestamp,
    },
    RefundRejected {
        refund_id: RefundId,
        side: RefundSide,
        by: AccountId,
        reason: String,
        at: Timestamp,
    },
    /// The provider paid the amount back; `UnitsRefunded` for each drop follows in the same commit.
    RefundExecuted {
        refund_id: RefundId,
        provider_refund_id: String,
        at: Timestamp,
    },
    /// One per drop of an executed refund, in the drop's stream, so the drop's stream alone still
    /// accounts for every unit: they leave `sold` for `remaining` (`restocked`) or for `released`.
    UnitsRefunded {
        drop_id: DropId,
        order_id: OrderId,
        refund_id: RefundId,
        hold_ids: Vec<HoldId>,
        quantity: u64,
        restocked: bool,
        at: Timestamp,
    },
    /// A fraud rule fired on a claim (`drop_id`) or a checkout; a `review` flags the cart, so its order
    /// waits for approval; a `block` is the whole effect of the request.
    RiskDecided {
        partition: Partition,
        buyer_id: AccountId,
        drop_id: Option<DropId>,
        /// The cart the claim went into or the checkout was for; `None` for a blocked claim.
        cart_id: Option<CartId>,
        verdict: Verdict,
        at: Timestamp,
    },
    /// The platform's fraud rules, replaced whole; `version` counts saves from 1.
    RiskRulesSaved {
        text: String,
        version: u64,
        at: Timestamp,
        /// The admin who saved them; absent in facts written before admins were named (0025).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<AccountId>,
    },
    OrderReviewed {
        order_id: OrderId,
        approved: bool,
        reason: Option<String>,
        at: Timestamp,
        /// The admin who decided; absent in facts written before admins were named (0025).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<AccountId>,
    },
    /// A template version, immutable once saved.
    TemplateSaved {
        template: Template,
    },
    EpisodeScheduled {
        episode: Episode,
    },
    /// The host is on the stage from here on.
    EpisodeStarted {
        episode_id: EpisodeId,
        at: Timestamp,
    },
    EpisodeEnded {
        episode_id: EpisodeId,
        at: Timestamp,
    },
    /// One change of a live episode's stage, made by `by`.
    StageChanged {
        episode_id: EpisodeId,
        by: AccountId,
        action: StageAction,
        at: Timestamp,
    },
    PollVoted {
        episode_id: EpisodeId,
        slot: u32,
        voter: AccountId,
        option: u32,
        at: Timestamp,
    },
    /// Question `number` (the queue's length plus one) of the episode.
    QuestionAsked {
        episode_id: EpisodeId,
        number: u32,
        by: AccountId,
        text: String,
        at: Timestamp,
    },
    QuestionUpvoted {
        episode_id: EpisodeId,
        number: u32,
        by: AccountId,
        at: Timestamp,
    },
    QuestionResolved {
        episode_id: EpisodeId,
        number: u32,
        by: AccountId,
        answered: bool,
        at: Timestamp,
    },
    /// The host or a moderator pinned a drop of the room as the episode's buy slot, replacing any
    /// pin before it. In the episode's stream, not the drop's: it says nothing about the drop's units.
    DropPinned {
        episode_id: EpisodeId,
        drop_id: DropId,
        by: AccountId,
        at: Timestamp,
    },
    DropUnpinned {
        episode_id: EpisodeId,
        by: AccountId,
        at: Timestamp,
    },
    /// A demo window of `seconds` opens at `at` (and so ends at `at` + `seconds`).
    DemoStarted {
        episode_id: EpisodeId,
        product_id: ProductId,
        seconds: u32,
        by: AccountId,
        at: Timestamp,
    },
    /// The running demo ends early, at `at`.
    DemoStopped {
        episode_id: EpisodeId,
        by: AccountId,
        at: Timestamp,
    },
    /// A live poll, numbered `slot` (`LIVE_POLL_SLOT_FIRST` plus the episode's live polls so far).
    PollStarted {
        episode_id: EpisodeId,
        slot: u32,
        question: String,
        options: Vec<String>,
        by: AccountId,
        at: Timestamp,
    },
    /// A poll (template or live) takes no more votes in this episode.
    PollClosed {
        episode_id: EpisodeId,
        slot: u32,
        by: AccountId,
        at: Timestamp,
    },
    /// A further bearer token of an account (the sign-up token comes with `AccountCreated`).
    TokenIssued {
        token: Token,
    },
    /// The token stops authenticating from this commit on.
    TokenRevoked {
        account_id: AccountId,
        token_id: TokenId,
        at: Timestamp,
    },
    /// A creator's split contract, pending its partners' answers.
    SplitContractProposed {
        contract: SplitContract,
    },
    /// One named partner accepted (the contract turns `accepted` once all have) or rejected it.
    SplitContractAnswered {
        contract_id: SplitContractId,
        partner_id: AccountId,
        accepted: bool,
        at: Timestamp,
    },
    /// An admin, or a payout rule, set a payee's payout profile; sales from here on follow it.
    PayoutProfileSet {
        account_id: AccountId,
        profile: PayoutProfile,
        /// The admin; for a rule, the admin who saved the rules.
        by: AccountId,
        at: Timestamp,
        /// The rule that set it; absent when an admin did (and in facts written before payout rules).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<crate::ProfileRule>,
    },
    /// A payee's own profile is gone: an admin cleared it, or no payout rule matches the payee any
    /// more (`rules_version` set). Sales from here on follow the default, until a rule matches.
    PayoutProfileCleared {
        account_id: AccountId,
        by: AccountId,
        at: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rules_version: Option<u64>,
    },
    /// The platform's payout rules, replaced whole; `version` counts saves from 1.
    PayoutRulesSaved {
        text: String,
        version: u64,
        at: Timestamp,
        by: AccountId,
    },
    /// A balanced ledger transaction of the book of the partition of its id, in the same commit as
    /// the fact that causes it.
    LedgerPosted {
        transaction: LedgerTransaction,
    },
    /// A settlement window closes at `closed_at`; each book then closes it in turn.
    SettlementStarted {
        settlement: Settlement,
    },
    /// Book `book` closed the settlement: everything due by `closed_at` matures into available money
    /// (the `Matured` transactions that follow move it).
    BookSettled {
        settlement_id: SettlementId,
        book: Partition,
        closed_at: Timestamp,
    },
    /// A payout of everything `payee` has available in the book, journaled before the provider is
    /// called; it pays the payee's statement lines since its last payout.
    PayoutCreated {
        payout_id: PayoutId,
        settlement_id: SettlementId,
        payee: AccountId,
        currency: Currency,
        amount_minor: i64,
        at: Timestamp,
    },
    PayoutSent {
        payout_id: PayoutId,
        provider_payout_id: String,
        at: Timestamp,
    },
    /// The provider refused the payout; its amount is available again for the next window.
    PayoutFailed {
        payout_id: PayoutId,
        reason: String,
        at: Timestamp,
    },
    /// A checkout refused after its payment was taken: no order keeps the charge, so it is paid back.
    ChargeUnused {
        cart_id: CartId,
        charge_id: String,
        amount: Money,
        at: Timestamp,
    },
    /// The provider paid an unused charge back.
    ChargeReleased {
        cart_id: CartId,
        charge_id: String,
        provider_refund_id: String,
        at: Timestamp,
    },
    /// An admin opened a chargeback of an order (standing in for the provider's webhook).
    DisputeOpened {
        dispute: Dispute,
        /// Each party's share and where it was taken from; the `LedgerPosted` beside it moves the
        /// payees' shares into their `dispute_hold`. Empty for an order paid before the ledger.
        parts: Vec<crate::ledger::RefundPart>,
    },
    DisputeDecided {
        dispute_id: DisputeId,
        won: bool,
        by: AccountId,
        at: Timestamp,
    },
    WebhookEndpointCreated {
        endpoint: WebhookEndpoint,
    },
    /// A new signing secret; the one it replaces signs until `previous_expire_at` (unless sooner),
    /// and any older one stops.
    WebhookSecretRotated {
        endpoint_id: WebhookEndpointId,
        secret: crate::WebhookSecret,
        previous_expire_at: Timestamp,
        at: Timestamp,
    },
    WebhookEndpointDisabled {
        endpoint_id: WebhookEndpointId,
        reason: crate::EndpointDisabled,
        at: Timestamp,
    },
    /// The endpoint's owner asked for a message again: it is delivered from attempt 1.
    WebhookRedeliveryRequested {
        endpoint_id: WebhookEndpointId,
        message_id: String,
        by: AccountId,
        at: Timestamp,
    },
    /// One delivery attempt and what it came to: the outbox's record, so nothing acknowledged is
    /// delivered twice on purpose nor lost across a restart.
    WebhookAttempted {
        attempt: WebhookAttempt,
    },
    IdempotencyRecorded {
        partition: Partition,
        owner: AccountId,
        key: String,
        fingerprint: String,
        outcome: Outcome,
        at: Timestamp,
    },
    /// A signed head of a drop's transparency log (whose leaves are the drop's own stream). A fact
    /// about the log, not the drop: the state ignores it; it is journaled so that every checkpoint
    /// ever published survives a restart and an audit can check each against the next.
    LogCheckpointed {
        drop_id: DropId,
        origin: String,
        tree_size: u64,
        /// Lowercase hex.
        root_hash: String,
        timestamp: Timestamp,
        key_id: String,
        /// Standard base64.
        signature: String,
    },
}

impl Event {
    /// The partition whose shard owns this fact.
    pub fn partition(&self) -> Partition {
        match self {
            Event::AccountCreated { account } => account.id.partition(),
            Event::TokenIssued { token } => token.account_id.partition(),
            Event::TokenRevoked { account_id, .. } => account_id.partition(),
            Event::ProductCreated { product } => product.id.partition(),
            Event::RoomCreated { room } => room.id.partition(),
            Event::DropCreated { drop } => drop.id.partition(),
            Event::DropOpened { drop_id, .. }
            | Event::DropClosed { drop_id, .. }
            | Event::HoldExpired { drop_id, .. }
            | Event::HoldsSold { drop_id, .. }
            | Event::UnitsRefunded { drop_id, .. }
            | Event::LogCheckpointed { drop_id, .. } => drop_id.partition(),
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
            | Event::HoldPlaced { .. } => unreachable!("drop events are in their drop's stream"),
            Event::AccountCreated { account } => format!("account/{}", account.id),
            Event::TokenIssued { token } => format!("account/{}", token.account_id),
            Event::TokenRevoked { account_id, .. } => format!("account/{account_id}"),
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
            Event::WebhookSecretRotated { .. } => "webhook_secret_rotated",
            Event::WebhookEndpointDisabled { .. } => "webhook_endpoint_disabled",
            Event::WebhookRedeliveryRequested { .. } => "webhook_redelivery_requested",
            Event::WebhookAttempted { .. } => "webhook_attempted",
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
            | Event::UnitsRefunded { drop_id, .. } => Some(*drop_id),
            Event::HoldPlaced { hold } => Some(hold.drop_id),
            _ => None,
        }
    }
}
