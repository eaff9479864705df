//! Outbound webhook endpoints: where a creator or partner wants to hear of the platform's events,
//! and the record of each delivery attempt. Delivering them is the engine's work; the domain keeps
//! who owns which endpoint, what it subscribed to, its secrets and what each attempt came to.

use crate::{AccountId, Timestamp, WebhookEndpointId};

/// The events an endpoint may subscribe to, named as the Standard Webhooks payload's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum WebhookEventType {
    #[serde(rename = "order.paid")]
    OrderPaid,
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    #[serde(rename = "payout.paid")]
    PayoutPaid,
    #[serde(rename = "drop.opened")]
    DropOpened,
    #[serde(rename = "drop.closed")]
    DropClosed,
    /// The drop has no unit left to sell or held: its last one was paid for.
    #[serde(rename = "drop.sold_out")]
    DropSoldOut,
    #[serde(rename = "episode.live")]
    EpisodeLive,
    #[serde(rename = "episode.ended")]
    EpisodeEnded,
    #[serde(rename = "fulfilment.updated")]
    FulfilmentUpdated,
}

impl WebhookEventType {
    pub const ALL: [WebhookEventType; 9] = [
        WebhookEventType::OrderPaid,
        WebhookEventType::OrderRefunded,
        WebhookEventType::PayoutPaid,
        WebhookEventType::DropOpened,
        WebhookEventType::DropClosed,
        WebhookEventType::DropSoldOut,
        WebhookEventType::EpisodeLive,
        WebhookEventType::EpisodeEnded,
        WebhookEventType::FulfilmentUpdated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WebhookEventType::OrderPaid => "order.paid",
            WebhookEventType::OrderRefunded => "order.refunded",
            WebhookEventType::PayoutPaid => "payout.paid",
            WebhookEventType::DropOpened => "drop.opened",
            WebhookEventType::DropClosed => "drop.closed",
            WebhookEventType::DropSoldOut => "drop.sold_out",
            WebhookEventType::EpisodeLive => "episode.live",
            WebhookEventType::EpisodeEnded => "episode.ended",
            WebhookEventType::FulfilmentUpdated => "fulfilment.updated",
        }
    }

    pub fn parse(name: &str) -> Option<WebhookEventType> {
        WebhookEventType::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// Why an endpoint stopped receiving deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointDisabled {
    /// Its owner deleted it.
    ByOwner,
    /// The receiver answered 410 Gone: it asked never to be called again.
    Gone,
}

/// A signing secret in the `whsec_` form. `Debug` never shows it, so no log or panic message does.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(pub String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

/// A secret an endpoint's deliveries are signed with.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndpointSecret {
    pub secret: WebhookSecret,
    /// A replaced secret keeps signing until then, so receivers can switch without losing a message.
    pub expires_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub owner_id: AccountId,
    pub url: String,
    /// Sorted, without repeats.
    pub events: Vec<WebhookEventType>,
    /// The current one first, then at most the one it replaced, until its `expires_at`.
    pub secrets: Vec<EndpointSecret>,
    pub created_at: Timestamp,
    /// Why and when it stopped receiving deliveries: for good.
    pub disabled: Option<EndpointDisabled>,
    pub disabled_at: Option<Timestamp>,
    /// Attempts recorded, and how many of them delivered.
    pub attempts: u64,
    pub delivered: u64,
}

impl WebhookEndpoint {
    /// The secrets that sign a delivery made at `now`, the newest first.
    pub fn signing_secrets(&self, now: Timestamp) -> impl Iterator<Item = &str> {
        self.secrets.iter().filter(move |s| s.expires_at.is_none_or(|at| at > now)).map(|s| s.secret.0.as_str())
    }
}

/// What one delivery attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AttemptOutcome {
    /// A 2xx answer: delivered.
    Delivered,
    /// It failed and is tried again at `next_at`.
    Retry { next_at: Timestamp },
    /// It failed and no attempt is left: the message is not delivered (a redelivery may be asked).
    Failed,
    /// 410 Gone: the endpoint is disabled with it.
    Gone,
}

impl AttemptOutcome {
    /// Whether the message is done with (until its owner asks for a redelivery).
    pub fn is_final(self) -> bool {
        !matches!(self, AttemptOutcome::Retry { .. })
    }
}

/// One delivery attempt of a message to an endpoint, as journaled.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookAttempt {
    pub endpoint_id: WebhookEndpointId,
    /// The `webhook-id`: the same on every attempt and every endpoint of one message.
    pub message_id: String,
    /// From 1; a redelivery starts again from 1.
    pub attempt: u32,
    /// The receiver's status code; `None` when no answer came (refused, timed out, not allowed).
    pub status: Option<u16>,
    /// Why it failed, short: the receiver's error, a timeout, a refused address.
    pub error: Option<String>,
    pub duration_ms: u64,
    pub outcome: AttemptOutcome,
    pub at: Timestamp,
}
