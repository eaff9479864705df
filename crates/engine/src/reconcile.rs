//! The reconciliation sweep: at start and every `RECONCILE_EVERY`, every charge the journal knows no
//! order kept is paid back (and that journaled), every approved refund whose provider call failed
//! is asked again, and the provider's charges the journal never heard of (the process stopped
//! between the charge and the order's commit) are journaled as unused, then paid back
//! ([0027](../../../docs/decisions/0027-orphan-charges.md)). Every provider call is keyed
//! (`ld_unused_<charge>`, `ld_refund_<refund>`), so a sweep racing a request, or a sweep after a
//! crash, pays back once.

use crate::clock::Clock;
use crate::payments::{ChargeRecord, PaymentProvider, RefundRequest};
use crate::refunds::pay_back;
use crate::shard::Request;
use crate::{Engine, EngineError, execute_on, read_all_on};
use domain::{CartId, ChargeStanding, Command, Envelope, IDEMPOTENCY_TTL_MS, Money, Rejection, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often the sweep runs after the one at start.
pub(crate) const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// A listed charge is looked up in the journal only once it is this old. Within the idempotency
/// window (`IDEMPOTENCY_TTL_MS`, Stripe's 24 h) a client retrying its checkout under the same key
/// gets the very same charge from the provider and may still complete its order with it; a charge
/// journaled as unused pays for nothing (`charge_unused`), so journaling it earlier would refuse a
/// sale about to succeed. The hour on top covers a retry in flight as the window ends and the skew
/// between our clock and the provider's.
pub const ORPHAN_GRACE_MS: u64 = IDEMPOTENCY_TTL_MS + 3_600_000;
const _: () = assert!(ORPHAN_GRACE_MS > IDEMPOTENCY_TTL_MS, "the grace must outlast the idempotency window");

/// How far before the grace the first sweep of a process lists charges: the listing's cursor is
/// kept in memory only, so a start looks back a week rather than over the account's whole history.
/// An orphan older than that at a start (a process down for a week) is left to a person.
pub const ORPHAN_LOOKBACK_MS: u64 = 7 * 24 * 3_600_000;

/// Orphans one sweep pays back at most; beyond, it pays none and alerts (see `keep_orphans`).
pub const ORPHANS_PER_SWEEP_MAX: usize = 100;

/// The sweep and what it remembers between runs.
pub(crate) struct Reconciler {
    shards: Vec<mpsc::Sender<Request>>,
    payments: Arc<dyn PaymentProvider>,
    clock: Arc<dyn Clock>,
    /// Only charges made for this journal are ever looked at (`ChargeRequest::journal_id`).
    journal_id: String,
    /// Where the provider's listing resumes (by its clock): every charge created before was looked
    /// up. `None` until the first sweep. Locked for a whole sweep, so sweeps never overlap.
    orphans_from: tokio::sync::Mutex<Option<Timestamp>>,
}

pub(crate) async fn run_reconciliation(reconciler: Arc<Reconciler>, mut shutdown: watch::Receiver<bool>) {
    loop {
        if let Err(error) = reconciler.sweep().await {
            tracing::warn!(%error, "reconciliation sweep stopped early; the next one retries");
        }
        tokio::select! {
            _ = tokio::time::sleep(RECONCILE_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}

impl Engine {
    /// Runs one reconciliation sweep now (after any running one) and answers how many orphan charges
    /// it journaled as unused.
    #[cfg(any(test, feature = "test-hooks"))]
    pub async fn reconcile_now(&self) -> Result<usize, EngineError> {
        self.reconciler.sweep().await
    }
}

impl Reconciler {
    pub(crate) fn new(
        shards: Vec<mpsc::Sender<Request>>,
        payments: Arc<dyn PaymentProvider>,
        clock: Arc<dyn Clock>,
        journal_id: String,
    ) -> Arc<Reconciler> {
        let orphans_from = tokio::sync::Mutex::new(None);
        Arc::new(Reconciler { shards, payments, clock, journal_id, orphans_from })
    }

    /// One sweep; answers how many orphan charges it journaled as unused.
    async fn sweep(&self) -> Result<usize, EngineError> {
        let mut orphans_from = self.orphans_from.lock().await;
        let (shards, payments) = (self.shards.as_slice(), &*self.payments);
        let unused = read_all_on(shards, |state| {
            let charges = state.unreleased_charges();
            charges.map(|(cart_id, charge_id, amount)| (cart_id, charge_id.to_owned(), amount)).collect::<Vec<_>>()
        })
        .await?;
        for (cart_id, charge_id, amount) in unused.into_iter().flatten() {
            match release_charge(shards, payments, cart_id, &charge_id, amount).await {
                Ok(()) => metrics::counter!("livedrop_reconciled_total", "kind" => "unused_charge").increment(1),
                Err(error) => {
                    tracing::warn!(%charge_id, %error, "unused charge not paid back yet; the next sweep retries")
                }
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
        let to = Timestamp(self.clock.now().0.saturating_sub(ORPHAN_GRACE_MS as i64));
        let from = orphans_from.unwrap_or(Timestamp(to.0.saturating_sub(ORPHAN_LOOKBACK_MS as i64)));
        if from >= to {
            // The clock stepped back: nothing new is old enough yet.
            return Ok(0);
        }
        let (n_kept, resume_from) = self.keep_orphans(from, to).await?;
        *orphans_from = Some(resume_from);
        Ok(n_kept)
    }

    /// Looks up every charge created in `[from, to)` and not refunded in its cart's shard, and
    /// journals the unknown ones as unused, then pays them back. Answers how many it journaled, and
    /// where the next listing starts: `to`, or the earliest charge it could not look up or journal.
    async fn keep_orphans(&self, from: Timestamp, to: Timestamp) -> Result<(usize, Timestamp), EngineError> {
        let (mut n_kept, mut resume_from) = (0, to);
        let mut starting_after = None;
        loop {
            let page = self.payments.charges_created(from, to, starting_after.take()).await?;
            // A charge without our metadata was made by something else on the provider's account:
            // another deployment, another system. Never ours to pay back; a person looks at it.
            let mut ours: Vec<(ChargeRecord, CartId)> = Vec::new();
            for record in page.charges.iter().filter(|record| !record.fully_refunded) {
                match (record.journal_id.as_deref() == Some(self.journal_id.as_str()), record.cart_id) {
                    (true, Some(cart_id)) => ours.push((record.clone(), cart_id)),
                    _ => {
                        metrics::counter!("livedrop_reconciled_total", "kind" => "unattributed_charge").increment(1);
                        let charge_id = &record.charge_id;
                        tracing::warn!(%charge_id, "listed charge not made by this journal; left alone");
                    }
                }
            }
            let lookups: Arc<Vec<(CartId, String)>> =
                Arc::new(ours.iter().map(|(record, cart_id)| (*cart_id, record.charge_id.clone())).collect());
            let standings = match self.standings(lookups).await {
                Ok(standings) => standings,
                Err(error) => {
                    tracing::warn!(%error, "listed charges not looked up; the next sweep lists them again");
                    let earliest = ours.iter().map(|(record, _)| record.created_at).min();
                    resume_from = resume_from.min(earliest.unwrap_or(to));
                    Vec::new()
                }
            };
            // A crash leaves a few orphans; many mean the listing does not match what `charge`
            // answered (an adapter listing other ids, a shared account): stop before paying back
            // live orders, and keep them listed until a person looks.
            let n_orphans = standings.iter().filter(|standing| **standing == ChargeStanding::Orphan).count();
            if n_kept + n_orphans > ORPHANS_PER_SWEEP_MAX {
                metrics::counter!("livedrop_reconciled_total", "kind" => "orphan_sweep_halted").increment(1);
                tracing::error!(
                    n_orphans = n_kept + n_orphans,
                    max = ORPHANS_PER_SWEEP_MAX,
                    "more charges unknown to the journal than a crash leaves; none paid back: check the payment \
                     provider's listing"
                );
                let orphans = ours.iter().zip(&standings).filter(|(_, standing)| **standing == ChargeStanding::Orphan);
                let earliest = orphans.map(|((record, _), _)| record.created_at).min().unwrap_or(to);
                return Ok((n_kept, resume_from.min(earliest)));
            }
            for ((record, cart_id), standing) in ours.into_iter().zip(standings) {
                match standing {
                    ChargeStanding::Ordered | ChargeStanding::Unused => {}
                    ChargeStanding::NoCart => {
                        let charge_id = &record.charge_id;
                        tracing::warn!(%charge_id, %cart_id, "listed charge of a cart the journal lacks; left alone");
                    }
                    ChargeStanding::Orphan => match self.keep_orphan(cart_id, &record).await {
                        Ok(kept) => n_kept += usize::from(kept),
                        Err(error) => {
                            let charge_id = &record.charge_id;
                            tracing::warn!(%charge_id, %error, "orphan charge not journaled; the next sweep retries");
                            resume_from = resume_from.min(record.created_at);
                        }
                    },
                }
            }
            match (page.has_more, page.charges.last()) {
                (true, Some(last)) => starting_after = Some(last.charge_id.clone()),
                _ => return Ok((n_kept, resume_from)),
            }
        }
    }

    /// What the journal knows of each `(cart, charge)`: a cart is in one shard only, and every
    /// other shard answers `NoCart`.
    async fn standings(&self, lookups: Arc<Vec<(CartId, String)>>) -> Result<Vec<ChargeStanding>, EngineError> {
        if lookups.is_empty() {
            return Ok(Vec::new());
        }
        let n_lookups = lookups.len();
        let per_shard = read_all_on(&self.shards, move |state| {
            lookups.iter().map(|(cart_id, charge_id)| state.charge_standing(*cart_id, charge_id)).collect::<Vec<_>>()
        })
        .await?;
        let standing = |index: usize| {
            let mut known = per_shard.iter().map(|standings| standings[index]);
            known.find(|standing| *standing != ChargeStanding::NoCart).unwrap_or(ChargeStanding::NoCart)
        };
        Ok((0..n_lookups).map(standing).collect())
    }

    /// Journals an orphan as unused first, so that whatever happens next the journal knows the
    /// charge (and the sweep pays it back), then pays it back. Answers whether it journaled it.
    async fn keep_orphan(&self, cart_id: CartId, record: &ChargeRecord) -> Result<bool, EngineError> {
        let charge_id = &record.charge_id;
        let command = Command::KeepOrphanCharge { cart_id, charge_id: charge_id.clone(), amount: record.amount };
        match execute_on(&self.shards, Envelope::plain(command)).await? {
            Ok(_) => {}
            // Known since it was looked up: an order was placed with it, or another sweep kept it.
            Err(Rejection::CartCheckedOut | Rejection::ChargeUnused) => return Ok(false),
            Err(rejection) => {
                tracing::error!(%charge_id, %cart_id, %rejection, "listed charge refused as an orphan; left alone");
                return Ok(false);
            }
        }
        metrics::counter!("livedrop_reconciled_total", "kind" => "orphan_charge").increment(1);
        let amount_minor = record.amount.minor;
        tracing::warn!(%charge_id, %cart_id, amount_minor, "charge the journal never heard of, journaled as unused");
        if let Err(error) = release_charge(&self.shards, &*self.payments, cart_id, charge_id, record.amount).await {
            tracing::warn!(%charge_id, %error, "orphan charge not paid back yet; the next sweep retries");
        }
        Ok(true)
    }
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
