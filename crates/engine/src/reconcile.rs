//! The reconciliation sweep: at start and every `RECONCILE_EVERY`, every charge the journal knows no
//! order kept is paid back (and that journaled), and every approved refund whose provider call failed
//! is asked again. Both provider calls are keyed (`ld_unused_<charge>`, `ld_refund_<refund>`), so a
//! sweep racing a request, or a sweep after a crash, pays back once.

use crate::payments::{PaymentProvider, RefundRequest};
use crate::refunds::pay_back;
use crate::shard::Request;
use crate::{EngineError, execute_on, read_all_on};
use domain::{CartId, Command, Envelope, Money};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often the sweep runs after the one at start.
pub(crate) const RECONCILE_EVERY: Duration = Duration::from_secs(60);

pub(crate) async fn run_reconciliation(
    shards: Vec<mpsc::Sender<Request>>,
    payments: Arc<dyn PaymentProvider>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Err(error) = sweep(&shards, &*payments).await {
            tracing::warn!(%error, "reconciliation sweep stopped early; the next one retries");
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONCILE_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn sweep(shards: &[mpsc::Sender<Request>], payments: &dyn PaymentProvider) -> Result<(), EngineError> {
    let unused = read_all_on(shards, |state| {
        let charges = state.unreleased_charges();
        charges.map(|(cart_id, charge_id, amount)| (cart_id, charge_id.to_owned(), amount)).collect::<Vec<_>>()
    })
    .await?;
    for (cart_id, charge_id, amount) in unused.into_iter().flatten() {
        match release_charge(shards, payments, cart_id, &charge_id, amount).await {
            Ok(()) => metrics::counter!("livedrop_reconciled_total", "kind" => "unused_charge").increment(1),
            Err(error) => tracing::warn!(%charge_id, %error, "unused charge not paid back yet; the next sweep retries"),
        }
    }
    let approved = read_all_on(shards, |state| state.approved_refunds().cloned().collect::<Vec<_>>()).await?;
    for refund in approved.into_iter().flatten() {
        match pay_back(shards, payments, &refund).await {
            Ok(Ok(_)) => metrics::counter!("livedrop_reconciled_total", "kind" => "approved_refund").increment(1),
            Ok(Err(rejection)) => tracing::error!(refund_id = %refund.id, %rejection, "approved refund refused"),
            Err(error) => tracing::warn!(refund_id = %refund.id, %error, "approved refund still not paid back"),
        }
    }
    Ok(())
}

/// Pays back a charge no order kept and journals it.
pub(crate) async fn release_charge(
    shards: &[mpsc::Sender<Request>],
    payments: &dyn PaymentProvider,
    cart_id: CartId,
    charge_id: &str,
    amount: Money,
) -> Result<(), EngineError> {
    let receipt = payments.refund(&RefundRequest::whole_charge(charge_id)).await?;
    let command =
        Command::ReleaseCharge { cart_id, charge_id: charge_id.to_owned(), provider_refund_id: receipt.refund_id };
    match execute_on(shards, Envelope::plain(command)).await? {
        // Not journaled as unused: a duplicate request answered from the key's record, whose charge
        // is the same one; paid back all the same.
        Ok(_) | Err(domain::Rejection::NotFound) => Ok(()),
        Err(rejection) => {
            Err(EngineError::Inconsistent(format!("releasing charge {charge_id} of {amount:?} refused: {rejection}")))
        }
    }
}
