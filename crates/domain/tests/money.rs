//! The ledger under random sequences of sales with and without splits, partial and full refunds,
//! disputes won and lost (captured − refunded − lost = paid out + balances + fees), profile changes, time passing, settlement windows, payouts paid and refused (and paid again at a
//! later window), and restarts: every transaction balances, money is conserved exactly per
//! currency, no balance goes below zero, no payout is paid twice, and replay rebuilds the identical
//! state.

use domain::ledger::{LedgerAccount, Side};
use domain::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const START: Timestamp = Timestamp(1_790_000_000_000);
const ADMIN: Actor = Actor { id: AccountId(EntityId { partition: 0, serial: 0 }), role: Role::Admin };
const HOUR_MS: u64 = 3_600_000;

#[derive(Clone, Debug)]
enum Op {
    /// A buyer buys `units` of a creator's drop (`split`: the one sharing with partners).
    Buy {
        creator: usize,
        split: bool,
        buyer: usize,
        units: u32,
        fee_bps: u32,
    },
    /// Refund `units` of an earlier order's only line (as many as are left, at most).
    /// `later`: the provider answers at the next `PayRefunds`, as when it is slow or down.
    Refund {
        order: usize,
        units: u32,
        later: bool,
    },
    PayRefunds,
    SetProfile {
        payee: usize,
        profile: usize,
    },
    /// An admin opens a chargeback of `percent` % of what an order has not refunded.
    Dispute {
        order: usize,
        percent: u8,
    },
    Decide {
        dispute: usize,
        won: bool,
    },
    Advance {
        hours: u64,
    },
    /// Close a window; payout `i` is refused when bit `i % 8` of `refusals` is set.
    Close {
        refusals: u8,
    },
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..2usize, any::<bool>(), 0..4usize, 1..4u32, 0..2_500u32)
            .prop_map(|(creator, split, buyer, units, fee_bps)| Op::Buy { creator, split, buyer, units, fee_bps }),
        2 => (0..40usize, 1..4u32, any::<bool>()).prop_map(|(order, units, later)| Op::Refund { order, units, later }),
        1 => Just(Op::PayRefunds),
        1 => (0..4usize, 0..4usize).prop_map(|(payee, profile)| Op::SetProfile { payee, profile }),
        2 => (0..200u64).prop_map(|hours| Op::Advance { hours }),
        2 => any::<u8>().prop_map(|refusals| Op::Close { refusals }),
        1 => Just(Op::Restart),
        1 => (0..40usize, 1..=100u8).prop_map(|(order, percent)| Op::Dispute { order, percent }),
        1 => (0..10usize, any::<bool>()).prop_map(|(dispute, won)| Op::Decide { dispute, won }),
    ]
}

const PROFILES: [PayoutProfile; 4] = [
    PayoutProfile::SAME_DAY,
    PayoutProfile { delay_days: 2, reserve_bps: 0, reserve_days: 0, release_on_fulfilment: false },
    PayoutProfile { delay_days: 1, reserve_bps: 1_000, reserve_days: 5, release_on_fulfilment: false },
    PayoutProfile { delay_days: 0, reserve_bps: 2_500, reserve_days: 3, release_on_fulfilment: false },
];

struct World {
    state: State,
    events: Vec<Event>,
    now: Timestamp,
    creators: Vec<Actor>,
    partners: Vec<Actor>,
    buyers: Vec<Actor>,
    /// Per creator: (drop with a split contract, drop without).
    drops: Vec<(DropId, DropId)>,
    orders: Vec<Order>,
    refunds: Vec<RefundId>,
    disputes: Vec<DisputeId>,
    /// Approved, waiting for the provider.
    unpaid_refunds: Vec<RefundId>,
    profiles: BTreeMap<AccountId, PayoutProfile>,
    serial: u64,
}

impl World {
    fn run(&mut self, command: Command) -> Outcome {
        let outcome = self.state.execute(self.now, Envelope::plain(command), &mut self.events);
        if let Err(error) = self.state.check_invariants() {
            panic!("invariant broken: {error}");
        }
        outcome
    }

    fn ok(&mut self, command: Command) -> Reply {
        self.run(command).unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
    }

    fn account(&mut self, partition: Partition, handle: &str, role: Role) -> Actor {
        let partner_kind = (role == Role::Partner).then_some(PartnerKind::Venue);
        let command = Command::CreateAccount {
            partition,
            handle: handle.into(),
            role,
            partner_kind,
            token_sha256: "00".repeat(32),
        };
        let Reply::Account(account) = self.ok(command) else { panic!() };
        Actor { id: account.id, role }
    }

    fn new() -> World {
        let mut world = World {
            state: State::default(),
            events: Vec::new(),
            now: START,
            creators: Vec::new(),
            partners: Vec::new(),
            buyers: Vec::new(),
            drops: Vec::new(),
            orders: Vec::new(),
            refunds: Vec::new(),
            disputes: Vec::new(),
            unpaid_refunds: Vec::new(),
            profiles: BTreeMap::new(),
            serial: 0,
        };
        // Two creators in two partitions, so two books; partners and buyers elsewhere.
        world.partners = vec![world.account(9, "venue", Role::Partner), world.account(11, "curator", Role::Partner)];
        world.buyers = (0..4).map(|i| world.account(20 + i as u8, &format!("buyer{i}"), Role::Buyer)).collect();
        for (index, (partition, price, currency)) in [(3u8, 1_999, "EUR"), (5, 333, "JPY")].into_iter().enumerate() {
            let creator = world.account(partition, &format!("creator{index}"), Role::Creator);
            let shares = vec![(world.partners[0].id, 1_700), (world.partners[1].id, 333)];
            let kinds = [domain::PartnerKind::Venue, domain::PartnerKind::Curator];
            let known_partners = world.partners.iter().zip(kinds).map(|(partner, kind)| (partner.id, kind)).collect();
            let contract = NewSplitContract { shares, known_partners, replaces: None, terms: Vec::new() };
            let Reply::SplitContract(contract) = world.ok(Command::ProposeSplitContract { actor: creator, contract })
            else {
                panic!()
            };
            for partner in world.partners.clone() {
                world.ok(Command::AnswerSplitContract { actor: partner, contract_id: contract.id, accept: true });
            }
            let Reply::Room(room) =
                world.ok(Command::CreateRoom { actor: creator, title: "room".into(), template_id: None })
            else {
                panic!()
            };
            let price = Money { minor: price, currency: currency.parse().unwrap() };
            let product = Command::CreateProduct {
                actor: creator,
                title: "tee".into(),
                price,
                stock: 1_000_000,
                fulfilment: Fulfilment::Ship,
                edition: None,
            };
            let Reply::Product(product) = world.ok(product) else { panic!() };
            let mut drop = |split: Option<SplitContractId>| {
                let drop = NewDrop {
                    room_id: room.id,
                    split_contract_id: split,
                    product_id: product.id,
                    quantity: 100_000,
                    per_buyer_limit: 1_000,
                    hold_seconds: 3_600,
                    opens_at: None,
                    closes_at: None,
                };
                let Reply::Drop(drop) = world.ok(Command::CreateDrop { actor: creator, drop }) else { panic!() };
                drop.id
            };
            let drops = (drop(Some(contract.id)), drop(None));
            world.creators.push(creator);
            world.drops.push(drops);
        }
        world
    }

    fn payees(&self) -> Vec<AccountId> {
        self.creators.iter().chain(&self.partners).map(|actor| actor.id).collect()
    }

    fn buy(&mut self, creator: usize, split: bool, buyer: usize, units: u32, fee_bps: u32) {
        let (with_split, without) = self.drops[creator];
        let drop_id = if split { with_split } else { without };
        let buyer = self.buyers[buyer];
        let Ok(Reply::Claimed(claim)) = self.run(Command::Claim { actor: buyer, drop_id, quantity: units, risk: None })
        else {
            return; // a cart in the other creator's currency, say: refused, nothing changed
        };
        let (lines, amount) = self.state.checkout_quote(&buyer, claim.cart_id).unwrap();
        self.serial += 1;
        let payment = PaymentOutcome::Approved {
            method: "pm_card_visa".into(),
            charge_id: format!("ch_{}", self.serial),
            amount,
            quoted_hold_ids: lines.iter().map(|line| line.hold_id).collect(),
        };
        let payees = self.state.cart_payees(claim.cart_id);
        let profiles = payees.iter().filter_map(|id| self.profiles.get(id).map(|profile| (*id, *profile))).collect();
        let terms = Box::new(SaleTerms { fee_bps, default_profile: PayoutProfile::SAME_DAY, profiles, pickup_seed: 7 });
        let command = Command::Checkout { actor: buyer, cart_id: claim.cart_id, payment, risk: None, terms };
        let Reply::Ordered(order) = self.ok(command) else { panic!() };
        self.orders.push(*order);
    }

    fn refund(&mut self, order: usize, units: u32, later: bool) {
        let Some(order) = self.orders.get(order % self.orders.len().max(1)).cloned() else { return };
        let line = &order.lines[0];
        let refund = NewRefund {
            lines: Some(vec![(line.hold_id, units.min(line.quantity))]),
            reason: "returned".into(),
            restock: false,
            approval_threshold_minor: i64::MAX,
        };
        let command = Command::RequestRefund { actor: self.buyer_of(&order), order_id: order.id, refund };
        let Ok(Reply::Refund(refund)) = self.run(command) else { return }; // nothing left to refund
        if later {
            self.unpaid_refunds.push(refund.id);
        } else {
            self.pay_refund(refund.id);
        }
    }

    fn pay_refund(&mut self, refund_id: RefundId) {
        self.serial += 1;
        let provider_refund_id = format!("re_{}", self.serial);
        self.ok(Command::CompleteRefund { refund_id, provider_refund_id });
        self.refunds.push(refund_id);
    }

    fn dispute(&mut self, order: usize, percent: u8) {
        let Some(order) = self.orders.get(order % self.orders.len().max(1)).cloned() else { return };
        let asked: i64 = self
            .state
            .order_refunds(order.id)
            .filter(|r| r.status != RefundStatus::Rejected)
            .map(|r| r.amount.minor)
            .sum();
        let amount = (order.total.minor - asked) * i64::from(percent) / 100;
        let command = Command::OpenDispute {
            actor: ADMIN,
            order_id: order.id,
            amount_minor: Some(amount),
            reason: "chargeback".into(),
        };
        match self.run(command) {
            Ok(Reply::Dispute(dispute)) => self.disputes.push(dispute.id),
            Err(Rejection::AlreadyDisputed | Rejection::Invalid { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    fn decide(&mut self, dispute: usize, won: bool) {
        let Some(&dispute_id) = self.disputes.get(dispute % self.disputes.len().max(1)) else { return };
        match self.run(Command::DecideDispute { actor: ADMIN, dispute_id, won }) {
            Ok(_) | Err(Rejection::DisputeNotOpen { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    fn buyer_of(&self, order: &Order) -> Actor {
        Actor { id: order.buyer_id, role: Role::Buyer }
    }

    fn close(&mut self, refusals: u8, minimum_minor: i64) {
        let Reply::Settlement(settlement) = self.ok(Command::StartSettlement { actor: Some(ADMIN), minimum_minor })
        else {
            panic!()
        };
        let mut created = Vec::new();
        for book in 0..=255u8 {
            let Reply::Payouts(payouts) = self.ok(Command::SettleBook { settlement: (*settlement).clone(), book })
            else {
                panic!()
            };
            created.extend(payouts);
        }
        // A second close of the same settlement changes nothing.
        let n_events = self.events.len();
        for book in [3u8, 5] {
            self.ok(Command::SettleBook { settlement: (*settlement).clone(), book });
        }
        assert_eq!(self.events.len(), n_events, "a book closed a settlement twice");
        for (index, payout) in created.iter().enumerate() {
            let result = if refusals & (1 << (index % 8)) != 0 {
                PayoutResult::Failed { reason: "account closed".into() }
            } else {
                PayoutResult::Paid { provider_payout_id: format!("po_{}", payout.id) }
            };
            self.ok(Command::CompletePayout { payout_id: payout.id, result: result.clone() });
            // Answered again (a retry after a crash): nothing is paid twice.
            let n_events = self.events.len();
            self.ok(Command::CompletePayout { payout_id: payout.id, result });
            assert_eq!(self.events.len(), n_events, "payout {} completed twice", payout.id);
        }
    }

    fn restart(&mut self) {
        let mut rebuilt = State::default();
        for event in &self.events {
            rebuilt.apply(event);
        }
        rebuilt.check_invariants().unwrap();
        assert!(rebuilt == self.state, "replay rebuilt a different state");
        self.state = rebuilt;
    }

    /// Captured − refunded = paid out + every payee's position + platform fees, per currency; the
    /// processor's clearing account holds exactly what was captured less refunds and payouts.
    fn check_conservation(&self) {
        let mut captured: BTreeMap<Currency, i64> = BTreeMap::new();
        for order in &self.orders {
            *captured.entry(order.total.currency).or_default() += order.total.minor;
        }
        let mut refunded: BTreeMap<Currency, i64> = BTreeMap::new();
        for refund in self.refunds.iter().map(|id| self.state.refund(*id).unwrap()) {
            assert_eq!(refund.status, RefundStatus::Executed);
            *refunded.entry(refund.amount.currency).or_default() += refund.amount.minor;
        }
        let mut lost: BTreeMap<Currency, i64> = BTreeMap::new();
        for dispute in self.disputes.iter().map(|id| self.state.dispute(*id).unwrap()) {
            if dispute.state == DisputeState::Lost {
                *lost.entry(dispute.amount.currency).or_default() += dispute.amount.minor;
            }
        }
        let mut paid: BTreeMap<Currency, i64> = BTreeMap::new();
        for payee in self.payees() {
            for payout in self.state.payouts_of(payee).filter(|payout| payout.state == PayoutState::Paid) {
                *paid.entry(payout.currency).or_default() += payout.amount_minor;
            }
        }
        let mut positions: BTreeMap<Currency, i64> = BTreeMap::new();
        let mut clearing: BTreeMap<Currency, i64> = BTreeMap::new();
        for (_, currency, account, balance) in self.state.ledger_balances() {
            assert!(balance >= 0 || account.may_go_negative(), "{account} below zero");
            match account {
                LedgerAccount::ProcessorClearing => *clearing.entry(currency).or_default() += balance,
                LedgerAccount::Receivable(_) => *positions.entry(currency).or_default() -= balance,
                _ => *positions.entry(currency).or_default() += balance,
            }
        }
        for (currency, captured) in captured {
            let refunded = refunded.get(&currency).copied().unwrap_or(0);
            let lost = lost.get(&currency).copied().unwrap_or(0);
            let paid = paid.get(&currency).copied().unwrap_or(0);
            let position = positions.get(&currency).copied().unwrap_or(0);
            assert_eq!(captured - refunded - lost, paid + position, "{currency}: money created or lost");
            assert_eq!(
                clearing.get(&currency).copied().unwrap_or(0),
                captured - refunded - lost - paid,
                "{currency} clearing"
            );
        }
        let mut sent: BTreeMap<PayoutId, usize> = BTreeMap::new();
        for event in &self.events {
            if let Event::PayoutSent { payout_id, .. } = event {
                *sent.entry(*payout_id).or_default() += 1;
            }
            if let Event::LedgerPosted { transaction } = event {
                let debits: i64 =
                    transaction.postings.iter().filter(|p| p.side == Side::Debit).map(|p| p.amount_minor).sum();
                let credits: i64 =
                    transaction.postings.iter().filter(|p| p.side == Side::Credit).map(|p| p.amount_minor).sum();
                assert_eq!(debits, credits, "transaction {} unbalanced", transaction.id);
            }
        }
        assert!(sent.values().all(|&n| n == 1), "a payout paid twice");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn money_is_conserved_and_replays_exactly(ops in prop::collection::vec(op(), 1..60)) {
        let mut world = World::new();
        for op in ops {
            match op {
                Op::Buy { creator, split, buyer, units, fee_bps } => world.buy(creator, split, buyer, units, fee_bps),
                Op::Refund { order, units, later } => world.refund(order, units, later),
                Op::PayRefunds => {
                    for refund_id in std::mem::take(&mut world.unpaid_refunds) {
                        world.pay_refund(refund_id);
                    }
                }
                Op::SetProfile { payee, profile } => {
                    let account_id = world.payees()[payee];
                    world.ok(Command::SetPayoutProfile { actor: ADMIN, account_id, profile: PROFILES[profile] });
                    world.profiles.insert(account_id, PROFILES[profile]);
                }
                Op::Advance { hours } => world.now = world.now.plus_ms(hours * HOUR_MS),
                Op::Close { refusals } => world.close(refusals, 150),
                Op::Restart => world.restart(),
                Op::Dispute { order, percent } => world.dispute(order, percent),
                Op::Decide { dispute, won } => world.decide(dispute, won),
            }
            world.check_conservation();
        }
        world.restart();
    }
}

/// Everything due is paid out in the end: with time passing and windows closing without refusals,
/// every payee's pending, reserved and available money reaches zero (debts aside).
#[test]
fn every_earning_is_paid_out_eventually() {
    let mut world = World::new();
    world.ok(Command::SetPayoutProfile { actor: ADMIN, account_id: world.partners[0].id, profile: PROFILES[2] });
    world.profiles.insert(world.partners[0].id, PROFILES[2]);
    for round in 0..30 {
        world.buy(round % 2, round % 3 == 0, round % 4, 1 + (round % 3) as u32, 1_000);
    }
    world.refund(3, 1, false);
    world.refund(7, 5, false);
    world.close(0b0000_0101, 1);
    world.now = world.now.plus_ms(10 * 24 * HOUR_MS);
    world.close(0, 1);
    world.check_conservation();
    for (_, _, account, balance) in world.state.ledger_balances() {
        let settled = matches!(account, LedgerAccount::ProcessorClearing | LedgerAccount::PlatformFees);
        assert!(settled || balance == 0, "{account} still holds {balance}");
    }
    world.restart();
}
