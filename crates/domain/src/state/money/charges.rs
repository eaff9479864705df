//! Charges no order kept. A checkout refused after its payment was taken (the cart changed, or was
//! checked out meanwhile) journals the charge as unused with the refusal; the engine pays it back
//! and journals that. Whatever is still unused after a crash or a provider failure is what the
//! engine's reconciliation sweep pays back, so every charge the journal knows ends in an order or a
//! refund.

use super::super::State;
use super::super::decision::{DecidedReply, Decision};
use crate::{CartId, Event, Money, PaymentOutcome, Rejection, Reply, Timestamp};

/// A charge no order kept, and the provider's refund of it once paid back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::state) struct UnusedCharge {
    pub(in crate::state) cart_id: CartId,
    pub(in crate::state) amount: Money,
    pub(in crate::state) released: Option<String>,
}

impl State {
    /// Charges no order kept and not paid back yet: `(cart, charge id, amount)`.
    pub fn unreleased_charges(&self) -> impl Iterator<Item = (CartId, &str, Money)> {
        let unreleased = self.money.unused_charges.iter().filter(|(_, charge)| charge.released.is_none());
        unreleased.map(|(charge_id, charge)| (charge.cart_id, charge_id.as_str(), charge.amount))
    }

    /// A refused checkout whose payment was taken also journals the charge as unused.
    pub(in crate::state) fn keep_unused_charge(
        &self,
        now: Timestamp,
        cart_id: CartId,
        payment: &PaymentOutcome,
        decided: Result<Decision, Rejection>,
    ) -> Result<Decision, Rejection> {
        let PaymentOutcome::Approved { charge_id, amount, .. } = payment else { return decided };
        // Refused again under another key with the same charge: it is journaled once.
        if self.money.unused_charges.contains_key(charge_id) {
            return decided;
        }
        let unused = Event::ChargeUnused { cart_id, charge_id: charge_id.clone(), amount: *amount, at: now };
        match decided {
            Err(rejection) => Ok(Decision::immediate(vec![unused], Err(rejection))),
            Ok(Decision { mut events, reply: DecidedReply::Immediate(Err(rejection)) }) => {
                events.push(unused);
                Ok(Decision::immediate(events, Err(rejection)))
            }
            ordered => ordered,
        }
    }

    /// Records that the provider paid an unused charge back; again changes nothing.
    pub(in crate::state) fn decide_release_charge(
        &self,
        now: Timestamp,
        cart_id: CartId,
        charge_id: &str,
        provider_refund_id: &str,
    ) -> Result<Decision, Rejection> {
        let charge = self.money.unused_charges.get(charge_id).filter(|charge| charge.cart_id == cart_id);
        let charge = charge.ok_or(Rejection::NotFound)?;
        if provider_refund_id.is_empty() {
            return Err(Rejection::invalid("provider_refund_id", "must not be empty"));
        }
        let answer = Ok(Reply::ChargeReleased { charge_id: charge_id.to_owned() });
        if charge.released.is_some() {
            return Ok(Decision::immediate(Vec::new(), answer));
        }
        let event = Event::ChargeReleased {
            cart_id,
            charge_id: charge_id.to_owned(),
            provider_refund_id: provider_refund_id.to_owned(),
            at: now,
        };
        Ok(Decision::immediate(vec![event], answer))
    }
}
