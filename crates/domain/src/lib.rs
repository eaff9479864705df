//! The pure core of livedrop: accounts, catalogue, rooms, drops, holds, carts and orders as state
//! machines. `State::execute(now, envelope)` decides a command against the state and applies the
//! events it produces; `State::apply(event)` is the only way state changes, so replaying a journal
//! rebuilds exactly the state that produced it.
//!
//! Architecture invariant: this crate does no I/O, never reads the clock, spawns nothing and knows no
//! serialization format. Time, ids, token hashes and payment results are inputs.

mod command;
mod event;
mod finance;
mod fulfilment;
mod fulfilment_sla;
mod ids;
pub mod ledger;
mod limits;
mod model;
mod money;
mod reconciliation;
mod rejection;
mod rooms;
mod routing;
mod service_terms;
mod state;
mod webhooks;

pub use command::{
    Actor, Command, Envelope, IdempotencyKey, NewDrop, NewRefund, Outcome, OwnedOnly, PAYOUT_RULES_PARTITION,
    PaymentOutcome, RISK_RULES_PARTITION, RefundDecision, Rejection, Reply, TextMistake,
};
pub use event::Event;
pub use finance::{
    ContractState, Dispute, DisputeState, LineKind, PartnerKind, Payout, PayoutProfile, PayoutResult, PayoutState,
    ProfileInForce, ProfileRule, SaleTerms, Settlement, SplitContract, SplitShare, StatementLine,
};
pub use fulfilment::{
    FulfilmentChange, FulfilmentOrder, FulfilmentState, PICKUP_CODE_ATTEMPTS_MAX, PICKUP_CODE_WINDOW_MS, SignalOutcome,
    pickup_code,
};
pub use fulfilment_sla::{FulfilmentSamples, Spread};
pub use ids::{
    AccountId, CartId, DisputeId, DropId, EntityId, EpisodeId, FulfilmentId, HoldId, IdParseError, LedgerTxId, OrderId,
    PARTITION_COUNT, Partition, PayoutId, ProductId, ReconciliationId, RefundId, RoomId, SettlementId, SplitContractId,
    TemplateId, TokenId, WebhookEndpointId,
};
pub use limits::*;
pub use model::{
    Account, Cart, CartStatus, ClaimReceipt, Drop, DropPhase, DropStatus, Edition, Fulfilment, Hold, HoldStatus, Order,
    OrderLine, OrderReview, Product, Refund, RefundApproval, RefundLine, RefundRejection, RefundSide, RefundStatus,
    ReviewStatus, Role, Room, Token,
};
pub use money::{Currency, CurrencyError, Money};
pub use reconciliation::{CaseState, ReconciliationCase, StockCount};
pub use rooms::{
    Demo, Episode, EpisodeStatus, LivePoll, Pin, PollTally, Question, QuestionStatus, Rituals, Slot, Stage,
    StageAction, StageMember, StageRole, Template, TemplateRef, may_publish,
};
pub use service_terms::{DailyWindow, ServiceTerms};
pub use state::{ChargeStanding, EarningView, NewSplitContract, PayeeBalance, SETTLEMENT_PARTITION, State};
pub use webhooks::{
    AttemptOutcome, EndpointDisabled, EndpointSecret, WebhookAttempt, WebhookEndpoint, WebhookEventType, WebhookSecret,
};

/// Milliseconds since the Unix epoch, UTC. The domain never reads a clock: every caller passes `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn plus_ms(self, duration_ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(i64::try_from(duration_ms).unwrap_or(i64::MAX)))
    }
}
