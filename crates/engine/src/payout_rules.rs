//! Payout rules beside the shards: the rule set in force, and the runs that move payees' payout
//! profiles by their records. A payee's record spans every book it earns in (one per partition),
//! so a run reads all shards, sums each payee's counts, evaluates the rules once per payee and sends
//! a command only to a payee whose profile changes; its shard journals the rule with the profile.
//! Runs happen at start, after each save, every `PAYOUT_RULES_EVERY`, and on an admin's request.

use crate::clock::Clock;
use crate::shard::Request;
use crate::{Engine, EngineError, execute_on, read_all_on, read_on};
use domain::{
    AccountId, Actor, Command, DAY_MS, Envelope, Partition, PayoutProfile, ProfileInForce, Rejection, Reply, Timestamp,
};
use risk::{PayeeRecord, PayoutRuleSet, PayoutVerdict, RECORD_DAYS, RecordCounts};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often the payout rules run on every payee's record, besides after each save.
pub(crate) const PAYOUT_RULES_EVERY: Duration = Duration::from_secs(3_600);
/// Payees whose records one shard read gathers: about 10 ms of a shard's time at 100 orders each.
const RECORD_PAYEES_PER_READ: usize = 256;
/// Moves listed in a run's answer at most (all are journaled and counted).
pub const RUN_MOVES_LISTED_MAX: usize = 100;

/// The payout rules in force, with the text, version and author they were saved with.
#[derive(Debug)]
pub struct InstalledPayoutRules {
    pub text: String,
    /// 0 before any save: no rules, nobody is moved.
    pub version: u64,
    pub by: Option<AccountId>,
    pub rules: Arc<PayoutRuleSet>,
}

/// A payee's profile a run changed: `None` back to the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileMove {
    pub account_id: AccountId,
    pub profile: Option<PayoutProfile>,
    pub verdict: Option<PayoutVerdict>,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RulesRun {
    pub rules_version: u64,
    /// Creators and partners considered, pinned ones included.
    pub payees: usize,
    /// Payees an admin's profile kept out of the rules.
    pub pinned: usize,
    pub moved: usize,
    /// The first `RUN_MOVES_LISTED_MAX` moves.
    pub moves: Vec<ProfileMove>,
}

pub(crate) struct PayoutRules {
    installed: RwLock<Arc<InstalledPayoutRules>>,
    shards: Vec<mpsc::Sender<Request>>,
    clock: Arc<dyn Clock>,
    /// One run at a time: two would read the same records and send the same moves.
    running: tokio::sync::Mutex<()>,
}

impl PayoutRules {
    pub(crate) fn new(shards: Vec<mpsc::Sender<Request>>, clock: Arc<dyn Clock>) -> PayoutRules {
        let none = InstalledPayoutRules { text: String::new(), version: 0, by: None, rules: Arc::default() };
        PayoutRules { installed: RwLock::new(Arc::new(none)), shards, clock, running: tokio::sync::Mutex::new(()) }
    }

    pub(crate) fn installed(&self) -> Arc<InstalledPayoutRules> {
        self.installed.read().expect("payout rules lock").clone()
    }

    /// Installs rules found in the journal at start or just saved, unless newer ones are in force
    /// (two saves may commit in one order and reach here in the other). Answers them as saved.
    pub(crate) fn install(
        &self,
        text: &str,
        version: u64,
        by: AccountId,
        rules: Arc<PayoutRuleSet>,
    ) -> Arc<InstalledPayoutRules> {
        let saved = Arc::new(InstalledPayoutRules { text: text.to_owned(), version, by: Some(by), rules });
        let mut installed = self.installed.write().expect("payout rules lock");
        if version > installed.version {
            *installed = saved.clone();
        }
        saved
    }

    /// Evaluates the rules in force on every payee's record and moves the profiles that change.
    pub(crate) async fn run(&self) -> Result<RulesRun, EngineError> {
        let _one_at_a_time = self.running.lock().await;
        let installed = self.installed();
        let Some(by) = installed.by else { return Ok(RulesRun::default()) };
        let now = self.clock.now();
        let since = Timestamp(now.0 - i64::from(RECORD_DAYS) * DAY_MS as i64);
        let per_shard = read_all_on(&self.shards, move |state| {
            let payees: Vec<(AccountId, Timestamp, Option<ProfileInForce>)> =
                state.payees().map(|(id, created_at, in_force)| (id, created_at, in_force.cloned())).collect();
            (payees, state.earning_payees())
        })
        .await?;
        let mut counts: HashMap<AccountId, RecordCounts> = HashMap::new();
        let mut payees = Vec::new();
        for (shard_idx, (shard_payees, earning)) in per_shard.into_iter().enumerate() {
            payees.extend(shard_payees);
            // A few hundred payees per read: a read holds the shard, and claims wait behind it.
            for chunk in earning.chunks(RECORD_PAYEES_PER_READ) {
                let chunk = chunk.to_vec();
                let read = move |state: &domain::State| state.payee_records(since, &chunk);
                // Partition `i` is on shard `i`.
                let (records, _) = read_on(&self.shards, shard_idx as Partition, read).await?;
                for (payee, record) in records {
                    *counts.entry(payee).or_default() += record;
                }
            }
        }
        let mut run = RulesRun { rules_version: installed.version, payees: payees.len(), ..RulesRun::default() };
        for (account_id, created_at, in_force) in payees {
            if in_force.as_ref().is_some_and(|in_force| in_force.rule.is_none()) {
                run.pinned += 1;
                continue;
            }
            let age_days = (now.0 - created_at.0).max(0) / DAY_MS as i64;
            let record = PayeeRecord::of(age_days, &counts.get(&account_id).copied().unwrap_or_default());
            let outcome = installed.rules.first_match(&record).map(|(terms, verdict)| (terms.into(), verdict));
            let unchanged = match (&in_force, &outcome) {
                (None, None) => true,
                (Some(in_force), Some((profile, verdict))) => in_force.unchanged_by(profile, verdict),
                _ => false,
            };
            if unchanged {
                continue;
            }
            let command =
                Command::ApplyPayoutRule { account_id, rules_version: installed.version, by, outcome: outcome.clone() };
            match execute_on(&self.shards, Envelope::plain(command)).await? {
                Ok(Reply::PayoutRuleApplied { changed: true }) => {
                    run.moved += 1;
                    metrics::counter!("livedrop_payout_profiles_moved_total").increment(1);
                    if run.moves.len() < RUN_MOVES_LISTED_MAX {
                        let (profile, verdict) = outcome.map_or((None, None), |(p, v)| (Some(p), Some(v)));
                        run.moves.push(ProfileMove { account_id, profile, verdict });
                    }
                }
                // An admin pinned it, or newer rules moved it, since the read.
                Ok(_) => {}
                Err(rejection) => {
                    return Err(EngineError::Inconsistent(format!("a payout rule for {account_id}: {rejection}")));
                }
            }
        }
        if run.moved > 0 {
            tracing::info!(version = run.rules_version, payees = run.payees, moved = run.moved, "payout rules ran");
        }
        Ok(run)
    }

    /// Runs at start and then every `PAYOUT_RULES_EVERY` until shutdown.
    pub(crate) async fn run_schedule(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.run().await {
                tracing::warn!(%error, "payout rules run stopped early; the next one retries");
            }
            tokio::select! {
                _ = tokio::time::sleep(PAYOUT_RULES_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

impl Engine {
    /// The payout rules in force.
    pub fn payout_rules(&self) -> Arc<InstalledPayoutRules> {
        self.payout_rules.installed()
    }

    /// Saves new payout rules (admins only; the domain checks the role and the text), puts them in
    /// force once durable and runs them on every payee in the background. Answers them as saved.
    pub async fn save_payout_rules(
        &self,
        actor: Actor,
        text: String,
    ) -> Result<Result<Arc<InstalledPayoutRules>, Rejection>, EngineError> {
        let rules = risk::parse_payout_rules(&text).map(Arc::new);
        let by = actor.id;
        let command = Command::SavePayoutRules { actor, text, rules: rules.clone() };
        let (shards, runner) = (self.shards.clone(), self.payout_rules.clone());
        // In a task of its own: a client going away after the commit must not leave the saved
        // rules out of force.
        let task = tokio::spawn(async move {
            match (execute_on(&shards, Envelope::plain(command)).await?, rules) {
                (Ok(Reply::PayoutRules { text, version }), Ok(rules)) => {
                    let saved = runner.install(&text, version, by, rules);
                    tokio::spawn(async move {
                        if let Err(error) = runner.run().await {
                            tracing::warn!(%error, "payout rules run after a save stopped early; the next one retries");
                        }
                    });
                    Ok(Ok(saved))
                }
                (Ok(other), _) => Err(EngineError::Inconsistent(format!("saving payout rules answered {other:?}"))),
                (Err(rejection), _) => Ok(Err(rejection)),
            }
        });
        task.await.unwrap_or_else(|error| {
            tracing::error!(%error, "payout rules save task failed");
            Err(EngineError::Unavailable)
        })
    }

    /// Runs the payout rules in the background (after a change an admin made to one payee).
    pub fn start_payout_rules_run(&self) {
        let runner = self.payout_rules.clone();
        tokio::spawn(async move {
            if let Err(error) = runner.run().await {
                tracing::warn!(%error, "payout rules run stopped early; the next one retries");
            }
        });
    }

    /// Runs the payout rules now, on every payee.
    pub async fn run_payout_rules(&self) -> Result<RulesRun, EngineError> {
        let runner = self.payout_rules.clone();
        // In a task of its own: a client going away cannot stop a run halfway.
        tokio::spawn(async move { runner.run().await }).await.unwrap_or_else(|error| {
            tracing::error!(%error, "payout rules task failed");
            Err(EngineError::Unavailable)
        })
    }
}
