//! Fraud rules beside the shards: the installed rule set and the velocity counters. Counters are
//! global (one buyer's claims in different creators' drops go to different shards), so they live
//! here rather than in a shard; the verdict travels to the shard inside the command, which journals
//! it with the claim or checkout it decided.

use domain::{AccountId, Actor, IdempotencyKey, Partition, Timestamp};
use risk::{Action, Counter, RuleSet, Signal, SignalValues, Velocity, VelocityKey, Verdict};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

/// What the server knows about a request beyond its body: where it came from.
#[derive(Clone, Debug, Default)]
pub struct RiskContext {
    pub ip: Option<IpAddr>,
    /// The `X-Device-Id` header, checked by the server (bounded length, visible ASCII).
    pub device_id: Option<String>,
    pub account_created_at: Option<Timestamp>,
}

/// The rule set in force, with the text and version it was saved as.
#[derive(Debug, Default)]
pub struct InstalledRules {
    pub text: String,
    /// 0 before any save.
    pub version: u64,
    pub rules: Arc<RuleSet>,
}

#[derive(Default)]
pub(crate) struct Risk {
    rules: RwLock<Arc<InstalledRules>>,
    velocity: Velocity,
}

fn account_key(id: AccountId) -> VelocityKey<'static> {
    VelocityKey::Account((u64::from(id.partition()) << 56) | id.0.serial)
}

impl Risk {
    pub(crate) fn rules(&self) -> Arc<InstalledRules> {
        self.rules.read().expect("risk rules lock").clone()
    }

    /// Installs the journaled rule set found at start-up, parsing its text (the one parse a
    /// restart costs).
    pub(crate) fn install_saved(&self, text: &str, version: u64) -> Result<(), String> {
        let rules = risk::parse(text).map_err(|errors| errors[0].to_string())?;
        self.install(text, version, Arc::new(rules));
        Ok(())
    }

    /// Installs a rule set just saved, as parsed before it was saved, unless a newer one is in force
    /// (two saves may commit in one order and reach here in the other). Answers the set as saved.
    pub(crate) fn install(&self, text: &str, version: u64, rules: Arc<RuleSet>) -> Arc<InstalledRules> {
        let saved = Arc::new(InstalledRules { text: text.to_owned(), version, rules });
        let mut installed = self.rules.write().expect("risk rules lock");
        if version > installed.version {
            *installed = saved.clone();
        }
        saved
    }

    /// Counts a claim (once per idempotency key) and decides it against the rules.
    pub(crate) fn assess_claim(
        &self,
        actor: &Actor,
        partition: Partition,
        quantity: u32,
        key: &IdempotencyKey,
        context: &RiskContext,
        now: Timestamp,
    ) -> Option<Verdict> {
        let now_ms = now.0;
        let first = self.velocity.first_sighting(&format!("{}/{partition}/{}", key.owner, key.key), now_ms);
        let count = |counter, key| {
            if first { self.velocity.add(counter, key, now_ms) } else { self.velocity.peek(counter, key, now_ms) }
        };
        let mut values = self.common_signals(actor, context, now);
        values.set(Signal::ClaimsPerBuyer1m, count(Counter::ClaimsPerBuyer1m, account_key(actor.id)));
        if let Some(ip) = context.ip {
            values.set(Signal::ClaimsPerIp10m, count(Counter::ClaimsPerIp10m, VelocityKey::Ip(ip)));
        }
        if let Some(device) = &context.device_id {
            values.set(Signal::ClaimsPerDevice10m, count(Counter::ClaimsPerDevice10m, VelocityKey::Text(device)));
        }
        values.set(Signal::Quantity, i64::from(quantity));
        self.decide(&values)
    }

    /// Counts a checkout (once per idempotency key) and decides it against the rules, before any charge.
    pub(crate) fn assess_checkout(
        &self,
        actor: &Actor,
        payment_method: &str,
        key: &IdempotencyKey,
        context: &RiskContext,
        now: Timestamp,
    ) -> Option<Verdict> {
        let now_ms = now.0;
        let first = self.velocity.first_sighting(&format!("{}/checkout/{}", key.owner, key.key), now_ms);
        let method = VelocityKey::Text(payment_method);
        let mut values = self.common_signals(actor, context, now);
        let checkouts = if first {
            self.velocity.add(Counter::CheckoutsPerPaymentMethod1h, method, now_ms)
        } else {
            self.velocity.peek(Counter::CheckoutsPerPaymentMethod1h, method, now_ms)
        };
        values.set(Signal::CheckoutsPerPaymentMethod1h, checkouts);
        let declines = self.velocity.peek(Counter::DeclinesPerPaymentMethod1h, method, now_ms);
        values.set(Signal::DeclinesPerPaymentMethod1h, declines);
        values.set(
            Signal::ClaimsPerBuyer1m,
            self.velocity.peek(Counter::ClaimsPerBuyer1m, account_key(actor.id), now_ms),
        );
        if let Some(ip) = context.ip {
            values
                .set(Signal::ClaimsPerIp10m, self.velocity.peek(Counter::ClaimsPerIp10m, VelocityKey::Ip(ip), now_ms));
        }
        if let Some(device) = &context.device_id {
            let claims = self.velocity.peek(Counter::ClaimsPerDevice10m, VelocityKey::Text(device), now_ms);
            values.set(Signal::ClaimsPerDevice10m, claims);
        }
        values.set(Signal::IsCheckout, 1);
        self.decide(&values)
    }

    /// A declined payment, counted for the buyer and the payment method.
    pub(crate) fn record_decline(&self, buyer: AccountId, payment_method: &str, now: Timestamp) {
        self.velocity.add(Counter::DeclinesPerBuyer1h, account_key(buyer), now.0);
        self.velocity.add(Counter::DeclinesPerPaymentMethod1h, VelocityKey::Text(payment_method), now.0);
    }

    fn common_signals(&self, actor: &Actor, context: &RiskContext, now: Timestamp) -> SignalValues {
        let mut values = SignalValues::default();
        values.set(
            Signal::DeclinesPerBuyer1h,
            self.velocity.peek(Counter::DeclinesPerBuyer1h, account_key(actor.id), now.0),
        );
        if let Some(created_at) = context.account_created_at {
            values.set(Signal::AccountAgeSeconds, (now.0 - created_at.0).max(0) / 1_000);
        }
        values.set(Signal::HasDeviceId, i64::from(context.device_id.is_some()));
        values
    }

    fn decide(&self, values: &SignalValues) -> Option<Verdict> {
        let rules = self.rules.read().expect("risk rules lock");
        if rules.rules.is_empty() {
            return None;
        }
        let verdict = rules.rules.evaluate(values)?;
        let action = match verdict.action {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Review => "review",
        };
        metrics::counter!("livedrop_risk_decisions_total", "action" => action).increment(1);
        Some(verdict)
    }
}
