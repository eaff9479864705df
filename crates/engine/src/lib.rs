//! The engine: shards that own the state, the journal beneath them, and the read models beside them
//! (token directory, live room hub). The server talks to the engine only; nothing else mutates
//! domain state.

mod admins;
mod checkout;
mod clock;
mod contracts;
mod directory;
mod dispatch;
mod hub;
mod payments;
mod payout_rules;
mod payouts;
mod profiles;
mod reconcile;
mod refunds;
mod risk;
mod settlement;
mod shard;
mod transparency;
mod webhooks;

pub use admins::{AdminToken, DEFAULT_ADMIN_NAME};
pub use checkout::charge_key;
pub use clock::{Clock, ManualClock, SystemClock};
pub use directory::token_sha256;
pub use hub::{DropCounters, EpisodeChange, EpisodeUpdate, RoomUpdate};
pub use payments::{
    BoxFuture, CHARGES_PAGE_MAX, Charge, ChargePage, ChargeRecord, ChargeRequest, PaymentError, PaymentProvider,
    RefundReceipt, RefundRequest, TestPaymentProvider,
};
pub use payout_rules::{InstalledPayoutRules, ProfileMove, RUN_MOVES_LISTED_MAX, RulesRun};
pub use payouts::{
    PayoutAnswer, PayoutProvider, PayoutRequest, SANDBOX_PAYOUTS_FILE, SandboxPayouts, payout_key, sandbox_payouts_path,
};
pub use reconcile::{ORPHAN_GRACE_MS, ORPHAN_LOOKBACK_MS, ORPHANS_PER_SWEEP_MAX};
pub use refunds::refund_key;
pub use risk::{InstalledRules, RiskContext};
pub use transparency::{CHECKPOINTS_PAGE_MAX, InclusionProof, LOG_PAGE_MAX, LogError, Transparency};
pub use webhooks::{ATTEMPTS_KEPT_PER_ENDPOINT, DeliveryView, MESSAGES_KEPT_PER_ENDPOINT, message_id};

use directory::Directory;
pub(crate) use dispatch::{execute_on, read_all_on, read_on};
use domain::{
    Actor, Command, DropId, Envelope, IdempotencyKey, Outcome, PARTITION_COUNT, PAYOUT_RULES_PARTITION, Partition,
    RISK_RULES_PARTITION, Rejection, Reply, RoomId, State, Timestamp,
};
use hub::Hub;
pub use journal::JournalLocation;
use journal::{Journal, JournalError, JournalReader, JournalWriter};
use shard::{Request, SHARD_INBOX_MAX, ShardContext};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// Shards at most; each is one task, so more than a few per core only adds switching.
pub const SHARDS_MAX: usize = 64;
/// Log a line every this many events while replaying the journal at start-up.
const REPLAY_PROGRESS_EVENTS: usize = 100_000;
/// The transparency signing key (an ed25519 seed, hex), created in the data directory on first start.
const SIGNING_KEY_FILE: &str = "transparency-ed25519.key";

#[derive(Debug, thiserror::Error, Clone)]
pub enum EngineError {
    #[error("the engine is overloaded; retry shortly")]
    Overloaded,
    #[error("the engine is shutting down")]
    ShuttingDown,
    #[error("the journal failed; the engine refuses requests until it is restarted")]
    Unavailable,
    #[error("{0}")]
    Journal(Arc<JournalError>),
    #[error("the journal holds a state that breaks an invariant: {0}")]
    Inconsistent(String),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error("the transparency signing key: {0}")]
    SigningKey(String),
    #[error("the admin configuration: {0}")]
    AdminConfig(String),
}

pub struct EngineConfig {
    /// The signing key, the sandbox payouts' record and, unless `journal` says otherwise, the journal.
    pub data_dir: PathBuf,
    /// Where the journal lives; `None`: SQLite in `data_dir`.
    pub journal: Option<JournalLocation>,
    pub n_shards: usize,
    /// The platform admins' tokens, each with its admin's name: every admin is an account of its
    /// own, created or brought up to date at start.
    pub admin_tokens: Vec<AdminToken>,
    pub clock: Arc<dyn Clock>,
    pub payments: Arc<dyn PaymentProvider>,
    /// Names this server in every checkpoint it signs (`<origin>/drops/<drop id>`).
    pub log_origin: String,
    /// Refunds of more minor units than this need a platform admin's and the creator's approval.
    pub refund_approval_threshold_minor: i64,
    pub money: MoneyConfig,
    pub payouts: Arc<dyn PayoutProvider>,
    /// Deliver webhooks to loopback, private and link-local addresses too.
    pub webhooks_allow_private: bool,
}

/// How sales are split and paid out.
#[derive(Clone, Debug)]
pub struct MoneyConfig {
    /// The platform's fee on each sale, journaled with it.
    pub platform_fee_bps: u32,
    /// For payees an admin gave no profile of their own.
    pub default_profile: domain::PayoutProfile,
    /// Payouts below this wait for a later window.
    pub payout_minimum_minor: i64,
    /// Close a settlement window on every multiple of this since the epoch; `None`: only on request.
    pub settlement_every: Option<std::time::Duration>,
}

impl Default for MoneyConfig {
    fn default() -> Self {
        MoneyConfig {
            platform_fee_bps: domain::PLATFORM_FEE_BPS_DEFAULT,
            default_profile: domain::PayoutProfile::SAME_DAY,
            payout_minimum_minor: domain::PAYOUT_MINIMUM_MINOR_DEFAULT,
            settlement_every: None,
        }
    }
}

pub struct Engine {
    shards: Vec<mpsc::Sender<Request>>,
    directory: Arc<Directory>,
    hub: Arc<Hub>,
    clock: Arc<dyn Clock>,
    payments: Arc<dyn PaymentProvider>,
    refund_approval_threshold_minor: i64,
    money: MoneyConfig,
    profiles: Arc<profiles::Profiles>,
    payout_rules: Arc<payout_rules::PayoutRules>,
    settler: Arc<settlement::Settler>,
    risk: risk::Risk,
    failed: Arc<AtomicBool>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    transparency: Arc<Transparency>,
    outbox: Arc<webhooks::Outbox>,
    webhooks_allow_private: bool,
    /// For checkpoints signed on demand and at shutdown; taken at shutdown so the writer can stop.
    journal: Mutex<Option<Journal>>,
    reader: JournalReader,
    writer: Mutex<Option<JournalWriter>>,
    #[cfg(any(test, feature = "test-hooks"))]
    reconciler: Arc<reconcile::Reconciler>,
    /// The transparency signing key's id: stable for a data directory, different across them.
    journal_id: String,
}

/// The partition that owns a handle (and so the account created with it). FNV-1a, fixed forever:
/// changing it would move existing handles to partitions that do not know them. Written out here
/// (four lines) rather than taken from a hashing crate, so no dependency upgrade can ever change it.
pub fn handle_partition(handle: &str) -> Partition {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in handle.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % PARTITION_COUNT as u32) as Partition
}

impl Engine {
    /// Opens the journal (`config.journal`, by default in `data_dir`), replays it into the shards' states, checks every invariant,
    /// and starts the shards. Must run inside a Tokio runtime.
    pub async fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        assert!((1..=SHARDS_MAX).contains(&config.n_shards), "shard count out of range");
        let started = Instant::now();
        let data_dir = config.data_dir.clone();
        let n_shards = config.n_shards;
        journal::create_private_dir(&data_dir).map_err(|error| EngineError::Journal(Arc::new(error)))?;
        let signer = ::transparency::Signer::load_or_create(&data_dir.join(SIGNING_KEY_FILE))
            .map_err(|error| EngineError::SigningKey(error.to_string()))?;
        let transparency = Arc::new(Transparency::new(signer, config.log_origin.clone()));
        let logs = transparency.clone();
        let outbox = Arc::new(webhooks::Outbox::default());
        let replayed_outbox = outbox.clone();
        let location = config.journal.clone().unwrap_or_else(|| JournalLocation::Sqlite(data_dir.clone()));
        let opened = tokio::task::spawn_blocking(move || {
            let mut states = vec![State::default(); n_shards];
            let mut watermarks = vec![0u64; n_shards];
            let mut n_replayed = 0usize;
            let (journal, writer, n_events) = Journal::open_at(&location, |recovered| {
                let shard_idx = usize::from(recovered.event.partition()) % n_shards;
                states[shard_idx].apply(&recovered.event);
                logs.replay(recovered.seq, &recovered.payload, &recovered.event);
                if let Some(input) = webhooks::input_of(&states[shard_idx], &recovered.event) {
                    replayed_outbox.observe(recovered.seq, input);
                }
                watermarks[shard_idx] = recovered.seq;
                n_replayed += 1;
                if n_replayed.is_multiple_of(REPLAY_PROGRESS_EVENTS) {
                    tracing::info!(replayed = n_replayed, "replaying journal");
                }
            })?;
            Ok::<_, JournalError>((journal, writer, n_events, states, watermarks))
        });
        let (journal, writer, n_events, states, watermarks) =
            opened.await.expect("journal open task").map_err(|error| EngineError::Journal(Arc::new(error)))?;
        // A lost or replaced key file would sign new checkpoints that no earlier receipt names:
        // refuse to start rather than fork the logs' history silently.
        let foreign = transparency.foreign_key_ids();
        if !foreign.is_empty() {
            let own = transparency.public_key().key_id();
            return Err(EngineError::SigningKey(format!(
                "the journal's checkpoints were signed by key {foreign:?}, but {SIGNING_KEY_FILE} holds key {own}; \
                 restore the key file that belongs to this data directory"
            )));
        }
        let directory = Arc::new(Directory::default());
        let profiles = Arc::new(profiles::Profiles::default());
        let known_admins = admins::admins_with_live_tokens(&states, config.clock.now());
        // Approved but not paid back when the process stopped: paid back once the shards run.
        let mut approved_refunds = Vec::new();
        for state in &states {
            state.check_invariants().map_err(EngineError::Inconsistent)?;
            approved_refunds.extend(state.approved_refunds().cloned());
            for (account_id, profile) in state.payout_profiles() {
                profiles.set(account_id, Some(profile));
            }
            // Live tokens only: revoked ones never authenticate again, expired ones no longer do.
            let now = config.clock.now();
            for token in state.tokens().filter(|token| token.is_live(now)) {
                let account = state.account(token.account_id).expect("a token of a known account");
                let actor = Actor { id: account.id, role: account.role };
                directory.insert(token.token_sha256.clone(), actor, account.created_at, token.expires_at);
            }
        }
        let risk = risk::Risk::default();
        if let Some((text, version)) = states[usize::from(RISK_RULES_PARTITION) % n_shards].risk_rules() {
            // Saved rules were valid when saved; refusing them now means the language changed under them.
            risk.install_saved(text, version)
                .map_err(|error| EngineError::Inconsistent(format!("saved risk rules: {error}")))?;
        }
        let saved_payout_rules = states[usize::from(PAYOUT_RULES_PARTITION) % n_shards]
            .payout_rules()
            .map(|(text, version, by)| (text.to_owned(), version, by));
        tracing::info!(events = n_events, elapsed_ms = started.elapsed().as_millis() as u64, "journal replayed");

        let hub = Arc::new(Hub::default());
        let failed = Arc::new(AtomicBool::new(false));
        let (shutdown, shutdown_signal) = watch::channel(false);
        let mut shards = Vec::with_capacity(config.n_shards);
        let mut tasks = Vec::with_capacity(config.n_shards);
        for (shard_idx, (state, watermark)) in states.into_iter().zip(watermarks).enumerate() {
            let (sender, inbox) = mpsc::channel(SHARD_INBOX_MAX);
            let context = Arc::new(ShardContext {
                shard_idx,
                journal: journal.clone(),
                clock: config.clock.clone(),
                directory: directory.clone(),
                profiles: profiles.clone(),
                hub: hub.clone(),
                transparency: transparency.clone(),
                outbox: outbox.clone(),
                failed: failed.clone(),
            });
            let task = shard::run_shard(context, state, inbox, shutdown_signal.clone(), watermark);
            tasks.push(tokio::spawn(task));
            shards.push(sender);
        }
        if !approved_refunds.is_empty() {
            tracing::info!(refunds = approved_refunds.len(), "paying back refunds approved before the restart");
        }
        // Its first sweep, now, pays back what a crash left approved, unused or unknown.
        let journal_id = transparency.public_key().key_id();
        let reconciler = reconcile::Reconciler::new(
            shards.clone(),
            config.payments.clone(),
            config.clock.clone(),
            journal_id.clone(),
        );
        tasks.push(tokio::spawn(reconcile::run_reconciliation(reconciler.clone(), shutdown_signal.clone())));
        let delivery = webhooks::DeliveryConfig { allow_private: config.webhooks_allow_private };
        let deliveries = webhooks::run_deliveries(
            outbox.clone(),
            shards.clone(),
            config.clock.clone(),
            delivery,
            shutdown_signal.clone(),
        );
        tasks.push(tokio::spawn(deliveries));
        // Before anything is served: a removed admin's token must not work for a single request.
        admins::configure(&shards, &config.admin_tokens, known_admins).await?;
        let sweeper = run_token_sweeper(directory.clone(), config.clock.clone(), shutdown_signal.clone());
        tasks.push(tokio::spawn(sweeper));
        let settler = Arc::new(settlement::Settler {
            shards: shards.clone(),
            payouts: config.payouts.clone(),
            clock: config.clock.clone(),
            payout_minimum_minor: config.money.payout_minimum_minor,
            settling: tokio::sync::Mutex::new(()),
        });
        // A settlement a crash interrupted is finished, and payouts left waiting are sent.
        tokio::spawn(settler.clone().resume_settlement());
        if let Some(every) = config.money.settlement_every {
            tasks.push(tokio::spawn(settler.clone().run_schedule(every, shutdown_signal.clone())));
        }
        let payout_rules = Arc::new(payout_rules::PayoutRules::new(shards.clone(), config.clock.clone()));
        if let Some((text, version, by)) = saved_payout_rules {
            let rules = ::risk::parse_payout_rules(&text)
                .map_err(|errors| EngineError::Inconsistent(format!("saved payout rules: {}", errors[0])))?;
            payout_rules.install(&text, version, by, Arc::new(rules));
        }
        tasks.push(tokio::spawn(payout_rules.clone().run_schedule(shutdown_signal.clone())));
        let checkpointer =
            run_checkpointer(transparency.clone(), journal.clone(), config.clock.clone(), shutdown_signal);
        tasks.push(tokio::spawn(checkpointer));
        let reader = journal.reader();
        Ok(Engine {
            shards,
            directory,
            hub,
            clock: config.clock,
            payments: config.payments,
            refund_approval_threshold_minor: config.refund_approval_threshold_minor,
            money: config.money,
            profiles,
            payout_rules,
            settler,
            risk,
            failed,
            shutdown,
            tasks: Mutex::new(tasks),
            transparency,
            outbox,
            webhooks_allow_private: config.webhooks_allow_private,
            journal: Mutex::new(Some(journal)),
            reader,
            writer: Mutex::new(Some(writer)),
            #[cfg(any(test, feature = "test-hooks"))]
            reconciler,
            journal_id,
        })
    }

    pub fn transparency(&self) -> &Transparency {
        &self.transparency
    }

    /// What identifies this livedrop's journal to the payment provider (kept with each charge):
    /// the transparency signing key's id, stable for a data directory.
    pub fn journal_id(&self) -> &str {
        &self.journal_id
    }

    /// The latest signed checkpoint of a drop's log (signed now if the log grew since the last);
    /// `None` for an unknown drop.
    pub async fn latest_checkpoint(
        &self,
        drop_id: domain::DropId,
    ) -> Result<Option<::transparency::SignedCheckpoint>, EngineError> {
        let journal = self.journal.lock().expect("engine journal lock").clone().ok_or(EngineError::ShuttingDown)?;
        self.transparency.latest(&journal, drop_id, self.clock.as_ref()).await
    }

    /// Leaves `start..` of a drop's log as stored, with the log's size; `None` for an unknown drop.
    pub async fn log_leaves(
        &self,
        drop_id: domain::DropId,
        start: u64,
        limit: usize,
    ) -> Result<Option<(u64, Vec<String>)>, EngineError> {
        self.transparency.leaves(&self.reader, drop_id, start, limit).await
    }

    /// The verifiable receipt of an order (see `transparency::Receipt`); `None` if the drop logs do
    /// not hold its sale.
    pub async fn receipt(&self, order: &domain::Order) -> Result<Option<::transparency::Receipt>, EngineError> {
        self.transparency.receipt(&self.reader, order).await
    }

    pub fn now(&self) -> domain::Timestamp {
        self.clock.now()
    }

    pub fn is_healthy(&self) -> bool {
        !self.failed.load(Ordering::SeqCst)
    }

    /// The token's account, unless the token is unknown, revoked or expired (by the engine's clock).
    pub fn authenticate(&self, token: &str) -> Option<Actor> {
        self.authenticate_with_created_at(token).map(|(actor, _)| actor)
    }

    /// The token's account and when the account was created (for `account_age_seconds`).
    pub fn authenticate_with_created_at(&self, token: &str) -> Option<(Actor, Timestamp)> {
        self.directory.authenticate(token, self.clock.now())
    }

    /// Removes expired tokens from the token directory, at most `SWEEP_TOKENS_MAX`; the engine
    /// does so every `SWEEP_INTERVAL` on its own. Answers how many went.
    pub fn sweep_expired_tokens(&self) -> usize {
        self.directory.sweep(self.clock.now(), directory::SWEEP_TOKENS_MAX)
    }

    /// Tokens in the token directory (expired ones not yet swept included).
    pub fn token_directory_len(&self) -> usize {
        self.directory.len()
    }

    /// The fraud rules in force.
    pub fn risk_rules(&self) -> Arc<InstalledRules> {
        self.risk.rules()
    }

    /// Saves new fraud rules (admins only; the domain checks the role and the text) and puts them in
    /// force once they are durable. The text is parsed here, once: the domain decides on that parse
    /// (refusing every mistake with its line and column) and the same rule set is installed.
    /// Answers the rules as saved.
    pub async fn save_risk_rules(
        &self,
        actor: Actor,
        text: String,
    ) -> Result<Result<Arc<InstalledRules>, Rejection>, EngineError> {
        let rules = ::risk::parse(&text).map(Arc::new);
        let command = Command::SaveRiskRules { actor, text, rules: rules.clone() };
        match (self.execute(Envelope::plain(command)).await?, rules) {
            (Ok(Reply::RiskRules { text, version }), Ok(rules)) => Ok(Ok(self.risk.install(&text, version, rules))),
            (Ok(other), _) => Err(EngineError::Inconsistent(format!("saving risk rules answered {other:?}"))),
            (Err(rejection), _) => Ok(Err(rejection)),
        }
    }

    /// A claim, decided by the fraud rules first (counting it in the velocity windows once per
    /// idempotency key), then by the drop's shard, which journals a fired rule with the claim.
    pub async fn claim(
        &self,
        actor: Actor,
        drop_id: DropId,
        quantity: u32,
        key: IdempotencyKey,
        context: &RiskContext,
    ) -> Result<Outcome, EngineError> {
        let risk =
            self.risk.assess_claim(&actor, drop_id.partition(), quantity, &key, context, self.now()).map(Box::new);
        let command = Command::Claim { actor, drop_id, quantity, risk };
        self.execute(Envelope { idempotency: Some(key), command }).await
    }

    /// Decides `envelope` on the shard that owns it; resolves once its events are durable.
    pub async fn execute(&self, envelope: Envelope) -> Result<Outcome, EngineError> {
        execute_on(&self.shards, envelope).await
    }

    /// Evaluates `read` against the state of `partition`'s shard. The answer carries the shard's
    /// journal watermark and is released only once everything it could have observed is durable.
    pub async fn read<T, F>(&self, partition: Partition, read: F) -> Result<(T, u64), EngineError>
    where
        T: Send + 'static,
        F: FnOnce(&State) -> T + Send + 'static,
    {
        read_on(&self.shards, partition, read).await
    }

    /// Evaluates `read` against every shard's state; one answer per shard.
    pub async fn read_all<T, F>(&self, read: F) -> Result<Vec<T>, EngineError>
    where
        T: Send + 'static,
        F: Fn(&State) -> T + Send + Sync + 'static,
    {
        read_all_on(&self.shards, read).await
    }

    /// Closes a settlement window now (see `Settler::close_settlement`).
    pub async fn close_settlement(
        &self,
        actor: Option<Actor>,
        idempotency: Option<IdempotencyKey>,
    ) -> Result<Result<(domain::Settlement, Vec<domain::Payout>), Rejection>, EngineError> {
        self.settler.close_settlement(actor, idempotency).await
    }

    /// The payouts of a settlement in every book, oldest first.
    pub async fn settlement_payouts(
        &self,
        settlement_id: domain::SettlementId,
    ) -> Result<Vec<domain::Payout>, EngineError> {
        self.settler.settlement_payouts(settlement_id).await
    }

    pub fn money_config(&self) -> &MoneyConfig {
        &self.money
    }

    /// When the next scheduled settlement window closes; `None` when windows close only on an
    /// admin's request.
    pub fn next_settlement_at(&self) -> Option<domain::Timestamp> {
        self.money.settlement_every.map(|every| settlement::next_window(self.clock.now(), every))
    }

    pub fn subscribe(&self, room_id: RoomId) -> broadcast::Receiver<RoomUpdate> {
        self.hub.subscribe(room_id)
    }

    /// Stops accepting requests, lets every shard finish what it accepted, and waits for the journal
    /// to commit it all.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock().expect("engine tasks lock"));
        for task in tasks {
            if task.await.is_err() {
                tracing::error!("a shard task panicked");
            }
        }
        // The last leaves get a checkpoint, then the engine lets go of the journal.
        let journal = self.journal.lock().expect("engine journal lock").take();
        if let Some(journal) = journal
            && let Err(error) = self.transparency.sign_round(&journal, self.clock.as_ref()).await
        {
            tracing::error!(%error, "signing the final checkpoints failed");
        }
        let writer = self.writer.lock().expect("engine writer lock").take();
        if let Some(writer) = writer {
            // The shards held the last journal handles; with them gone the writer drains and exits.
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        tracing::info!("engine stopped");
    }
}

/// Sweeps expired tokens out of the directory every `SWEEP_INTERVAL` until shutdown, so its size
/// follows the live tokens rather than every token issued since the start.
async fn run_token_sweeper(directory: Arc<Directory>, clock: Arc<dyn Clock>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(directory::SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        let n_swept = directory.sweep(clock.now(), directory::SWEEP_TOKENS_MAX);
        if n_swept > 0 {
            metrics::counter!("livedrop_tokens_swept_total").increment(n_swept as u64);
        }
    }
}

/// Signs a checkpoint of every grown drop log each `CHECKPOINT_INTERVAL`, and at once when a drop
/// closes, until shutdown.
async fn run_checkpointer(
    transparency: Arc<Transparency>,
    journal: Journal,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(transparency::CHECKPOINT_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = transparency.closed.notified() => {}
            _ = shutdown.changed() => break,
        }
        match transparency.sign_round(&journal, clock.as_ref()).await {
            Ok(0) => {}
            Ok(n_signed) => metrics::counter!("livedrop_checkpoints_signed_total").increment(n_signed as u64),
            Err(error) => {
                tracing::error!(%error, "signing checkpoints failed; stopping the checkpointer");
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Pins the partition function: a change would strand every existing account.
    #[test]
    fn handle_partitions_never_change() {
        // Cross-checked against an independent FNV-1a (32-bit) implementation, taken modulo 256.
        assert_eq!(["ana", "demo_creator_1a2b3c", "x_y_z"].map(super::handle_partition), [133, 234, 138]);
    }
}
