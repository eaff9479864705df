//! Fraud velocity rules: a small rule language in the spirit of Stripe Radar
//! (`block if declines_per_buyer_1h > 3`), its evaluation in a fixed order (allow, block, review), and
//! the sliding-window counters the rules read.
//!
//! Architecture invariant: no I/O, no clock (every call takes `now`), no async runtime. The counters
//! are shared across the engine's shards (one buyer's claims in different creators' drops land on
//! different shards), so they sit behind striped mutexes; everything else is plain data.

mod eval;
mod lang;
mod velocity;

pub use eval::{Action, Signal, SignalValues, Verdict};
pub use lang::{
    Cmp, Expr, Operand, RULE_CHARS_MAX, RULE_DEPTH_MAX, RULE_NAME_CHARS_MAX, RULES_MAX, Rule, RuleError, RuleSet, parse,
};
pub use velocity::{Counter, KEYS_PER_STRIPE_MAX, STRIPES, Velocity, VelocityKey};
