//! Facts. Every change of state is one of these, journaled before it is acknowledged.

use crate::ledger::LedgerTransaction;
use crate::{
    Account, AccountId, CartId, Currency, Dispute, DisputeId, Drop, DropId, Episode, EpisodeId, Hold, HoldId, Money,
    Order, OrderId, Outcome, Partition, PayoutId, PayoutProfile, Product, ProductId, Refund, RefundId, RefundSide,
    Room, RoomId, Settlement, SettlementId, SplitContract, SplitContractId, StageAction, Template, Timestamp, Token,
    TokenId, WebhookAttempt, WebhookEndpoint, WebhookEndpointId,
};
use risk::Verdict;

mod streams;

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
    /// A paid order line of a shipped or picked-up product, to fulfil; in the order's commit.
    FulfilmentOpened {
        fulfilment: crate::FulfilmentOrder,
    },
    FulfilmentChanged {
        fulfilment_id: crate::FulfilmentId,
        change: crate::FulfilmentChange,
    },
    /// A wrong pickup code was entered; enough of them lock entering codes for a while.
    PickupCodeRejected {
        fulfilment_id: crate::FulfilmentId,
        by: AccountId,
        at: Timestamp,
    },
    /// A hub partner counted a drop's units on its shelf, under its own `version`; `expected` is
    /// what the drop believed was there.
    StockCounted {
        drop_id: DropId,
        partner_id: AccountId,
        on_hand: u64,
        expected: u64,
        version: u64,
        at: Timestamp,
    },
    /// A count came short of what the drop believes: a case for its creator to decide.
    ReconciliationOpened {
        case: crate::ReconciliationCase,
    },
    /// The creator accepted the count (`written_off` units left the drop, a `StockWrittenOff`
    /// beside it) or disputed it (`reason`).
    ReconciliationDecided {
        case_id: crate::ReconciliationId,
        accepted: bool,
        written_off: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        by: AccountId,
        at: Timestamp,
    },
    /// Units missing from the hub's shelf leave the drop's remaining stock for `released`, and the
    /// product's stock, as its creator accepted in `case_id`. In the drop's stream, so the drop's
    /// log alone still accounts for every unit.
    StockWrittenOff {
        drop_id: DropId,
        case_id: crate::ReconciliationId,
        quantity: u64,
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
    /// A new secret for an account's inbound webhooks; the one before verifies until
    /// `previous_expire_at`, older ones no more.
    InboundSecretSet {
        account_id: AccountId,
        secret: crate::WebhookSecret,
        previous_expire_at: Timestamp,
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
