//! Why a command changed nothing: the refusals, their stable codes and their sentences.

use crate::{AccountId, ContractState, DisputeState, OwnedOnly, RefundStatus};
use risk::RuleError;
use std::fmt;

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
    /// The checkout's charge was journaled as unused (no order kept it in time) and is paid back;
    /// it pays for nothing any more.
    ChargeUnused,
    /// The account has as many live webhook endpoints as it may (delete one first), or has made as
    /// many as an account ever may.
    TooManyWebhookEndpoints {
        limit: u32,
    },
    /// The webhook endpoint is disabled (deleted, or its receiver answered 410 Gone).
    WebhookEndpointDisabled,
    /// The order waits for its fraud review: its goods are not handed over before it stands.
    OrderInReview,
    /// The pickup code entered is not the order's; `attempts_left` more before entering codes waits.
    WrongPickupCode {
        attempts_left: u32,
    },
    /// Too many wrong pickup codes lately: entering one waits `retry_after_secs`.
    PickupCodeLocked {
        retry_after_secs: u64,
    },
    /// The reconciliation case was accepted or disputed already.
    CaseDecided,
    /// A fulfilment order cannot go from `from` to `to` (delivered to in transit, a pickup shipped).
    FulfilmentTransition {
        from: crate::FulfilmentState,
        to: crate::FulfilmentState,
    },
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
            Rejection::ChargeUnused => "charge_unused",
            Rejection::TooManyWebhookEndpoints { .. } => "too_many_webhook_endpoints",
            Rejection::WebhookEndpointDisabled => "webhook_endpoint_disabled",
            Rejection::FulfilmentTransition { .. } => "illegal_transition",
            Rejection::WrongPickupCode { .. } => "wrong_pickup_code",
            Rejection::OrderInReview => "order_in_review",
            Rejection::PickupCodeLocked { .. } => "pickup_code_locked",
            Rejection::CaseDecided => "case_already_decided",
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
            Rejection::ChargeUnused => f.write_str(
                "this checkout's payment was found without an order and is paid back; check out again with a new key",
            ),
            Rejection::TooManyWebhookEndpoints { limit } => {
                write!(f, "the account has reached its limit of {limit} webhook endpoints")
            }
            Rejection::WebhookEndpointDisabled => f.write_str("the webhook endpoint is disabled"),
            Rejection::OrderInReview => {
                f.write_str("the order waits for its fraud review; only cancelling is possible")
            }
            Rejection::WrongPickupCode { attempts_left } => {
                write!(f, "that is not this order's pickup code; {attempts_left} attempts left")
            }
            Rejection::PickupCodeLocked { retry_after_secs } => {
                write!(f, "too many wrong pickup codes; try again in {retry_after_secs} s")
            }
            Rejection::FulfilmentTransition { from, to } => {
                write!(f, "a fulfilment order cannot go from {} to {}", from.name(), to.name())
            }
            Rejection::CaseDecided => f.write_str("the reconciliation case was decided already"),
        }
    }
}
