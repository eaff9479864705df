//! Where claims and checkouts are decided. In livedrop that is always the engine; the benchmark puts
//! a PostgreSQL or Redis inventory here instead, behind the same HTTP front (authentication,
//! validation, idempotency keys, JSON), so that a head-to-head run differs in the inventory alone.

use domain::{Actor, CartId, DropId, Envelope, IdempotencyKey, Outcome};
use engine::{BoxFuture, Engine, EngineError};
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
    ) -> BoxFuture<'_, Result<Outcome, EngineError>>;

    /// Charges the cart's active holds and turns them into an order (`Reply::Ordered`).
    fn checkout(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        key: IdempotencyKey,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>>;
}

/// The engine's own inventory: a claim is a command to the shard that owns the drop.
pub(crate) struct EngineInventory(pub(crate) Arc<Engine>);

impl Inventory for EngineInventory {
    fn claim(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: IdempotencyKey,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        let command = domain::Command::Claim { actor, drop_id, quantity };
        Box::pin(self.0.execute(Envelope { idempotency: Some(key), command }))
    }

    fn checkout(
        &self,
        actor: Actor,
        cart_id: CartId,
        payment_method: String,
        key: IdempotencyKey,
    ) -> BoxFuture<'_, Result<Outcome, EngineError>> {
        Box::pin(self.0.checkout(actor, cart_id, payment_method, key))
    }
}
