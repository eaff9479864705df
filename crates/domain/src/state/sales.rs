//! Sales: a buyer's claim on a drop (a hold in the buyer's cart for the room), the checkout quote,
//! and the checkout that turns a paid cart into an order. The payment and the risk verdicts are
//! inputs decided outside the domain.

use super::decision::{Decision, ReadBack};
use super::{State, require_role};
use crate::limits::CART_HOLDS_MAX;
use crate::{
    Actor, CartId, CartStatus, ClaimReceipt, DropId, DropPhase, Event, FulfilmentId, Hold, HoldId, HoldStatus,
    LedgerTxId, Money, Order, OrderId, OrderLine, OrderReview, PaymentOutcome, Rejection, Reply, ReviewStatus, Role,
    SaleTerms, Timestamp,
};
use risk::{Action, Verdict};
use std::collections::BTreeMap;

impl State {
    pub(super) fn decide_claim(
        &self,
        now: Timestamp,
        actor: &Actor,
        drop_id: DropId,
        quantity: u32,
        risk: Option<&Verdict>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Buyer)?;
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        let risk_decided = |cart_id, verdict: &Verdict| Event::RiskDecided {
            partition: drop_id.partition(),
            buyer_id: actor.id,
            drop_id: Some(drop_id),
            cart_id,
            verdict: verdict.clone(),
            at: now,
        };
        // A block is a fact (the journal keeps which rule fired) and a refusal to the caller.
        if let Some(verdict) = risk.filter(|verdict| verdict.action == Action::Block) {
            return Ok(Decision::immediate(vec![risk_decided(None, verdict)], Err(Rejection::BlockedByRisk)));
        }
        if quantity == 0 {
            return Err(Rejection::invalid("quantity", "must be at least 1"));
        }
        if drop.phase != DropPhase::Open {
            return Err(Rejection::DropNotOpen);
        }
        let already = self.buyer_units(drop_id, actor.id);
        if u64::from(already) + u64::from(quantity) > u64::from(drop.per_buyer_limit) {
            return Err(Rejection::LimitExceeded { limit: drop.per_buyer_limit, already });
        }
        if u64::from(quantity) > drop.remaining {
            return Err(Rejection::SoldOut { remaining: drop.remaining });
        }
        let mut ids = self.allocator(drop_id.partition());
        // Room for a cart, the hold and a risk decision, so the vector never grows.
        let mut events = Vec::with_capacity(3);
        // A cart whose holds have all expired is over: the claim starts a new one, so a cart's hold
        // list stays bounded and an old currency never locks the buyer out of the room.
        let open_cart = self.open_carts.get(&(actor.id, drop.room_id)).map(|cart_id| &self.carts[cart_id]);
        let first_active = open_cart.and_then(|cart| {
            let mut holds = cart.hold_ids.iter().map(|hold_id| &self.holds[hold_id]);
            holds.find(|hold| hold.status == HoldStatus::Active)
        });
        let cart_id = match (open_cart, first_active) {
            (Some(cart), Some(first_active)) => {
                if cart.hold_ids.len() >= CART_HOLDS_MAX {
                    return Err(Rejection::CartFull);
                }
                if first_active.unit_price.currency != drop.unit_price.currency {
                    return Err(Rejection::CurrencyMismatch);
                }
                cart.id
            }
            _ => {
                let cart_id = CartId(ids.next());
                events.push(Event::CartOpened { cart_id, room_id: drop.room_id, buyer_id: actor.id, at: now });
                cart_id
            }
        };
        let hold = Hold {
            id: HoldId(ids.next()),
            drop_id,
            cart_id,
            buyer_id: actor.id,
            quantity,
            unit_price: drop.unit_price,
            created_at: now,
            expires_at: now.plus_ms(drop.hold_ms),
            status: HoldStatus::Active,
        };
        let receipt = ClaimReceipt {
            hold_id: hold.id,
            cart_id: hold.cart_id,
            drop_id: hold.drop_id,
            quantity: hold.quantity,
            expires_at: hold.expires_at,
        };
        events.push(Event::HoldPlaced { hold });
        // A verdict that let the claim through is journaled beside it.
        if let Some(verdict) = risk {
            events.push(risk_decided(Some(cart_id), verdict));
        }
        Ok(Decision::immediate(events, Ok(Reply::Claimed(receipt))))
    }

    /// The lines and total a checkout of `cart_id` by `actor` would charge now.
    pub fn checkout_quote(&self, actor: &Actor, cart_id: CartId) -> Result<(Vec<OrderLine>, Money), Rejection> {
        let cart = match self.carts.get(&cart_id) {
            Some(cart) if cart.buyer_id == actor.id => cart,
            _ => return Err(Rejection::NotFound),
        };
        if matches!(cart.status, CartStatus::CheckedOut(_)) {
            return Err(Rejection::CartCheckedOut);
        }
        let mut lines = Vec::new();
        let mut total: Option<Money> = None;
        for hold in cart.hold_ids.iter().map(|hold_id| &self.holds[hold_id]) {
            if hold.status != HoldStatus::Active {
                continue;
            }
            let drop = &self.drops[&hold.drop_id];
            let line_total = hold.unit_price.times(u64::from(hold.quantity)).expect("limits keep totals in range");
            total = Some(match total {
                None => line_total,
                Some(sum) => sum.plus(line_total).expect("a cart has one currency and bounded totals"),
            });
            let edition = self.products.get(&drop.product_id).and_then(|product| product.edition.as_ref());
            lines.push(OrderLine {
                hold_id: hold.id,
                drop_id: hold.drop_id,
                product_id: drop.product_id,
                title: drop.title.clone(),
                quantity: hold.quantity,
                unit_price: hold.unit_price,
                edition: edition.map(|edition| edition.label.clone()),
            });
        }
        match total {
            Some(total) => Ok((lines, total)),
            None => Err(Rejection::CartExpired),
        }
    }

    pub(super) fn decide_checkout(
        &self,
        now: Timestamp,
        actor: &Actor,
        cart_id: CartId,
        payment: &PaymentOutcome,
        risk: Option<&Verdict>,
        terms: &SaleTerms,
    ) -> Result<Decision, Rejection> {
        let risk_decided = |verdict: &Verdict| Event::RiskDecided {
            partition: cart_id.partition(),
            buyer_id: actor.id,
            drop_id: None,
            cart_id: Some(cart_id),
            verdict: verdict.clone(),
            at: now,
        };
        if let Some(verdict) = risk.filter(|verdict| verdict.action == Action::Block) {
            return match self.carts.get(&cart_id) {
                Some(cart) if cart.buyer_id == actor.id => {
                    Ok(Decision::immediate(vec![risk_decided(verdict)], Err(Rejection::BlockedByRisk)))
                }
                _ => Err(Rejection::NotFound),
            };
        }
        let (lines, total) = self.checkout_quote(actor, cart_id)?;
        let (method, charge_id) = match payment {
            PaymentOutcome::Declined { method, decline_code } => {
                let mut events = vec![Event::PaymentDeclined {
                    cart_id,
                    method: method.clone(),
                    decline_code: decline_code.clone(),
                    at: now,
                }];
                events.extend(risk.map(risk_decided));
                let declined = Rejection::PaymentDeclined { decline_code: decline_code.clone() };
                return Ok(Decision::immediate(events, Err(declined)));
            }
            // The quote before payment was refused, yet the cart can be bought now: it changed meanwhile.
            PaymentOutcome::NotAttempted => return Err(Rejection::CartChanged),
            // Journaled as unused (the sweep found it without an order) and paid back, or about to
            // be: a late retry that got the same charge from the provider must not keep it.
            PaymentOutcome::Approved { charge_id, .. } if self.money.unused_charges.contains_key(charge_id) => {
                return Err(Rejection::ChargeUnused);
            }
            PaymentOutcome::Approved { amount, quoted_hold_ids, .. }
                if *amount != total || !lines.iter().map(|line| line.hold_id).eq(quoted_hold_ids.iter().copied()) =>
            {
                return Err(Rejection::CartChanged);
            }
            PaymentOutcome::Approved { method, charge_id, .. } => (method, charge_id),
        };
        let cart = &self.carts[&cart_id];
        let mut ids = self.allocator(cart_id.partition());
        let order_id = OrderId(ids.next());
        let mut sold_by_drop: BTreeMap<DropId, (Vec<HoldId>, u64)> = BTreeMap::new();
        for line in &lines {
            let entry = sold_by_drop.entry(line.drop_id).or_default();
            entry.0.push(line.hold_id);
            entry.1 += u64::from(line.quantity);
        }
        let creator_id = self.rooms[&cart.room_id].creator_id;
        let flagged = cart.flagged_for_review || risk.is_some_and(|verdict| verdict.action == Action::Review);
        let order = Order {
            id: order_id,
            cart_id,
            room_id: cart.room_id,
            buyer_id: actor.id,
            creator_id,
            lines,
            total,
            payment_method: method.clone(),
            charge_id: charge_id.clone(),
            paid_at: now,
            review: flagged
                .then(|| Box::new(OrderReview { status: ReviewStatus::Pending, reason: None, decided_at: None })),
        };
        // The charge's split, in the same commit as the order it pays for.
        let sale = self.sale_transaction(LedgerTxId(ids.next()), &order, terms);
        let fulfilment = self.open_fulfilment(&order, || FulfilmentId(ids.next()), now, terms.pickup_seed);
        let mut events = vec![Event::OrderPlaced { order }];
        for (drop_id, (hold_ids, quantity)) in sold_by_drop {
            events.push(Event::HoldsSold { drop_id, order_id, hold_ids, quantity });
        }
        events.extend(sale.map(|transaction| Event::LedgerPosted { transaction }));
        events.extend(risk.map(risk_decided));
        events.extend(fulfilment);
        Ok(Decision::read_back(events, ReadBack::Order(order_id)))
    }
}
