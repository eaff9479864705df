//! The JSON shapes of payout profiles and of the payout rules that move them.

use domain::{AccountId, PayoutProfile, ProfileInForce};
use engine::ProfileMove;
use risk::PayoutVerdict;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How a payee's earnings become available.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileRequest {
    /// `same_day`: at the next window's close; `delayed`: `delay_days` after the sale.
    pub(crate) schedule: ScheduleWire,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 365)]
    pub(crate) delay_days: Option<u32>,
    /// A rolling reserve: this share of each earning is held `reserve_days` after the sale.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub(crate) reserve_bps: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 365)]
    pub(crate) reserve_days: Option<u32>,
    /// The delay and the reserve of each line end early, at the next window, once the line is
    /// delivered or picked up (a digital line at once). Needs a delay or a reserve.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) release_on_fulfilment: bool,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ScheduleWire {
    SameDay,
    Delayed,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProfileBody {
    pub(crate) account_id: String,
    pub(crate) schedule: &'static str,
    pub(crate) delay_days: u32,
    pub(crate) reserve_bps: u32,
    pub(crate) reserve_days: u32,
    pub(crate) release_on_fulfilment: bool,
    /// In words, as each earning's `why` says it.
    pub(crate) terms: String,
    /// False when the platform's default applies.
    pub(crate) custom: bool,
    /// `default`, `admin` (pinned: the payout rules leave it alone) or `rule`.
    pub(crate) set_by: &'static str,
    /// The payout rule that set it, when one did.
    pub(crate) rule: Option<ProfileRuleBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProfileRuleBody {
    pub(crate) rules_version: u64,
    pub(crate) rule_index: u32,
    pub(crate) rule_name: Option<String>,
    /// What the rule read of the payee's record, by signal name.
    pub(crate) signals: BTreeMap<String, i64>,
}

impl ProfileRuleBody {
    pub(crate) fn of(rules_version: u64, verdict: &PayoutVerdict) -> ProfileRuleBody {
        ProfileRuleBody {
            rules_version,
            rule_index: verdict.rule_index,
            rule_name: verdict.rule_name.clone(),
            signals: verdict.signals.iter().cloned().collect(),
        }
    }
}

impl ProfileBody {
    /// The profile in force: the payee's own (`in_force`), else the platform's `default`.
    pub(crate) fn in_force(
        account_id: AccountId,
        in_force: Option<&ProfileInForce>,
        default: &PayoutProfile,
    ) -> ProfileBody {
        let Some(in_force) = in_force else { return ProfileBody::of(account_id, default, false) };
        let mut body = ProfileBody::of(account_id, &in_force.profile, true);
        if let Some(rule) = &in_force.rule {
            body.set_by = "rule";
            body.rule = Some(ProfileRuleBody::of(rule.rules_version, &rule.verdict));
        }
        body
    }

    /// An admin's profile, or the default (`custom` false).
    pub(crate) fn of(account_id: AccountId, profile: &PayoutProfile, custom: bool) -> ProfileBody {
        ProfileBody {
            account_id: account_id.to_string(),
            schedule: profile.schedule(),
            delay_days: profile.delay_days,
            reserve_bps: profile.reserve_bps,
            reserve_days: profile.reserve_days,
            release_on_fulfilment: profile.release_on_fulfilment,
            terms: profile.terms(),
            custom,
            set_by: if custom { "admin" } else { "default" },
            rule: None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayoutRulesRequest {
    /// The whole rule set, one rule per line, replacing the current one; empty moves nobody (and
    /// returns every payee a rule moved to the default at the next run).
    #[schema(max_length = 16_384)]
    pub(crate) rules: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PayoutRuleBody {
    /// Position in the set, from 0: the `rule_index` journaled with each profile it sets.
    pub(crate) index: usize,
    /// Line in the text, from 1.
    pub(crate) line: usize,
    pub(crate) name: Option<String>,
    /// The profile the rule gives, in its canonical form (`delay 7 days reserve 1000 bps for 30 days`).
    pub(crate) action: String,
    pub(crate) profile: ProfileTermsBody,
    /// The condition in canonical form.
    pub(crate) condition: String,
    pub(crate) signals: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProfileTermsBody {
    pub(crate) schedule: &'static str,
    pub(crate) delay_days: u32,
    pub(crate) reserve_bps: u32,
    pub(crate) reserve_days: u32,
    pub(crate) release_on_fulfilment: bool,
    pub(crate) terms: String,
}

impl From<&PayoutProfile> for ProfileTermsBody {
    fn from(profile: &PayoutProfile) -> ProfileTermsBody {
        ProfileTermsBody {
            schedule: profile.schedule(),
            delay_days: profile.delay_days,
            reserve_bps: profile.reserve_bps,
            reserve_days: profile.reserve_days,
            release_on_fulfilment: profile.release_on_fulfilment,
            terms: profile.terms(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PayoutRulesBody {
    /// As saved.
    pub(crate) rules: String,
    /// How many times rules were saved; 0 before the first save (nobody is moved).
    pub(crate) version: u64,
    pub(crate) parsed: Vec<PayoutRuleBody>,
    /// How a payee's profile is chosen.
    pub(crate) evaluation: &'static str,
    /// Days of orders a payee's record covers.
    pub(crate) record_days: u32,
    /// The signals a rule may read.
    pub(crate) signals: Vec<crate::routes::risk::wire::SignalBody>,
}

impl PayoutRulesBody {
    pub(crate) fn of(installed: &engine::InstalledPayoutRules) -> PayoutRulesBody {
        let parsed = installed.rules.rules.iter().enumerate().map(|(index, rule)| PayoutRuleBody {
            index,
            line: rule.line,
            name: rule.name.clone(),
            action: rule.action_text(),
            profile: ProfileTermsBody::from(&PayoutProfile::from(rule.action)),
            condition: rule.condition.to_string(),
            signals: rule.signals.iter().map(|signal| signal.name().to_owned()).collect(),
        });
        let signals = risk::PayeeSignal::ALL.iter().map(|signal| crate::routes::risk::wire::SignalBody {
            name: signal.name().to_owned(),
            description: signal.description().to_owned(),
        });
        PayoutRulesBody {
            rules: installed.text.clone(),
            version: installed.version,
            parsed: parsed.collect(),
            evaluation: "the first rule in the text whose condition holds; none: the platform's default profile; \
                         a profile an admin set is left alone",
            record_days: risk::RECORD_DAYS,
            signals: signals.collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProfileMoveBody {
    pub(crate) account_id: String,
    /// The new profile; `null` back to the default.
    pub(crate) profile: Option<ProfileTermsBody>,
    pub(crate) rule: Option<ProfileRuleBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RulesRunBody {
    pub(crate) rules_version: u64,
    /// Creators and partners considered.
    pub(crate) payees: usize,
    /// Of those, kept out of the rules by an admin's profile.
    pub(crate) pinned: usize,
    /// Profiles changed by this run.
    pub(crate) moved: usize,
    /// The first 100 of them.
    pub(crate) moves: Vec<ProfileMoveBody>,
}

impl From<&engine::RulesRun> for RulesRunBody {
    fn from(run: &engine::RulesRun) -> RulesRunBody {
        let moves = run.moves.iter().map(|ProfileMove { account_id, profile, verdict }| ProfileMoveBody {
            account_id: account_id.to_string(),
            profile: profile.as_ref().map(ProfileTermsBody::from),
            rule: verdict.as_ref().map(|verdict| ProfileRuleBody::of(run.rules_version, verdict)),
        });
        RulesRunBody {
            rules_version: run.rules_version,
            payees: run.payees,
            pinned: run.pinned,
            moved: run.moved,
            moves: moves.collect(),
        }
    }
}
