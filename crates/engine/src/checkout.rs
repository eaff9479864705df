//! Checkout end to end: quote on the cart's shard, charge outside it, complete on the shard, with
//! the payees' sale terms journaled with the order. A charge the decision refuses is journaled as
//! unused and paid back (`reconcile.rs` retries what a failure left, and pays back a charge a crash
//! left unknown to the journal).

use crate::payments::{Charge, ChargeRequest};
use crate::risk::RiskContext;
use crate::{Engine, EngineError, reconcile};
use domain::{Actor, CartId, Command, Envelope, IdempotencyKey, Outcome, PaymentOutcome, Reply};
use sha2::Digest;
use std::sync::Arc;

/// The payment provider's idempotency key for charging `quoted` holds of a cart at `amount`.
/// Bound to the exact request and the exact quote: a retry of the same request for the same cart
/// reuses its charge; a different request under the same key (refused as `idempotency_key_reused`) or a
/// cart that changed since gets a charge of its own. Hashed: providers cap key length (Stripe: 255),
/// and a cart may hold 100 holds.
pub fn charge_key(cart_id: CartId, key: &IdempotencyKey, amount: domain::Money, quoted: &[domain::HoldId]) -> String {
    let quoted: Vec<String> = quoted.iter().map(ToString::to_string).collect();
    let identity = format!(
        "{cart_id}/{}/{}/{}/{}{}/{}",
        key.owner,
        key.key,
        key.fingerprint,
        amount.minor,
        amount.currency,
        quoted.join(",")
    );
    format!("ld_{}", hex::encode(sha2::Sha256::digest(identity.as_bytes())))
}

/// What happened before a charge: a stored answer, a refusal, or the total to charge.
enum CheckoutStart {
    Recorded(Outcome),
    Refused,
    Charge { amount: domain::Money, quoted_hold_ids: Vec<domain::HoldId>, payees: Vec<domain::AccountId> },
}

impl Engine {
    /// Checks out a cart: quote on the shard, charge outside it, complete on the shard. Runs in a task
    /// of its own, so a caller that goes away (a client disconnecting) cannot strand a charge halfway.
    pub async fn checkout(
        self: &Arc<Self>,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        idempotency: IdempotencyKey,
        context: RiskContext,
    ) -> Result<Outcome, EngineError> {
        let engine = self.clone();
        let task = tokio::spawn(async move {
            engine.checkout_to_completion(actor, cart_id, payment_method, idempotency, context).await
        });
        task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "checkout task failed");
            Err(EngineError::Unavailable)
        })
    }

    async fn checkout_to_completion(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        idempotency: IdempotencyKey,
        context: RiskContext,
    ) -> Result<Outcome, EngineError> {
        let now = self.now();
        let partition = cart_id.partition();
        let key = idempotency.clone();
        let (start, _) = self
            .read(partition, move |state| {
                if let Some(recorded) = state.recorded_outcome(partition, &key, now) {
                    return CheckoutStart::Recorded(recorded);
                }
                match state.checkout_quote(&actor, cart_id) {
                    Ok((lines, amount)) => CheckoutStart::Charge {
                        amount,
                        quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
                        payees: state.cart_payees(cart_id),
                    },
                    Err(_) => CheckoutStart::Refused,
                }
            })
            .await?;
        if let CheckoutStart::Recorded(outcome) = start {
            return Ok(outcome);
        }
        // Decided before any charge, so a blocked checkout never touches the card.
        let risk = self.risk.assess_checkout(&actor, &payment_method, &idempotency, &context, self.now()).map(Box::new);
        let blocked = risk.as_ref().is_some_and(|verdict| verdict.action == ::risk::Action::Block);
        let payees = match &start {
            CheckoutStart::Charge { payees, .. } => payees.as_slice(),
            _ => &[],
        };
        let mut terms = Box::new(self.profiles.terms(self.money.platform_fee_bps, self.money.default_profile, payees));
        // The pickup codes of the order's lines come from it: random, so no one can work one out.
        terms.pickup_seed = rand::random();
        let payment = match start {
            CheckoutStart::Recorded(_) => unreachable!("answered above"),
            CheckoutStart::Refused => PaymentOutcome::NotAttempted,
            CheckoutStart::Charge { .. } if blocked => PaymentOutcome::NotAttempted,
            CheckoutStart::Charge { amount, quoted_hold_ids, .. } => {
                let request = ChargeRequest {
                    amount,
                    payment_method: payment_method.clone(),
                    idempotency_key: charge_key(cart_id, &idempotency, amount, &quoted_hold_ids),
                    description: format!("livedrop cart {cart_id}"),
                    cart_id,
                    journal_id: self.journal_id.clone(),
                };
                match self.payments.charge(request).await? {
                    Charge::Approved { charge_id } => {
                        PaymentOutcome::Approved { method: payment_method, charge_id, amount, quoted_hold_ids }
                    }
                    Charge::Declined { decline_code } => {
                        self.risk.record_decline(actor.id, &payment_method, self.now());
                        PaymentOutcome::Declined { method: payment_method, decline_code }
                    }
                }
            }
        };
        let charge = match &payment {
            PaymentOutcome::Approved { charge_id, amount, .. } => Some((charge_id.clone(), *amount)),
            _ => None,
        };
        let command = Command::Checkout { actor, cart_id, payment, risk, terms };
        let outcome = self.execute(Envelope { idempotency: Some(idempotency), command }).await;
        if let Some((charge_id, amount)) = charge {
            match &outcome {
                Ok(Ok(Reply::Ordered(order))) if order.charge_id == charge_id => {}
                // Decided: no order holds this charge, and the refusal is recorded under the key, so
                // a retry gets the refusal without charging again.
                Ok(_) => {
                    if let Err(error) =
                        reconcile::release_charge(&self.shards, &*self.payments, cart_id, &charge_id, amount).await
                    {
                        tracing::warn!(%charge_id, %error, "unused charge not paid back yet; the sweep retries");
                    }
                }
                // Undecided (overloaded, shutting down, journal failure): the caller retries with the
                // same key, gets the same charge from the provider, and completes the order with it.
                // If it never does, the sweep finds the charge in the provider's listing once past
                // the idempotency window and pays it back.
                Err(error) => {
                    tracing::warn!(%charge_id, %error, "checkout charged but not completed; kept for a retry")
                }
            }
        }
        outcome
    }
}
