//! What callers ask of the state, and what it answers.

use crate::state::NewSplitContract;
use crate::{
    Account, AccountId, CartId, ClaimReceipt, ContractState, Dispute, DisputeId, DisputeState, Drop, DropId, Episode,
    EpisodeId, Fulfilment, HoldId, Money, Order, OrderId, Partition, PartnerKind, Payout, PayoutId, PayoutProfile,
    PayoutResult, PollTally, Product, ProductId, Question, Refund, RefundId, RefundStatus, Role, Room, RoomId,
    SaleTerms, Settlement, Slot, SplitContract, SplitContractId, StageAction, Template, TemplateId, Timestamp, Token,
    TokenId,
};
use risk::{RuleError, RuleSet, Verdict};
use std::fmt;
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
    /// An admin sets when a creator's or partner's earnings become available.
    SetPayoutProfile {
        actor: Actor,
        account_id: AccountId,
        profile: PayoutProfile,
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
    RiskRules { text: String, version: u64 },
    Template(Box<Template>),
    Episode(Box<Episode>),
    Poll(Box<PollTally>),
    Question(Box<Question>),
    Token(Box<Token>),
    SplitContract(Box<SplitContract>),
    PayoutProfile { account_id: AccountId, profile: PayoutProfile },
    Settlement(Box<Settlement>),
    Payouts(Vec<Payout>),
    Payout(Box<Payout>),
    Dispute(Box<Dispute>),
    ChargeReleased { charge_id: String },
}

/// A mistake in a text with lines, located (both from 1, columns in characters).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextMistake {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Why a command changed nothing (except `PaymentDeclined`, which records the attempt).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Rejection {
    Invalid {
        field: String,
        message: String,
        /// Every mistake of a text with lines (the fraud rules), where it is; `message` tells the
        /// first. Empty for every other field.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mistakes: Vec<TextMistake>,
    },
    Forbidden,
    /// The command names a room or template of another partition where only the caller's own may
    /// be named: its id alone shows it is not the caller's. Answered with the code `forbidden`.
    NotYours {
        rule: OwnedOnly,
    },
    NotFound,
    HandleTaken,
    InsufficientStock {
        available: u64,
    },
    SoldOut {
        remaining: u64,
    },
    LimitExceeded {
        limit: u32,
        already: u32,
    },
    DropNotOpen,
    CartExpired,
    CartCheckedOut,
    CartFull,
    CartChanged,
    CurrencyMismatch,
    PaymentDeclined {
        decline_code: String,
    },
    IdempotencyKeyReused,
    /// More units (so more money) than the order has left to refund.
    RefundExceedsPaid {
        refundable_units: u64,
    },
    RefundNotPending {
        status: RefundStatus,
    },
    /// A fraud rule blocked the request; which one is journaled, never told to the caller.
    BlockedByRisk,
    OrderNotInReview,
    /// Another episode of the room is live; a room hosts one live session at a time.
    EpisodeAlreadyLive,
    EpisodeNotLive,
    EpisodeEnded,
    /// The episode's `ends_at` has passed: it can no longer start.
    EpisodeOver,
    BannedFromEpisode,
    /// The account the action is about (or the caller) is not in the episode's stage.
    NotInEpisode,
    EpisodeFull,
    /// One vote per account in a poll, one upvote per account on a question.
    AlreadyVoted,
    /// The question was answered or dismissed.
    QuestionClosed,
    /// A demo window is still running; stop it first.
    DemoRunning,
    /// The poll was closed: it takes no more votes.
    PollClosed,
    /// The account has as many live tokens as it may; revoke one first.
    TooManyTokens {
        limit: u32,
    },
    /// A drop may reference only a split contract every partner accepted.
    SplitNotAccepted {
        state: ContractState,
    },
    /// The contract was already answered by this partner, or is no longer pending.
    ContractAnswered {
        state: ContractState,
    },
    /// A split contract's shares add up to more than the whole (10 000 basis points).
    SharesExceedWhole {
        total_bps: u32,
    },
    /// A split contract names an account that is not a partner.
    UnknownPartner {
        partner_id: AccountId,
    },
    /// The order already has a dispute; a charge is disputed once.
    AlreadyDisputed,
    /// The dispute was already decided.
    DisputeNotOpen {
        state: DisputeState,
    },
    /// The order's charge is disputed (open, or lost): its money is no longer the platform's to refund.
    OrderDisputed,
}

impl Rejection {
    pub fn invalid(field: &str, message: impl Into<String>) -> Rejection {
        Rejection::Invalid { field: field.to_owned(), message: message.into(), mistakes: Vec::new() }
    }

    /// Refuses a text with lines for every mistake in it, each located.
    pub fn invalid_text(field: &str, errors: &[RuleError]) -> Rejection {
        let mistakes: Vec<TextMistake> = errors
            .iter()
            .map(|error| TextMistake { line: error.line, column: error.column, message: error.message.clone() })
            .collect();
        let message = errors.first().map(ToString::to_string).unwrap_or_default();
        Rejection::Invalid { field: field.to_owned(), message, mistakes }
    }

    /// The stable, snake_case code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid { .. } => "invalid_request",
            Rejection::Forbidden | Rejection::NotYours { .. } => "forbidden",
            Rejection::NotFound => "not_found",
            Rejection::HandleTaken => "handle_taken",
            Rejection::InsufficientStock { .. } => "insufficient_stock",
            Rejection::SoldOut { .. } => "sold_out",
            Rejection::LimitExceeded { .. } => "limit_exceeded",
            Rejection::DropNotOpen => "drop_not_open",
            Rejection::CartExpired => "cart_expired",
            Rejection::CartCheckedOut => "cart_checked_out",
            Rejection::CartFull => "cart_full",
            Rejection::CartChanged => "cart_changed",
            Rejection::CurrencyMismatch => "currency_mismatch",
            Rejection::PaymentDeclined { .. } => "payment_declined",
            Rejection::IdempotencyKeyReused => "idempotency_key_reused",
            Rejection::RefundExceedsPaid { .. } => "refund_exceeds_paid",
            Rejection::RefundNotPending { .. } => "refund_not_pending",
            Rejection::BlockedByRisk => "blocked_by_risk_rules",
            Rejection::OrderNotInReview => "order_not_in_review",
            Rejection::EpisodeAlreadyLive => "episode_already_live",
            Rejection::EpisodeNotLive => "episode_not_live",
            Rejection::EpisodeEnded => "episode_ended",
            Rejection::EpisodeOver => "episode_over",
            Rejection::BannedFromEpisode => "banned_from_episode",
            Rejection::NotInEpisode => "not_in_episode",
            Rejection::EpisodeFull => "episode_full",
            Rejection::AlreadyVoted => "already_voted",
            Rejection::QuestionClosed => "question_closed",
            Rejection::DemoRunning => "demo_running",
            Rejection::PollClosed => "poll_closed",
            Rejection::TooManyTokens { .. } => "too_many_tokens",
            Rejection::SplitNotAccepted { .. } => "split_not_accepted",
            Rejection::ContractAnswered { .. } => "contract_already_answered",
            Rejection::SharesExceedWhole { .. } => "shares_exceed_whole",
            Rejection::UnknownPartner { .. } => "unknown_partner",
            Rejection::AlreadyDisputed => "already_disputed",
            Rejection::DisputeNotOpen { .. } => "dispute_not_open",
            Rejection::OrderDisputed => "order_disputed",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Invalid { field, message, .. } => write!(f, "{field}: {message}"),
            Rejection::Forbidden => f.write_str("your account may not do this"),
            Rejection::NotYours { rule: OwnedOnly::DropRoom } => f.write_str("only the room's creator may add drops"),
            Rejection::NotYours { rule: OwnedOnly::EpisodeRoom } => {
                f.write_str("only the room's creator may schedule episodes")
            }
            Rejection::NotYours { rule: OwnedOnly::RoomTemplate } => {
                f.write_str("rooms may be built from your own templates only")
            }
            Rejection::NotFound => f.write_str("no such resource"),
            Rejection::HandleTaken => f.write_str("that handle is taken"),
            Rejection::InsufficientStock { available } => {
                write!(f, "the product has {available} unallocated units")
            }
            Rejection::SoldOut { remaining } => write!(f, "the drop has {remaining} units left"),
            Rejection::LimitExceeded { limit, already } => {
                write!(f, "the drop allows {limit} units per buyer and you hold or bought {already}")
            }
            Rejection::DropNotOpen => f.write_str("the drop is not open"),
            Rejection::CartExpired => f.write_str("every hold in the cart has expired"),
            Rejection::CartCheckedOut => f.write_str("the cart was already checked out"),
            Rejection::CartFull => f.write_str("the cart holds as many items as it may"),
            Rejection::CartChanged => {
                f.write_str("the cart changed during checkout; no payment was kept, so check out again")
            }
            Rejection::CurrencyMismatch => f.write_str("a cart holds items of one currency only"),
            Rejection::PaymentDeclined { decline_code } => {
                write!(f, "the payment was declined ({decline_code}); your holds stay until they expire")
            }
            Rejection::IdempotencyKeyReused => f.write_str("this idempotency key was used with a different request"),
            Rejection::RefundExceedsPaid { refundable_units } => write!(
                f,
                "a refund may not exceed what was paid: {refundable_units} units of the order are left to refund"
            ),
            Rejection::RefundNotPending { status } => {
                write!(f, "the refund is {} and can no longer be decided", status.as_str())
            }
            Rejection::BlockedByRisk => f.write_str("this request was refused by the platform's risk rules"),
            Rejection::OrderNotInReview => f.write_str("the order is not waiting for a review"),
            Rejection::EpisodeAlreadyLive => f.write_str("another episode of this room is live; end it first"),
            Rejection::EpisodeNotLive => f.write_str("the episode is not live"),
            Rejection::EpisodeEnded => f.write_str("the episode has ended"),
            Rejection::EpisodeOver => f.write_str("the episode's ends_at has passed; schedule a new one"),
            Rejection::BannedFromEpisode => f.write_str("you were removed from this episode"),
            Rejection::NotInEpisode => f.write_str("that account has not joined the episode"),
            Rejection::EpisodeFull => f.write_str("the episode has as many members as it may"),
            Rejection::AlreadyVoted => f.write_str("you already voted on this"),
            Rejection::QuestionClosed => f.write_str("the question was already answered or dismissed"),
            Rejection::DemoRunning => f.write_str("a demo is running; stop it before starting another"),
            Rejection::PollClosed => f.write_str("the poll is closed"),
            Rejection::TooManyTokens { limit } => {
                write!(f, "an account may have {limit} live tokens; revoke one before issuing another")
            }
            Rejection::SplitNotAccepted { state } => {
                write!(f, "the split contract is {}; a drop may use an accepted contract only", state.as_str())
            }
            Rejection::ContractAnswered { state } => {
                write!(f, "you already answered this contract, or it is {} and takes no more answers", state.as_str())
            }
            Rejection::SharesExceedWhole { total_bps } => {
                write!(f, "the shares add up to {total_bps} basis points; at most 10000 may be shared")
            }
            Rejection::UnknownPartner { partner_id } => write!(f, "{partner_id} is not a partner account"),
            Rejection::AlreadyDisputed => f.write_str("the order's charge is already disputed"),
            Rejection::DisputeNotOpen { state } => {
                write!(f, "the dispute is {} and can no longer be decided", state.as_str())
            }
            Rejection::OrderDisputed => {
                f.write_str("the order's charge is disputed; the dispute, not a refund, decides where its money goes")
            }
        }
    }
}

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
