//! Payout profiles: set or cleared by an admin per payee, or moved by the payout rules on each
//! payee's record. An admin's profile is pinned: the rules leave it alone until an admin clears it.
//! The rules are evaluated outside the domain (the engine sums a payee's record over every book);
//! what a rule decided is journaled with the profile it set, so replay never evaluates rules.

use super::super::decision::Decision;
use super::super::{State, require_role};
use crate::limits::{BPS_WHOLE, PAYOUT_DAYS_MAX, PAYOUT_RULES_BYTES_MAX};
use crate::{
    AccountId, Actor, Event, PayoutProfile, ProfileInForce, ProfileRule, Rejection, Reply, Role, Timestamp,
    model::Account,
};
use risk::{PayoutRuleSet, PayoutVerdict, RecordCounts, RuleError};
use std::sync::Arc;

impl State {
    fn payee_account(&self, account_id: AccountId) -> Result<&Account, Rejection> {
        let account = self.accounts.get(&account_id).ok_or(Rejection::NotFound)?;
        if !matches!(account.role, Role::Creator | Role::Partner) {
            return Err(Rejection::invalid("account_id", "only creators and partners are paid out"));
        }
        Ok(account)
    }

    pub(in crate::state) fn decide_set_payout_profile(
        &self,
        now: Timestamp,
        actor: &Actor,
        account_id: AccountId,
        profile: PayoutProfile,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        self.payee_account(account_id)?;
        for (field, days) in [("delay_days", profile.delay_days), ("reserve_days", profile.reserve_days)] {
            if days > PAYOUT_DAYS_MAX {
                return Err(Rejection::invalid(field, format!("must be 0 to {PAYOUT_DAYS_MAX}")));
            }
        }
        if profile.reserve_bps > BPS_WHOLE {
            return Err(Rejection::invalid("reserve_bps", "must be 0 to 10000"));
        }
        if (profile.reserve_bps == 0) != (profile.reserve_days == 0) {
            return Err(Rejection::invalid("reserve_days", "a reserve needs both reserve_bps and reserve_days"));
        }
        if profile.reserve_bps > 0 && profile.reserve_days < profile.delay_days {
            return Err(Rejection::invalid("reserve_days", "a reserve is held at least as long as the delay"));
        }
        if profile.release_on_fulfilment && profile.delay_days == 0 && profile.reserve_bps == 0 {
            let message = "needs a delay or a reserve to end early";
            return Err(Rejection::invalid("release_on_fulfilment", message));
        }
        let answer = Ok(Reply::PayoutProfile { account_id, profile });
        // The same profile pinned already: nothing to journal. Set by a rule, it becomes pinned.
        let current = self.money.profiles.get(&account_id);
        if current.is_some_and(|in_force| in_force.profile == profile && in_force.rule.is_none()) {
            return Ok(Decision::immediate(Vec::new(), answer));
        }
        let event = Event::PayoutProfileSet { account_id, profile, by: actor.id, at: now, rule: None };
        Ok(Decision::immediate(vec![event], answer))
    }

    pub(in crate::state) fn decide_clear_payout_profile(
        &self,
        now: Timestamp,
        actor: &Actor,
        account_id: AccountId,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        self.payee_account(account_id)?;
        let answer = Ok(Reply::PayoutProfileCleared { account_id });
        if !self.money.profiles.contains_key(&account_id) {
            return Ok(Decision::immediate(Vec::new(), answer));
        }
        let event = Event::PayoutProfileCleared { account_id, by: actor.id, at: now, rules_version: None };
        Ok(Decision::immediate(vec![event], answer))
    }

    pub(in crate::state) fn decide_save_payout_rules(
        &self,
        now: Timestamp,
        actor: &Actor,
        text: &str,
        rules: &Result<Arc<PayoutRuleSet>, Vec<RuleError>>,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Admin)?;
        if text.len() > PAYOUT_RULES_BYTES_MAX {
            return Err(Rejection::invalid("rules", format!("must be at most {PAYOUT_RULES_BYTES_MAX} bytes")));
        }
        if let Err(errors) = rules {
            return Err(Rejection::invalid_text("rules", errors));
        }
        let version = self.money.payout_rules.as_ref().map_or(0, |(_, version, _)| *version) + 1;
        let saved = Event::PayoutRulesSaved { text: text.to_owned(), version, at: now, by: actor.id };
        Ok(Decision::immediate(vec![saved], Ok(Reply::PayoutRules { text: text.to_owned(), version })))
    }

    pub(in crate::state) fn decide_apply_payout_rule(
        &self,
        now: Timestamp,
        account_id: AccountId,
        rules_version: u64,
        by: AccountId,
        outcome: Option<&(PayoutProfile, PayoutVerdict)>,
    ) -> Result<Decision, Rejection> {
        self.payee_account(account_id)?;
        let unchanged = Ok(Decision::immediate(Vec::new(), Ok(Reply::PayoutRuleApplied { changed: false })));
        let current = self.money.profiles.get(&account_id);
        let event = match (current, outcome) {
            // Pinned by an admin.
            (Some(in_force), _) if in_force.rule.is_none() => return unchanged,
            // Evaluated under older rules than the ones that set the profile in force.
            (Some(in_force), _) if in_force.rule.as_ref().is_some_and(|rule| rule.rules_version > rules_version) => {
                return unchanged;
            }
            // The same terms from the same rule: nothing new to say (the values it read may differ).
            (Some(in_force), Some((profile, verdict))) if in_force.unchanged_by(profile, verdict) => return unchanged,
            (None, None) => return unchanged,
            (Some(_), None) => {
                Event::PayoutProfileCleared { account_id, by, at: now, rules_version: Some(rules_version) }
            }
            (_, Some((profile, verdict))) => {
                let rule = ProfileRule { rules_version, verdict: verdict.clone() };
                Event::PayoutProfileSet { account_id, profile: *profile, by, at: now, rule: Some(rule) }
            }
        };
        Ok(Decision::immediate(vec![event], Ok(Reply::PayoutRuleApplied { changed: true })))
    }

    /// The creators and partners of the shard, with when each was created and its own profile:
    /// the payees the payout rules consider.
    pub fn payees(&self) -> impl Iterator<Item = (AccountId, Timestamp, Option<&ProfileInForce>)> + '_ {
        let payees = self.accounts.values().filter(|account| matches!(account.role, Role::Creator | Role::Partner));
        payees.map(|account| (account.id, account.created_at, self.money.profiles.get(&account.id)))
    }

    /// The payees with earnings in this shard's books.
    pub fn earning_payees(&self) -> Vec<AccountId> {
        self.money.orders_by_payee.keys().copied().collect()
    }

    /// The records of `payees` in this shard's books: each one's orders paid since `since` and, of
    /// those, how many were refunded, disputed (and lost) and held for review (and rejected); payees
    /// without such orders are left out. The engine asks a few hundred payees at a time (the read
    /// holds the shard) and sums the records over the shards.
    pub fn payee_records(&self, since: Timestamp, payees: &[AccountId]) -> Vec<(AccountId, RecordCounts)> {
        let mut records = Vec::new();
        for payee in payees {
            let Some(order_ids) = self.money.orders_by_payee.get(payee) else { continue };
            let mut counts = RecordCounts::default();
            // Oldest first, so the recent ones are read from the end.
            for order_id in order_ids.iter().rev() {
                let Some(order) = self.orders.get(order_id) else { continue };
                if order.paid_at < since {
                    break;
                }
                counts.orders += 1;
                let refunded = self.money.orders.get(order_id).is_some_and(|money| {
                    let earnings = money.lines.iter().flat_map(|line| &line.earnings);
                    earnings.filter(|earning| earning.payee == *payee).any(|earning| earning.refunded > 0)
                });
                counts.refunded += u64::from(refunded);
                if let Some(dispute) =
                    self.money.dispute_of_order.get(order_id).and_then(|id| self.money.disputes.get(id))
                {
                    counts.disputed += 1;
                    counts.disputes_lost += u64::from(dispute.state == crate::DisputeState::Lost);
                }
                if let Some(review) = &order.review {
                    counts.reviewed += 1;
                    counts.rejected += u64::from(review.status == crate::ReviewStatus::Rejected);
                }
            }
            if counts.orders > 0 {
                records.push((*payee, counts));
            }
        }
        records
    }
}
