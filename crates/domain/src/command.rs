//! What callers ask of the state, and what it answers.

use crate::state::NewSplitContract;
use crate::{
    Account, AccountId, CartId, ClaimReceipt, Dispute, DisputeId, Drop, DropId, Episode, EpisodeId, Fulfilment, HoldId,
    Money, Order, OrderId, Partition, PartnerKind, Payout, PayoutId, PayoutProfile, PayoutResult, PollTally, Product,
    ProductId, Question, Refund, RefundId, Role, Room, RoomId, SaleTerms, Settlement, Slot, SplitContract,
    SplitContractId, StageAction, Template, TemplateId, Timestamp, Token, TokenId, WebhookAttempt, WebhookEndpoint,
    WebhookEndpointId, WebhookEventType, WebhookSecret,
};
use risk::{RuleError, RuleSet, Verdict};
use std::sync::Arc;

/// An authenticated caller. The engine resolves the bearer token; the domain trusts the role it is
/// given and decides what that role may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Actor {
    pub id: AccountId,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    CreateAccount {
        partition: Partition,
        handle: String,
        role: Role,
        /// Required for partners, refused for every other role.
        partner_kind: Option<PartnerKind>,
        token_sha256: String,
    },
    CreateProduct {
        actor: Actor,
        title: String,
        price: Money,
        stock: u64,
        fulfilment: Fulfilment,
        /// A curator's co-branded limited edition.
        edition: Option<crate::Edition>,
    },
    /// With a template, the room records its id and version and gets a copy of its slots.
    CreateRoom {
        actor: Actor,
        title: String,
        template_id: Option<TemplateId>,
    },
    /// Saves a template: version 1 of a new name, or the next version of one the creator saved before.
    SaveTemplate {
        actor: Actor,
        name: String,
        slots: Vec<Slot>,
    },
    /// The room's creator schedules a live session of the room.
    ScheduleEpisode {
        actor: Actor,
        room_id: RoomId,
        title: String,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
    },
    StartEpisode {
        actor: Actor,
        episode_id: EpisodeId,
    },
    EndEpisode {
        actor: Actor,
        episode_id: EpisodeId,
    },
    /// A stage member's vote in the room's poll slot `slot` of a live episode: one per account.
    VotePoll {
        actor: Actor,
        episode_id: EpisodeId,
        slot: u32,
        option: u32,
    },
    /// A stage member asks in the Q&A queue of a live episode (the room needs a `qa` slot).
    AskQuestion {
        actor: Actor,
        episode_id: EpisodeId,
        text: String,
    },
    UpvoteQuestion {
        actor: Actor,
        episode_id: EpisodeId,
        number: u32,
    },
    /// The host or a moderator marks an open question answered or dismisses it.
    ResolveQuestion {
        actor: Actor,
        episode_id: EpisodeId,
        number: u32,
        answered: bool,
    },
    /// The host or a moderator pins a drop of the episode's room as its buy slot (replacing the pin).
    PinDrop {
        actor: Actor,
        episode_id: EpisodeId,
        drop_id: DropId,
    },
    UnpinDrop {
        actor: Actor,
        episode_id: EpisodeId,
    },
    /// The host or a moderator opens a demo window of one of the room creator's products, from `now`.
    StartDemo {
        actor: Actor,
        episode_id: EpisodeId,
        product_id: ProductId,
        seconds: u32,
    },
    /// Ends the running demo now.
    StopDemo {
        actor: Actor,
        episode_id: EpisodeId,
    },
    /// The host or a moderator starts a poll during a live episode, beside the room's template polls.
    StartPoll {
        actor: Actor,
        episode_id: EpisodeId,
        question: String,
        options: Vec<String>,
    },
    /// The host or a moderator closes a poll (template or live) of a live episode for further votes.
    ClosePoll {
        actor: Actor,
        episode_id: EpisodeId,
        slot: u32,
    },
    /// Joining, raising a hand, and the host's and moderators' controls of a live episode's stage.
    ChangeStage {
        actor: Actor,
        episode_id: EpisodeId,
        action: StageAction,
    },
    CreateDrop {
        actor: Actor,
        drop: NewDrop,
    },
    CloseDrop {
        actor: Actor,
        drop_id: DropId,
    },
    /// `risk` is the fired rule's verdict, decided outside the domain (the velocity counters span
    /// shards); the domain journals it with the claim and obeys it. Boxed: most commands carry none.
    Claim {
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        risk: Option<Box<Verdict>>,
    },
    /// Completes a checkout whose payment was already attempted outside the domain (payment is I/O).
    /// A `block` verdict means no payment was attempted.
    Checkout {
        actor: Actor,
        cart_id: CartId,
        payment: PaymentOutcome,
        risk: Option<Box<Verdict>>,
        /// The platform fee and payout profiles the sale is split under, journaled with it.
        terms: Box<SaleTerms>,
    },
    /// A creator proposes partners' shares of its sales.
    ProposeSplitContract {
        actor: Actor,
        contract: NewSplitContract,
    },
    /// A partner named in a pending contract accepts or rejects it.
    AnswerSplitContract {
        actor: Actor,
        contract_id: SplitContractId,
        accept: bool,
    },
    /// An admin sets when a creator's or partner's earnings become available; the payout rules
    /// leave the profile alone until an admin clears it.
    SetPayoutProfile {
        actor: Actor,
        account_id: AccountId,
        profile: PayoutProfile,
    },
    /// An admin clears a payee's own profile: the default applies until a payout rule matches.
    ClearPayoutProfile {
        actor: Actor,
        account_id: AccountId,
    },
    /// Replaces the platform's payout rules (admins only). Always sent to `PAYOUT_RULES_PARTITION`;
    /// parsed once by the caller, as fraud rules are.
    SavePayoutRules {
        actor: Actor,
        text: String,
        rules: Result<Arc<risk::PayoutRuleSet>, Vec<RuleError>>,
    },
    /// What version `rules_version` of the payout rules, saved by `by`, makes of a payee's profile:
    /// `Some` the profile of the rule that matched, `None` the default. Sent by the engine only; a
    /// profile an admin set, or set by newer rules, is left alone.
    ApplyPayoutRule {
        account_id: AccountId,
        rules_version: u64,
        by: AccountId,
        outcome: Option<(PayoutProfile, risk::PayoutVerdict)>,
    },
    /// Starts a settlement window's close at `now`: an admin's (`actor`) or the schedule's. Always
    /// sent to `SETTLEMENT_PARTITION`.
    StartSettlement {
        actor: Option<Actor>,
        minimum_minor: i64,
    },
    /// Closes `settlement` in one book. Sent by the engine only, to every partition.
    SettleBook {
        settlement: Settlement,
        book: Partition,
    },
    /// An admin opens a chargeback of `amount_minor` of an order (standing in for the provider's
    /// webhook); `None` disputes everything not refunded.
    OpenDispute {
        actor: Actor,
        order_id: OrderId,
        amount_minor: Option<i64>,
        reason: String,
    },
    /// An admin records the dispute's outcome.
    DecideDispute {
        actor: Actor,
        dispute_id: DisputeId,
        won: bool,
    },
    /// Records that the provider paid back a charge no order kept. Sent by the engine only.
    ReleaseCharge {
        cart_id: CartId,
        charge_id: String,
        provider_refund_id: String,
    },
    /// Journals as unused a charge the provider made for `cart_id` that the journal never heard of
    /// (the process stopped between the charge and the order's commit), so that it is paid back.
    /// Answers `Reply::ChargeUnused`; refused when the journal knows the charge. Sent by the
    /// engine's reconciliation sweep only.
    KeepOrphanCharge {
        cart_id: CartId,
        charge_id: String,
        amount: Money,
    },
    /// Records the payout provider's answer. Sent by the engine only.
    CompletePayout {
        payout_id: PayoutId,
        result: PayoutResult,
    },
    /// Replaces the platform's fraud rules (admins only). Always sent to partition 0. Carries the
    /// text parsed once by the caller, so that the domain decides on that parse and the engine
    /// installs it without reading the text again.
    SaveRiskRules {
        actor: Actor,
        text: String,
        rules: Result<Arc<RuleSet>, Vec<RuleError>>,
    },
    /// An admin's decision on an order held for review.
    ReviewOrder {
        actor: Actor,
        order_id: OrderId,
        approve: bool,
        reason: Option<String>,
    },
    /// The buyer or the creator of an order asks for some or all of it back.
    RequestRefund {
        actor: Actor,
        order_id: OrderId,
        refund: NewRefund,
    },
    /// A platform admin (platform side) or the order's creator (creator side) signs off or rejects.
    DecideRefund {
        actor: Actor,
        refund_id: RefundId,
        decision: RefundDecision,
    },
    /// Records that the provider paid an approved refund back (the provider call is I/O, made by the
    /// engine outside the domain), and returns or releases its units. Sent by the engine only.
    CompleteRefund {
        refund_id: RefundId,
        provider_refund_id: String,
    },
    /// Makes the configured platform admin `handle` an account of role admin whose live tokens are
    /// exactly `token_sha256s`: created the first time, then tokens issued and revoked to match; an
    /// empty list (the admin left the configuration) revokes them all. Sent by the engine at start
    /// only, to the partition of the handle. Admin handles are a namespace of their own: a buyer or
    /// creator of the same handle is another account.
    ConfigureAdmin {
        partition: Partition,
        handle: String,
        token_sha256s: Vec<String>,
    },
    /// A further bearer token for the caller's account; the caller made the secret and sends only
    /// its SHA-256. Without `expires_at` it lives until revoked.
    IssueToken {
        actor: Actor,
        token_sha256: String,
        expires_at: Option<Timestamp>,
    },
    /// Revokes one of the caller's tokens (the one in use included); revoking a revoked one changes
    /// nothing and answers it as it is.
    RevokeToken {
        actor: Actor,
        token_id: TokenId,
    },
    /// A webhook endpoint of the caller's (a creator or partner). The server checked the URL's
    /// target and made the `whsec_` secret, which the reply carries back once.
    CreateWebhookEndpoint {
        actor: Actor,
        url: String,
        events: Vec<WebhookEventType>,
        secret: WebhookSecret,
    },
    /// Disables one of the caller's endpoints for good; disabling a disabled one changes nothing.
    DeleteWebhookEndpoint {
        actor: Actor,
        endpoint_id: WebhookEndpointId,
    },
    /// A new signing secret; the current ones keep signing for `WEBHOOK_SECRET_OVERLAP_MS`.
    RotateWebhookSecret {
        actor: Actor,
        endpoint_id: WebhookEndpointId,
        secret: WebhookSecret,
    },
    /// Delivers a message to an endpoint again, from attempt 1 with the same `webhook-id`. The engine
    /// checked that it knows the message.
    RedeliverWebhook {
        actor: Actor,
        endpoint_id: WebhookEndpointId,
        message_id: String,
    },
    /// Moves a fulfilment order to `to` and/or promises `eta`: its fulfiller (the assigned partner,
    /// or the creator), or its creator to cancel it.
    UpdateFulfilment {
        actor: Actor,
        fulfilment_id: crate::FulfilmentId,
        to: Option<crate::FulfilmentState>,
        eta: Option<Timestamp>,
        /// The buyer's code, to mark a pickup `picked_up`.
        pickup_code: Option<String>,
    },
    /// A partner's signal about a fulfilment order it fulfils: a state further along its path
    /// (passing the states between), an ETA, or both, under the partner's own `version`. Older
    /// versions and states already passed change nothing, so signals may come late, twice or out
    /// of order.
    SignalFulfilment {
        actor: Actor,
        fulfilment_id: crate::FulfilmentId,
        to: Option<crate::FulfilmentState>,
        eta: Option<Timestamp>,
        version: u64,
    },
    /// A drop's hub partner counted `on_hand` of its units on the shelf, under its own `version`.
    SignalStock {
        actor: Actor,
        drop_id: DropId,
        on_hand: u64,
        version: u64,
    },
    /// The creator accepts a reconciliation case's count (`accept`) or disputes it with `reason`.
    DecideReconciliation {
        actor: Actor,
        case_id: crate::ReconciliationId,
        accept: bool,
        reason: Option<String>,
    },
    /// A new secret for the caller's inbound webhooks (signed partner signals); the one it replaces
    /// verifies for `WEBHOOK_SECRET_OVERLAP_MS` more. The server made it.
    SetInboundSecret {
        actor: Actor,
        secret: WebhookSecret,
    },
    /// What a delivery attempt came to. Sent by the engine only.
    RecordWebhookAttempt {
        attempt: WebhookAttempt,
    },
}

/// What a refund request asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRefund {
    /// `(hold id, units)` per order line to refund; `None` refunds every unit not refunded yet.
    pub lines: Option<Vec<(HoldId, u32)>>,
    pub reason: String,
    pub restock: bool,
    /// Amounts strictly above this (minor units) need both sign-offs. The engine's configuration;
    /// part of the command so the decision stays pure, and recorded in the refund as `needs_approval`.
    pub approval_threshold_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundDecision {
    Approve,
    Reject { reason: String },
}

/// The partition that keeps the platform's risk rules.
pub const RISK_RULES_PARTITION: Partition = 0;
/// The partition that keeps the platform's payout rules.
pub const PAYOUT_RULES_PARTITION: Partition = 0;

/// What a creator asks for when creating a drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewDrop {
    pub room_id: RoomId,
    /// An accepted split contract of the creator's that shares the drop's sales with partners.
    pub split_contract_id: Option<SplitContractId>,
    pub product_id: ProductId,
    pub quantity: u64,
    pub per_buyer_limit: u32,
    pub hold_seconds: u64,
    /// Defaults to now.
    pub opens_at: Option<Timestamp>,
    /// Without it the drop stays open until its creator closes it.
    pub closes_at: Option<Timestamp>,
}

/// The result of asking the payment provider to charge a cart's quoted total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentOutcome {
    Approved {
        method: String,
        charge_id: String,
        amount: Money,
        /// The holds the charged quote was for; the order is refused unless they are still exactly
        /// the cart's active holds.
        quoted_hold_ids: Vec<HoldId>,
    },
    Declined {
        method: String,
        decline_code: String,
    },
    /// The quote was refused, so no charge was made; the command records that refusal.
    NotAttempted,
}

/// A caller's idempotency key. `fingerprint` identifies the request (route and body), so the same key
/// with a different request is refused rather than answered with the wrong stored response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub owner: AccountId,
    pub key: String,
    pub fingerprint: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub idempotency: Option<IdempotencyKey>,
    pub command: Command,
}

impl Envelope {
    pub fn plain(command: Command) -> Envelope {
        Envelope { idempotency: None, command }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Reply {
    // Every reply but a claim's is boxed: each idempotency record keeps its outcome, so the enum's
    // size is paid once per keyed request, and a claim receipt (the common one) is the largest inline.
    Account(Box<Account>),
    Product(Box<Product>),
    Room(Box<Room>),
    Drop(Box<Drop>),
    Claimed(ClaimReceipt),
    Ordered(Box<Order>),
    Refund(Box<Refund>),
    RiskRules {
        text: String,
        version: u64,
    },
    Template(Box<Template>),
    Episode(Box<Episode>),
    Poll(Box<PollTally>),
    Question(Box<Question>),
    Token(Box<Token>),
    SplitContract(Box<SplitContract>),
    PayoutProfile {
        account_id: AccountId,
        profile: PayoutProfile,
    },
    PayoutProfileCleared {
        account_id: AccountId,
    },
    PayoutRules {
        text: String,
        version: u64,
    },
    /// Whether applying a payout rule changed the payee's profile (engine only).
    PayoutRuleApplied {
        changed: bool,
    },
    Settlement(Box<Settlement>),
    Payouts(Vec<Payout>),
    Payout(Box<Payout>),
    Dispute(Box<Dispute>),
    ChargeReleased {
        charge_id: String,
    },
    ChargeUnused {
        charge_id: String,
    },
    WebhookEndpoint(Box<WebhookEndpoint>),
    Fulfilment(Box<crate::FulfilmentOrder>),
    FulfilmentSignal {
        fulfilment: Box<crate::FulfilmentOrder>,
        outcome: crate::SignalOutcome,
    },
    /// A stock count: the drop's last count after it, and the case it opened, if any.
    StockSignal {
        count: crate::StockCount,
        outcome: crate::SignalOutcome,
        case: Option<Box<crate::ReconciliationCase>>,
    },
    Reconciliation(Box<crate::ReconciliationCase>),
    InboundSecretSet {
        account_id: AccountId,
    },
}

pub use crate::rejection::{Rejection, TextMistake};

pub type Outcome = Result<Reply, Rejection>;

/// Where a command may name only an entity of the caller's own. Rooms and templates live in their
/// creator's partition, so one whose id is of another partition cannot be the caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnedOnly {
    /// A drop is added to one of the caller's rooms.
    DropRoom,
    /// An episode is scheduled in one of the caller's rooms.
    EpisodeRoom,
    /// A room is built from one of the caller's templates.
    RoomTemplate,
}
