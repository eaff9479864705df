//! The front alone: an inventory that decides nothing and keeps nothing, answering every claim
//! `sold_out` and every checkout `not_found` at once. What a run against it measures is the cost of
//! the HTTP front and the load generator themselves, the ceiling that any inventory behind this front
//! can reach on the machine (its load generator checks fail by design: nothing is ever sold).

use domain::{Actor, CartId, DropId, IdempotencyKey, Outcome, Rejection};
use engine::{BoxFuture, EngineError, RiskContext};
use server::Inventory;

pub(crate) struct NullInventory;

impl Inventory for NullInventory {
    fn claim(
        &self,
        _actor: Actor,
        _drop_id: DropId,
        _quantity: u32,
        _key: IdempotencyKey,
        _context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(async { Ok(Err(Rejection::SoldOut { remaining: 0 })) })
    }

    fn checkout(
        &self,
        _actor: Actor,
        _cart_id: CartId,
        _payment_method: String,
        _key: IdempotencyKey,
        _context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(async { Ok(Err(Rejection::NotFound)) })
    }
}
