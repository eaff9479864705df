//! The webhook outbox. The journal is the outbox: a message is a committed fact an endpoint
//! subscribed to, its `webhook-id` is derived from the fact's journal position (the same on every
//! attempt, every endpoint and every restart), and each attempt is journaled (`WebhookAttempted`)
//! in the endpoint's partition. On start-up the replay rebuilds exactly the messages not yet
//! delivered; live, the shards' repliers feed the same `observe` after each commit. A message is
//! delivered at least once: one sent but not yet recorded when the process stops is sent again.

mod book;
mod deliver;
mod payload;
#[cfg(test)]
mod sold_out_tests;

pub use book::{ATTEMPTS_KEPT_PER_ENDPOINT, MESSAGES_KEPT_PER_ENDPOINT};

pub(crate) use deliver::{DeliveryConfig, run_deliveries};
pub(crate) use payload::{Source, source_of};

use domain::{Event, State, Timestamp, WebhookAttempt, WebhookEndpoint, WebhookEndpointId};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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

/// The outbox's inputs among one committed event, read with the state after it (on replay).
pub(crate) fn input_of(state: &State, event: &Event) -> Option<Input> {
    let gone = match event {
        Event::HoldsSold { drop_id, .. } => state.drop(*drop_id).map_or(0, units_gone),
        _ => 0,
    };
    input_at(state, event, gone)
}

/// A drop's units that will never be sold again: sold, or released (refunded without going back
/// on sale, or written off).
fn units_gone(drop: &domain::Drop) -> u64 {
    drop.sold + drop.released
}

/// As [`input_of`], with `gone` the drop's units gone just after a `HoldsSold` (the state may be
/// later: after the whole batch).
fn input_at(state: &State, event: &Event, gone: u64) -> Option<Input> {
    match event {
        Event::WebhookEndpointCreated { endpoint } => Some(Input::Endpoint(Box::new(endpoint.clone()))),
        Event::WebhookSecretRotated { endpoint_id, .. } | Event::WebhookEndpointDisabled { endpoint_id, .. } => {
            state.webhook_endpoint(*endpoint_id).map(|endpoint| Input::Endpoint(Box::new(endpoint.clone())))
        }
        Event::WebhookAttempted { attempt } => Some(Input::Attempted(attempt.clone())),
        Event::WebhookRedeliveryRequested { endpoint_id, message_id, at, .. } => {
            Some(Input::Redeliver { endpoint_id: *endpoint_id, message_id: message_id.clone(), at: *at })
        }
        _ => source_of(state, event, gone).map(Input::Source),
    }
}

/// The inputs of a batch's events, each with its index in the batch (its journal position is the
/// commit's first position plus that index).
pub(crate) fn inputs_of(state: &State, events: &[Event]) -> Vec<(usize, Input)> {
    // Each drop's units gone as of each `HoldsSold`, counted back from the state after the batch,
    // so a batch says "sold out" at the same event replay does, one event at a time.
    let mut gone_then: Vec<u64> = Vec::new();
    let mut gone_after: hashbrown::HashMap<domain::DropId, u64> = hashbrown::HashMap::new();
    for event in events.iter().rev() {
        // How the event moved the drop's units gone; a sale's count is noted before undoing it.
        let (drop_id, gone_by, is_sale) = match event {
            Event::HoldsSold { drop_id, quantity, .. } => (drop_id, *quantity as i64, true),
            // Back on sale; a refund not restocked moves units from sold to released: still gone.
            Event::UnitsRefunded { drop_id, quantity, restocked: true, .. } => (drop_id, -(*quantity as i64), false),
            Event::StockWrittenOff { drop_id, quantity, .. } => (drop_id, *quantity as i64, false),
            _ => continue,
        };
        let gone = gone_after.entry(*drop_id).or_insert_with(|| state.drop(*drop_id).map_or(0, units_gone));
        if is_sale {
            gone_then.push(*gone);
        }
        *gone = gone.saturating_add_signed(-gone_by);
    }
    events
        .iter()
        .enumerate()
        .filter_map(|(i, event)| {
            let gone = match event {
                Event::HoldsSold { .. } => gone_then.pop().expect("one count per HoldsSold"),
                _ => 0,
            };
            input_at(state, event, gone).map(|input| (i, input))
        })
        .collect()
}

/// The id of the message a fact at journal position `seq` makes.
pub fn message_id(seq: u64) -> String {
    format!("msg_{seq:016x}")
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
    book: Mutex<book::Book>,
    /// Woken when an attempt may have become due or a slot freed.
    pub(crate) wake: Notify,
}

impl Outbox {
    fn book(&self) -> std::sync::MutexGuard<'_, book::Book> {
        self.book.lock().expect("outbox lock")
    }

    /// Takes one committed fact's input, at journal position `seq`.
    pub(crate) fn observe(&self, seq: u64, input: Input) {
        if self.book().observe(seq, input) {
            self.wake.notify_one();
        }
    }

    /// A committed batch's inputs; its events start at journal position `first_seq`.
    pub(crate) fn observe_batch(&self, first_seq: u64, inputs: Vec<(usize, Input)>) {
        if inputs.is_empty() {
            return;
        }
        let mut book = self.book();
        let mut wake = false;
        for (index, input) in inputs {
            wake |= book.observe(first_seq + index as u64, input);
        }
        drop(book);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Up to `limit` attempts due by `now`, marked under way.
    pub(crate) fn take_due(&self, now: Timestamp, limit: usize) -> Vec<Job> {
        self.book().take_due(now, limit)
    }

    /// An attempt whose record could not be journaled: due again at `due`, as the same attempt.
    pub(crate) fn release(&self, endpoint_id: WebhookEndpointId, message_id: &str, due: Timestamp) {
        self.book().release(endpoint_id, message_id, due);
        self.wake.notify_one();
    }

    /// When the earliest attempt that may start is due.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.book().next_due()
    }

    /// Deliveries waiting (due or under way), over every endpoint.
    pub(crate) fn waiting(&self) -> usize {
        self.book().waiting()
    }

    /// Whether an attempt of the message to the endpoint is due or under way.
    pub(crate) fn is_waiting(&self, endpoint_id: WebhookEndpointId, message_id: &str) -> bool {
        self.book().is_waiting(endpoint_id, message_id)
    }

    /// Whether the endpoint still knows the message (one of its last `MESSAGES_KEPT_PER_ENDPOINT`).
    pub(crate) fn knows_message(&self, endpoint_id: WebhookEndpointId, message_id: &str) -> bool {
        self.book().knows_message(endpoint_id, message_id)
    }

    /// An endpoint's recent deliveries, newest first.
    pub(crate) fn deliveries(&self, endpoint_id: WebhookEndpointId) -> Vec<DeliveryView> {
        self.book().deliveries(endpoint_id)
    }
}

/// What the server asks of the outbox.
impl crate::Engine {
    /// An endpoint's recent deliveries, newest first (its owner was checked by the caller).
    pub fn webhook_deliveries(&self, endpoint_id: domain::WebhookEndpointId) -> Vec<DeliveryView> {
        self.outbox.deliveries(endpoint_id)
    }

    /// Whether an endpoint's delivery log still holds the message, so it can be redelivered.
    pub fn webhook_message_known(&self, endpoint_id: domain::WebhookEndpointId, message_id: &str) -> bool {
        self.outbox.knows_message(endpoint_id, message_id)
    }

    /// Whether webhooks may go to loopback, private and link-local addresses.
    pub fn webhooks_allow_private(&self) -> bool {
        self.webhooks_allow_private
    }

    /// Whether an attempt of the message to the endpoint is due or under way.
    pub fn webhook_message_waiting(&self, endpoint_id: domain::WebhookEndpointId, message_id: &str) -> bool {
        self.outbox.is_waiting(endpoint_id, message_id)
    }

    /// Webhook deliveries waiting for an attempt or under way.
    pub fn webhooks_waiting(&self) -> usize {
        self.outbox.waiting()
    }
}
