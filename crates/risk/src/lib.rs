//! Rules of livedrop in one small language in the spirit of Stripe Radar: fraud velocity rules
//! (`block if declines_per_buyer_1h > 3`), evaluated in a fixed order (allow, block, review) on
//! sliding-window counters, and payout rules (`delay 14 days if account_age_days < 30`) that move
//! a payee's payout profile by its record.
//!
//! Architecture invariant: no I/O, no clock (every call takes `now`), no async runtime. The counters
//! are shared across the engine's shards (one buyer's claims in different creators' drops land on
//! different shards), so they sit behind striped mutexes; everything else is plain data.

mod eval;
mod lang;
mod payout;
mod print;
mod velocity;

pub use eval::{Action, Signal, SignalValues, Verdict};
pub use lang::{
    ActionWord, Cmp, Expr, Operand, RULE_CHARS_MAX, RULE_DEPTH_MAX, RULE_NAME_CHARS_MAX, RULES_MAX, Rule, RuleAction,
    RuleError, RuleSet, RuleSignal, parse, parse_rules,
};
pub use payout::{
    PAYOUT_DAYS_MAX, PayeeRecord, PayeeSignal, PayoutRuleSet, PayoutTerms, PayoutVerdict, RECORD_DAYS, RecordCounts,
    parse_payout_rules,
};
pub use velocity::{Counter, KEYS_PER_STRIPE_MAX, STRIPES, Velocity, VelocityKey};
