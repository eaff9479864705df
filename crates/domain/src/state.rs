//! The state machine: `execute` decides and applies, `apply` is the only mutation, `advance` fires
//! due timers (hold expiry, drop open and close, a live episode's `ends_at`) as events.

mod refunds;
mod rooms;

use crate::command::IdempotencyKey;
use crate::limits::*;
use crate::{
    Account, AccountId, Actor, Cart, CartId, CartStatus, ClaimReceipt, Command, Drop, DropId, DropPhase, EntityId,
    Envelope, EpisodeId, Event, Hold, HoldId, HoldStatus, Money, NewDrop, Order, OrderId, OrderLine, OrderReview,
    Outcome, Partition, PaymentOutcome, Product, ProductId, Refund, RefundId, Rejection, Reply, ReviewStatus, Role,
    Room, RoomId, Timestamp,
};
use hashbrown::HashMap;
use refunds::RefundBook;
use risk::{Action, Verdict};
use rooms::RoomBook;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::BuildHasher;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deadline {
    DropOpen(DropId),
    DropClose(DropId),
    HoldExpiry(HoldId),
    /// A live episode reaches its `ends_at`: it ends as if its host had ended it.
    EpisodeEnd(EpisodeId),
}

/// When a live episode's timer fires: its `ends_at`, or its start if it went live later (only an
/// episode journaled before starts were refused after `ends_at` can have), so it never ends before
/// it started. `None` for an episode that is not live or has no `ends_at`.
fn episode_end_deadline(episode: &crate::Episode) -> Option<Timestamp> {
    if episode.status != crate::EpisodeStatus::Live {
        return None;
    }
    let ends_at = episode.ends_at?;
    Some(episode.started_at.map_or(ends_at, |started_at| ends_at.max(started_at)))
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct IdempotencyRecord {
    fingerprint: Digest,
    outcome: Outcome,
    at: Timestamp,
}

/// A 128-bit digest standing in for a client's string (its key, its request's fingerprint) in the
/// state, so that recording an answer allocates nothing and a record is a fixed size; the journaled
/// event keeps the strings themselves. The owner is part of the record's key, outside the digest, so
/// a collision (accidentally about 2^-64 per pair, and no hash with public seeds is safe from one
/// crafted on purpose) could only mix up the requests of the owner whose keys collide.
type Digest = [u64; 2];

/// Two foldhash hashes with fixed seeds: the same in every process, so a state replayed from the
/// journal equals the live one, and a few nanoseconds for a short key where SipHash took tens.
/// Digests are never stored, so the seeds are free to change between versions.
fn digest(text: &str) -> Digest {
    const SEEDS: [foldhash::quality::FixedState; 2] = [
        foldhash::quality::FixedState::with_seed(0x6c69_7665_6472_6f70),
        foldhash::quality::FixedState::with_seed(0x6964_656d_706f_7465),
    ];
    SEEDS.map(|seed| seed.hash_one(text))
}

/// An idempotency record's key: the partition that executed the request (so records never merge when
/// partitions are regrouped under another shard count), the owner, the digest of the client's key.
type RecordKey = (Partition, AccountId, Digest);

/// Everything a shard owns. Entities sit in hash maps (hashbrown's default hasher is seeded per
/// process, so collisions cannot be precomputed): every decision looks them up and none depends on
/// their iteration order. Order lives where it is the meaning: timers and the
/// idempotency expiry queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    accounts: HashMap<AccountId, Account>,
    handles: HashMap<String, AccountId>,
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

fn check_handle(handle: &str) -> Result<(), Rejection> {
    let ok_chars = handle.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !(HANDLE_CHARS_MIN..=HANDLE_CHARS_MAX).contains(&handle.len()) || !ok_chars {
        return Err(Rejection::invalid(
            "handle",
            format!("must be {HANDLE_CHARS_MIN} to {HANDLE_CHARS_MAX} characters of a-z, 0-9 and _"),
        ));
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

    /// Idempotency records held, expired or not; expired ones go as `advance` forgets them.
    /// The highest serial allocated in `partition`: every entity id of it is one of `1..=` this.
    pub fn serials_issued(&self, partition: Partition) -> u64 {
        self.serials.get(&partition).copied().unwrap_or(0)
    }

    pub fn n_idempotency_records(&self) -> usize {
        self.idempotency.len()
    }

    /// When the next timer is due, so the shard knows how long it may sleep.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Fires every timer due at or before `now`, applying and returning the events, and forgets
    /// idempotency records past their TTL. Forgetting is not a fact: an expired record can change no
    /// outcome, so it needs no event, and a replayed state equals the live one once both are advanced
    /// to the same `now`.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        self.advance_into(now, &mut events);
        events
    }

    /// `advance`, appending the events to `events`.
    fn advance_into(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        self.forget_expired_idempotency(now);
        while let Some(&(at, deadline)) = self.deadlines.first() {
            if at > now {
                break;
            }
            let event = match deadline {
                Deadline::DropOpen(drop_id) => Event::DropOpened { drop_id, at },
                Deadline::DropClose(drop_id) => Event::DropClosed { drop_id, at, by_creator: false },
                Deadline::HoldExpiry(hold_id) => {
                    let hold = &self.holds[&hold_id];
                    Event::HoldExpired { hold_id, drop_id: hold.drop_id, quantity: hold.quantity, at }
                }
                Deadline::EpisodeEnd(episode_id) => Event::EpisodeEnded { episode_id, at },
            };
            let n_deadlines_before = self.deadlines.len();
            self.apply(&event);
            assert!(self.deadlines.len() < n_deadlines_before, "a fired deadline must be consumed");
            events.push(event);
        }
    }

    fn forget_expired_idempotency(&mut self, now: Timestamp) {
        for _ in 0..IDEMPOTENCY_FORGOTTEN_PER_ADVANCE_MAX {
            match self.idempotency_expiries.front() {
                Some((expires_at, _)) if *expires_at <= now => {}
                _ => return,
            }
            let (expires_at, key) = self.idempotency_expiries.pop_front().expect("checked above");
            let current =
                self.idempotency.get(&key).is_some_and(|record| record.at.plus_ms(IDEMPOTENCY_TTL_MS) == expires_at);
            if current {
                self.idempotency.remove(&key);
            }
        }
    }

    /// Fires due timers, then decides `envelope` against the state, applies what it produced, appends
    /// every event applied to `events` (timers first) and returns the outcome. Takes the envelope by
    /// value so its idempotency key moves into the journaled record rather than being copied.
    pub fn execute(&mut self, now: Timestamp, envelope: Envelope, events: &mut Vec<Event>) -> Outcome {
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
            Ok(decided) => {
                for event in &decided {
                    self.apply(event);
                }
                let outcome = self.outcome_of(&command, &decided);
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

    /// The answer already recorded for `key`: the stored outcome for the same request, a refusal for a
    /// different one, `None` when the key is new (or older than `IDEMPOTENCY_TTL_MS`).
    /// Keys are scoped to their owner and to the partition (the creator) the request went to.
    pub fn recorded_outcome(&self, partition: Partition, key: &IdempotencyKey, now: Timestamp) -> Option<Outcome> {
        self.recorded_answer(&(partition, key.owner, digest(&key.key)), &key.fingerprint, now)
    }

    fn recorded_answer(&self, record_key: &RecordKey, fingerprint: &str, now: Timestamp) -> Option<Outcome> {
        let record = self.idempotency.get(record_key)?;
        if now >= record.at.plus_ms(IDEMPOTENCY_TTL_MS) {
            return None;
        }
        if record.fingerprint == digest(fingerprint) {
            Some(record.outcome.clone())
        } else {
            Some(Err(Rejection::IdempotencyKeyReused))
        }
    }

    fn allocator(&self, partition: Partition) -> IdAllocator {
        IdAllocator { partition, next_serial: self.serials.get(&partition).copied().unwrap_or(0) + 1 }
    }

    /// Pure: what `command` would produce against the current state.
    fn decide(&self, now: Timestamp, command: &Command) -> Result<Vec<Event>, Rejection> {
        match command {
            Command::CreateAccount { partition, handle, role, token_sha256 } => {
                check_handle(handle)?;
                if *role == Role::Admin {
                    return Err(Rejection::invalid("role", "must be buyer or creator"));
                }
                if self.handles.contains_key(handle) {
                    return Err(Rejection::HandleTaken);
                }
                let id = AccountId(self.allocator(*partition).next());
                let account = Account {
                    id,
                    handle: handle.clone(),
                    role: *role,
                    token_sha256: token_sha256.clone(),
                    created_at: now,
                };
                Ok(vec![Event::AccountCreated { account }])
            }
            Command::CreateProduct { actor, title, price, stock, fulfilment } => {
                require_role(actor, Role::Creator)?;
                check_title("title", title)?;
                if !(0..=PRICE_MINOR_MAX).contains(&price.minor) {
                    return Err(Rejection::invalid("price_minor", format!("must be 0 to {PRICE_MINOR_MAX}")));
                }
                if *stock > PRODUCT_STOCK_MAX {
                    return Err(Rejection::invalid("stock", format!("must be 0 to {PRODUCT_STOCK_MAX}")));
                }
                let product = Product {
                    id: ProductId(self.allocator(actor.id.partition()).next()),
                    creator_id: actor.id,
                    title: title.clone(),
                    price: *price,
                    stock: *stock,
                    allocated: 0,
                    fulfilment: *fulfilment,
                    created_at: now,
                };
                Ok(vec![Event::ProductCreated { product }])
            }
            Command::CreateRoom { actor, title, template_id } => {
                require_role(actor, Role::Creator)?;
                check_title("title", title)?;
                let (template, slots) = self.room_template(actor, *template_id)?;
                let room = Room {
                    id: RoomId(self.allocator(actor.id.partition()).next()),
                    creator_id: actor.id,
                    title: title.clone(),
                    drop_ids: Vec::new(),
                    created_at: now,
                    template,
                    slots,
                    episode_ids: Vec::new(),
                };
                Ok(vec![Event::RoomCreated { room }])
            }
            Command::CreateDrop { actor, drop } => self.decide_create_drop(now, actor, drop),
            Command::CloseDrop { actor, drop_id } => {
                let drop = self.drops.get(drop_id).ok_or(Rejection::NotFound)?;
                if actor.role != Role::Admin && actor.id != drop.creator_id {
                    return Err(Rejection::Forbidden);
                }
                if drop.phase == DropPhase::Closed {
                    return Ok(Vec::new());
                }
                Ok(vec![Event::DropClosed { drop_id: *drop_id, at: now, by_creator: true }])
            }
            Command::Claim { actor, drop_id, quantity, risk } => {
                self.decide_claim(now, actor, *drop_id, *quantity, risk.as_deref())
            }
            Command::Checkout { actor, cart_id, payment, risk } => {
                self.decide_checkout(now, actor, *cart_id, payment, risk.as_deref())
            }
            Command::SaveRiskRules { actor, text } => {
                require_role(actor, Role::Admin)?;
                if text.len() > RISK_RULES_BYTES_MAX {
                    return Err(Rejection::invalid("rules", format!("must be at most {RISK_RULES_BYTES_MAX} bytes")));
                }
                if let Err(errors) = risk::parse(text) {
                    return Err(Rejection::invalid("rules", errors[0].to_string()));
                }
                let version = self.risk_rules.as_ref().map_or(0, |(_, version)| *version) + 1;
                Ok(vec![Event::RiskRulesSaved { text: text.clone(), version, at: now }])
            }
            Command::ReviewOrder { actor, order_id, approve, reason } => {
                require_role(actor, Role::Admin)?;
                let order = self.orders.get(order_id).ok_or(Rejection::NotFound)?;
                if let Some(reason) = reason {
                    check_title("reason", reason)?;
                }
                match &order.review {
                    Some(review) if review.status == ReviewStatus::Pending => {
                        let reviewed = Event::OrderReviewed {
                            order_id: *order_id,
                            approved: *approve,
                            reason: reason.clone(),
                            at: now,
                        };
                        let mut events = vec![reviewed];
                        // A rejected order is paid back whole, at once: the platform's own decision
                        // needs no second sign-off.
                        if !*approve {
                            events.extend(self.refund_rejected_order(now, actor, order, reason.as_deref()));
                        }
                        Ok(events)
                    }
                    _ => Err(Rejection::OrderNotInReview),
                }
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
        }
    }

    fn decide_create_drop(&self, now: Timestamp, actor: &Actor, new: &NewDrop) -> Result<Vec<Event>, Rejection> {
        let NewDrop { room_id, product_id, quantity, per_buyer_limit, hold_seconds, opens_at, closes_at } = *new;
        require_role(actor, Role::Creator)?;
        if !(1..=DROP_QUANTITY_MAX).contains(&quantity) {
            return Err(Rejection::invalid("quantity", format!("must be 1 to {DROP_QUANTITY_MAX}")));
        }
        if !(1..=PER_BUYER_LIMIT_MAX).contains(&per_buyer_limit) {
            return Err(Rejection::invalid("per_buyer_limit", format!("must be 1 to {PER_BUYER_LIMIT_MAX}")));
        }
        if !(HOLD_SECONDS_MIN..=HOLD_SECONDS_MAX).contains(&hold_seconds) {
            return Err(Rejection::invalid(
                "hold_seconds",
                format!("must be {HOLD_SECONDS_MIN} to {HOLD_SECONDS_MAX}"),
            ));
        }
        let opens_at = opens_at.unwrap_or(now);
        if opens_at.0 > now.0 + SCHEDULE_AHEAD_MS_MAX {
            return Err(Rejection::invalid("opens_at", "must be within a year from now"));
        }
        if let Some(closes_at) = closes_at {
            if closes_at <= opens_at.max(now) {
                return Err(Rejection::invalid("closes_at", "must be after opens_at and in the future"));
            }
            if closes_at.0 > opens_at.0 + SCHEDULE_AHEAD_MS_MAX {
                return Err(Rejection::invalid("closes_at", "must be within a year of opens_at"));
            }
        }
        let room = self.rooms.get(&room_id).ok_or(Rejection::NotFound)?;
        if room.creator_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        let product = match self.products.get(&product_id) {
            Some(product) if product.creator_id == actor.id => product,
            _ => {
                return Err(Rejection::invalid("product_id", "no product of yours has this id"));
            }
        };
        let available = product.stock - product.allocated;
        if quantity > available {
            return Err(Rejection::InsufficientStock { available });
        }
        let drop = Drop {
            id: DropId(self.allocator(actor.id.partition()).next()),
            room_id,
            product_id,
            creator_id: actor.id,
            title: product.title.clone(),
            unit_price: product.price,
            quantity,
            remaining: quantity,
            held: 0,
            sold: 0,
            released: 0,
            per_buyer_limit,
            hold_ms: hold_seconds * 1_000,
            opens_at,
            closes_at,
            phase: DropPhase::Scheduled,
            created_at: now,
        };
        let drop_id = drop.id;
        let mut events = vec![Event::DropCreated { drop }];
        if opens_at <= now {
            events.push(Event::DropOpened { drop_id, at: now });
        }
        Ok(events)
    }

    fn decide_claim(
        &self,
        now: Timestamp,
        actor: &Actor,
        drop_id: DropId,
        quantity: u32,
        risk: Option<&Verdict>,
    ) -> Result<Vec<Event>, Rejection> {
        require_role(actor, Role::Buyer)?;
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        let risk_decided = |cart_id, verdict: &Verdict| Event::RiskDecided {
            partition: drop_id.partition(),
            buyer_id: actor.id,
            drop_id: Some(drop_id),
            cart_id,
            verdict: verdict.clone(),
            at: now,
        };
        if let Some(verdict) = risk.filter(|verdict| verdict.action == Action::Block) {
            return Ok(vec![risk_decided(None, verdict)]);
        }
        if quantity == 0 {
            return Err(Rejection::invalid("quantity", "must be at least 1"));
        }
        if drop.phase != DropPhase::Open {
            return Err(Rejection::DropNotOpen);
        }
        let already = self.buyer_units(drop_id, actor.id);
        if u64::from(already) + u64::from(quantity) > u64::from(drop.per_buyer_limit) {
            return Err(Rejection::LimitExceeded { limit: drop.per_buyer_limit, already });
        }
        if u64::from(quantity) > drop.remaining {
            return Err(Rejection::SoldOut { remaining: drop.remaining });
        }
        let mut ids = self.allocator(drop_id.partition());
        // Room for a cart, the hold and a risk decision, so the vector never grows.
        let mut events = Vec::with_capacity(3);
        // A cart whose holds have all expired is over: the claim starts a new one, so a cart's hold
        // list stays bounded and an old currency never locks the buyer out of the room.
        let open_cart = self.open_carts.get(&(actor.id, drop.room_id)).map(|cart_id| &self.carts[cart_id]);
        let first_active = open_cart.and_then(|cart| {
            let mut holds = cart.hold_ids.iter().map(|hold_id| &self.holds[hold_id]);
            holds.find(|hold| hold.status == HoldStatus::Active)
        });
        let cart_id = match (open_cart, first_active) {
            (Some(cart), Some(first_active)) => {
                if cart.hold_ids.len() >= CART_HOLDS_MAX {
                    return Err(Rejection::CartFull);
                }
                if first_active.unit_price.currency != drop.unit_price.currency {
                    return Err(Rejection::CurrencyMismatch);
                }
                cart.id
            }
            _ => {
                let cart_id = CartId(ids.next());
                events.push(Event::CartOpened { cart_id, room_id: drop.room_id, buyer_id: actor.id, at: now });
                cart_id
            }
        };
        let hold = Hold {
            id: HoldId(ids.next()),
            drop_id,
            cart_id,
            buyer_id: actor.id,
            quantity,
            unit_price: drop.unit_price,
            created_at: now,
            expires_at: now.plus_ms(drop.hold_ms),
            status: HoldStatus::Active,
        };
        events.push(Event::HoldPlaced { hold });
        if let Some(verdict) = risk {
            events.push(risk_decided(Some(cart_id), verdict));
        }
        Ok(events)
    }

    /// The lines and total a checkout of `cart_id` by `actor` would charge now.
    pub fn checkout_quote(&self, actor: &Actor, cart_id: CartId) -> Result<(Vec<OrderLine>, Money), Rejection> {
        let cart = match self.carts.get(&cart_id) {
            Some(cart) if cart.buyer_id == actor.id => cart,
            _ => return Err(Rejection::NotFound),
        };
        if matches!(cart.status, CartStatus::CheckedOut(_)) {
            return Err(Rejection::CartCheckedOut);
        }
        let mut lines = Vec::new();
        let mut total: Option<Money> = None;
        for hold in cart.hold_ids.iter().map(|hold_id| &self.holds[hold_id]) {
            if hold.status != HoldStatus::Active {
                continue;
            }
            let drop = &self.drops[&hold.drop_id];
            let line_total = hold.unit_price.times(u64::from(hold.quantity)).expect("limits keep totals in range");
            total = Some(match total {
                None => line_total,
                Some(sum) => sum.plus(line_total).expect("a cart has one currency and bounded totals"),
            });
            lines.push(OrderLine {
                hold_id: hold.id,
                drop_id: hold.drop_id,
                product_id: drop.product_id,
                title: drop.title.clone(),
                quantity: hold.quantity,
                unit_price: hold.unit_price,
            });
        }
        match total {
            Some(total) => Ok((lines, total)),
            None => Err(Rejection::CartExpired),
        }
    }

    fn decide_checkout(
        &self,
        now: Timestamp,
        actor: &Actor,
        cart_id: CartId,
        payment: &PaymentOutcome,
        risk: Option<&Verdict>,
    ) -> Result<Vec<Event>, Rejection> {
        let risk_decided = |verdict: &Verdict| Event::RiskDecided {
            partition: cart_id.partition(),
            buyer_id: actor.id,
            drop_id: None,
            cart_id: Some(cart_id),
            verdict: verdict.clone(),
            at: now,
        };
        if let Some(verdict) = risk.filter(|verdict| verdict.action == Action::Block) {
            return match self.carts.get(&cart_id) {
                Some(cart) if cart.buyer_id == actor.id => Ok(vec![risk_decided(verdict)]),
                _ => Err(Rejection::NotFound),
            };
        }
        let (lines, total) = self.checkout_quote(actor, cart_id)?;
        let (method, charge_id) = match payment {
            PaymentOutcome::Declined { method, decline_code } => {
                let mut events = vec![Event::PaymentDeclined {
                    cart_id,
                    method: method.clone(),
                    decline_code: decline_code.clone(),
                    at: now,
                }];
                events.extend(risk.map(risk_decided));
                return Ok(events);
            }
            // The quote before payment was refused, yet the cart can be bought now: it changed meanwhile.
            PaymentOutcome::NotAttempted => return Err(Rejection::CartChanged),
            PaymentOutcome::Approved { amount, quoted_hold_ids, .. }
                if *amount != total || !lines.iter().map(|line| line.hold_id).eq(quoted_hold_ids.iter().copied()) =>
            {
                return Err(Rejection::CartChanged);
            }
            PaymentOutcome::Approved { method, charge_id, .. } => (method, charge_id),
        };
        let cart = &self.carts[&cart_id];
        let order_id = OrderId(self.allocator(cart_id.partition()).next());
        let mut sold_by_drop: BTreeMap<DropId, (Vec<HoldId>, u64)> = BTreeMap::new();
        for line in &lines {
            let entry = sold_by_drop.entry(line.drop_id).or_default();
            entry.0.push(line.hold_id);
            entry.1 += u64::from(line.quantity);
        }
        let creator_id = self.rooms[&cart.room_id].creator_id;
        let flagged = cart.flagged_for_review || risk.is_some_and(|verdict| verdict.action == Action::Review);
        let order = Order {
            id: order_id,
            cart_id,
            room_id: cart.room_id,
            buyer_id: actor.id,
            creator_id,
            lines,
            total,
            payment_method: method.clone(),
            charge_id: charge_id.clone(),
            paid_at: now,
            review: flagged
                .then(|| Box::new(OrderReview { status: ReviewStatus::Pending, reason: None, decided_at: None })),
        };
        let mut events = vec![Event::OrderPlaced { order }];
        for (drop_id, (hold_ids, quantity)) in sold_by_drop {
            events.push(Event::HoldsSold { drop_id, order_id, hold_ids, quantity });
        }
        events.extend(risk.map(risk_decided));
        Ok(events)
    }

    /// What the events a command produced answer to the caller.
    fn outcome_of(&self, command: &Command, events: &[Event]) -> Outcome {
        // A risk decision that let the request through accompanies its primary event.
        let primary = events.iter().find(|event| match event {
            Event::CartOpened { .. } => false,
            Event::RiskDecided { verdict, .. } => verdict.action == Action::Block,
            _ => true,
        });
        match primary {
            Some(Event::AccountCreated { account }) => Ok(Reply::Account(Box::new(self.accounts[&account.id].clone()))),
            Some(Event::ProductCreated { product }) => Ok(Reply::Product(Box::new(self.products[&product.id].clone()))),
            Some(Event::RoomCreated { room }) => Ok(Reply::Room(Box::new(self.rooms[&room.id].clone()))),
            Some(Event::DropCreated { drop }) => Ok(Reply::Drop(Box::new(self.drops[&drop.id].clone()))),
            Some(Event::DropClosed { drop_id, .. }) => Ok(Reply::Drop(Box::new(self.drops[drop_id].clone()))),
            Some(Event::HoldPlaced { hold }) => Ok(Reply::Claimed(ClaimReceipt {
                hold_id: hold.id,
                cart_id: hold.cart_id,
                drop_id: hold.drop_id,
                quantity: hold.quantity,
                expires_at: hold.expires_at,
            })),
            Some(Event::PaymentDeclined { decline_code, .. }) => {
                Err(Rejection::PaymentDeclined { decline_code: decline_code.clone() })
            }
            Some(Event::OrderPlaced { order }) => Ok(Reply::Ordered(Box::new(self.orders[&order.id].clone()))),
            Some(Event::RiskDecided { .. }) => Err(Rejection::BlockedByRisk),
            Some(Event::RiskRulesSaved { text, version, .. }) => {
                Ok(Reply::RiskRules { text: text.clone(), version: *version })
            }
            Some(Event::OrderReviewed { order_id, .. }) => Ok(Reply::Ordered(Box::new(self.orders[order_id].clone()))),
            Some(Event::TemplateSaved { template }) => {
                Ok(Reply::Template(Box::new(self.room_book.templates[&template.id].clone())))
            }
            Some(Event::EpisodeScheduled { episode: crate::Episode { id: episode_id, .. } })
            | Some(Event::EpisodeStarted { episode_id, .. })
            | Some(Event::EpisodeEnded { episode_id, .. })
            | Some(Event::StageChanged { episode_id, .. })
            | Some(Event::DropPinned { episode_id, .. })
            | Some(Event::DropUnpinned { episode_id, .. })
            | Some(Event::DemoStarted { episode_id, .. })
            | Some(Event::DemoStopped { episode_id, .. }) => {
                Ok(Reply::Episode(Box::new(self.room_book.episodes[episode_id].clone())))
            }
            Some(Event::PollVoted { episode_id, slot, .. })
            | Some(Event::PollStarted { episode_id, slot, .. })
            | Some(Event::PollClosed { episode_id, slot, .. }) => {
                Ok(Reply::Poll(Box::new(self.poll_tally(*episode_id, *slot).expect("a known poll"))))
            }
            Some(Event::QuestionAsked { episode_id, number, .. })
            | Some(Event::QuestionUpvoted { episode_id, number, .. })
            | Some(Event::QuestionResolved { episode_id, number, .. }) => {
                Ok(Reply::Question(Box::new(self.question(*episode_id, *number).expect("a known question").clone())))
            }
            Some(Event::RefundRequested { refund: Refund { id: refund_id, .. } })
            | Some(Event::RefundApproved { refund_id, .. })
            | Some(Event::RefundRejected { refund_id, .. })
            | Some(Event::RefundExecuted { refund_id, .. }) => {
                Ok(Reply::Refund(Box::new(self.refunds.refunds[refund_id].clone())))
            }
            // Closing a drop that is already closed produces nothing and answers the drop as it is;
            // so do a repeated sign-off and completing an executed refund.
            None => match command {
                Command::CloseDrop { drop_id, .. } => Ok(Reply::Drop(Box::new(self.drops[drop_id].clone()))),
                Command::DecideRefund { refund_id, .. } | Command::CompleteRefund { refund_id, .. } => {
                    Ok(Reply::Refund(Box::new(self.refunds.refunds[refund_id].clone())))
                }
                // Starting a live episode, ending an ended one, a stage action that changes nothing;
                // pinning the pinned drop, unpinning or stopping what is not there.
                Command::StartEpisode { episode_id, .. }
                | Command::EndEpisode { episode_id, .. }
                | Command::ChangeStage { episode_id, .. }
                | Command::PinDrop { episode_id, .. }
                | Command::UnpinDrop { episode_id, .. }
                | Command::StopDemo { episode_id, .. } => {
                    Ok(Reply::Episode(Box::new(self.room_book.episodes[episode_id].clone())))
                }
                // Closing a closed poll.
                Command::ClosePoll { episode_id, slot, .. } => {
                    Ok(Reply::Poll(Box::new(self.poll_tally(*episode_id, *slot).expect("a known poll"))))
                }
                other => unreachable!("{other:?} decided no events"),
            },
            Some(other) => unreachable!("{} is never a command's primary event", other.kind()),
        }
    }

    fn note_id(&mut self, id: EntityId) {
        let serial = self.serials.entry(id.partition).or_insert(0);
        *serial = (*serial).max(id.serial);
    }

    /// Applies one fact. Facts were checked when decided; a fact that does not fit the state is a bug
    /// (or a corrupt journal) and stops the process rather than be half-applied.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::AccountCreated { account } => {
                self.note_id(account.id.0);
                let previous = self.handles.insert(account.handle.clone(), account.id);
                assert!(previous.is_none(), "handle {} taken twice", account.handle);
                self.accounts.insert(account.id, account.clone());
            }
            Event::ProductCreated { product } => {
                self.note_id(product.id.0);
                self.products.insert(product.id, product.clone());
            }
            Event::RoomCreated { room } => {
                self.note_id(room.id.0);
                self.rooms.insert(room.id, room.clone());
            }
            Event::DropCreated { drop } => {
                self.note_id(drop.id.0);
                let product = self.products.get_mut(&drop.product_id).expect("drop of a known product");
                product.allocated += drop.quantity;
                assert!(product.allocated <= product.stock, "product {} over-allocated", product.id);
                self.rooms.get_mut(&drop.room_id).expect("drop in a known room").drop_ids.push(drop.id);
                if drop.phase == DropPhase::Scheduled {
                    self.deadlines.insert((drop.opens_at, Deadline::DropOpen(drop.id)));
                }
                if let Some(closes_at) = drop.closes_at {
                    self.deadlines.insert((closes_at, Deadline::DropClose(drop.id)));
                }
                self.drops.insert(drop.id, drop.clone());
            }
            Event::DropOpened { drop_id, .. } => {
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                assert_eq!(drop.phase, DropPhase::Scheduled);
                drop.phase = DropPhase::Open;
                self.deadlines.remove(&(drop.opens_at, Deadline::DropOpen(*drop_id)));
            }
            Event::DropClosed { drop_id, .. } => {
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                if drop.phase == DropPhase::Scheduled {
                    self.deadlines.remove(&(drop.opens_at, Deadline::DropOpen(*drop_id)));
                }
                drop.phase = DropPhase::Closed;
                if let Some(closes_at) = drop.closes_at {
                    self.deadlines.remove(&(closes_at, Deadline::DropClose(*drop_id)));
                }
            }
            Event::CartOpened { cart_id, room_id, buyer_id, at } => {
                self.note_id(cart_id.0);
                self.carts.insert(
                    *cart_id,
                    Cart {
                        id: *cart_id,
                        room_id: *room_id,
                        buyer_id: *buyer_id,
                        hold_ids: Vec::new(),
                        status: CartStatus::Open,
                        declined_payments: 0,
                        flagged_for_review: false,
                        created_at: *at,
                    },
                );
                // It replaces an open cart only once every hold in that one has expired.
                if let Some(previous) = self.open_carts.insert((*buyer_id, *room_id), *cart_id) {
                    let holds = self.carts[&previous].hold_ids.iter().map(|hold_id| &self.holds[hold_id]);
                    assert!(
                        holds.clone().all(|hold| hold.status != HoldStatus::Active),
                        "cart {previous} replaced while live"
                    );
                }
            }
            Event::HoldPlaced { hold } => {
                self.note_id(hold.id.0);
                let drop = self.drops.get_mut(&hold.drop_id).expect("known drop");
                let quantity = u64::from(hold.quantity);
                assert!(drop.remaining >= quantity, "drop {} oversold", drop.id);
                drop.remaining -= quantity;
                drop.held += quantity;
                *self.buyer_units.entry((hold.drop_id, hold.buyer_id)).or_insert(0) += hold.quantity;
                self.carts.get_mut(&hold.cart_id).expect("known cart").hold_ids.push(hold.id);
                self.deadlines.insert((hold.expires_at, Deadline::HoldExpiry(hold.id)));
                self.holds.insert(hold.id, hold.clone());
            }
            Event::HoldExpired { hold_id, .. } => {
                let hold = self.holds.get_mut(hold_id).expect("known hold");
                assert_eq!(hold.status, HoldStatus::Active, "hold {hold_id} expired twice");
                hold.status = HoldStatus::Expired;
                let quantity = u64::from(hold.quantity);
                let drop = self.drops.get_mut(&hold.drop_id).expect("known drop");
                drop.held -= quantity;
                drop.remaining += quantity;
                let units = self.buyer_units.get_mut(&(hold.drop_id, hold.buyer_id)).expect("buyer units of a hold");
                *units -= hold.quantity;
                self.deadlines.remove(&(hold.expires_at, Deadline::HoldExpiry(*hold_id)));
            }
            Event::PaymentDeclined { cart_id, .. } => {
                self.carts.get_mut(cart_id).expect("known cart").declined_payments += 1;
            }
            Event::OrderPlaced { order } => {
                self.note_id(order.id.0);
                let cart = self.carts.get_mut(&order.cart_id).expect("known cart");
                assert_eq!(cart.status, CartStatus::Open, "cart {} checked out twice", cart.id);
                cart.status = CartStatus::CheckedOut(order.id);
                self.open_carts.remove(&(cart.buyer_id, cart.room_id));
                self.orders.insert(order.id, order.clone());
            }
            Event::HoldsSold { drop_id, hold_ids, quantity, .. } => {
                let mut n_units = 0;
                for hold_id in hold_ids {
                    let hold = self.holds.get_mut(hold_id).expect("known hold");
                    assert_eq!(hold.status, HoldStatus::Active, "hold {hold_id} sold while not active");
                    hold.status = HoldStatus::Sold;
                    n_units += u64::from(hold.quantity);
                    self.deadlines.remove(&(hold.expires_at, Deadline::HoldExpiry(*hold_id)));
                }
                assert_eq!(n_units, *quantity, "holds_sold quantity matches its holds");
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                drop.held -= quantity;
                drop.sold += quantity;
            }
            Event::LogCheckpointed { .. } => {} // about the log, not the state
            Event::RefundRequested { .. }
            | Event::RefundApproved { .. }
            | Event::RefundRejected { .. }
            | Event::RefundExecuted { .. }
            | Event::UnitsRefunded { .. } => self.apply_refund_event(event),
            Event::RiskDecided { cart_id, verdict, .. } => {
                if let (Some(cart_id), Action::Review) = (cart_id, verdict.action) {
                    self.carts.get_mut(cart_id).expect("known cart").flagged_for_review = true;
                }
            }
            Event::RiskRulesSaved { text, version, .. } => {
                self.risk_rules = Some((text.clone(), *version));
            }
            Event::OrderReviewed { order_id, approved, reason, at } => {
                let order = self.orders.get_mut(order_id).expect("known order");
                let review = order.review.as_mut().expect("an order under review");
                assert_eq!(review.status, ReviewStatus::Pending, "order {order_id} reviewed twice");
                review.status = if *approved { ReviewStatus::Approved } else { ReviewStatus::Rejected };
                review.reason = reason.clone();
                review.decided_at = Some(*at);
            }
            Event::TemplateSaved { template } => {
                self.note_id(template.id.0);
                self.apply_room_event(event);
            }
            Event::EpisodeScheduled { episode } => {
                self.note_id(episode.id.0);
                self.apply_room_event(event);
            }
            Event::EpisodeStarted { episode_id, .. } => {
                self.apply_room_event(event);
                if let Some(at) = self.room_book.episodes.get(episode_id).and_then(episode_end_deadline) {
                    self.deadlines.insert((at, Deadline::EpisodeEnd(*episode_id)));
                }
            }
            Event::EpisodeEnded { episode_id, .. } => {
                if let Some(at) = self.room_book.episodes.get(episode_id).and_then(episode_end_deadline) {
                    self.deadlines.remove(&(at, Deadline::EpisodeEnd(*episode_id)));
                }
                self.apply_room_event(event);
            }
            Event::StageChanged { .. }
            | Event::PollVoted { .. }
            | Event::QuestionAsked { .. }
            | Event::QuestionUpvoted { .. }
            | Event::QuestionResolved { .. }
            | Event::DropPinned { .. }
            | Event::DropUnpinned { .. }
            | Event::DemoStarted { .. }
            | Event::DemoStopped { .. }
            | Event::PollStarted { .. }
            | Event::PollClosed { .. } => self.apply_room_event(event),
            Event::IdempotencyRecorded { partition, owner, key, fingerprint, outcome, at } => {
                self.record_answer((*partition, *owner, digest(key)), digest(fingerprint), outcome.clone(), *at);
            }
        }
    }

    /// Applies `IdempotencyRecorded`, given its digests. A key may be recorded again once its earlier
    /// record expired but was not yet forgotten; the earlier expiry entry then goes stale.
    fn record_answer(&mut self, record_key: RecordKey, fingerprint: Digest, outcome: Outcome, at: Timestamp) {
        self.idempotency.insert(record_key, IdempotencyRecord { fingerprint, outcome, at });
        self.idempotency_expiries.push_back((at.plus_ms(IDEMPOTENCY_TTL_MS), record_key));
    }

    /// Checks every invariant the state promises; used by tests and after loading a journal.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut held_by_drop: BTreeMap<DropId, u64> = BTreeMap::new();
        let mut sold_by_drop: BTreeMap<DropId, u64> = BTreeMap::new();
        let mut units_by_buyer: BTreeMap<(DropId, AccountId), u32> = BTreeMap::new();
        self.refunds.check(&self.orders)?;
        self.check_room_invariants()?;
        // A live episode with an `ends_at` has exactly its end timer; no other episode has one.
        let n_episode_timers =
            self.deadlines.iter().filter(|(_, deadline)| matches!(deadline, Deadline::EpisodeEnd(_))).count();
        for episode in self.room_book.episodes.values() {
            if let Some(at) = episode_end_deadline(episode)
                && !self.deadlines.contains(&(at, Deadline::EpisodeEnd(episode.id)))
            {
                return Err(format!("episode {}: live with an ends_at but no end timer", episode.id));
            }
        }
        let n_expected = self.room_book.episodes.values().filter_map(episode_end_deadline).count();
        if n_episode_timers != n_expected {
            return Err("episode end timers out of step with live episodes".to_owned());
        }
        for hold in self.holds.values() {
            // Refunded units leave `sold` and the buyer's count.
            let quantity = match hold.status {
                HoldStatus::Active => {
                    *held_by_drop.entry(hold.drop_id).or_default() += u64::from(hold.quantity);
                    hold.quantity
                }
                HoldStatus::Sold => {
                    let kept = hold.quantity - self.refunds.executed_units(hold.id);
                    *sold_by_drop.entry(hold.drop_id).or_default() += u64::from(kept);
                    kept
                }
                HoldStatus::Expired => continue,
            };
            *units_by_buyer.entry((hold.drop_id, hold.buyer_id)).or_default() += quantity;
        }
        let mut allocated_by_product: BTreeMap<ProductId, u64> = BTreeMap::new();
        for drop in self.drops.values() {
            if drop.remaining + drop.held + drop.sold + drop.released != drop.quantity {
                return Err(format!("drop {}: remaining + held + sold + released != quantity", drop.id));
            }
            if drop.held != held_by_drop.get(&drop.id).copied().unwrap_or(0) {
                return Err(format!("drop {}: held does not match its active holds", drop.id));
            }
            if drop.sold != sold_by_drop.get(&drop.id).copied().unwrap_or(0) {
                return Err(format!("drop {}: sold does not match its sold holds", drop.id));
            }
            *allocated_by_product.entry(drop.product_id).or_default() += drop.quantity - drop.released;
        }
        for (&(drop_id, buyer_id), &units) in &units_by_buyer {
            if units > self.drops[&drop_id].per_buyer_limit {
                return Err(format!("buyer {buyer_id} above the limit of drop {drop_id}"));
            }
            if self.buyer_units(drop_id, buyer_id) != units {
                return Err(format!("buyer {buyer_id} units of drop {drop_id} out of step"));
            }
        }
        // Every record has exactly one current entry in the expiry queue (others are stale).
        let n_indexed = self.idempotency_expiries.iter().filter(|(expires_at, key)| {
            let record = self.idempotency.get(key);
            record.is_some_and(|record| record.at.plus_ms(IDEMPOTENCY_TTL_MS) == *expires_at)
        });
        if n_indexed.count() != self.idempotency.len() {
            return Err("idempotency records and their expiry index out of step".to_owned());
        }
        for product in self.products.values() {
            let allocated = allocated_by_product.get(&product.id).copied().unwrap_or(0);
            if product.allocated != allocated || allocated > product.stock {
                return Err(format!("product {}: allocation out of step", product.id));
            }
        }
        Ok(())
    }
}

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
