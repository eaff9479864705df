//! The webhook outbox. The journal is the outbox: a message is a committed fact an endpoint
//! subscribed to, its `webhook-id` is derived from the fact's journal position (the same on every
//! attempt, every endpoint and every restart), and each attempt is journaled (`WebhookAttempted`)
//! in the endpoint's partition. On start-up the replay rebuilds exactly the messages not yet
//! delivered; live, the shards' repliers feed the same `observe` after each commit. A message is
//! delivered at least once: one sent but not yet recorded when the process stops is sent again.

mod deliver;
mod payload;

pub(crate) use deliver::{DeliveryConfig, run_deliveries};
pub(crate) use payload::{Source, source_of};

use domain::{AccountId, AttemptOutcome, Event, State, Timestamp, WebhookAttempt, WebhookEndpoint, WebhookEndpointId};
use hashbrown::HashMap;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Messages kept per endpoint for its delivery log and for redelivery; older ones are in the journal.
pub const MESSAGES_KEPT_PER_ENDPOINT: usize = 100;
/// Attempts kept per endpoint for its delivery log.
pub const ATTEMPTS_KEPT_PER_ENDPOINT: usize = 200;
/// Deliveries under way to one endpoint at once, so one slow receiver cannot take every slot.
const IN_FLIGHT_PER_ENDPOINT_MAX: usize = 4;

/// One message: a committed fact as the body every attempt sends.
#[derive(Debug)]
pub(crate) struct Message {
    /// `msg_` and the fact's journal position: unique, and stable across restarts.
    pub(crate) id: String,
    pub(crate) kind: domain::WebhookEventType,
    pub(crate) body: Vec<u8>,
    pub(crate) at: Timestamp,
}

/// What the outbox learns from one committed event.
#[derive(Debug)]
pub(crate) enum Input {
    /// A fact endpoints may subscribe to.
    Source(Source),
    /// An endpoint as it is after the event that changed it (created, rotated, disabled).
    Endpoint(Box<WebhookEndpoint>),
    Attempted(WebhookAttempt),
    Redeliver {
        endpoint_id: WebhookEndpointId,
        message_id: String,
        at: Timestamp,
    },
}

/// The outbox's inputs among one committed event, read with the state after it.
pub(crate) fn input_of(state: &State, event: &Event) -> Option<Input> {
    match event {
        Event::WebhookEndpointCreated { endpoint } => Some(Input::Endpoint(Box::new(endpoint.clone()))),
        Event::WebhookSecretRotated { endpoint_id, .. } | Event::WebhookEndpointDisabled { endpoint_id, .. } => {
            state.webhook_endpoint(*endpoint_id).map(|endpoint| Input::Endpoint(Box::new(endpoint.clone())))
        }
        Event::WebhookAttempted { attempt } => Some(Input::Attempted(attempt.clone())),
        Event::WebhookRedeliveryRequested { endpoint_id, message_id, at, .. } => {
            Some(Input::Redeliver { endpoint_id: *endpoint_id, message_id: message_id.clone(), at: *at })
        }
        _ => source_of(state, event).map(Input::Source),
    }
}

/// The inputs of a batch's events, each with its index in the batch (its journal position is the
/// commit's first position plus that index).
pub(crate) fn inputs_of(state: &State, events: &[Event]) -> Vec<(usize, Input)> {
    events.iter().enumerate().filter_map(|(i, event)| input_of(state, event).map(|input| (i, input))).collect()
}

/// The id of the message a fact at journal position `seq` makes.
pub fn message_id(seq: u64) -> String {
    format!("msg_{seq:016x}")
}

struct EndpointBook {
    endpoint: WebhookEndpoint,
    /// The journal position it was created at: it hears of facts committed after it only.
    created_seq: u64,
    messages: VecDeque<Arc<Message>>,
    attempts: VecDeque<WebhookAttempt>,
    in_flight: usize,
}

/// A message waiting for its next attempt to one endpoint.
#[derive(Clone)]
struct Waiting {
    message: Arc<Message>,
    /// The attempt it will be, from 1.
    attempt: u32,
    due: Timestamp,
    in_flight: bool,
}

type DeliveryKey = (WebhookEndpointId, String);

#[derive(Default)]
struct Book {
    endpoints: HashMap<WebhookEndpointId, EndpointBook>,
    /// Live endpoints per owner.
    by_owner: HashMap<AccountId, Vec<WebhookEndpointId>>,
    waiting: HashMap<DeliveryKey, Waiting>,
    /// `waiting`'s entries not under way, by when they are due.
    due: BTreeMap<(Timestamp, WebhookEndpointId, String), ()>,
}

/// One attempt to make now.
pub(crate) struct Job {
    pub(crate) endpoint: WebhookEndpoint,
    pub(crate) message: Arc<Message>,
    pub(crate) attempt: u32,
}

/// A delivery as its endpoint's log shows it.
#[derive(Clone, Debug)]
pub struct DeliveryView {
    pub message_id: String,
    pub kind: domain::WebhookEventType,
    pub message_at: Timestamp,
    /// Attempts recorded, newest first (of those kept).
    pub attempts: Vec<WebhookAttempt>,
    /// When the next attempt is due, if one is waiting.
    pub next_attempt_at: Option<Timestamp>,
    /// Whether an attempt is due or under way.
    pub pending: bool,
}

#[derive(Default)]
pub(crate) struct Outbox {
    book: Mutex<Book>,
    pub(crate) wake: Notify,
}

impl Book {
    fn schedule(&mut self, endpoint_id: WebhookEndpointId, message: Arc<Message>, attempt: u32, due: Timestamp) {
        let key = (endpoint_id, message.id.clone());
        if let Some(old) = self.waiting.get(&key)
            && !old.in_flight
        {
            self.due.remove(&(old.due, endpoint_id, message.id.clone()));
        }
        self.due.insert((due, endpoint_id, message.id.clone()), ());
        self.waiting.insert(key, Waiting { message, attempt, due, in_flight: false });
    }

    fn unschedule(&mut self, key: &DeliveryKey) -> Option<Waiting> {
        let waiting = self.waiting.remove(key)?;
        if !waiting.in_flight {
            self.due.remove(&(waiting.due, key.0, key.1.clone()));
        } else if let Some(book) = self.endpoints.get_mut(&key.0) {
            book.in_flight -= 1;
        }
        Some(waiting)
    }

    fn observe(&mut self, seq: u64, input: Input) -> bool {
        match input {
            Input::Source(source) => {
                let ids = self.by_owner.get(&source.owner).cloned().unwrap_or_default();
                let mut message: Option<Arc<Message>> = None;
                let mut scheduled = false;
                for endpoint_id in ids {
                    let book = self.endpoints.get_mut(&endpoint_id).expect("a listed endpoint");
                    if book.created_seq >= seq || !book.endpoint.events.contains(&source.kind) {
                        continue;
                    }
                    let message = message
                        .get_or_insert_with(|| {
                            Arc::new(Message {
                                id: message_id(seq),
                                kind: source.kind,
                                body: payload::body(&source),
                                at: source.at,
                            })
                        })
                        .clone();
                    if book.messages.len() == MESSAGES_KEPT_PER_ENDPOINT {
                        book.messages.pop_front();
                    }
                    book.messages.push_back(message.clone());
                    self.schedule(endpoint_id, message, 1, source.at);
                    scheduled = true;
                }
                scheduled
            }
            Input::Endpoint(endpoint) => {
                let endpoint = *endpoint;
                let (id, owner, live) = (endpoint.id, endpoint.owner_id, endpoint.disabled.is_none());
                match self.endpoints.get_mut(&id) {
                    Some(book) => book.endpoint = endpoint,
                    None => {
                        let book = EndpointBook {
                            endpoint,
                            created_seq: seq,
                            messages: VecDeque::new(),
                            attempts: VecDeque::new(),
                            in_flight: 0,
                        };
                        self.endpoints.insert(id, book);
                    }
                }
                let listed = self.by_owner.entry(owner).or_default();
                listed.retain(|listed| *listed != id);
                if live {
                    listed.push(id);
                } else {
                    // A disabled endpoint hears nothing more, and what waited for it is dropped.
                    let keys: Vec<DeliveryKey> = self.waiting.keys().filter(|key| key.0 == id).cloned().collect();
                    for key in keys {
                        self.unschedule(&key);
                    }
                }
                false
            }
            Input::Attempted(attempt) => {
                let key = (attempt.endpoint_id, attempt.message_id.clone());
                let waiting = self.unschedule(&key);
                if let Some(book) = self.endpoints.get_mut(&attempt.endpoint_id) {
                    if book.attempts.len() == ATTEMPTS_KEPT_PER_ENDPOINT {
                        book.attempts.pop_front();
                    }
                    book.attempts.push_back(attempt.clone());
                }
                let live = self.endpoints.get(&attempt.endpoint_id).is_some_and(|b| b.endpoint.disabled.is_none());
                if let (AttemptOutcome::Retry { next_at }, Some(waiting), true) = (attempt.outcome, waiting, live) {
                    self.schedule(attempt.endpoint_id, waiting.message, attempt.attempt + 1, next_at);
                }
                false
            }
            Input::Redeliver { endpoint_id, message_id, at } => {
                let Some(book) = self.endpoints.get(&endpoint_id) else { return false };
                let Some(message) = book.messages.iter().find(|m| m.id == message_id).cloned() else { return false };
                if book.endpoint.disabled.is_some()
                    || self.waiting.get(&(endpoint_id, message_id)).is_some_and(|w| w.in_flight)
                {
                    return false;
                }
                self.schedule(endpoint_id, message, 1, at);
                true
            }
        }
    }
}

impl Outbox {
    /// Takes one committed fact's input, at journal position `seq`.
    pub(crate) fn observe(&self, seq: u64, input: Input) {
        let scheduled = self.book.lock().expect("outbox lock").observe(seq, input);
        if scheduled {
            self.wake.notify_one();
        }
    }

    /// A committed batch's inputs; its events start at journal position `first_seq`.
    pub(crate) fn observe_batch(&self, first_seq: u64, inputs: Vec<(usize, Input)>) {
        let mut book = self.book.lock().expect("outbox lock");
        let mut scheduled = false;
        for (index, input) in inputs {
            scheduled |= book.observe(first_seq + index as u64, input);
        }
        drop(book);
        if scheduled {
            self.wake.notify_one();
        }
    }

    /// Up to `limit` attempts due by `now`, marked under way; an endpoint with as many under way as
    /// it may have waits.
    pub(crate) fn take_due(&self, now: Timestamp, limit: usize) -> Vec<Job> {
        let mut book = self.book.lock().expect("outbox lock");
        let book = &mut *book;
        let mut jobs = Vec::new();
        let mut taken = Vec::new();
        for (due, endpoint_id, message_id) in book.due.keys() {
            if *due > now || jobs.len() == limit {
                break;
            }
            let endpoint = book.endpoints.get_mut(endpoint_id).expect("a waiting endpoint");
            if endpoint.in_flight >= IN_FLIGHT_PER_ENDPOINT_MAX {
                continue;
            }
            endpoint.in_flight += 1;
            let waiting = book.waiting.get_mut(&(*endpoint_id, message_id.clone())).expect("a due delivery waits");
            waiting.in_flight = true;
            jobs.push(Job {
                endpoint: endpoint.endpoint.clone(),
                message: waiting.message.clone(),
                attempt: waiting.attempt,
            });
            taken.push((*due, *endpoint_id, message_id.clone()));
        }
        for key in taken {
            book.due.remove(&key);
        }
        jobs
    }

    /// An attempt whose record could not be journaled: due again at `due`, as the same attempt.
    pub(crate) fn release(&self, endpoint_id: WebhookEndpointId, message_id: &str, due: Timestamp) {
        let mut book = self.book.lock().expect("outbox lock");
        let key = (endpoint_id, message_id.to_owned());
        if let Some(waiting) = book.waiting.get(&key).filter(|waiting| waiting.in_flight).cloned() {
            book.endpoints.get_mut(&endpoint_id).expect("a waiting endpoint").in_flight -= 1;
            book.schedule(endpoint_id, waiting.message, waiting.attempt, due);
        }
    }

    /// When the next waiting attempt is due, if any is.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.book.lock().expect("outbox lock").due.keys().next().map(|(due, _, _)| *due)
    }

    /// Deliveries waiting (due or under way), over every endpoint.
    pub(crate) fn waiting(&self) -> usize {
        self.book.lock().expect("outbox lock").waiting.len()
    }

    /// Whether the endpoint still knows the message (one of its last `MESSAGES_KEPT_PER_ENDPOINT`).
    pub(crate) fn knows_message(&self, endpoint_id: WebhookEndpointId, message_id: &str) -> bool {
        let book = self.book.lock().expect("outbox lock");
        book.endpoints.get(&endpoint_id).is_some_and(|b| b.messages.iter().any(|m| m.id == message_id))
    }

    /// An endpoint's recent deliveries, newest first.
    pub(crate) fn deliveries(&self, endpoint_id: WebhookEndpointId) -> Vec<DeliveryView> {
        let book = self.book.lock().expect("outbox lock");
        let Some(endpoint) = book.endpoints.get(&endpoint_id) else { return Vec::new() };
        endpoint
            .messages
            .iter()
            .rev()
            .map(|message| DeliveryView {
                message_id: message.id.clone(),
                kind: message.kind,
                message_at: message.at,
                attempts: endpoint.attempts.iter().rev().filter(|a| a.message_id == message.id).cloned().collect(),
                next_attempt_at: book
                    .waiting
                    .get(&(endpoint_id, message.id.clone()))
                    .filter(|waiting| !waiting.in_flight)
                    .map(|waiting| waiting.due),
                pending: book.waiting.contains_key(&(endpoint_id, message.id.clone())),
            })
            .collect()
    }
}
