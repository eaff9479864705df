//! Where claims and checkouts are decided. In livedrop that is always the engine; the benchmark puts
//! a PostgreSQL or Redis inventory here instead, behind the same HTTP front (authentication,
//! validation, idempotency keys, JSON), so that a head-to-head run differs in the inventory alone.
//! Fraud rules are the engine's: the baselines ignore the `RiskContext`.

use domain::{Actor, CartId, DropId, IdempotencyKey, Outcome};
use engine::{BoxFuture, Engine, EngineError, RiskContext};
use std::sync::Arc;

pub trait Inventory: Send + Sync + 'static {
    /// Claims `quantity` units of a drop for `actor`; answers `Reply::Claimed` or a rejection, and the
    /// same answer again for a retry under `key`.
    fn claim(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: IdempotencyKey,
        context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>>;

    /// Charges the cart's active holds and turns them into an order (`Reply::Ordered`).
    fn checkout(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        key: IdempotencyKey,
        context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>>;
}

/// The engine's own inventory: a claim is decided by the fraud rules, then by the shard that owns the drop.
pub(crate) struct EngineInventory(pub(crate) Arc<Engine>);

impl Inventory for EngineInventory {
    fn claim(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: IdempotencyKey,
        context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(async move { self.0.claim(actor, drop_id, quantity, key, &context).await })
    }

    fn checkout(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        key: IdempotencyKey,
        context: RiskContext,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(self.0.checkout(actor, cart_id, payment_method, key, context))
    }
}
