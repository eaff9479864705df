//! Payout rules: which payout profile a payee's record earns, in the fraud rules' language.
//!
//! ```text
//! rule "new seller": delay 14 days if account_age_days < 30
//! rule "refunds": delay 7 days reserve 1000 bps for 60 days if refund_rate_bps > 800 and orders_90d >= 20
//! same_day if account_age_days >= 180 and disputes_lost_90d == 0
//! ```
//!
//! Unlike fraud rules, the **first** rule in the text whose condition holds decides, as in a firewall:
//! a payout profile has no natural order of strictness, so the author orders the rules. A payee no
//! rule matches gets the platform's default profile.

use crate::eval::signals;
use crate::lang::{ActionWord, RuleAction, RuleError, RuleSet};
use std::fmt;

/// Days of delay or reserve at most; the same bound an admin's profile has.
pub const PAYOUT_DAYS_MAX: u32 = 365;
/// Basis points in a whole.
const BPS_WHOLE: u32 = 10_000;
/// How far back the rates and counts of a payee's record look.
pub const RECORD_DAYS: u32 = 90;

signals! {
    /// What a payout rule may read of a payee. Counts and rates cover the orders paid in the last
    /// `RECORD_DAYS` days that pay the payee; rates are in basis points of those orders.
    PayeeSignal {
        AccountAgeDays => "account_age_days", "whole days since the payee's account was created";
        Orders90d => "orders_90d", "paid orders with a share for the payee in the last 90 days";
        RefundedOrders90d => "refunded_orders_90d", "of those, orders refunded in whole or in part";
        RefundRateBps => "refund_rate_bps", "refunded_orders_90d per orders_90d, in basis points (0 without orders)";
        Disputes90d => "disputes_90d", "of those, orders disputed (chargebacks), whatever the outcome";
        DisputesLost90d => "disputes_lost_90d", "of those, disputes lost";
        DisputeRateBps => "dispute_rate_bps", "disputes_90d per orders_90d, in basis points (0 without orders)";
        ReviewedOrders90d => "reviewed_orders_90d", "of those, orders a fraud rule held for an admin's review";
        RejectedOrders90d => "rejected_orders_90d", "of those, orders an admin rejected at review";
    }
}

/// A payee's record, indexed by `PayeeSignal as usize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PayeeRecord(pub [i64; PayeeSignal::ALL.len()]);

impl PayeeRecord {
    pub fn get(&self, signal: PayeeSignal) -> i64 {
        self.0[signal as usize]
    }

    pub fn set(&mut self, signal: PayeeSignal, value: i64) {
        self.0[signal as usize] = value;
    }

    /// A record from its counts; the rates are derived from them.
    pub fn of(account_age_days: i64, counts: &RecordCounts) -> PayeeRecord {
        // 0 without orders: no record is no evidence of refunds.
        let rate = |part: u64| (part * u64::from(BPS_WHOLE)).checked_div(counts.orders).unwrap_or(0) as i64;
        let mut record = PayeeRecord::default();
        record.set(PayeeSignal::AccountAgeDays, account_age_days);
        record.set(PayeeSignal::Orders90d, counts.orders as i64);
        record.set(PayeeSignal::RefundedOrders90d, counts.refunded as i64);
        record.set(PayeeSignal::RefundRateBps, rate(counts.refunded));
        record.set(PayeeSignal::Disputes90d, counts.disputed as i64);
        record.set(PayeeSignal::DisputesLost90d, counts.disputes_lost as i64);
        record.set(PayeeSignal::DisputeRateBps, rate(counts.disputed));
        record.set(PayeeSignal::ReviewedOrders90d, counts.reviewed as i64);
        record.set(PayeeSignal::RejectedOrders90d, counts.rejected as i64);
        record
    }
}

/// The counts behind a payee's record, summed over the books it earns in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordCounts {
    pub orders: u64,
    pub refunded: u64,
    pub disputed: u64,
    pub disputes_lost: u64,
    pub reviewed: u64,
    pub rejected: u64,
}

impl std::ops::AddAssign for RecordCounts {
    fn add_assign(&mut self, other: RecordCounts) {
        self.orders += other.orders;
        self.refunded += other.refunded;
        self.disputed += other.disputed;
        self.disputes_lost += other.disputes_lost;
        self.reviewed += other.reviewed;
        self.rejected += other.rejected;
    }
}

/// What a payout rule gives: the same terms as an admin's payout profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutTerms {
    pub delay_days: u32,
    pub reserve_bps: u32,
    pub reserve_days: u32,
    /// `release when fulfilled`: the delay and the reserve end early once the line is delivered or
    /// picked up.
    pub release_on_fulfilment: bool,
}

/// A rule that decided a payee's profile, journaled with the profile it set.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayoutVerdict {
    /// Position of the rule in the rule set, from 0.
    pub rule_index: u32,
    pub rule_name: Option<String>,
    /// The values of the signals the rule reads, by name, in catalogue order.
    pub signals: Vec<(String, i64)>,
}

pub type PayoutRuleSet = RuleSet<PayoutTerms, PayeeSignal>;

/// Parses a whole payout rule text, reporting every line's first error.
pub fn parse_payout_rules(text: &str) -> Result<PayoutRuleSet, Vec<RuleError>> {
    crate::lang::parse_rules(text)
}

impl RuleSet<PayoutTerms, PayeeSignal> {
    /// The first rule, in the text's order, whose condition holds for `record`; `None` when none
    /// does (the payee gets the default profile).
    pub fn first_match(&self, record: &PayeeRecord) -> Option<(PayoutTerms, PayoutVerdict)> {
        let value = |signal| record.get(signal);
        let (rule_index, rule) = self.rules.iter().enumerate().find(|(_, rule)| rule.condition.holds(&value))?;
        let signals = rule.signals.iter().map(|signal| (signal.name().to_owned(), record.get(*signal)));
        let verdict =
            PayoutVerdict { rule_index: rule_index as u32, rule_name: rule.name.clone(), signals: signals.collect() };
        Some((rule.action, verdict))
    }
}

/// Reads `action = ("same_day" | "delay" N "days") ["reserve" N "bps" "for" N "days"]
/// ["release" "when" "fulfilled"]` word by word.
struct Words<'a> {
    words: &'a [ActionWord],
    at: usize,
}

impl Words<'_> {
    fn expect(&mut self, wanted: &str, after: &str) -> Result<(), RuleError> {
        match self.words.get(self.at) {
            Some(word) if word.word.as_deref() == Ok(wanted) => {
                self.at += 1;
                Ok(())
            }
            Some(other) => Err(other.error(format!("expected \"{wanted}\" after {after}, found {}", other.describe()))),
            None => Err(self.end_error(&format!("expected \"{wanted}\" after {after}"))),
        }
    }

    fn days(&mut self, after: &str) -> Result<(), RuleError> {
        match self.words.get(self.at) {
            Some(word) if matches!(word.word.as_deref(), Ok("day" | "days")) => {
                self.at += 1;
                Ok(())
            }
            _ => self.expect("days", after),
        }
    }

    fn number(&mut self, what: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32, RuleError> {
        let Some(word) = self.words.get(self.at) else {
            return Err(self.end_error(&format!("expected {what}")));
        };
        match word.word {
            Err(value) if value >= i64::from(*range.start()) && value <= i64::from(*range.end()) => {
                self.at += 1;
                Ok(value as u32)
            }
            Err(value) => Err(word.error(format!("{what} is {} to {}, not {value}", range.start(), range.end()))),
            Ok(_) => Err(word.error(format!("expected {what}, found {}", word.describe()))),
        }
    }

    /// An error just after the last word (the parser reports a missing `if` there otherwise).
    fn end_error(&self, message: &str) -> RuleError {
        let last = &self.words[self.words.len() - 1];
        let width = match &last.word {
            Ok(word) => word.chars().count(),
            Err(value) => value.to_string().len(),
        };
        RuleError { line: 0, column: last.column + width + 1, message: message.to_owned() }
    }
}

impl RuleAction for PayoutTerms {
    const EXPECTED: &'static str = "a payout profile (same_day, or delay N days)";
    const FIRST_WORDS: &'static [&'static str] = &["same_day", "delay"];

    fn parse(words: &[ActionWord]) -> Result<PayoutTerms, RuleError> {
        let mut reader = Words { words, at: 1 };
        let delay_days = match &words[0].word {
            Ok(word) if word == "same_day" => 0,
            Ok(word) if word == "delay" => {
                let days = reader.number("the delay in days", 1..=PAYOUT_DAYS_MAX)?;
                reader.days("the delay")?;
                days
            }
            _ => return Err(words[0].not_an_action::<PayoutTerms>()),
        };
        let (mut reserve_bps, mut reserve_days) = (0, 0);
        if words.get(reader.at).is_some_and(|word| word.word.as_deref() == Ok("reserve")) {
            reader.at += 1;
            reserve_bps = reader.number("the reserve in basis points", 1..=BPS_WHOLE)?;
            reader.expect("bps", "the reserve")?;
            reader.expect("for", "\"bps\"")?;
            let column = words.get(reader.at).map(|word| word.column);
            reserve_days = reader.number("the reserve's days", 1..=PAYOUT_DAYS_MAX)?;
            if reserve_days < delay_days {
                let message = "a reserve is held at least as long as the delay";
                return Err(RuleError { line: 0, column: column.unwrap_or(0), message: message.to_owned() });
            }
            reader.days("the reserve's days")?;
        }
        let mut release_on_fulfilment = false;
        if let Some(word) = words.get(reader.at).filter(|word| word.word.as_deref() == Ok("release")) {
            if delay_days == 0 && reserve_bps == 0 {
                return Err(word.error("\"release when fulfilled\" needs a delay or a reserve to end early".to_owned()));
            }
            reader.at += 1;
            reader.expect("when", "\"release\"")?;
            reader.expect("fulfilled", "\"release when\"")?;
            release_on_fulfilment = true;
        }
        if let Some(extra) = words.get(reader.at) {
            let wanted = match (reserve_bps > 0, release_on_fulfilment) {
                (_, true) => "\"if\" after the terms",
                (true, false) => "\"release\" or \"if\" after the reserve",
                (false, false) => "\"reserve\", \"release\" or \"if\" after the schedule",
            };
            return Err(extra.error(format!("expected {wanted}, found {}", extra.describe())));
        }
        Ok(PayoutTerms { delay_days, reserve_bps, reserve_days, release_on_fulfilment })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.delay_days {
            0 => f.write_str("same_day")?,
            days => write!(f, "delay {days} days")?,
        }
        if self.reserve_bps > 0 {
            write!(f, " reserve {} bps for {} days", self.reserve_bps, self.reserve_days)?;
        }
        if self.release_on_fulfilment {
            f.write_str(" release when fulfilled")?;
        }
        Ok(())
    }
}
