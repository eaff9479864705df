//! What the outbox owes: per endpoint, the messages waiting for an attempt (due, or under way) in a
//! queue by due time, and the endpoints that may start one, by their earliest due time, so taking
//! the due attempts never scans what cannot be taken.

use super::{DeliveryView, Input, Job, Message, Source, message_id, payload};
use domain::{AccountId, AttemptOutcome, Timestamp, WebhookAttempt, WebhookEndpoint, WebhookEndpointId};
use hashbrown::HashMap;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

/// Messages kept per endpoint for its delivery log and for redelivery; older ones are in the journal.
pub const MESSAGES_KEPT_PER_ENDPOINT: usize = 100;
/// Attempts kept per endpoint for its delivery log.
pub const ATTEMPTS_KEPT_PER_ENDPOINT: usize = 200;
/// Deliveries under way to one endpoint at once, so one slow receiver cannot take every slot.
const IN_FLIGHT_PER_ENDPOINT_MAX: usize = 4;
/// Facts remembered for an endpoint whose creation is observed after facts that follow it in the
/// journal: shards' commits reach the outbox in any order, but only a few commits apart.
const RECENT_SOURCES_MAX: usize = 4_096;

/// A message waiting for its next attempt to one endpoint.
struct Waiting {
    message: Arc<Message>,
    /// The attempt it will be, from 1.
    attempt: u32,
    due: Timestamp,
    in_flight: bool,
}

struct EndpointBook {
    endpoint: WebhookEndpoint,
    /// The journal position it was created at: it hears of facts committed after it only.
    created_seq: u64,
    /// The last `MESSAGES_KEPT_PER_ENDPOINT`, oldest first (ids sort as their journal positions).
    messages: VecDeque<Arc<Message>>,
    attempts: VecDeque<WebhookAttempt>,
    waiting: HashMap<String, Waiting>,
    /// `waiting`'s messages not under way, by due time.
    queue: BTreeSet<(Timestamp, String)>,
    in_flight: usize,
    /// Its key in `Book::ready`, if it is there.
    ready_at: Option<Timestamp>,
}

#[derive(Default)]
pub(super) struct Book {
    endpoints: HashMap<WebhookEndpointId, EndpointBook>,
    /// Enabled endpoints per owner.
    by_owner: HashMap<AccountId, Vec<WebhookEndpointId>>,
    /// Each endpoint with a queued message and room for another attempt, by its earliest due time.
    ready: BTreeSet<(Timestamp, WebhookEndpointId)>,
    recent: VecDeque<(u64, Source)>,
}

impl Book {
    /// Puts the endpoint in `ready` at its earliest due time, or takes it out.
    fn refresh(&mut self, id: WebhookEndpointId) {
        let Some(book) = self.endpoints.get_mut(&id) else { return };
        if let Some(at) = book.ready_at.take() {
            self.ready.remove(&(at, id));
        }
        if book.in_flight < IN_FLIGHT_PER_ENDPOINT_MAX
            && let Some((due, _)) = book.queue.first()
        {
            book.ready_at = Some(*due);
            self.ready.insert((*due, id));
        }
    }

    fn schedule(&mut self, id: WebhookEndpointId, message: Arc<Message>, attempt: u32, due: Timestamp) {
        let Some(book) = self.endpoints.get_mut(&id) else { return };
        if let Some(old) = book.waiting.get(&message.id) {
            if old.in_flight {
                book.in_flight = book.in_flight.saturating_sub(1);
            } else {
                book.queue.remove(&(old.due, message.id.clone()));
            }
        }
        book.queue.insert((due, message.id.clone()));
        book.waiting.insert(message.id.clone(), Waiting { message, attempt, due, in_flight: false });
        self.refresh(id);
    }

    fn unschedule(&mut self, id: WebhookEndpointId, message_id: &str) -> Option<Waiting> {
        let book = self.endpoints.get_mut(&id)?;
        let waiting = book.waiting.remove(message_id)?;
        if waiting.in_flight {
            book.in_flight = book.in_flight.saturating_sub(1);
        } else {
            book.queue.remove(&(waiting.due, message_id.to_owned()));
        }
        self.refresh(id);
        Some(waiting)
    }

    /// Makes the message of the fact at `seq` for each of its owner's endpoints that want it (or for
    /// `only` that one); answers whether any attempt was scheduled.
    fn deliver_source(&mut self, seq: u64, source: &Source, only: Option<WebhookEndpointId>) -> bool {
        let ids = match only {
            Some(id) => vec![id],
            None => {
                source.owners.iter().flat_map(|owner| self.by_owner.get(owner).cloned().unwrap_or_default()).collect()
            }
        };
        let mut message: Option<Arc<Message>> = None;
        let mut scheduled = false;
        for id in ids {
            let Some(book) = self.endpoints.get_mut(&id) else { continue };
            let wanted = book.endpoint.disabled.is_none() && book.endpoint.events.contains(&source.kind);
            let id_of_seq = message_id(seq);
            if !wanted || book.created_seq >= seq || book.messages.iter().any(|kept| kept.id == id_of_seq) {
                continue;
            }
            let message = message
                .get_or_insert_with(|| {
                    Arc::new(Message { id: id_of_seq, kind: source.kind, body: payload::body(source), at: source.at })
                })
                .clone();
            // Usually the newest; one that arrived late goes to its place.
            let at = book.messages.iter().rposition(|kept| kept.id < message.id).map_or(0, |i| i + 1);
            book.messages.insert(at, message.clone());
            if book.messages.len() > MESSAGES_KEPT_PER_ENDPOINT {
                book.messages.pop_front();
            }
            self.schedule(id, message, 1, source.at);
            scheduled = true;
        }
        scheduled
    }

    /// Takes one committed fact's input at journal position `seq`; answers whether an attempt may
    /// have become due.
    pub(super) fn observe(&mut self, seq: u64, input: Input) -> bool {
        match input {
            Input::Source(source) => {
                let scheduled = self.deliver_source(seq, &source, None);
                if self.recent.len() == RECENT_SOURCES_MAX {
                    self.recent.pop_front();
                }
                self.recent.push_back((seq, source));
                scheduled
            }
            Input::Endpoint(endpoint) => self.observe_endpoint(seq, *endpoint),
            Input::Attempted(attempt) => {
                let waiting = self.unschedule(attempt.endpoint_id, &attempt.message_id);
                let Some(book) = self.endpoints.get_mut(&attempt.endpoint_id) else { return false };
                if book.attempts.len() == ATTEMPTS_KEPT_PER_ENDPOINT {
                    book.attempts.pop_front();
                }
                book.attempts.push_back(attempt.clone());
                match (attempt.outcome, waiting, book.endpoint.disabled.is_none()) {
                    (AttemptOutcome::Retry { next_at }, Some(waiting), true) => {
                        self.schedule(attempt.endpoint_id, waiting.message, attempt.attempt + 1, next_at);
                        true
                    }
                    // A slot of the endpoint's is free again.
                    _ => true,
                }
            }
            // A message still waiting is being delivered already: asking again changes nothing, live
            // as on replay (both facts are in the endpoint's partition, so they come in the same order).
            Input::Redeliver { endpoint_id, message_id, at } => {
                let Some(book) = self.endpoints.get(&endpoint_id) else { return false };
                let Some(message) = book.messages.iter().find(|kept| kept.id == message_id).cloned() else {
                    return false;
                };
                if book.endpoint.disabled.is_some() || book.waiting.contains_key(&message_id) {
                    return false;
                }
                self.schedule(endpoint_id, message, 1, at);
                true
            }
        }
    }

    fn observe_endpoint(&mut self, seq: u64, endpoint: WebhookEndpoint) -> bool {
        let (id, owner, enabled) = (endpoint.id, endpoint.owner_id, endpoint.disabled.is_none());
        let created = !self.endpoints.contains_key(&id);
        match self.endpoints.get_mut(&id) {
            Some(book) => book.endpoint = endpoint,
            None => {
                let book = EndpointBook {
                    endpoint,
                    created_seq: seq,
                    messages: VecDeque::new(),
                    attempts: VecDeque::new(),
                    waiting: HashMap::new(),
                    queue: BTreeSet::new(),
                    in_flight: 0,
                    ready_at: None,
                };
                self.endpoints.insert(id, book);
            }
        }
        let listed = self.by_owner.entry(owner).or_default();
        listed.retain(|listed| *listed != id);
        if enabled {
            listed.push(id);
        } else if let Some(book) = self.endpoints.get_mut(&id) {
            // A disabled endpoint hears nothing more; what waited for it is dropped, and an attempt
            // under way finds nothing to reschedule.
            book.waiting.clear();
            book.queue.clear();
            book.in_flight = 0;
            self.refresh(id);
        }
        if !(created && enabled) {
            return false;
        }
        // Facts after it in the journal that reached the outbox before it did (replay brings none).
        let late: Vec<(u64, Source)> =
            self.recent.iter().filter(|(at, source)| *at > seq && source.owners.contains(&owner)).cloned().collect();
        let mut scheduled = false;
        for (at, source) in late {
            scheduled |= self.deliver_source(at, &source, Some(id));
        }
        scheduled
    }

    /// Up to `limit` attempts due by `now`, marked under way.
    pub(super) fn take_due(&mut self, now: Timestamp, limit: usize) -> Vec<Job> {
        let mut jobs = Vec::new();
        while jobs.len() < limit {
            let Some(&(due, id)) = self.ready.first() else { break };
            if due > now {
                break;
            }
            let book = self.endpoints.get_mut(&id).expect("a ready endpoint is known");
            let (_, message_id) = book.queue.pop_first().expect("a ready endpoint has a queued message");
            let waiting = book.waiting.get_mut(&message_id).expect("a queued message waits");
            waiting.in_flight = true;
            book.in_flight += 1;
            jobs.push(Job {
                endpoint: book.endpoint.clone(),
                message: waiting.message.clone(),
                attempt: waiting.attempt,
            });
            self.refresh(id);
        }
        jobs
    }

    /// An attempt whose record could not be journaled: due again at `due`, as the same attempt.
    pub(super) fn release(&mut self, id: WebhookEndpointId, message_id: &str, due: Timestamp) {
        let Some(book) = self.endpoints.get_mut(&id) else { return };
        let Some(waiting) = book.waiting.get_mut(message_id).filter(|waiting| waiting.in_flight) else { return };
        waiting.in_flight = false;
        waiting.due = due;
        book.in_flight = book.in_flight.saturating_sub(1);
        book.queue.insert((due, message_id.to_owned()));
        self.refresh(id);
    }

    /// When the earliest attempt that may start is due.
    pub(super) fn next_due(&self) -> Option<Timestamp> {
        self.ready.first().map(|(due, _)| *due)
    }

    pub(super) fn waiting(&self) -> usize {
        self.endpoints.values().map(|book| book.waiting.len()).sum()
    }

    pub(super) fn is_waiting(&self, id: WebhookEndpointId, message_id: &str) -> bool {
        self.endpoints.get(&id).is_some_and(|book| book.waiting.contains_key(message_id))
    }

    pub(super) fn knows_message(&self, id: WebhookEndpointId, message_id: &str) -> bool {
        self.endpoints.get(&id).is_some_and(|book| book.messages.iter().any(|kept| kept.id == message_id))
    }

    /// An endpoint's kept messages, newest first, with their attempts.
    pub(super) fn deliveries(&self, id: WebhookEndpointId) -> Vec<DeliveryView> {
        let Some(book) = self.endpoints.get(&id) else { return Vec::new() };
        book.messages
            .iter()
            .rev()
            .map(|message| {
                let waiting = book.waiting.get(&message.id);
                DeliveryView {
                    message_id: message.id.clone(),
                    kind: message.kind,
                    message_at: message.at,
                    attempts: book.attempts.iter().rev().filter(|a| a.message_id == message.id).cloned().collect(),
                    next_attempt_at: waiting.filter(|waiting| !waiting.in_flight).map(|waiting| waiting.due),
                    pending: waiting.is_some(),
                }
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;
