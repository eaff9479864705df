//! The JSON shapes of the fraud rules: the saved text, its parsed form and its errors.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RiskRulesRequest {
    /// The whole rule set, one rule per line, replacing the current one; empty allows everything.
    #[schema(max_length = 16_384)]
    pub(crate) rules: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRuleBody {
    /// Position in the set, from 0: the `rule_index` journaled with each decision.
    pub(crate) index: usize,
    /// Line in the text, from 1.
    pub(crate) line: usize,
    pub(crate) name: Option<String>,
    /// `allow`, `block` or `review`.
    pub(crate) action: String,
    /// The condition in canonical form.
    pub(crate) condition: String,
    pub(crate) signals: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesBody {
    /// As saved.
    pub(crate) rules: String,
    /// How many times rules were saved; 0 while the default (empty) set is in force.
    pub(crate) version: u64,
    pub(crate) parsed: Vec<RiskRuleBody>,
    /// Rules are evaluated in this fixed order of actions, whatever their order in the text.
    pub(crate) evaluation_order: Vec<String>,
    /// The signals a rule may read.
    pub(crate) signals: Vec<SignalBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SignalBody {
    pub(crate) name: String,
    pub(crate) description: String,
}

impl RiskRulesBody {
    pub(crate) fn of(text: &str, version: u64, rules: &::risk::RuleSet) -> RiskRulesBody {
        let parsed = rules
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| RiskRuleBody {
                index,
                line: rule.line,
                name: rule.name.clone(),
                action: rule.action.as_str().to_owned(),
                condition: rule.condition.to_string(),
                signals: rule.signals.iter().map(|signal| signal.name().to_owned()).collect(),
            })
            .collect();
        RiskRulesBody {
            rules: text.to_owned(),
            version,
            parsed,
            evaluation_order: ["allow", "block", "review"].map(str::to_owned).to_vec(),
            signals: ::risk::Signal::ALL
                .iter()
                .map(|signal| SignalBody {
                    name: signal.name().to_owned(),
                    description: signal.description().to_owned(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RuleErrorBody {
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesErrorDetail {
    /// `invalid_risk_rules`.
    pub(crate) code: String,
    /// The first error, as `line L, column C: message`.
    pub(crate) message: String,
    /// Every error, one per faulty line.
    pub(crate) errors: Vec<RuleErrorBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RiskRulesErrorBody {
    pub(crate) error: RiskRulesErrorDetail,
}
