//! The rule language: errors with their position, evaluation order, and printing round trips.

use proptest::prelude::*;
use risk::{Action, Cmp, Expr, Operand, Rule, RuleSet, Signal, SignalValues, parse};

fn errors(text: &str) -> Vec<String> {
    parse(text).unwrap_err().iter().map(ToString::to_string).collect()
}

fn values(pairs: &[(Signal, i64)]) -> SignalValues {
    let mut values = SignalValues::default();
    for (signal, value) in pairs {
        values.set(*signal, *value);
    }
    values
}

#[test]
fn parses_names_comments_precedence_and_blank_lines() {
    let text = "# velocity rules\n\nrule \"bots\": block if claims_per_ip_10m > 3 # per IP\n\
                allow if account_age_seconds >= 86_400 and not (declines_per_buyer_1h > 0) or quantity == 1\r\n";
    let rules = parse(text).unwrap();
    assert_eq!(rules.rules.len(), 2);
    assert_eq!(
        (rules.rules[0].name.as_deref(), rules.rules[0].action, rules.rules[0].line),
        (Some("bots"), Action::Block, 3)
    );
    assert_eq!(
        rules.rules[1].to_string(),
        "allow if account_age_seconds >= 86400 and not (declines_per_buyer_1h > 0) or quantity == 1"
    );
    assert!(matches!(rules.rules[1].condition, Expr::Or(..)), "and binds tighter than or");
    assert_eq!(rules.rules[1].signals, [Signal::DeclinesPerBuyer1h, Signal::AccountAgeSeconds, Signal::Quantity]);
    assert!(parse("").unwrap().is_empty());
}

#[test]
fn errors_name_line_column_and_a_suggestion() {
    assert_eq!(
        errors("block if claims_per_ip_10m > 3\nblock if clams_per_ip_10m > 3"),
        ["line 2, column 10: unknown signal \"clams_per_ip_10m\"; did you mean \"claims_per_ip_10m\"?"]
    );
    // Every line's error is reported, not only the first.
    assert_eq!(
        errors(
            "blok if quantity > 1\nblock quantity > 1\nblock if quantity >\nblock if quantity = 1\nreview if (quantity > 1"
        ),
        [
            "line 1, column 1: expected an action (allow, block or review), found \"blok\"; did you mean \"block\"?",
            "line 2, column 7: expected \"if\" after \"block\", found \"quantity\"",
            "line 3, column 20: expected a signal or a number, found the end of the line",
            "line 4, column 19: unexpected '='; compare with ==",
            "line 5, column 24: expected ')' to close the '(' at column 11, found the end of the line",
        ]
    );
    assert_eq!(
        errors("block if quantity 3"),
        ["line 1, column 19: expected a comparison (>, >=, <, <=, == or !=) after quantity, found the number 3"]
    );
    assert_eq!(errors("block if 1 > 2"), ["line 1, column 10: this compares two numbers; one side must be a signal"]);
    assert_eq!(errors("block if quantity > 1)"), ["line 1, column 22: unexpected ')' without a matching '('"]);
    assert_eq!(
        errors("block if quantity > 1 quantity"),
        ["line 1, column 23: expected \"and\", \"or\" or the end of the rule, found \"quantity\""]
    );
    assert_eq!(
        errors("block if quantity > 99999999999999999999"),
        ["line 1, column 21: the number 99999999999999999999 is too large (at most 9223372036854775807)"]
    );
    assert_eq!(errors("rule \"x: block if quantity > 1"), ["line 1, column 6: the name is missing its closing \""]);
    assert_eq!(
        errors("rule \"a\": block if quantity > 1\nrule \"a\": review if quantity > 2"),
        ["line 2, column 6: another rule is already named \"a\""]
    );
    assert_eq!(
        errors("rule bots: block if quantity > 1"),
        ["line 1, column 6: expected the rule's name in quotes, found \"bots\""]
    );
    assert!(errors("block if xyzzy > 1")[0].contains("unknown signal \"xyzzy\"; signals are claims_per_buyer_1m,"));
}

#[test]
fn limits_on_rules_length_and_depth() {
    let deep = format!("block if {}quantity > 1{}", "(".repeat(17), ")".repeat(17));
    assert_eq!(errors(&deep), ["line 1, column 26: nested more than 16 levels deep"]);
    let long = format!("block if quantity > 1{}", " ".repeat(500));
    assert_eq!(errors(&long), ["line 1, column 501: the line is longer than 500 characters"]);
    let many = "block if quantity > 1\n".repeat(101);
    assert_eq!(errors(&many), ["line 101, column 1: more than 100 rules"]);
    assert_eq!(parse(&"block if quantity > 1\n".repeat(100)).unwrap().rules.len(), 100);
}

#[test]
fn allow_wins_over_block_which_wins_over_review() {
    let rules = parse(
        "review if quantity > 1\nrule \"bots\": block if claims_per_ip_10m > 3\nrule \"vip\": allow if account_age_seconds > 1000",
    )
    .unwrap();
    let blocked = rules.evaluate(&values(&[(Signal::Quantity, 2), (Signal::ClaimsPerIp10m, 4)])).unwrap();
    assert_eq!((blocked.action, blocked.rule_index, blocked.rule_name.as_deref()), (Action::Block, 1, Some("bots")));
    assert_eq!(blocked.signals, [("claims_per_ip_10m".to_owned(), 4)]);
    let vip = values(&[(Signal::Quantity, 2), (Signal::ClaimsPerIp10m, 4), (Signal::AccountAgeSeconds, 5000)]);
    assert_eq!(rules.evaluate(&vip).unwrap().action, Action::Allow, "allow overrides block");
    assert_eq!(rules.evaluate(&values(&[(Signal::Quantity, 2)])).unwrap().action, Action::Review);
    assert_eq!(rules.evaluate(&values(&[(Signal::Quantity, 1)])), None, "no rule fired");
}

fn signal() -> impl Strategy<Value = Signal> {
    proptest::sample::select(Signal::ALL.to_vec())
}

fn comparison() -> impl Strategy<Value = Expr> {
    let cmp = proptest::sample::select(vec![Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le, Cmp::Eq, Cmp::Ne]);
    (signal(), cmp, 0..100_000i64, any::<bool>()).prop_map(|(signal, cmp, value, flipped)| {
        if flipped {
            Expr::Cmp(Operand::Int(value), cmp, Operand::Signal(signal))
        } else {
            Expr::Cmp(Operand::Signal(signal), cmp, Operand::Int(value))
        }
    })
}

fn expr() -> impl Strategy<Value = Expr> {
    comparison().prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    let action = proptest::sample::select(vec![Action::Allow, Action::Block, Action::Review]);
    (action, expr(), proptest::option::of("[a-z ]{1,10}[a-z]")).prop_map(|(action, condition, name)| Rule {
        name,
        action,
        signals: condition.signals(),
        condition,
        line: 1,
    })
}

proptest! {
    /// Printing a rule gives text that parses back to the same rule.
    #[test]
    fn printing_round_trips(rule in rule()) {
        let text = rule.to_string();
        let parsed = parse(&text).unwrap_or_else(|errors| panic!("{text}: {errors:?}"));
        prop_assert_eq!(&parsed.rules[0], &rule);
    }

    /// The verdict is the first matching rule of the first action (allow, block, review) that has one,
    /// whatever the order of the text.
    #[test]
    fn evaluation_order(rules in proptest::collection::vec(rule(), 0..8), raw in proptest::array::uniform10(0..100_000i64)) {
        let rules: Vec<Rule> = rules.into_iter().enumerate().map(|(i, mut rule)| { rule.name = Some(format!("r{i}")); rule }).collect();
        let set = RuleSet { rules: rules.clone() };
        let values = SignalValues(raw);
        let expected = [Action::Allow, Action::Block, Action::Review]
            .into_iter()
            .find_map(|action| rules.iter().position(|rule| rule.action == action && rule.condition.eval(&values)));
        prop_assert_eq!(set.evaluate(&values).map(|verdict| verdict.rule_index as usize), expected);
    }
}
