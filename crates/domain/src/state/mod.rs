//! The state machine: `execute` decides and applies, `apply` is the only mutation, `advance` fires
//! due timers (hold expiry, drop open and close, a live episode's `ends_at`) as events.
//!
//! This file holds the state itself, its readers and `execute`, which dispatches each command to the
//! decision of its concern: `catalogue`, `sales`, `fraud`, `refunds` and `rooms`.

mod admins;
mod apply;
mod catalogue;
mod decision;
mod fraud;
mod fulfilment;
mod idempotency;
mod inbound;
mod invariants;
mod money;
mod reconciliation;
mod refunds;
mod rooms;
mod sales;
mod timers;
mod tokens;
mod webhooks;

use crate::limits::TITLE_CHARS_MAX;
use crate::{
    Account, AccountId, Actor, Cart, CartId, Command, Drop, DropId, EntityId, Envelope, Event, Hold, HoldId, Order,
    OrderId, Outcome, Partition, Product, ProductId, Refund, RefundId, Rejection, Role, Room, RoomId, Timestamp, Token,
    TokenId,
};
use decision::Decision;
use hashbrown::HashMap;
use idempotency::{IdempotencyRecord, RecordKey, digest};
pub use money::charges::ChargeStanding;
pub use money::contracts::NewSplitContract;
pub use money::settlement::SETTLEMENT_PARTITION;
pub use money::{EarningView, PayeeBalance};
use refunds::RefundBook;
use rooms::RoomBook;
use std::collections::{BTreeSet, VecDeque};
use timers::Deadline;

/// Everything a shard owns. Entities sit in hash maps (hashbrown's default hasher is seeded per
/// process, so collisions cannot be precomputed): every decision looks them up and none depends on
/// their iteration order. Order lives where it is the meaning: timers and the
/// idempotency expiry queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    accounts: HashMap<AccountId, Account>,
    handles: HashMap<String, AccountId>,
    /// The configured platform admins' handles, a namespace apart from `handles`: a buyer who
    /// signed up as `alice` before the operator named an admin so keeps their account.
    admin_handles: HashMap<String, AccountId>,
    products: HashMap<ProductId, Product>,
    rooms: HashMap<RoomId, Room>,
    drops: HashMap<DropId, Drop>,
    holds: HashMap<HoldId, Hold>,
    carts: HashMap<CartId, Cart>,
    orders: HashMap<OrderId, Order>,
    open_carts: HashMap<(AccountId, RoomId), CartId>,
    /// Units a buyer holds or bought (and was not refunded) in a drop, checked against the limit.
    buyer_units: HashMap<(DropId, AccountId), u32>,
    refunds: RefundBook,
    /// Templates, episodes and their stages.
    room_book: RoomBook,
    idempotency: HashMap<RecordKey, IdempotencyRecord>,
    /// When each idempotency record stops mattering, in the order they were recorded, so `advance`
    /// forgets from the front (a clock stepping back only delays forgetting: lookups ignore expired
    /// records anyway). An entry whose record was recorded again since is stale and skipped.
    idempotency_expiries: VecDeque<(Timestamp, RecordKey)>,
    /// Highest serial allocated in each partition; new ids continue from it.
    serials: HashMap<Partition, u64>,
    deadlines: BTreeSet<(Timestamp, Deadline)>,
    /// The platform's fraud rules and how many times they were saved (partition 0's shard only).
    risk_rules: Option<(String, u64)>,
    /// Every bearer token of the shard's accounts, the sign-up tokens included, revoked ones kept.
    tokens: HashMap<TokenId, Token>,
    /// Each account's tokens, oldest first.
    account_tokens: HashMap<AccountId, Vec<TokenId>>,
    /// The ledger's books, split contracts, payout profiles, settlements and payouts.
    money: money::MoneyBook,
    /// Outbound webhook endpoints of the shard's accounts.
    webhooks: webhooks::WebhookBook,
    /// Fulfilment orders of the shard's orders.
    fulfilment: fulfilment::FulfilmentBook,
    /// Hub stock counts and the reconciliation cases short ones opened.
    reconciliation: reconciliation::ReconciliationBook,
    /// Each account's inbound webhook secrets, the newest first.
    inbound_secrets: HashMap<AccountId, Vec<crate::EndpointSecret>>,
}

/// Hands out fresh ids for one decision without mutating the state.
struct IdAllocator {
    partition: Partition,
    next_serial: u64,
}

impl IdAllocator {
    fn next(&mut self) -> EntityId {
        let id = EntityId { partition: self.partition, serial: self.next_serial };
        self.next_serial += 1;
        id
    }
}

fn check_title(field: &str, title: &str) -> Result<(), Rejection> {
    let n_chars = title.chars().count();
    if title.trim().is_empty() || n_chars > TITLE_CHARS_MAX || title.chars().any(char::is_control) {
        return Err(Rejection::invalid(field, format!("must be 1 to {TITLE_CHARS_MAX} printable characters")));
    }
    Ok(())
}

fn require_role(actor: &Actor, role: Role) -> Result<(), Rejection> {
    if actor.role == role { Ok(()) } else { Err(Rejection::Forbidden) }
}

impl State {
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(&id)
    }
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }
    pub fn token(&self, id: TokenId) -> Option<&Token> {
        self.tokens.get(&id)
    }
    /// An account's tokens, oldest first (the sign-up token first), revoked and expired ones too.
    pub fn tokens_of(&self, account_id: AccountId) -> impl Iterator<Item = &Token> {
        let ids = self.account_tokens.get(&account_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.tokens[id])
    }
    /// Every token of the shard's accounts, in no particular order.
    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        self.tokens.values()
    }
    pub fn product(&self, id: ProductId) -> Option<&Product> {
        self.products.get(&id)
    }
    pub fn room(&self, id: RoomId) -> Option<&Room> {
        self.rooms.get(&id)
    }
    pub fn drop(&self, id: DropId) -> Option<&Drop> {
        self.drops.get(&id)
    }
    pub fn hold(&self, id: HoldId) -> Option<&Hold> {
        self.holds.get(&id)
    }
    pub fn cart(&self, id: CartId) -> Option<&Cart> {
        self.carts.get(&id)
    }
    pub fn order(&self, id: OrderId) -> Option<&Order> {
        self.orders.get(&id)
    }
    pub fn refund(&self, id: RefundId) -> Option<&Refund> {
        self.refunds.refunds.get(&id)
    }
    /// The refunds of an order, oldest first.
    pub fn order_refunds(&self, order_id: OrderId) -> impl Iterator<Item = &Refund> {
        let ids = self.refunds.by_order.get(&order_id).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.refunds.refunds[id])
    }
    /// Refunds approved but not executed yet: the engine pays them back (again, after a restart).
    pub fn approved_refunds(&self) -> impl Iterator<Item = &Refund> {
        self.refunds.refunds.values().filter(|refund| refund.status == crate::RefundStatus::Approved)
    }
    /// The saved fraud rules' text and version, if rules were ever saved (on the shard of partition 0).
    pub fn risk_rules(&self) -> Option<(&str, u64)> {
        self.risk_rules.as_ref().map(|(text, version)| (text.as_str(), *version))
    }
    pub fn buyer_units(&self, drop_id: DropId, buyer_id: AccountId) -> u32 {
        self.buyer_units.get(&(drop_id, buyer_id)).copied().unwrap_or(0)
    }
    /// The highest serial allocated in `partition`: every entity id of it is one of `1..=` this.
    pub fn serials_issued(&self, partition: Partition) -> u64 {
        self.serials.get(&partition).copied().unwrap_or(0)
    }

    /// Fires due timers, then decides `envelope` against the state, applies what it produced, appends
    /// every event applied to `events` (timers first) and returns the outcome. Takes the envelope by
    /// value so its idempotency key moves into the journaled record rather than being copied.
    pub fn execute(&mut self, now: Timestamp, envelope: Envelope, events: &mut Vec<Event>) -> Outcome {
        // A command its ids alone rule out is refused before anything else: it never started
        // executing, so it changes nothing, not even a timer, and neither answers from nor writes an
        // idempotency record (the same key stays free for the corrected request).
        envelope.command.check_partitions()?;
        self.advance_into(now, events);
        let Envelope { idempotency, command } = envelope;
        let partition = command.partition();
        let record_key = idempotency.as_ref().map(|key| (partition, key.owner, digest(&key.key)));
        if let (Some(key), Some(record_key)) = (&idempotency, &record_key)
            && let Some(recorded) = self.recorded_answer(record_key, &key.fingerprint, now)
        {
            return recorded;
        }
        let outcome = match self.decide(now, &command) {
            Ok(Decision { events: decided, reply }) => {
                for event in &decided {
                    self.apply(event);
                }
                let outcome = self.reply_of(reply);
                events.extend(decided);
                outcome
            }
            Err(rejection) => Err(rejection),
        };
        // Validation failures are not recorded (as with Stripe): the request never started executing.
        let recordable = !matches!(outcome, Err(Rejection::Invalid { .. }));
        if let (Some(key), Some(record_key), true) = (idempotency, record_key, recordable) {
            // What `apply` does for this event, with the key's digest already at hand.
            self.record_answer(record_key, digest(&key.fingerprint), outcome.clone(), now);
            events.push(Event::IdempotencyRecorded {
                partition,
                owner: key.owner,
                key: key.key,
                fingerprint: key.fingerprint,
                outcome: outcome.clone(),
                at: now,
            });
        }
        outcome
    }

    fn allocator(&self, partition: Partition) -> IdAllocator {
        IdAllocator { partition, next_serial: self.serials.get(&partition).copied().unwrap_or(0) + 1 }
    }

    /// Pure: what `command` would produce against the current state, and what it answers.
    fn decide(&self, now: Timestamp, command: &Command) -> Result<Decision, Rejection> {
        match command {
            Command::CreateAccount { partition, handle, role, partner_kind, token_sha256 } => {
                self.decide_create_account(now, *partition, handle, *role, *partner_kind, token_sha256)
            }
            Command::CreateProduct { actor, title, price, stock, fulfilment, edition } => {
                self.decide_create_product(now, actor, title, *price, *stock, *fulfilment, edition.as_ref())
            }
            Command::CreateRoom { actor, title, template_id } => {
                self.decide_create_room(now, actor, title, *template_id)
            }
            Command::CreateDrop { actor, drop } => self.decide_create_drop(now, actor, drop),
            Command::CloseDrop { actor, drop_id } => self.decide_close_drop(now, actor, *drop_id),
            Command::Claim { actor, drop_id, quantity, risk } => {
                self.decide_claim(now, actor, *drop_id, *quantity, risk.as_deref())
            }
            Command::Checkout { actor, cart_id, payment, risk, terms } => {
                let decided = self.decide_checkout(now, actor, *cart_id, payment, risk.as_deref(), terms);
                self.keep_unused_charge(now, *cart_id, payment, decided)
            }
            Command::ReleaseCharge { cart_id, charge_id, provider_refund_id } => {
                self.decide_release_charge(now, *cart_id, charge_id, provider_refund_id)
            }
            Command::KeepOrphanCharge { cart_id, charge_id, amount } => {
                self.decide_keep_orphan_charge(now, *cart_id, charge_id, *amount)
            }
            Command::ProposeSplitContract { actor, contract } => self.decide_propose_contract(now, actor, contract),
            Command::AnswerSplitContract { actor, contract_id, accept } => {
                self.decide_answer_contract(now, actor, *contract_id, *accept)
            }
            Command::SetPayoutProfile { actor, account_id, profile } => {
                self.decide_set_payout_profile(now, actor, *account_id, *profile)
            }
            Command::ClearPayoutProfile { actor, account_id } => {
                self.decide_clear_payout_profile(now, actor, *account_id)
            }
            Command::SavePayoutRules { actor, text, rules } => self.decide_save_payout_rules(now, actor, text, rules),
            Command::ApplyPayoutRule { account_id, rules_version, by, outcome } => {
                self.decide_apply_payout_rule(now, *account_id, *rules_version, *by, outcome.as_ref())
            }
            Command::StartSettlement { actor, minimum_minor } => {
                self.decide_start_settlement(now, actor.as_ref(), *minimum_minor)
            }
            Command::SettleBook { settlement, book } => self.decide_settle_book(settlement, *book),
            Command::CompletePayout { payout_id, result } => self.decide_complete_payout(now, *payout_id, result),
            Command::OpenDispute { actor, order_id, amount_minor, reason } => {
                self.decide_open_dispute(now, actor, *order_id, *amount_minor, reason)
            }
            Command::DecideDispute { actor, dispute_id, won } => {
                self.decide_dispute_outcome(now, actor, *dispute_id, *won)
            }
            Command::SaveRiskRules { actor, text, rules } => self.decide_save_risk_rules(now, actor, text, rules),
            Command::ReviewOrder { actor, order_id, approve, reason } => {
                self.decide_review_order(now, actor, *order_id, *approve, reason.as_deref())
            }
            Command::RequestRefund { actor, order_id, refund } => {
                self.decide_request_refund(now, actor, *order_id, refund)
            }
            Command::DecideRefund { actor, refund_id, decision } => {
                self.decide_refund_decision(now, actor, *refund_id, decision)
            }
            Command::CompleteRefund { refund_id, provider_refund_id } => {
                self.decide_complete_refund(now, *refund_id, provider_refund_id)
            }
            Command::SaveTemplate { actor, name, slots } => self.decide_save_template(now, actor, name, slots),
            Command::ScheduleEpisode { actor, room_id, title, starts_at, ends_at } => {
                self.decide_schedule_episode(now, actor, *room_id, title, *starts_at, *ends_at)
            }
            Command::StartEpisode { actor, episode_id } => self.decide_start_episode(now, actor, *episode_id),
            Command::EndEpisode { actor, episode_id } => self.decide_end_episode(now, actor, *episode_id),
            Command::ChangeStage { actor, episode_id, action } => {
                self.decide_change_stage(now, actor, *episode_id, *action)
            }
            Command::VotePoll { actor, episode_id, slot, option } => {
                self.decide_vote_poll(now, actor, *episode_id, *slot, *option)
            }
            Command::AskQuestion { actor, episode_id, text } => self.decide_ask_question(now, actor, *episode_id, text),
            Command::UpvoteQuestion { actor, episode_id, number } => {
                self.decide_upvote_question(now, actor, *episode_id, *number)
            }
            Command::ResolveQuestion { actor, episode_id, number, answered } => {
                self.decide_resolve_question(now, actor, *episode_id, *number, *answered)
            }
            Command::PinDrop { actor, episode_id, drop_id } => self.decide_pin_drop(now, actor, *episode_id, *drop_id),
            Command::UnpinDrop { actor, episode_id } => self.decide_unpin_drop(now, actor, *episode_id),
            Command::StartDemo { actor, episode_id, product_id, seconds } => {
                self.decide_start_demo(now, actor, *episode_id, *product_id, *seconds)
            }
            Command::StopDemo { actor, episode_id } => self.decide_stop_demo(now, actor, *episode_id),
            Command::StartPoll { actor, episode_id, question, options } => {
                self.decide_start_poll(now, actor, *episode_id, question, options)
            }
            Command::ClosePoll { actor, episode_id, slot } => self.decide_close_poll(now, actor, *episode_id, *slot),
            Command::ConfigureAdmin { partition, handle, token_sha256s } => {
                self.decide_configure_admin(now, *partition, handle, token_sha256s)
            }
            Command::IssueToken { actor, token_sha256, expires_at } => {
                self.decide_issue_token(now, actor, token_sha256, *expires_at)
            }
            Command::RevokeToken { actor, token_id } => self.decide_revoke_token(now, actor, *token_id),
            Command::CreateWebhookEndpoint { actor, url, events, secret } => {
                self.decide_create_webhook_endpoint(now, actor, url, events, secret)
            }
            Command::DeleteWebhookEndpoint { actor, endpoint_id } => {
                self.decide_delete_webhook_endpoint(now, actor, *endpoint_id)
            }
            Command::RotateWebhookSecret { actor, endpoint_id, secret } => {
                self.decide_rotate_webhook_secret(now, actor, *endpoint_id, secret)
            }
            Command::RedeliverWebhook { actor, endpoint_id, message_id } => {
                self.decide_redeliver_webhook(now, actor, *endpoint_id, message_id)
            }
            Command::RecordWebhookAttempt { attempt } => self.decide_record_webhook_attempt(attempt),
            Command::SetInboundSecret { actor, secret } => self.decide_set_inbound_secret(now, actor, secret),
            Command::SignalFulfilment { actor, fulfilment_id, to, eta, version } => {
                self.decide_fulfilment_signal(now, actor, *fulfilment_id, *to, *eta, *version)
            }
            Command::UpdateFulfilment { actor, fulfilment_id, to, eta, pickup_code } => {
                self.decide_update_fulfilment(now, actor, *fulfilment_id, *to, *eta, pickup_code.as_deref())
            }
            Command::SignalStock { actor, drop_id, on_hand, version } => {
                self.decide_stock_signal(now, actor, *drop_id, *on_hand, *version)
            }
            Command::DecideReconciliation { actor, case_id, accept, reason } => {
                self.decide_reconciliation(now, actor, *case_id, *accept, reason.as_deref())
            }
        }
    }
}
