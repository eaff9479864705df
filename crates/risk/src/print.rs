//! Printing a rule gives its canonical text: parsing that text again gives the same rule
//! (`tests/rules.rs` and `tests/payout_rules.rs` check the round trip).

use crate::lang::{Expr, Operand, Rule, RuleAction, RuleSignal};
use std::fmt;

impl<S: RuleSignal> fmt::Display for Operand<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Signal(signal) => f.write_str(signal.name()),
            Operand::Int(value) => write!(f, "{value}"),
        }
    }
}

impl<S: RuleSignal> Expr<S> {
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) | Expr::Cmp(..) => 3,
        }
    }

    fn write_child(&self, f: &mut fmt::Formatter<'_>, parent: u8, right: bool) -> fmt::Result {
        // Operators associate to the left, so a right child of the same precedence needs parentheses.
        if self.precedence() < parent || (right && self.precedence() == parent) {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl<S: RuleSignal> fmt::Display for Expr<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Cmp(left, cmp, right) => write!(f, "{left} {} {right}", cmp.as_str()),
            Expr::And(left, right) | Expr::Or(left, right) => {
                let (word, precedence) = if matches!(self, Expr::And(..)) { ("and", 2) } else { ("or", 1) };
                left.write_child(f, precedence, false)?;
                write!(f, " {word} ")?;
                right.write_child(f, precedence, true)
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                match **inner {
                    Expr::Not(_) => write!(f, "{inner}"),
                    _ => write!(f, "({inner})"),
                }
            }
        }
    }
}

impl<A: RuleAction, S> Rule<A, S> {
    /// The action as a rule text writes it: `block`, `delay 7 days`.
    pub fn action_text(&self) -> String {
        struct Written<'a, A>(&'a A);
        impl<A: RuleAction> fmt::Display for Written<'_, A> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write(f)
            }
        }
        Written(&self.action).to_string()
    }
}

impl<A: RuleAction, S: RuleSignal> fmt::Display for Rule<A, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            write!(f, "rule \"{name}\": ")?;
        }
        self.action.write(f)?;
        write!(f, " if {}", self.condition)
    }
}
