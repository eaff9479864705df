//! Refunds end to end: decide on the shard (request, sign-offs), pay back through the provider
//! outside it, then record the execution on the shard, like checkout's quote, charge, complete.
//!
//! Every step is journaled before the next: an approved refund is a fact before the provider is
//! asked, and the provider's key is derived from the refund id, so however often the payment is
//! retried (a retry of the request or approval under its key, a repeated approval, or the scan at
//! start-up after a crash) the buyer is paid back once.

use crate::payments::{PaymentProvider, RefundRequest};
use crate::shard::Request;
use crate::{Engine, EngineError, execute_on};
use domain::{
    Actor, Command, Envelope, HoldId, IdempotencyKey, NewRefund, OrderId, Outcome, Refund, RefundDecision, RefundId,
    RefundStatus, Reply,
};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The provider's idempotency key for paying back a refund: one per refund, forever.
pub fn refund_key(refund_id: RefundId) -> String {
    format!("ld_refund_{refund_id}")
}

impl Engine {
    /// Asks for a refund of `order_id`. At or under the threshold it is paid back before the answer,
    /// which then shows it `executed`; above it, it waits for both sign-offs (`pending_approval`).
    /// Runs in a task of its own, so a client going away cannot stop it between the steps.
    pub async fn request_refund(
        self: &Arc<Self>,
        actor: Actor,
        order_id: OrderId,
        lines: Option<Vec<(HoldId, u32)>>,
        reason: String,
        restock: bool,
        idempotency: IdempotencyKey,
    ) -> Result<Outcome, EngineError> {
        let refund =
            NewRefund { lines, reason, restock, approval_threshold_minor: self.refund_approval_threshold_minor };
        let command = Command::RequestRefund { actor, order_id, refund };
        self.refund_step(Envelope { idempotency: Some(idempotency), command }).await
    }

    /// Approves or rejects a refund for the platform (an admin) or the creator. The approval that
    /// completes both sign-offs pays it back before the answer.
    pub async fn decide_refund(
        self: &Arc<Self>,
        actor: Actor,
        refund_id: RefundId,
        decision: RefundDecision,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Outcome, EngineError> {
        let command = Command::DecideRefund { actor, refund_id, decision };
        self.refund_step(Envelope { idempotency, command }).await
    }

    /// An admin's decision on an order a fraud rule held for review. A rejection also refunds the
    /// whole order (the domain records that refund approved), paid back here before the answer; if
    /// the provider fails, the refund stays approved for a retry (approving it again, or the scan at
    /// start-up) and the rejection is answered all the same.
    pub async fn review_order(
        self: &Arc<Self>,
        actor: Actor,
        order_id: OrderId,
        approve: bool,
        reason: Option<String>,
    ) -> Result<Outcome, EngineError> {
        let engine = self.clone();
        let task = tokio::spawn(async move {
            let command = Command::ReviewOrder { actor, order_id, approve, reason };
            let outcome = engine.execute(Envelope::plain(command)).await?;
            if approve || outcome.is_err() {
                return Ok(outcome);
            }
            let (approved, _) = engine
                .read(order_id.partition(), move |state| {
                    let refunds = state.order_refunds(order_id);
                    refunds.filter(|refund| refund.status == RefundStatus::Approved).cloned().collect::<Vec<_>>()
                })
                .await?;
            for refund in approved {
                if let Err(error) = pay_back(&engine.shards, &*engine.payments, &refund).await {
                    tracing::warn!(refund_id = %refund.id, %error, "refund of a rejected order kept for a retry");
                }
            }
            Ok(outcome)
        });
        task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "review task failed");
            Err(EngineError::Unavailable)
        })
    }

    async fn refund_step(self: &Arc<Self>, envelope: Envelope) -> Result<Outcome, EngineError> {
        let engine = self.clone();
        let task = tokio::spawn(async move {
            let outcome = engine.execute(envelope).await?;
            pay_back_if_approved(&engine.shards, &*engine.payments, outcome).await
        });
        task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "refund task failed");
            Err(EngineError::Unavailable)
        })
    }
}

/// An outcome showing an approved refund (just decided, or recorded under a retried key) is paid
/// back, and answered as the refund is then (`executed`, the same for every retry); any other
/// outcome is answered as it is. A provider failure leaves the refund approved for a retry.
async fn pay_back_if_approved(
    shards: &[mpsc::Sender<Request>],
    payments: &dyn PaymentProvider,
    outcome: Outcome,
) -> Result<Outcome, EngineError> {
    match outcome {
        Ok(Reply::Refund(refund)) if refund.status == RefundStatus::Approved => {
            pay_back(shards, payments, &refund).await
        }
        other => Ok(other),
    }
}

pub(crate) async fn pay_back(
    shards: &[mpsc::Sender<Request>],
    payments: &dyn PaymentProvider,
    refund: &Refund,
) -> Result<Outcome, EngineError> {
    let request = RefundRequest {
        charge_id: refund.charge_id.clone(),
        amount: Some(refund.amount),
        idempotency_key: refund_key(refund.id),
    };
    let receipt = payments.refund(&request).await.inspect_err(|error| {
        tracing::warn!(refund_id = %refund.id, %error, "refund approved but not paid back; kept for a retry");
    })?;
    let command = Command::CompleteRefund { refund_id: refund.id, provider_refund_id: receipt.refund_id };
    execute_on(shards, Envelope::plain(command)).await
}
