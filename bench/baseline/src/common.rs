//! What both baselines share with each other and with the engine: drop terms read from the engine
//! once per drop, ids in the engine's format, and the charge step of a checkout.

use domain::{Actor, CartId, Drop, DropId, EntityId, HoldId, IdempotencyKey, Money, OrderId, Rejection, Role};
use engine::{Charge, ChargeRequest, Engine, EngineError, PaymentProvider};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Baselines number their rows with their own sequences; ids keep the engine's spelling.
pub(crate) fn hold_id(serial: i64) -> HoldId {
    HoldId(EntityId { partition: 0, serial: serial as u64 })
}
pub(crate) fn cart_id(serial: i64) -> CartId {
    CartId(EntityId { partition: 0, serial: serial as u64 })
}
pub(crate) fn order_id(serial: i64) -> OrderId {
    OrderId(EntityId { partition: 0, serial: serial as u64 })
}

/// Drops are created through the engine (the catalogue stays there); a baseline copies a drop's
/// terms into its own store on the drop's first claim.
pub(crate) struct Catalogue {
    engine: Arc<Engine>,
    copied: Mutex<HashSet<DropId>>,
}

impl Catalogue {
    pub(crate) fn new(engine: Arc<Engine>) -> Catalogue {
        Catalogue { engine, copied: Mutex::new(HashSet::new()) }
    }

    pub(crate) fn now(&self) -> domain::Timestamp {
        self.engine.now()
    }

    /// The drop's terms if it has not been copied yet; `Err(NotFound)` for a drop the engine does not
    /// know. The caller copies them and then calls `copied`.
    pub(crate) async fn uncopied(&self, drop_id: DropId) -> Result<Result<Option<Drop>, Rejection>, EngineError> {
        if self.copied.lock().expect("catalogue lock").contains(&drop_id) {
            return Ok(Ok(None));
        }
        let (drop, _) = self.engine.read(drop_id.partition(), move |state| state.drop(drop_id).cloned()).await?;
        Ok(drop.map(Some).ok_or(Rejection::NotFound))
    }

    pub(crate) fn copied(&self, drop_id: DropId) {
        self.copied.lock().expect("catalogue lock").insert(drop_id);
    }
}

pub(crate) fn require_buyer(actor: &Actor) -> Result<(), Rejection> {
    if actor.role == Role::Buyer { Ok(()) } else { Err(Rejection::Forbidden) }
}

/// Charges a quote exactly as the engine does, with the engine's provider key.
pub(crate) async fn charge(
    payments: &dyn PaymentProvider,
    cart_id: CartId,
    key: &IdempotencyKey,
    amount: Money,
    payment_method: &str,
    quoted: &[HoldId],
) -> Result<Charge, EngineError> {
    let request = ChargeRequest {
        amount,
        payment_method: payment_method.to_owned(),
        idempotency_key: engine::charge_key(cart_id, key, amount, quoted),
        description: format!("livedrop cart {cart_id}"),
        cart_id,
        journal_id: "baseline".into(),
    };
    Ok(payments.charge(request).await?)
}

/// A store failure is the baseline's "journal failed": the request is answered 503 and not recorded.
pub(crate) fn unavailable(error: impl std::fmt::Debug) -> EngineError {
    // Debug: a database error's Display is only "db error"; its cause is in the Debug form.
    tracing::error!(?error, "baseline store failed");
    EngineError::Unavailable
}
