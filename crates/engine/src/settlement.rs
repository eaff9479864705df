//! Settlement windows end to end: start one on partition 0's shard, have every book close it,
//! then send the payouts it created through the provider and record each answer. Each step is
//! journaled before the next and each is idempotent, so the whole is simply run again after a crash
//! (at start-up) or a failure (at the next window).

use crate::clock::Clock;
use crate::payouts::{PayoutAnswer, PayoutProvider, PayoutRequest, payout_key};
use crate::shard::Request;
use crate::{EngineError, execute_on, read_all_on, read_on};
use domain::{
    Actor, Command, Envelope, IdempotencyKey, Money, PARTITION_COUNT, Partition, Payout, PayoutResult, PayoutState,
    Rejection, Reply, Settlement, SettlementId,
};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Books closed at once; each is a command on its shard.
const BOOKS_IN_FLIGHT: usize = 32;
/// Payouts sent to the provider at once.
const PAYOUTS_IN_FLIGHT: usize = 16;
/// A book's shard answering `overloaded` is asked again after this long, up to this many times.
const OVERLOADED_RETRY: Duration = Duration::from_millis(50);
const OVERLOADED_RETRIES_MAX: u32 = 200;

/// When the next scheduled window closes after `now`: the next multiple of `every` since the epoch
/// (daily: the next 00:00 UTC).
pub(crate) fn next_window(now: domain::Timestamp, every: Duration) -> domain::Timestamp {
    let every_ms = every.as_millis().max(1) as i64;
    domain::Timestamp((now.0 / every_ms + 1) * every_ms)
}

/// Closes settlement windows and sends payouts; shared by the engine, its schedule and the resume
/// task at start-up.
pub(crate) struct Settler {
    pub(crate) shards: Vec<mpsc::Sender<Request>>,
    pub(crate) payouts: Arc<dyn PayoutProvider>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) payout_minimum_minor: i64,
    /// One close at a time.
    pub(crate) settling: tokio::sync::Mutex<()>,
}

impl Settler {
    async fn execute(&self, envelope: Envelope) -> Result<domain::Outcome, EngineError> {
        execute_on(&self.shards, envelope).await
    }

    /// Closes a settlement window now: an admin's request (`actor`, with its idempotency key, so a
    /// retry answers the same settlement), or the schedule's (`None`). Answers the settlement and
    /// the payouts it created, each as it stands once sent.
    pub(crate) async fn close_settlement(
        self: &Arc<Self>,
        actor: Option<Actor>,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Result<(Settlement, Vec<Payout>), Rejection>, EngineError> {
        let engine = self.clone();
        // In a task of its own: a client going away cannot stop a close halfway.
        let task = tokio::spawn(async move {
            let _one_at_a_time = engine.settling.lock().await;
            let command = Command::StartSettlement { actor, minimum_minor: engine.payout_minimum_minor };
            let settlement = match engine.execute(Envelope { idempotency, command }).await? {
                Ok(Reply::Settlement(settlement)) => *settlement,
                Ok(other) => return Err(EngineError::Inconsistent(format!("a settlement answered {other:?}"))),
                Err(rejection) => return Ok(Err(rejection)),
            };
            engine.finish_settlement(&settlement).await?;
            let payouts = engine.settlement_payouts(settlement.id).await?;
            Ok(Ok((settlement, payouts)))
        });
        task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "settlement task failed");
            Err(EngineError::Unavailable)
        })
    }

    /// Has every book close `settlement` (a book that already did changes nothing), then sends every
    /// payout still waiting for the provider: this one's, and any an earlier failure left behind.
    pub(crate) async fn finish_settlement(&self, settlement: &Settlement) -> Result<(), EngineError> {
        let started = std::time::Instant::now();
        let books = futures_util::stream::iter(0..PARTITION_COUNT)
            .map(|book| self.settle_book(settlement, book as Partition))
            .buffer_unordered(BOOKS_IN_FLIGHT);
        let results: Vec<Result<usize, EngineError>> = books.collect().await;
        let n_payouts: usize = results.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter().sum();
        tracing::info!(
            settlement = %settlement.id,
            payouts = n_payouts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "settlement window closed in every book"
        );
        self.send_waiting_payouts().await
    }

    async fn settle_book(&self, settlement: &Settlement, book: Partition) -> Result<usize, EngineError> {
        let command = Command::SettleBook { settlement: settlement.clone(), book };
        let mut attempts = 0;
        loop {
            match self.execute(Envelope::plain(command.clone())).await {
                Ok(Ok(Reply::Payouts(payouts))) => return Ok(payouts.len()),
                Ok(other) => return Err(EngineError::Inconsistent(format!("closing a book answered {other:?}"))),
                Err(EngineError::Overloaded) if attempts < OVERLOADED_RETRIES_MAX => {
                    attempts += 1;
                    tokio::time::sleep(OVERLOADED_RETRY).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Sends every payout whose intent is journaled and whose answer is not, and records each answer.
    /// A provider that fails (rather than refuses) leaves the payout waiting for the next try.
    pub(crate) async fn send_waiting_payouts(&self) -> Result<(), EngineError> {
        let waiting = read_all_on(&self.shards, |state| state.unsettled_payouts().cloned().collect::<Vec<_>>()).await?;
        let sent = futures_util::stream::iter(waiting.into_iter().flatten())
            .map(|payout| self.send_payout(payout))
            .buffer_unordered(PAYOUTS_IN_FLIGHT);
        let results: Vec<Result<(), EngineError>> = sent.collect().await;
        results.into_iter().collect()
    }

    async fn send_payout(&self, payout: Payout) -> Result<(), EngineError> {
        let request = PayoutRequest {
            idempotency_key: payout_key(payout.id),
            payee: payout.payee,
            amount: Money { minor: payout.amount_minor, currency: payout.currency },
        };
        let result = match self.payouts.payout(request).await {
            Ok(PayoutAnswer::Paid { provider_payout_id }) => PayoutResult::Paid { provider_payout_id },
            Ok(PayoutAnswer::Refused { reason }) => PayoutResult::Failed { reason },
            Err(error) => {
                tracing::warn!(payout = %payout.id, %error, "payout provider failed; the payout waits for the next try");
                metrics::counter!("livedrop_payout_provider_errors_total").increment(1);
                return Ok(());
            }
        };
        let command = Command::CompletePayout { payout_id: payout.id, result };
        match self.execute(Envelope::plain(command)).await? {
            Ok(Reply::Payout(done)) => {
                let outcome = if done.state == PayoutState::Paid { "paid" } else { "failed" };
                metrics::counter!("livedrop_payouts_total", "outcome" => outcome).increment(1);
                Ok(())
            }
            other => Err(EngineError::Inconsistent(format!("completing a payout answered {other:?}"))),
        }
    }

    /// The payouts of a settlement in every book, oldest first.
    pub(crate) async fn settlement_payouts(&self, settlement_id: SettlementId) -> Result<Vec<Payout>, EngineError> {
        let per_shard = read_all_on(&self.shards, move |state| {
            state.settlement_payouts(settlement_id).cloned().collect::<Vec<_>>()
        })
        .await?;
        let mut payouts: Vec<Payout> = per_shard.into_iter().flatten().collect();
        payouts.sort_by_key(|payout| payout.id);
        Ok(payouts)
    }

    /// After a restart: finishes the latest settlement (a crash may have stopped it between books)
    /// and sends the payouts still waiting.
    pub(crate) async fn resume_settlement(self: Arc<Self>) {
        let _one_at_a_time = self.settling.lock().await;
        let latest = read_on(&self.shards, domain::SETTLEMENT_PARTITION, |state| state.latest_settlement().cloned())
            .await
            .map(|(latest, _)| latest);
        let resumed = match latest {
            Ok(Some(settlement)) => self.finish_settlement(&settlement).await,
            Ok(None) => self.send_waiting_payouts().await,
            Err(error) => Err(error),
        };
        if let Err(error) = resumed {
            tracing::error!(%error, "resuming the settlement failed; the next window retries");
        }
    }

    /// Closes a window every `every`, on the multiples of it since the epoch (daily: at 00:00 UTC),
    /// until shutdown.
    pub(crate) async fn run_schedule(
        self: Arc<Self>,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            let now = self.clock.now();
            let next = next_window(now, every);
            let wait = Duration::from_millis((next.0 - now.0).max(0) as u64);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            match self.close_settlement(None, None).await {
                Ok(Ok((settlement, payouts))) => {
                    tracing::info!(settlement = %settlement.id, payouts = payouts.len(), "scheduled settlement closed")
                }
                Ok(Err(rejection)) => tracing::error!(%rejection, "the scheduled settlement was refused"),
                Err(error) => tracing::error!(%error, "the scheduled settlement failed; the next window retries"),
            }
        }
    }
}
