//! One shard: a single task owns a `State` and is its only writer.
//!
//! Each turn drains up to `SHARD_BATCH_COMMANDS_MAX` requests, fires due timers, decides every request
//! against the in-memory state (applying at once, so the next request sees the new stock), submits the
//! batch's events to the journal as one append, and hands the batch to the shard's replier. The
//! replier waits for the commit and only then answers the waiters and publishes room updates. So the next
//! batch is decided while the previous one is being written (pipelining), but no answer leaves before
//! the events that justify it are durable; reads are answered in the same order, after the commit of
//! everything they may have observed.

use crate::directory::Directory;
use crate::hub::{DropCounters, EpisodeChange, EpisodeUpdate, Hub, RoomUpdate};
use crate::transparency::{PendingLeaf, Transparency, pending_leaves};
use crate::{Clock, EngineError};
use domain::{Actor, Command, DropId, Envelope, EpisodeId, Event, Outcome, State, Timestamp};
use journal::{Journal, PendingAppend};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Requests one shard decides per journal append at most.
pub(crate) const SHARD_BATCH_COMMANDS_MAX: usize = 512;
/// Requests waiting in one shard's inbox; beyond this callers are told to retry (503).
pub(crate) const SHARD_INBOX_MAX: usize = 8_192;
/// Decided batches waiting for their commit; the shard pauses deciding beyond this.
const PIPELINE_BATCHES_MAX: usize = 4;

/// Called once the batch holding a request is durable, with the shard's journal watermark.
pub(crate) type Delivery = Box<dyn FnOnce(Result<u64, EngineError>) + Send>;
/// A read evaluated against the shard's state in request order; its answer waits like a write's.
pub(crate) type ReadJob = Box<dyn FnOnce(&State) -> Delivery + Send>;

pub(crate) enum Request {
    Execute { envelope: Envelope, reply: oneshot::Sender<Result<Outcome, EngineError>> },
    Read(ReadJob),
}

pub(crate) struct ShardContext {
    pub(crate) shard_idx: usize,
    pub(crate) journal: Journal,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) directory: Arc<Directory>,
    pub(crate) profiles: Arc<crate::profiles::Profiles>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) transparency: Arc<Transparency>,
    pub(crate) outbox: Arc<crate::webhooks::Outbox>,
    /// Set when a commit failed: memory is then ahead of disk, so nothing more may be acknowledged.
    pub(crate) failed: Arc<AtomicBool>,
}

struct Batch {
    pending: Option<PendingAppend>,
    deliveries: Vec<Delivery>,
    /// Room updates to publish once the batch is durable; `seq` is filled in then.
    updates: Vec<RoomUpdate>,
    /// Token directory changes to make once the batch is durable, in event order.
    tokens: Vec<TokenChange>,
    /// Payout profile changes to make once the batch is durable, in event order.
    profiles: Vec<(domain::AccountId, Option<domain::PayoutProfile>)>,
    leaves: Vec<PendingLeaf>,
    /// What the webhook outbox learns from the batch's events, by index in the batch.
    webhooks: Vec<(usize, crate::webhooks::Input)>,
}

/// A change of the token directory a committed event calls for.
enum TokenChange {
    Insert { token_sha256: String, actor: Actor, account_created_at: Timestamp, expires_at: Option<Timestamp> },
    Remove { token_sha256: String },
}

/// The directory changes of a batch's events: a new account's sign-up token and an issued token
/// start authenticating, a revoked one stops, each once its commit is durable.
fn token_changes(state: &State, events: &[Event]) -> Vec<TokenChange> {
    let mut changes = Vec::new();
    for event in events {
        match event {
            Event::AccountCreated { account } => changes.push(TokenChange::Insert {
                token_sha256: account.token_sha256.clone(),
                actor: Actor { id: account.id, role: account.role },
                account_created_at: account.created_at,
                expires_at: None,
            }),
            Event::TokenIssued { token } => {
                let account = state.account(token.account_id).expect("a token of a known account");
                changes.push(TokenChange::Insert {
                    token_sha256: token.token_sha256.clone(),
                    actor: Actor { id: account.id, role: account.role },
                    account_created_at: account.created_at,
                    expires_at: token.expires_at,
                });
            }
            Event::TokenRevoked { token_id, .. } => {
                let token = state.token(*token_id).expect("a known token");
                changes.push(TokenChange::Remove { token_sha256: token.token_sha256.clone() });
            }
            _ => {}
        }
    }
    changes
}

pub(crate) async fn run_shard(
    context: Arc<ShardContext>,
    mut state: State,
    mut inbox: mpsc::Receiver<Request>,
    mut shutdown: watch::Receiver<bool>,
    watermark: u64,
) {
    let (batches, batches_inbox) = mpsc::channel(PIPELINE_BATCHES_MAX);
    let replier = tokio::spawn(run_replier(context.clone(), batches_inbox, watermark));
    let mut draining = false;
    loop {
        let now = context.clock.now();
        let sleep_ms = state.next_deadline().map(|deadline| u64::try_from(deadline.0 - now.0).unwrap_or(0));
        let first = tokio::select! {
            request = inbox.recv() => match request {
                Some(request) => Some(request),
                None => break, // closed and drained: every accepted request was handled
            },
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms.unwrap_or(0))), if sleep_ms.is_some() => None,
            _ = shutdown.changed(), if !draining => {
                // Refuse new requests but finish the ones already accepted.
                draining = true;
                inbox.close();
                continue;
            }
        };
        let now = context.clock.now();
        let mut batch = Batch {
            pending: None,
            deliveries: Vec::new(),
            updates: Vec::new(),
            tokens: Vec::new(),
            profiles: Vec::new(),
            leaves: Vec::new(),
            webhooks: Vec::new(),
        };
        let mut events = state.advance(now);
        if let Some(first) = first {
            handle(&context, &mut state, now, first, &mut events, &mut batch);
            while batch.deliveries.len() < SHARD_BATCH_COMMANDS_MAX {
                match inbox.try_recv() {
                    Ok(request) => handle(&context, &mut state, now, request, &mut events, &mut batch),
                    Err(_) => break,
                }
            }
        }
        if !batch.deliveries.is_empty() {
            metrics::histogram!("livedrop_shard_batch_requests").record(batch.deliveries.len() as f64);
        }
        batch.updates = room_updates(&state, &events);
        batch.tokens = token_changes(&state, &events);
        batch.profiles = crate::profiles::Profiles::changes(&events);
        batch.webhooks = crate::webhooks::inputs_of(&state, &events);
        if !events.is_empty() {
            // Encoded here rather than on the journal's single writer thread, which every shard shares.
            let encoded: Vec<_> = events.iter().map(journal::encode).collect();
            batch.leaves = pending_leaves(&events, &encoded);
            match context.journal.submit(encoded).await {
                Ok(pending) => batch.pending = Some(pending),
                Err(error) => {
                    tracing::error!(shard = context.shard_idx, %error, "journal refused an append");
                    context.failed.store(true, Ordering::SeqCst);
                }
            }
        }
        if batches.send(batch).await.is_err() {
            break;
        }
    }
    drop(batches);
    if replier.await.is_err() {
        tracing::error!(shard = context.shard_idx, "replier task panicked");
    }
    tracing::info!(shard = context.shard_idx, "shard stopped");
}

fn handle(
    context: &ShardContext,
    state: &mut State,
    now: domain::Timestamp,
    request: Request,
    events: &mut Vec<Event>,
    batch: &mut Batch,
) {
    if context.failed.load(Ordering::SeqCst) {
        match request {
            Request::Execute { reply, .. } => {
                let _ = reply.send(Err(EngineError::Unavailable));
            }
            // The read itself is harmless; running it is the way to reach its reply channel.
            Request::Read(job) => job(state)(Err(EngineError::Unavailable)),
        }
        return;
    }
    match request {
        Request::Execute { envelope, reply } => {
            let is_claim = matches!(envelope.command, Command::Claim { .. });
            let outcome = state.execute(now, envelope, events);
            if is_claim {
                let label = match &outcome {
                    Ok(_) => "claimed",
                    Err(rejection) => rejection.code(),
                };
                metrics::counter!("livedrop_claims_total", "outcome" => label).increment(1);
            }
            batch.deliveries.push(Box::new(move |committed| {
                let _ = reply.send(committed.map(|_| outcome));
            }));
        }
        Request::Read(job) => batch.deliveries.push(job(state)),
    }
}

/// Which part of an episode an event changes, for live updates.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Touched {
    Status,
    Stage,
    Poll(u32),
    Questions,
    Rituals,
}

/// The room updates a batch's events call for, read from the state after the whole batch.
///
/// Each touched drop or episode part is published once per batch, as its whole current state, not
/// once per event: the state already holds the batch's net effect, a burst of votes in one batch costs
/// one message, and the room's bounded buffer fills per batch rather than per request. Episodes live
/// in their room's partition (this shard), so the episode gives the room to publish to. Starting an
/// episode also puts the host on the stage, and starting or ending it (by the host, or by the timer at
/// its `ends_at`: the same event) changes the stage's status and who may publish, so both publish the
/// stage too. A new live poll and a closed poll publish the poll
/// (with its question and options); a pin or demo change publishes the rituals.
fn room_updates(state: &State, events: &[Event]) -> Vec<RoomUpdate> {
    let touched_drops: BTreeSet<DropId> = events.iter().filter_map(Event::drop_id).collect();
    let mut updates: Vec<RoomUpdate> = touched_drops
        .iter()
        .filter_map(|drop_id| state.drop(*drop_id))
        .map(|drop| RoomUpdate::Drop(DropCounters::of(drop, 0)))
        .collect();
    let mut touched: BTreeSet<(EpisodeId, Touched)> = BTreeSet::new();
    for event in events {
        match event {
            Event::EpisodeStarted { episode_id, .. } | Event::EpisodeEnded { episode_id, .. } => {
                touched.insert((*episode_id, Touched::Status));
                touched.insert((*episode_id, Touched::Stage));
            }
            Event::StageChanged { episode_id, .. } => {
                touched.insert((*episode_id, Touched::Stage));
            }
            Event::PollVoted { episode_id, slot, .. }
            | Event::PollStarted { episode_id, slot, .. }
            | Event::PollClosed { episode_id, slot, .. } => {
                touched.insert((*episode_id, Touched::Poll(*slot)));
            }
            Event::DropPinned { episode_id, .. }
            | Event::DropUnpinned { episode_id, .. }
            | Event::DemoStarted { episode_id, .. }
            | Event::DemoStopped { episode_id, .. } => {
                touched.insert((*episode_id, Touched::Rituals));
            }
            Event::QuestionAsked { episode_id, .. }
            | Event::QuestionUpvoted { episode_id, .. }
            | Event::QuestionResolved { episode_id, .. } => {
                touched.insert((*episode_id, Touched::Questions));
            }
            _ => {}
        }
    }
    for (episode_id, part) in touched {
        let Some(episode) = state.episode(episode_id) else { continue };
        let change = match part {
            Touched::Status => EpisodeChange::Status(Arc::new(episode.clone())),
            Touched::Stage => EpisodeChange::Stage(Arc::new(episode.clone())),
            Touched::Poll(slot) => match state.poll_tally(episode_id, slot) {
                Some(tally) => EpisodeChange::Poll(Arc::new(tally)),
                None => continue,
            },
            Touched::Questions => EpisodeChange::Questions(Arc::new(state.questions(episode_id).to_vec())),
            Touched::Rituals => EpisodeChange::Rituals(Arc::new(episode.rituals)),
        };
        updates.push(RoomUpdate::Episode(EpisodeUpdate { seq: 0, room_id: episode.room_id, episode_id, change }));
    }
    updates
}

async fn run_replier(context: Arc<ShardContext>, mut batches: mpsc::Receiver<Batch>, mut watermark: u64) {
    while let Some(batch) = batches.recv().await {
        let committed = match batch.pending {
            None if context.failed.load(Ordering::SeqCst) => Err(EngineError::Unavailable),
            None => Ok(watermark),
            Some(pending) => match pending.committed().await {
                Ok(appended) => {
                    // Before any answer: a receipt or proof asked for right after sees these leaves.
                    context.transparency.append(appended.first_seq, batch.leaves);
                    // Before any answer too: a redelivery asked for is scheduled by the time it is answered.
                    context.outbox.observe_batch(appended.first_seq, batch.webhooks);
                    Ok(appended.last_seq)
                }
                Err(error) => {
                    tracing::error!(shard = context.shard_idx, %error, "commit failed; refusing writes until restart");
                    context.failed.store(true, Ordering::SeqCst);
                    Err(EngineError::Unavailable)
                }
            },
        };
        if let Ok(seq) = committed {
            watermark = seq;
            // Before any answer: a revoked token is refused on the very next request.
            for change in batch.tokens {
                match change {
                    TokenChange::Insert { token_sha256, actor, account_created_at, expires_at } => {
                        context.directory.insert(token_sha256, actor, account_created_at, expires_at);
                    }
                    TokenChange::Remove { token_sha256 } => context.directory.remove(&token_sha256),
                }
            }
            for (account_id, profile) in batch.profiles {
                context.profiles.set(account_id, profile);
            }
            for mut update in batch.updates {
                update.set_seq(seq);
                context.hub.publish(update);
            }
        }
        for delivery in batch.deliveries {
            delivery(committed.clone());
        }
    }
}
