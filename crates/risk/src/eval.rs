//! The signal catalogue, and what a rule set decides for one request.

use crate::lang::{ActionWord, Expr, Operand, RuleAction, RuleError, RuleSet, RuleSignal};
use std::fmt;

/// What a rule does when its condition holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let the request through and skip every block and review rule.
    Allow,
    /// Refuse the request; nothing changes but the journaled decision.
    Block,
    /// Let it through; the resulting order waits for an admin's approval.
    Review,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Block => "block",
            Action::Review => "review",
        }
    }
}

impl RuleAction for Action {
    const EXPECTED: &'static str = "an action (allow, block or review)";
    const FIRST_WORDS: &'static [&'static str] = &["allow", "block", "review"];

    fn parse(words: &[ActionWord]) -> Result<Action, RuleError> {
        let action = match &words[0].word {
            Ok(word) if word == "allow" => Action::Allow,
            Ok(word) if word == "block" => Action::Block,
            Ok(word) if word == "review" => Action::Review,
            _ => return Err(words[0].not_an_action::<Action>()),
        };
        match words.get(1) {
            Some(extra) => {
                Err(extra.error(format!("expected \"if\" after \"{}\", found {}", action.as_str(), extra.describe())))
            }
            None => Ok(action),
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a signal catalogue: the enum, its names and descriptions, and `ALL` in catalogue order.
macro_rules! signals {
    ($(#[$meta:meta])* $enum:ident { $($variant:ident => $name:literal, $doc:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $enum {
            $(#[doc = $doc] $variant,)*
        }

        impl $crate::lang::RuleSignal for $enum {
            const CATALOGUE: &'static [$enum] = &$enum::ALL;
            fn name(self) -> &'static str {
                $enum::name(self)
            }
        }

        impl $enum {
            pub const ALL: [$enum; [$($name),*].len()] = [$($enum::$variant),*];

            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $($enum::$variant => $doc,)*
                }
            }

            pub fn from_name(name: &str) -> Option<$enum> {
                $enum::ALL.into_iter().find(|signal| signal.name() == name)
            }
        }
    };
}
pub(crate) use signals;

signals! {
    /// The fixed catalogue of signals a fraud rule may read. Counters include the request being decided.
    Signal {
    ClaimsPerBuyer1m => "claims_per_buyer_1m", "claims by this buyer in the last minute, this one included";
    ClaimsPerIp10m => "claims_per_ip_10m", "claims from this IP address in the last 10 minutes, this one included";
    ClaimsPerDevice10m => "claims_per_device_10m", "claims from this X-Device-Id in the last 10 minutes, this one included (0 without the header)";
    DeclinesPerBuyer1h => "declines_per_buyer_1h", "declined payments of this buyer in the last hour";
    DeclinesPerPaymentMethod1h => "declines_per_payment_method_1h", "declined payments with this payment method in the last hour (0 on claims)";
    CheckoutsPerPaymentMethod1h => "checkouts_per_payment_method_1h", "checkouts with this payment method in the last hour, this one included (0 on claims)";
    AccountAgeSeconds => "account_age_seconds", "seconds since the buyer's account was created";
    Quantity => "quantity", "units asked for by a claim (0 on checkouts)";
    IsCheckout => "is_checkout", "1 on a checkout, 0 on a claim";
    HasDeviceId => "has_device_id", "1 when the request carried an X-Device-Id header";
}}

/// One request's signal values, indexed by `Signal as usize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SignalValues(pub [i64; Signal::ALL.len()]);

impl SignalValues {
    pub fn get(&self, signal: Signal) -> i64 {
        self.0[signal as usize]
    }

    pub fn set(&mut self, signal: Signal, value: i64) {
        self.0[signal as usize] = value;
    }
}

/// The decision of a rule that fired: journaled with the request it decided, so an audit shows which
/// rule acted on which values.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Verdict {
    pub action: Action,
    /// Position of the rule in the rule set, from 0 (its line may differ: comments and blank lines).
    pub rule_index: u32,
    pub rule_name: Option<String>,
    /// The values of the signals the rule reads, by name, in catalogue order.
    pub signals: Vec<(String, i64)>,
}

impl Expr {
    pub fn eval(&self, values: &SignalValues) -> bool {
        self.holds(&|signal| values.get(signal))
    }
}

impl<S: RuleSignal> Expr<S> {
    /// Whether the condition holds when each signal has the value `value` gives it.
    pub fn holds(&self, value: &impl Fn(S) -> i64) -> bool {
        match self {
            Expr::Cmp(left, cmp, right) => cmp.holds(left.value(value), right.value(value)),
            Expr::And(left, right) => left.holds(value) && right.holds(value),
            Expr::Or(left, right) => left.holds(value) || right.holds(value),
            Expr::Not(inner) => !inner.holds(value),
        }
    }

    /// Every signal the expression reads, in catalogue order, once each.
    pub fn signals(&self) -> Vec<S> {
        let mut found = Vec::new();
        self.collect_signals(&mut found);
        found.sort();
        found.dedup();
        found
    }

    fn collect_signals(&self, found: &mut Vec<S>) {
        match self {
            Expr::Cmp(left, _, right) => {
                for operand in [left, right] {
                    if let Operand::Signal(signal) = operand {
                        found.push(*signal);
                    }
                }
            }
            Expr::And(left, right) | Expr::Or(left, right) => {
                left.collect_signals(found);
                right.collect_signals(found);
            }
            Expr::Not(inner) => inner.collect_signals(found),
        }
    }
}

impl<S: RuleSignal> Operand<S> {
    fn value(&self, value: &impl Fn(S) -> i64) -> i64 {
        match self {
            Operand::Signal(signal) => value(*signal),
            Operand::Int(int) => *int,
        }
    }
}

impl RuleSet {
    /// Evaluates the rules in a fixed order whatever their order in the text: the first matching
    /// `allow` rule wins, else the first matching `block`, else the first matching `review`. `None`
    /// when no rule matches: the request goes through and nothing is journaled about it.
    pub fn evaluate(&self, values: &SignalValues) -> Option<Verdict> {
        for action in [Action::Allow, Action::Block, Action::Review] {
            let mut rules = self.rules.iter().enumerate().filter(|(_, rule)| rule.action == action);
            if let Some((rule_index, rule)) = rules.find(|(_, rule)| rule.condition.eval(values)) {
                let signals = rule.signals.iter().map(|signal| (signal.name().to_owned(), values.get(*signal)));
                return Some(Verdict {
                    action,
                    rule_index: rule_index as u32,
                    rule_name: rule.name.clone(),
                    signals: signals.collect(),
                });
            }
        }
        None
    }
}
