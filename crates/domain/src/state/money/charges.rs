//! Charges no order kept. A checkout refused after its payment was taken (the cart changed, or was
//! checked out meanwhile) journals the charge as unused with the refusal; the engine pays it back
//! and journals that. Whatever is still unused after a crash or a provider failure is what the
//! engine's reconciliation sweep pays back, so every charge the journal knows ends in an order or a
//! refund. A charge the journal never heard of (a crash between the charge and the order's commit)
//! is found by the sweep in the provider's listing and journaled as unused by `KeepOrphanCharge`
//! ([0027](../../../../../docs/decisions/0027-orphan-charges.md)); once unused, a charge can no
//! longer pay for an order.

use super::super::State;
use super::super::decision::{DecidedReply, Decision};
use crate::{CartId, CartStatus, Event, Money, PaymentOutcome, Rejection, Reply, Timestamp};

/// What the journal knows of a charge the provider made for a cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeStanding {
    /// The cart is not in this state: not a charge of this shard's (or of this journal's).
    NoCart,
    /// The cart's order was paid with it.
    Ordered,
    /// Journaled as unused: paid back, or about to be.
    Unused,
    /// Neither: taken, then lost before any order or refusal was journaled.
    Orphan,
}

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

    /// A charge journaled as unused: its cart, amount and the provider's refund once paid back.
    pub fn unused_charge(&self, charge_id: &str) -> Option<(CartId, Money, Option<&str>)> {
        let charge = self.money.unused_charges.get(charge_id)?;
        Some((charge.cart_id, charge.amount, charge.released.as_deref()))
    }

    /// What the journal knows of `charge_id`, taken for `cart_id`. Carts are never forgotten and
    /// a cart has one order at most, so its status tells whether an order holds the charge.
    pub fn charge_standing(&self, cart_id: CartId, charge_id: &str) -> ChargeStanding {
        let Some(cart) = self.carts.get(&cart_id) else { return ChargeStanding::NoCart };
        if self.money.unused_charges.contains_key(charge_id) {
            return ChargeStanding::Unused;
        }
        match cart.status {
            CartStatus::CheckedOut(order_id) if self.orders[&order_id].charge_id == charge_id => {
                ChargeStanding::Ordered
            }
            _ => ChargeStanding::Orphan,
        }
    }

    /// Journals a charge the journal never heard of as unused, so the engine pays it back. A known
    /// charge is refused: an order's (`cart_checked_out`) stays, an unused one is journaled once
    /// (`charge_unused`).
    pub(in crate::state) fn decide_keep_orphan_charge(
        &self,
        now: Timestamp,
        cart_id: CartId,
        charge_id: &str,
        amount: Money,
    ) -> Result<Decision, Rejection> {
        if charge_id.is_empty() {
            return Err(Rejection::invalid("charge_id", "must not be empty"));
        }
        if amount.minor <= 0 {
            return Err(Rejection::invalid("amount", "must be positive"));
        }
        match self.charge_standing(cart_id, charge_id) {
            ChargeStanding::NoCart => Err(Rejection::NotFound),
            ChargeStanding::Ordered => Err(Rejection::CartCheckedOut),
            ChargeStanding::Unused => Err(Rejection::ChargeUnused),
            ChargeStanding::Orphan => {
                let unused = Event::ChargeUnused { cart_id, charge_id: charge_id.to_owned(), amount, at: now };
                Ok(Decision::immediate(vec![unused], Ok(Reply::ChargeUnused { charge_id: charge_id.to_owned() })))
            }
        }
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
