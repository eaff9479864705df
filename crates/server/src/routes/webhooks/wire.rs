//! The JSON shapes of webhook endpoints and their delivery log.

use crate::wire::rfc3339;
use domain::{AttemptOutcome, EndpointDisabled, WebhookAttempt, WebhookEndpoint};
use engine::DeliveryView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpointRequest {
    /// Where deliveries are posted: `https://` (or `http://`), at most 2048 characters, no
    /// credentials; loopback and private addresses only if the operator allows them.
    pub(crate) url: String,
    /// The event types to deliver, e.g. `order.paid`; see `docs/api.md` for every type.
    pub(crate) events: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EndpointBody {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) events: Vec<&'static str>,
    /// `enabled`, or `disabled` (deleted, or the receiver answered 410 Gone).
    pub(crate) status: &'static str,
    /// `by_owner` or `gone`, once disabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disabled_reason: Option<&'static str>,
    /// The signing secret (`whsec_…`): shown once, when created or rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<String>,
    /// When the secrets replaced by the last rotation stop signing, while they still do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) previous_secret_expires_at: Option<String>,
    pub(crate) attempts: u64,
    pub(crate) delivered: u64,
    pub(crate) created_at: String,
}

impl EndpointBody {
    pub(crate) fn of(endpoint: &WebhookEndpoint, secret: Option<String>, now: domain::Timestamp) -> EndpointBody {
        EndpointBody {
            id: endpoint.id.to_string(),
            url: endpoint.url.clone(),
            events: endpoint.events.iter().map(|kind| kind.name()).collect(),
            status: if endpoint.disabled.is_some() { "disabled" } else { "enabled" },
            disabled_reason: endpoint.disabled.map(|reason| match reason {
                EndpointDisabled::ByOwner => "by_owner",
                EndpointDisabled::Gone => "gone",
            }),
            secret,
            previous_secret_expires_at: endpoint
                .secrets
                .iter()
                .filter_map(|secret| secret.expires_at)
                .filter(|expires_at| *expires_at > now)
                .max()
                .map(rfc3339),
            attempts: endpoint.attempts,
            delivered: endpoint.delivered,
            created_at: rfc3339(endpoint.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EndpointListBody {
    pub(crate) endpoints: Vec<EndpointBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AttemptBody {
    pub(crate) attempt: u32,
    /// The receiver's status code, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// `delivered`, `retry`, `failed` (no attempt left) or `gone` (410: the endpoint was disabled).
    pub(crate) outcome: &'static str,
    pub(crate) duration_ms: u64,
    pub(crate) at: String,
}

impl From<&WebhookAttempt> for AttemptBody {
    fn from(attempt: &WebhookAttempt) -> AttemptBody {
        AttemptBody {
            attempt: attempt.attempt,
            status_code: attempt.status,
            error: attempt.error.clone(),
            outcome: match attempt.outcome {
                AttemptOutcome::Delivered => "delivered",
                AttemptOutcome::Retry { .. } => "retry",
                AttemptOutcome::Failed => "failed",
                AttemptOutcome::Gone => "gone",
            },
            duration_ms: attempt.duration_ms,
            at: rfc3339(attempt.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryBody {
    /// The `webhook-id` every attempt of this message carries.
    pub(crate) message_id: String,
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) created_at: String,
    /// `pending` (an attempt is due or under way), `delivered` or `failed`.
    pub(crate) status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_attempt_at: Option<String>,
    /// Newest first.
    pub(crate) attempts: Vec<AttemptBody>,
}

impl DeliveryBody {
    pub(crate) fn of(view: &DeliveryView) -> DeliveryBody {
        let last = view.attempts.first().map(|attempt| attempt.outcome);
        let status = match last {
            _ if view.pending => "pending",
            Some(AttemptOutcome::Delivered) => "delivered",
            Some(_) => "failed",
            None => "pending",
        };
        DeliveryBody {
            message_id: view.message_id.clone(),
            kind: view.kind.name(),
            created_at: rfc3339(view.message_at),
            status,
            next_attempt_at: view.next_attempt_at.map(rfc3339),
            attempts: view.attempts.iter().map(AttemptBody::from).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryListBody {
    pub(crate) deliveries: Vec<DeliveryBody>,
}
