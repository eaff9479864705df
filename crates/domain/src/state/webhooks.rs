//! Webhook endpoints in their owner's partition: creating, deleting, rotating the secret, asking for
//! a redelivery, and the record of each delivery attempt the engine made.

use super::State;
use super::decision::{Decision, ReadBack};
use crate::limits::{
    WEBHOOK_ENDPOINTS_CREATED_MAX, WEBHOOK_ENDPOINTS_MAX, WEBHOOK_ERROR_CHARS_MAX, WEBHOOK_MESSAGE_ID_CHARS_MAX,
    WEBHOOK_SECRET_OVERLAP_MS, WEBHOOK_URL_CHARS_MAX,
};
use crate::{
    AccountId, Actor, AttemptOutcome, EndpointDisabled, EndpointSecret, Event, Rejection, Role, Timestamp,
    WebhookAttempt, WebhookEndpoint, WebhookEndpointId, WebhookEventType, WebhookSecret,
};
use hashbrown::HashMap;

/// The endpoints of a shard's accounts, disabled ones kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct WebhookBook {
    endpoints: HashMap<WebhookEndpointId, WebhookEndpoint>,
    /// Each account's endpoints, oldest first.
    by_owner: HashMap<AccountId, Vec<WebhookEndpointId>>,
}

fn check_secret(secret: &WebhookSecret) -> Result<(), Rejection> {
    // The server makes secrets; this only keeps a malformed one out of the journal.
    if !secret.0.starts_with("whsec_") || secret.0.len() > 128 {
        return Err(Rejection::invalid("secret", "must be a whsec_ secret"));
    }
    Ok(())
}

impl State {
    pub fn webhook_endpoint(&self, id: WebhookEndpointId) -> Option<&WebhookEndpoint> {
        self.webhooks.endpoints.get(&id)
    }

    /// An account's endpoints, oldest first, disabled ones too.
    pub fn webhook_endpoints_of(&self, owner: AccountId) -> impl Iterator<Item = &WebhookEndpoint> {
        let ids = self.webhooks.by_owner.get(&owner).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.webhooks.endpoints[id])
    }

    /// Every endpoint of the shard's accounts, in no particular order.
    pub fn webhook_endpoints(&self) -> impl Iterator<Item = &WebhookEndpoint> {
        self.webhooks.endpoints.values()
    }

    /// The caller's own endpoint; another account's is answered as unknown.
    fn own_endpoint(&self, actor: &Actor, id: WebhookEndpointId) -> Result<&WebhookEndpoint, Rejection> {
        match self.webhooks.endpoints.get(&id) {
            Some(endpoint) if endpoint.owner_id == actor.id => Ok(endpoint),
            _ => Err(Rejection::NotFound),
        }
    }

    pub(super) fn decide_create_webhook_endpoint(
        &self,
        now: Timestamp,
        actor: &Actor,
        url: &str,
        events: &[WebhookEventType],
        secret: &WebhookSecret,
    ) -> Result<Decision, Rejection> {
        if !matches!(actor.role, Role::Creator | Role::Partner) {
            return Err(Rejection::Forbidden);
        }
        if url.is_empty() || url.chars().count() > WEBHOOK_URL_CHARS_MAX {
            return Err(Rejection::invalid("url", format!("must be 1 to {WEBHOOK_URL_CHARS_MAX} characters")));
        }
        if events.is_empty() {
            return Err(Rejection::invalid("events", "must name at least one event type"));
        }
        check_secret(secret)?;
        if !self.accounts.contains_key(&actor.id) {
            return Err(Rejection::NotFound);
        }
        let owned: Vec<&WebhookEndpoint> = self.webhook_endpoints_of(actor.id).collect();
        if owned.len() >= WEBHOOK_ENDPOINTS_CREATED_MAX {
            return Err(Rejection::TooManyWebhookEndpoints { limit: WEBHOOK_ENDPOINTS_CREATED_MAX as u32 });
        }
        if owned.iter().filter(|endpoint| endpoint.disabled.is_none()).count() >= WEBHOOK_ENDPOINTS_MAX {
            return Err(Rejection::TooManyWebhookEndpoints { limit: WEBHOOK_ENDPOINTS_MAX as u32 });
        }
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        let id = WebhookEndpointId(self.allocator(actor.id.partition()).next());
        let endpoint = WebhookEndpoint {
            id,
            owner_id: actor.id,
            url: url.to_owned(),
            events,
            secrets: vec![EndpointSecret { secret: secret.clone(), expires_at: None }],
            created_at: now,
            disabled: None,
            disabled_at: None,
            attempts: 0,
            delivered: 0,
        };
        Ok(Decision::read_back(vec![Event::WebhookEndpointCreated { endpoint }], ReadBack::WebhookEndpoint(id)))
    }

    pub(super) fn decide_delete_webhook_endpoint(
        &self,
        now: Timestamp,
        actor: &Actor,
        endpoint_id: WebhookEndpointId,
    ) -> Result<Decision, Rejection> {
        let endpoint = self.own_endpoint(actor, endpoint_id)?;
        let events = match endpoint.disabled {
            Some(_) => Vec::new(),
            None => vec![Event::WebhookEndpointDisabled { endpoint_id, reason: EndpointDisabled::ByOwner, at: now }],
        };
        Ok(Decision::read_back(events, ReadBack::WebhookEndpoint(endpoint_id)))
    }

    pub(super) fn decide_rotate_webhook_secret(
        &self,
        now: Timestamp,
        actor: &Actor,
        endpoint_id: WebhookEndpointId,
        secret: &WebhookSecret,
    ) -> Result<Decision, Rejection> {
        let endpoint = self.own_endpoint(actor, endpoint_id)?;
        if endpoint.disabled.is_some() {
            return Err(Rejection::WebhookEndpointDisabled);
        }
        check_secret(secret)?;
        let rotated = Event::WebhookSecretRotated {
            endpoint_id,
            secret: secret.clone(),
            previous_expire_at: Timestamp(now.0 + WEBHOOK_SECRET_OVERLAP_MS),
            at: now,
        };
        Ok(Decision::read_back(vec![rotated], ReadBack::WebhookEndpoint(endpoint_id)))
    }

    pub(super) fn decide_redeliver_webhook(
        &self,
        now: Timestamp,
        actor: &Actor,
        endpoint_id: WebhookEndpointId,
        message_id: &str,
    ) -> Result<Decision, Rejection> {
        let endpoint = self.own_endpoint(actor, endpoint_id)?;
        if endpoint.disabled.is_some() {
            return Err(Rejection::WebhookEndpointDisabled);
        }
        if message_id.is_empty() || message_id.len() > WEBHOOK_MESSAGE_ID_CHARS_MAX {
            return Err(Rejection::invalid("message_id", "is not a message id"));
        }
        let requested =
            Event::WebhookRedeliveryRequested { endpoint_id, message_id: message_id.to_owned(), by: actor.id, at: now };
        Ok(Decision::read_back(vec![requested], ReadBack::WebhookEndpoint(endpoint_id)))
    }

    /// An attempt is recorded even on a disabled endpoint (it may have been under way); a 410 disables
    /// the endpoint in the same commit.
    pub(super) fn decide_record_webhook_attempt(&self, attempt: &WebhookAttempt) -> Result<Decision, Rejection> {
        let endpoint = self.webhooks.endpoints.get(&attempt.endpoint_id).ok_or(Rejection::NotFound)?;
        if attempt.attempt == 0
            || attempt.message_id.is_empty()
            || attempt.message_id.len() > WEBHOOK_MESSAGE_ID_CHARS_MAX
        {
            return Err(Rejection::invalid("attempt", "names no message or attempt"));
        }
        let mut attempt = attempt.clone();
        if let Some(error) = &mut attempt.error
            && error.chars().count() > WEBHOOK_ERROR_CHARS_MAX
        {
            *error = error.chars().take(WEBHOOK_ERROR_CHARS_MAX).collect();
        }
        let (endpoint_id, at, gone) = (attempt.endpoint_id, attempt.at, attempt.outcome == AttemptOutcome::Gone);
        let mut events = vec![Event::WebhookAttempted { attempt }];
        if gone && endpoint.disabled.is_none() {
            events.push(Event::WebhookEndpointDisabled { endpoint_id, reason: EndpointDisabled::Gone, at });
        }
        Ok(Decision::read_back(events, ReadBack::WebhookEndpoint(endpoint_id)))
    }

    pub(super) fn apply_webhook_event(&mut self, event: &Event) {
        match event {
            Event::WebhookEndpointCreated { endpoint } => {
                self.note_id(endpoint.id.0);
                assert!(self.accounts.contains_key(&endpoint.owner_id), "endpoint of an unknown account");
                self.webhooks.by_owner.entry(endpoint.owner_id).or_default().push(endpoint.id);
                let previous = self.webhooks.endpoints.insert(endpoint.id, endpoint.clone());
                assert!(previous.is_none(), "endpoint {} created twice", endpoint.id);
            }
            Event::WebhookSecretRotated { endpoint_id, secret, previous_expire_at, .. } => {
                let endpoint = self.webhooks.endpoints.get_mut(endpoint_id).expect("known endpoint");
                // The current secret signs beside the new one for a while; an older one stops now,
                // so rotating again and again never grows the signature header.
                endpoint.secrets.truncate(1);
                let current = endpoint.secrets.first_mut().expect("an endpoint has a current secret");
                current.expires_at = Some(*previous_expire_at);
                endpoint.secrets.insert(0, EndpointSecret { secret: secret.clone(), expires_at: None });
            }
            Event::WebhookEndpointDisabled { endpoint_id, reason, at } => {
                let endpoint = self.webhooks.endpoints.get_mut(endpoint_id).expect("known endpoint");
                assert!(endpoint.disabled.is_none(), "endpoint {endpoint_id} disabled twice");
                endpoint.disabled = Some(*reason);
                endpoint.disabled_at = Some(*at);
            }
            Event::WebhookRedeliveryRequested { endpoint_id, .. } => {
                assert!(self.webhooks.endpoints.contains_key(endpoint_id), "redelivery to an unknown endpoint");
            }
            Event::WebhookAttempted { attempt } => {
                let endpoint = self.webhooks.endpoints.get_mut(&attempt.endpoint_id).expect("known endpoint");
                endpoint.attempts += 1;
                if attempt.outcome == AttemptOutcome::Delivered {
                    endpoint.delivered += 1;
                }
            }
            _ => unreachable!("not a webhook event"),
        }
    }

    /// Every endpoint belongs to a known account and is listed once under it; its newest secret never
    /// expires; it never delivered more than it attempted.
    pub(super) fn check_webhook_invariants(&self) -> Result<(), String> {
        let n_listed: usize = self.webhooks.by_owner.values().map(Vec::len).sum();
        if n_listed != self.webhooks.endpoints.len() {
            return Err("webhook endpoints and their per-owner lists out of step".to_owned());
        }
        for (owner, ids) in &self.webhooks.by_owner {
            if !self.accounts.contains_key(owner) {
                return Err(format!("webhook endpoints of unknown account {owner}"));
            }
            for id in ids {
                let endpoint =
                    self.webhooks.endpoints.get(id).ok_or_else(|| format!("endpoint {id} listed but unknown"))?;
                if endpoint.owner_id != *owner {
                    return Err(format!("endpoint {id} listed under another account"));
                }
                if endpoint.secrets.first().is_none_or(|newest| newest.expires_at.is_some())
                    || endpoint.secrets.len() > 2
                {
                    return Err(format!("endpoint {id} has no current secret, or more than one it replaced"));
                }
                if endpoint.delivered > endpoint.attempts {
                    return Err(format!("endpoint {id} delivered more than it attempted"));
                }
            }
        }
        Ok(())
    }
}
