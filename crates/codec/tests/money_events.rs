//! The stored bytes of the money facts (split contracts, payout profiles and rules, ledger transactions,
//! settlements and payouts) and of the fields they added to accounts and drops. They were added
//! after version 1 was pinned, without a version bump (version 1 payloads still decode and encode
//! to the same bytes: `stored_format.rs`), so no fixture journal holds them yet: a small sale is
//! run through the domain and the first fact of each kind is snapshotted.
//! `UPDATE_EXPECT=1 cargo test -p codec` rewrites the snapshots after a deliberate change.

use domain::*;
use expect_test::expect_file;
use std::collections::BTreeMap;

const AT: Timestamp = Timestamp(1_796_119_200_000);
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 42, serial: 1 }), role: Role::Admin };

struct Run {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
}

impl Run {
    fn ok(&mut self, command: Command) -> Reply {
        let outcome = self.state.execute(self.now, Envelope::plain(command), &mut self.events);
        outcome.unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }

    fn account(&mut self, partition: Partition, handle: &str, role: Role, partner_kind: Option<PartnerKind>) -> Actor {
        let command = Command::CreateAccount {
            partition,
            handle: handle.into(),
            role,
            partner_kind,
            token_sha256: "ab".repeat(32),
        };
        let Reply::Account(account) = self.ok(command) else { panic!() };
        Actor { id: account.id, role }
    }
}

/// Every money fact of a sale split with a partner, a refund, and two windows with a payout paid
/// and one refused.
fn money_events() -> Vec<Event> {
    let mut run = Run { state: State::default(), events: Vec::new(), now: AT };
    let venue = run.account(9, "venue", Role::Partner, Some(PartnerKind::Venue));
    let creator = run.account(3, "maker", Role::Creator, None);
    let buyer = run.account(5, "buyer", Role::Buyer, None);
    let contract = NewSplitContract {
        shares: vec![(venue.id, 1_500)],
        known_partners: vec![(venue.id, domain::PartnerKind::Venue)],
        replaces: None,
        terms: Vec::new(),
    };
    let Reply::SplitContract(contract) = run.ok(Command::ProposeSplitContract { actor: creator, contract }) else {
        panic!()
    };
    run.ok(Command::AnswerSplitContract { actor: venue, contract_id: contract.id, accept: true });
    let profile = PayoutProfile { delay_days: 2, reserve_bps: 1_000, reserve_days: 30, release_on_fulfilment: false };
    run.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: creator.id, profile });
    let Reply::Room(room) = run.ok(Command::CreateRoom { actor: creator, title: "Pop-up".into(), template_id: None })
    else {
        panic!()
    };
    let price = Money { minor: 1_999, currency: "EUR".parse().unwrap() };
    let product = Command::CreateProduct {
        actor: creator,
        title: "Tee".into(),
        price,
        stock: 10,
        fulfilment: Fulfilment::Pickup,
        edition: None,
    };
    let Reply::Product(product) = run.ok(product) else { panic!() };
    let drop = NewDrop {
        room_id: room.id,
        split_contract_id: Some(contract.id),
        product_id: product.id,
        quantity: 10,
        per_buyer_limit: 5,
        hold_seconds: 300,
        opens_at: None,
        closes_at: None,
    };
    let Reply::Drop(drop) = run.ok(Command::CreateDrop { actor: creator, drop }) else { panic!() };
    let Reply::Claimed(claim) = run.ok(Command::Claim { actor: buyer, drop_id: drop.id, quantity: 3, risk: None })
    else {
        panic!()
    };
    let (lines, amount) = run.state.checkout_quote(&buyer, claim.cart_id).unwrap();
    let payment = PaymentOutcome::Approved {
        method: "pm_card_visa".into(),
        charge_id: "ch_1".into(),
        amount,
        quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
    };
    let terms = Box::new(SaleTerms {
        fee_bps: 1_000,
        default_profile: PayoutProfile::SAME_DAY,
        profiles: vec![(creator.id, profile)],
        pickup_seed: 7,
    });
    let Reply::Ordered(order) =
        run.ok(Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms })
    else {
        panic!()
    };
    // A second checkout of the paid cart took a payment too: its charge is unused, then paid back.
    let late = PaymentOutcome::Approved {
        method: "pm_card_visa".into(),
        charge_id: "ch_2".into(),
        amount: order.total,
        quoted_hold_ids: order.lines.iter().map(|line| line.hold_id).collect(),
    };
    let late =
        Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment: late, risk: None, terms: Box::default() };
    let refused = run.state.execute(run.now, Envelope::plain(late), &mut run.events);
    assert_eq!(refused, Err(Rejection::CartCheckedOut));
    let release =
        Command::ReleaseCharge { cart_id: claim.cart_id, charge_id: "ch_2".into(), provider_refund_id: "re_0".into() };
    run.ok(release);
    let refund = NewRefund {
        lines: Some(vec![(order.lines[0].hold_id, 1)]),
        reason: "too small".into(),
        restock: false,
        approval_threshold_minor: 5_000,
    };
    let Reply::Refund(refund) = run.ok(Command::RequestRefund { actor: buyer, order_id: order.id, refund }) else {
        panic!()
    };
    run.ok(Command::CompleteRefund { refund_id: refund.id, provider_refund_id: "re_1".into() });
    let dispute = Command::OpenDispute {
        actor: ADMIN,
        order_id: order.id,
        amount_minor: Some(1_999),
        reason: "fraudulent".into(),
    };
    let Reply::Dispute(dispute) = run.ok(dispute) else { panic!() };
    run.ok(Command::DecideDispute { actor: ADMIN, dispute_id: dispute.id, won: false });
    for (days, result) in [
        (3, PayoutResult::Failed { reason: "bank account closed".into() }),
        (40, PayoutResult::Paid { provider_payout_id: "po_sbx_1".into() }),
    ] {
        run.now = AT.plus_ms(days * 86_400_000);
        let Reply::Settlement(settlement) = run.ok(Command::StartSettlement { actor: Some(ADMIN), minimum_minor: 100 })
        else {
            panic!()
        };
        for book in [3, 9] {
            let settle = Command::SettleBook { settlement: (*settlement).clone(), book };
            let Reply::Payouts(payouts) = run.ok(settle) else { panic!() };
            for payout in payouts {
                run.ok(Command::CompletePayout { payout_id: payout.id, result: result.clone() });
            }
        }
    }
    // Payout rules move the venue's profile, then move it back to the default; an admin clears the
    // creator's own.
    let text = "rule \"new\": delay 14 days reserve 500 bps for 30 days if account_age_days < 30";
    let rules = risk::parse_payout_rules(text).map(std::sync::Arc::new);
    run.ok(Command::SavePayoutRules { actor: ADMIN, text: text.into(), rules });
    let record = risk::PayeeRecord::of(3, &risk::RecordCounts { orders: 1, ..Default::default() });
    let (terms, verdict) = risk::parse_payout_rules(text).unwrap().first_match(&record).unwrap();
    let outcome = Some((PayoutProfile::from(terms), verdict));
    run.ok(Command::ApplyPayoutRule { account_id: venue.id, rules_version: 1, by: ADMIN.id, outcome });
    run.ok(Command::ApplyPayoutRule { account_id: venue.id, rules_version: 1, by: ADMIN.id, outcome: None });
    run.ok(Command::ClearPayoutProfile { actor: ADMIN, account_id: creator.id });
    run.state.check_invariants().unwrap();
    run.events
}

#[test]
fn every_money_fact_is_snapshotted() {
    let mut first_of_kind: BTreeMap<String, String> = BTreeMap::new();
    for event in money_events() {
        let payload = codec::encode(&event);
        assert_eq!(codec::decode(&payload).unwrap(), event, "{} decodes to what was encoded", event.kind());
        assert_eq!(
            codec::encode(&codec::decode(&payload).unwrap()),
            payload,
            "{} encodes to the same bytes",
            event.kind()
        );
        let name = match &event {
            Event::AccountCreated { account } if account.partner_kind.is_some() => "account_created_partner".to_owned(),
            Event::DropCreated { .. } => "drop_created_split".to_owned(),
            Event::LedgerPosted { transaction } => format!("ledger_posted_{}", transaction.cause.kind()),
            Event::PayoutProfileSet { rule: Some(_), .. } => "payout_profile_set_by_rule".to_owned(),
            Event::PayoutProfileCleared { rules_version: Some(_), .. } => "payout_profile_cleared_by_rules".to_owned(),
            other => other.kind().to_owned(),
        };
        first_of_kind.entry(name).or_insert(payload);
    }
    let money_kinds = [
        "account_created_partner",
        "book_settled",
        "charge_released",
        "charge_unused",
        "dispute_decided",
        "dispute_opened",
        "ledger_posted_dispute_lost",
        "ledger_posted_dispute_opened",
        "drop_created_split",
        "ledger_posted_matured",
        "ledger_posted_payout_created",
        "ledger_posted_payout_failed",
        "ledger_posted_payout_sent",
        "ledger_posted_refund",
        "ledger_posted_sale",
        "payout_created",
        "payout_failed",
        "payout_profile_cleared",
        "payout_profile_cleared_by_rules",
        "payout_profile_set",
        "payout_profile_set_by_rule",
        "payout_rules_saved",
        "payout_sent",
        "settlement_started",
        "split_contract_answered",
        "split_contract_proposed",
    ];
    for kind in money_kinds {
        let payload = first_of_kind.get(kind).unwrap_or_else(|| panic!("the run wrote no {kind}"));
        expect_file![format!("snapshots/money/{kind}.json")].assert_eq(&format!("{payload}\n"));
    }
}

/// A profile that releases on fulfilment adds one field; a profile without it keeps its old bytes
/// (the snapshots above), and old bytes decode to a profile that does not release.
#[test]
fn a_releasing_profile_is_snapshotted() {
    let profile = PayoutProfile { delay_days: 14, reserve_bps: 0, reserve_days: 0, release_on_fulfilment: true };
    let account_id = AccountId(EntityId { partition: 3, serial: 1 });
    let event = Event::PayoutProfileSet { account_id, profile, by: ADMIN.id, at: AT, rule: None };
    let payload = codec::encode(&event);
    assert_eq!(codec::decode(&payload).unwrap(), event);
    expect_file!["snapshots/money/payout_profile_set_releasing.json"].assert_eq(&format!("{payload}\n"));
    let old = payload.replace(r#","release_on_fulfilment":true"#, "");
    assert_ne!(old, payload, "the field is in the bytes");
    let Event::PayoutProfileSet { profile, .. } = codec::decode(&old).unwrap() else { panic!() };
    assert!(!profile.release_on_fulfilment);
}
