//! Payout rules: their actions, errors, first-match order and printing round trips.

use proptest::prelude::*;
use risk::{PayeeRecord, PayeeSignal, PayoutTerms, RecordCounts, parse_payout_rules};

fn errors(text: &str) -> Vec<String> {
    parse_payout_rules(text).unwrap_err().iter().map(ToString::to_string).collect()
}

fn terms(delay_days: u32, reserve_bps: u32, reserve_days: u32) -> PayoutTerms {
    PayoutTerms { delay_days, reserve_bps, reserve_days, release_on_fulfilment: false }
}

fn released(terms: PayoutTerms) -> PayoutTerms {
    PayoutTerms { release_on_fulfilment: true, ..terms }
}

#[test]
fn parses_schedules_and_reserves() {
    let text = "rule \"new\": delay 14 days if account_age_days < 30\n\
                delay 1 day reserve 1_000 bps for 60 days if refund_rate_bps > 800 # refunds\n\
                same_day reserve 500 bps for 30 days if disputes_lost_90d > 0\n\
                same_day if orders_90d >= 0";
    let rules = parse_payout_rules(text).unwrap();
    let actions: Vec<PayoutTerms> = rules.rules.iter().map(|rule| rule.action).collect();
    assert_eq!(actions, [terms(14, 0, 0), terms(1, 1000, 60), terms(0, 500, 30), terms(0, 0, 0)]);
    assert_eq!(rules.rules[1].to_string(), "delay 1 days reserve 1000 bps for 60 days if refund_rate_bps > 800");
    assert_eq!(rules.rules[0].signals, [PayeeSignal::AccountAgeDays]);
}

#[test]
fn release_when_fulfilled_ends_the_delay_and_the_reserve_early() {
    let text = "delay 14 days release when fulfilled if orders_90d < 5\n\
                same_day reserve 1000 bps for 30 days release when fulfilled if disputes_90d > 0";
    let rules = parse_payout_rules(text).unwrap();
    let actions: Vec<PayoutTerms> = rules.rules.iter().map(|rule| rule.action).collect();
    assert_eq!(actions, [released(terms(14, 0, 0)), released(terms(0, 1000, 30))]);
    assert_eq!(rules.rules[0].to_string(), "delay 14 days release when fulfilled if orders_90d < 5");
    assert_eq!(
        errors("same_day release when fulfilled if orders_90d > 1"),
        ["line 1, column 10: \"release when fulfilled\" needs a delay or a reserve to end early"]
    );
    assert_eq!(
        errors("delay 3 days release when shipped if orders_90d > 1"),
        ["line 1, column 27: expected \"fulfilled\" after \"release when\", found \"shipped\""]
    );
    assert_eq!(
        errors("delay 3 days release when fulfilled reserve 10 bps for 3 days if orders_90d > 1"),
        ["line 1, column 37: expected \"if\" after the terms, found \"reserve\""]
    );
}

#[test]
fn errors_say_what_the_action_lacks() {
    assert_eq!(
        errors("delai 3 days if orders_90d > 1"),
        [
            "line 1, column 1: expected a payout profile (same_day, or delay N days), found \"delai\"; did you mean \"delay\"?"
        ]
    );
    assert_eq!(errors("delay if orders_90d > 1"), ["line 1, column 7: expected the delay in days"]);
    assert_eq!(errors("delay 0 days if orders_90d > 1"), ["line 1, column 7: the delay in days is 1 to 365, not 0"]);
    assert_eq!(
        errors("delay 3 weeks if orders_90d > 1"),
        ["line 1, column 9: expected \"days\" after the delay, found \"weeks\""]
    );
    assert_eq!(
        errors("same_day reserve 20000 bps for 3 days if orders_90d > 1"),
        ["line 1, column 18: the reserve in basis points is 1 to 10000, not 20000"]
    );
    assert_eq!(
        errors("delay 10 days reserve 100 bps for 3 days if orders_90d > 1"),
        ["line 1, column 35: a reserve is held at least as long as the delay"]
    );
    assert_eq!(
        errors("same_day soon if orders_90d > 1"),
        ["line 1, column 10: expected \"reserve\", \"release\" or \"if\" after the schedule, found \"soon\""]
    );
    let unknown = errors("same_day if claims_per_ip_10m > 1");
    assert!(unknown[0].contains("unknown signal \"claims_per_ip_10m\""), "{unknown:?}");
    assert_eq!(
        errors("block if orders_90d > 1")[0],
        "line 1, column 1: expected a payout profile (same_day, or delay N days), found \"block\""
    );
    assert_eq!(
        errors("same_day orders_90d > 1"),
        ["line 1, column 10: expected \"reserve\", \"release\" or \"if\" after the schedule, found \"orders_90d\""]
    );
}

#[test]
fn the_first_matching_rule_in_the_text_decides() {
    let rules = parse_payout_rules(
        "rule \"new\": delay 14 days if account_age_days < 30\nrule \"refunds\": delay 7 days reserve 1000 bps for 60 days if refund_rate_bps > 800\nsame_day if account_age_days >= 180",
    )
    .unwrap();
    let counts = RecordCounts { orders: 10, refunded: 0, ..RecordCounts::default() };
    let young_and_refunding = PayeeRecord::of(3, &RecordCounts { refunded: 9, ..counts });
    let (profile, verdict) = rules.first_match(&young_and_refunding).unwrap();
    assert_eq!((profile, verdict.rule_index, verdict.rule_name.as_deref()), (terms(14, 0, 0), 0, Some("new")));
    assert_eq!(verdict.signals, [("account_age_days".to_owned(), 3)]);
    let (profile, verdict) = rules.first_match(&PayeeRecord::of(400, &RecordCounts { refunded: 9, ..counts })).unwrap();
    assert_eq!((profile, verdict.signals), (terms(7, 1000, 60), vec![("refund_rate_bps".to_owned(), 9000)]));
    assert_eq!(rules.first_match(&PayeeRecord::of(400, &counts)).unwrap().0, terms(0, 0, 0));
    assert_eq!(rules.first_match(&PayeeRecord::of(100, &counts)), None, "no rule: the default profile");
}

#[test]
fn rates_are_basis_points_of_the_orders() {
    let counts = RecordCounts { orders: 3, refunded: 1, disputed: 2, disputes_lost: 1, reviewed: 1, rejected: 0 };
    let record = PayeeRecord::of(5, &counts);
    assert_eq!(record.get(PayeeSignal::RefundRateBps), 3333);
    assert_eq!(record.get(PayeeSignal::DisputeRateBps), 6666);
    assert_eq!(PayeeRecord::of(5, &RecordCounts::default()).get(PayeeSignal::RefundRateBps), 0);
}

fn action() -> impl Strategy<Value = PayoutTerms> {
    (0..=365u32, 0..=10_000u32, 0..=365u32, any::<bool>()).prop_map(|(delay, bps, days, release)| {
        let terms = if bps == 0 { terms(delay, 0, 0) } else { terms(delay, bps, days.max(delay).max(1)) };
        let release = release && (delay > 0 || bps > 0);
        PayoutTerms { release_on_fulfilment: release, ..terms }
    })
}

proptest! {
    /// Printing a payout rule gives text that parses back to the same rule.
    #[test]
    fn printing_round_trips(action in action(), bound in 0..100_000i64) {
        let signal = risk::Operand::Signal(PayeeSignal::Orders90d);
        let condition = risk::Expr::Cmp(signal, risk::Cmp::Gt, risk::Operand::Int(bound));
        let rule = risk::Rule { name: None, action, condition, line: 1, signals: vec![PayeeSignal::Orders90d] };
        let text = rule.to_string();
        let parsed = parse_payout_rules(&text).unwrap_or_else(|errors| panic!("{text}: {errors:?}"));
        prop_assert_eq!(&parsed.rules[0], &rule);
    }
}
