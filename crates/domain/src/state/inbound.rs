//! Inbound webhook secrets: a partner (or a creator that fulfils its own sales) signs the signals
//! its systems post to the platform, as Standard Webhooks specifies, with a secret the platform
//! made for it. Setting a new one keeps the one it replaces in force for a while, as outbound
//! rotation does.

use super::State;
use super::decision::Decision;
use crate::limits::WEBHOOK_SECRET_OVERLAP_MS;
use crate::{AccountId, Actor, EndpointSecret, Event, Rejection, Reply, Role, Timestamp, WebhookSecret};

impl State {
    /// The secrets that verify `account`'s inbound webhooks at `now`, the newest first.
    pub fn inbound_secrets(&self, account: AccountId, now: Timestamp) -> Vec<&str> {
        let secrets = self.inbound_secrets.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        secrets.iter().filter(|s| s.expires_at.is_none_or(|at| at > now)).map(|s| s.secret.0.as_str()).collect()
    }

    pub(super) fn decide_set_inbound_secret(
        &self,
        now: Timestamp,
        actor: &Actor,
        secret: &WebhookSecret,
    ) -> Result<Decision, Rejection> {
        if !matches!(actor.role, Role::Partner | Role::Creator) {
            return Err(Rejection::Forbidden);
        }
        if !secret.0.starts_with("whsec_") || secret.0.len() > 128 {
            return Err(Rejection::invalid("secret", "must be a whsec_ secret"));
        }
        if !self.accounts.contains_key(&actor.id) {
            return Err(Rejection::NotFound);
        }
        let set = Event::InboundSecretSet {
            account_id: actor.id,
            secret: secret.clone(),
            previous_expire_at: Timestamp(now.0 + WEBHOOK_SECRET_OVERLAP_MS),
            at: now,
        };
        Ok(Decision::immediate(vec![set], Ok(Reply::InboundSecretSet { account_id: actor.id })))
    }

    /// The new secret first; the one it replaces until `previous_expire_at`; any older one ends.
    pub(super) fn set_inbound_secret(
        &mut self,
        account_id: AccountId,
        secret: &WebhookSecret,
        previous_expire_at: Timestamp,
    ) {
        assert!(self.accounts.contains_key(&account_id), "inbound secret of an unknown account");
        let secrets = self.inbound_secrets.entry(account_id).or_default();
        secrets.truncate(1);
        if let Some(current) = secrets.first_mut() {
            current.expires_at = Some(previous_expire_at);
        }
        secrets.insert(0, EndpointSecret { secret: secret.clone(), expires_at: None });
    }
}
