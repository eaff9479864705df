//! Applying money facts: the ledger's balances, the order money behind them, contracts, profiles,
//! settlements and payouts.

use super::super::State;
use super::settlement::returned_line;
use super::{EarningState, LineMoney, OrderMoney, order_line};
use crate::ledger::{Cause, LedgerAccount, LedgerTransaction, Side};
use crate::{ContractState, Dispute, DisputeState, Event, LineKind, Payout, PayoutState, StatementLine};

/// A statement line about a dispute.
fn dispute_line(kind: LineKind, dispute: &Dispute, amount_minor: i64) -> StatementLine {
    StatementLine {
        kind,
        order_id: Some(dispute.order_id),
        refund_id: None,
        payout_id: None,
        dispute_id: Some(dispute.id),
        amount_minor,
        at: dispute.decided_at.unwrap_or(dispute.opened_at),
    }
}

impl State {
    pub(in crate::state) fn apply_money_event(&mut self, event: &Event) {
        match event {
            Event::SplitContractProposed { contract } => {
                self.note_id(contract.id.0);
                self.money.contracts_by_creator.entry(contract.creator_id).or_default().push(contract.id);
                for share in &contract.shares {
                    self.money.contracts_by_partner.entry(share.partner_id).or_default().push(contract.id);
                }
                self.money.contracts.insert(contract.id, contract.clone());
            }
            Event::SplitContractAnswered { contract_id, partner_id, accepted, at } => {
                let contract = self.money.contracts.get_mut(contract_id).expect("known contract");
                assert_eq!(contract.state, ContractState::Pending, "contract {contract_id} answered when settled");
                if *accepted {
                    let share = contract.shares.iter_mut().find(|share| share.partner_id == *partner_id);
                    share.expect("a named partner").accepted_at = Some(*at);
                    if contract.shares.iter().all(|share| share.accepted_at.is_some()) {
                        contract.state = ContractState::Accepted;
                    }
                } else {
                    contract.state = ContractState::Rejected;
                    contract.rejected_by = Some(*partner_id);
                }
            }
            Event::PayoutProfileSet { account_id, profile, rule, .. } => {
                let in_force = crate::ProfileInForce { profile: *profile, rule: rule.clone() };
                self.money.profiles.insert(*account_id, in_force);
            }
            Event::PayoutProfileCleared { account_id, .. } => {
                self.money.profiles.remove(account_id);
            }
            Event::PayoutRulesSaved { text, version, by, .. } => {
                self.money.payout_rules = Some((text.clone(), *version, *by));
            }
            Event::LedgerPosted { transaction } => self.apply_transaction(transaction),
            Event::SettlementStarted { settlement } => {
                self.note_id(settlement.id.0);
                self.money.settlements.insert(settlement.id, settlement.clone());
            }
            Event::BookSettled { settlement_id, book, closed_at } => {
                // What `due` lists, matured in place in one pass: no list of 1 M items built again,
                // and each order is looked up once. Lines are pushed in `due`'s order.
                let closed_at = *closed_at;
                let (books, orders) = (&mut self.money.books, &mut self.money.orders);
                let state = books.entry(*book).or_default();
                let end = (
                    crate::Timestamp(closed_at.0.saturating_add(1)),
                    crate::OrderId(crate::EntityId { partition: 0, serial: 0 }),
                );
                let mut seen = hashbrown::HashSet::new();
                for &(_, order_id) in state.due.range(..end) {
                    if !seen.insert(order_id) {
                        continue;
                    }
                    let order = orders.get_mut(&order_id).expect("known order money");
                    let currency = order.currency;
                    for earning in order.lines.iter_mut().flat_map(|line| &mut line.earnings) {
                        let mut push = |kind, amount| {
                            let lines = state.available_lines.entry((earning.payee, currency)).or_default();
                            lines.push(order_line(kind, order_id, amount, closed_at));
                        };
                        let (pending_due, reserve_due) = earning.matures_by(closed_at);
                        if pending_due {
                            push(LineKind::Sale, earning.pending);
                            earning.pending = 0;
                        }
                        if reserve_due {
                            push(LineKind::ReserveReleased, earning.reserved);
                            earning.reserved = 0;
                        }
                    }
                }
                let rest = state.due.split_off(&end);
                state.due = rest;
                assert!(state.last_settlement.is_none_or(|last| last < *settlement_id), "book settled twice");
                state.last_settlement = Some(*settlement_id);
            }
            Event::PayoutCreated { payout_id, settlement_id, payee, currency, amount_minor, at } => {
                self.note_id(payout_id.0);
                let state = self.money.books.entry(payout_id.partition()).or_default();
                let lines = state.available_lines.remove(&(*payee, *currency)).unwrap_or_default();
                let sum: i64 = lines.iter().map(|line| line.amount_minor).sum();
                assert_eq!(sum, *amount_minor, "payout {payout_id} does not pay its lines");
                let payout = Payout {
                    id: *payout_id,
                    settlement_id: *settlement_id,
                    payee: *payee,
                    currency: *currency,
                    amount_minor: *amount_minor,
                    state: PayoutState::Created,
                    created_at: *at,
                    lines,
                    provider_payout_id: None,
                    failure: None,
                    settled_at: None,
                };
                self.money.payouts_by_payee.entry(*payee).or_default().push(*payout_id);
                self.money.payouts_by_settlement.entry(*settlement_id).or_default().push(*payout_id);
                self.money.unsettled.insert(*payout_id);
                self.money.payouts.insert(*payout_id, payout);
            }
            Event::ChargeUnused { cart_id, charge_id, amount, .. } => {
                let charge = super::charges::UnusedCharge { cart_id: *cart_id, amount: *amount, released: None };
                let previous = self.money.unused_charges.insert(charge_id.clone(), charge);
                assert!(previous.is_none(), "charge {charge_id} unused twice");
            }
            Event::ChargeReleased { charge_id, provider_refund_id, .. } => {
                let charge = self.money.unused_charges.get_mut(charge_id).expect("a known unused charge");
                assert!(charge.released.is_none(), "charge {charge_id} released twice");
                charge.released = Some(provider_refund_id.clone());
            }
            Event::DisputeOpened { dispute, parts } => {
                self.note_id(dispute.id.0);
                let mut lines = Vec::new();
                if let Some(money) = self.money.orders.get_mut(&dispute.order_id) {
                    for part in parts {
                        let line =
                            money.lines.iter_mut().find(|line| line.hold_id == part.hold_id).expect("known line");
                        let Some(payee) = part.payee else {
                            line.fee_disputed += part.amount_minor;
                            continue;
                        };
                        let earning = line.earnings.iter_mut().find(|earning| earning.payee == payee).expect("earning");
                        earning.disputed += part.amount_minor;
                        earning.pending -= part.from_pending_minor;
                        earning.reserved -= part.from_reserved_minor;
                        assert!(earning.remaining() >= 0 && earning.pending >= 0 && earning.reserved >= 0);
                        if part.from_available_minor > 0 {
                            lines.push((payee, dispute_line(LineKind::Dispute, dispute, -part.from_available_minor)));
                        }
                    }
                    let state = self.money.books.entry(dispute.order_id.partition()).or_default();
                    for (payee, line) in lines {
                        state.push_line(payee, dispute.amount.currency, line);
                    }
                }
                self.money.dispute_of_order.insert(dispute.order_id, dispute.id);
                self.money.dispute_parts.insert(dispute.id, parts.clone());
                self.money.disputes.insert(dispute.id, dispute.clone());
            }
            Event::DisputeDecided { dispute_id, won, by, at } => {
                let dispute = self.money.disputes.get_mut(dispute_id).expect("known dispute");
                assert_eq!(dispute.state, DisputeState::Open, "dispute {dispute_id} decided twice");
                dispute.state = if *won { DisputeState::Won } else { DisputeState::Lost };
                dispute.decided_by = Some(*by);
                dispute.decided_at = Some(*at);
                let dispute = dispute.clone();
                if *won {
                    // What the opening took goes back where it was (the `DisputeWon` transaction
                    // moves the balances); restored pending and reserved money matures on its dates.
                    let parts = self.money.dispute_parts.get(dispute_id).cloned().unwrap_or_default();
                    if let Some(money) = self.money.orders.get_mut(&dispute.order_id) {
                        let mut due = Vec::new();
                        for part in &parts {
                            let line = money.lines.iter_mut().find(|line| line.hold_id == part.hold_id).expect("line");
                            let Some(payee) = part.payee else {
                                line.fee_disputed -= part.amount_minor;
                                continue;
                            };
                            let earning = line.earnings.iter_mut().find(|earning| earning.payee == payee);
                            let earning = earning.expect("earning");
                            earning.disputed -= part.amount_minor;
                            earning.pending += part.from_pending_minor;
                            earning.reserved += part.from_reserved_minor;
                            due.push(earning.pending_due());
                            due.extend(earning.reserve_due());
                        }
                        let state = self.money.books.entry(dispute.order_id.partition()).or_default();
                        state.due.extend(due.into_iter().map(|at| (at, dispute.order_id)));
                    }
                }
            }
            Event::PayoutSent { payout_id, provider_payout_id, at } => {
                let payout = self.money.payouts.get_mut(payout_id).expect("known payout");
                assert_eq!(payout.state, PayoutState::Created, "payout {payout_id} settled twice");
                payout.state = PayoutState::Paid;
                self.money.unsettled.remove(payout_id);
                payout.provider_payout_id = Some(provider_payout_id.clone());
                payout.settled_at = Some(*at);
            }
            Event::PayoutFailed { payout_id, reason, at } => {
                let payout = self.money.payouts.get_mut(payout_id).expect("known payout");
                assert_eq!(payout.state, PayoutState::Created, "payout {payout_id} settled twice");
                payout.state = PayoutState::Failed;
                self.money.unsettled.remove(payout_id);
                payout.failure = Some(reason.clone());
                payout.settled_at = Some(*at);
                let (payee, currency, amount) = (payout.payee, payout.currency, payout.amount_minor);
                let state = self.money.books.entry(payout_id.partition()).or_default();
                state.push_line(payee, currency, returned_line(*payout_id, amount, *at));
            }
            _ => unreachable!("not a money event: {}", event.kind()),
        }
    }

    fn apply_transaction(&mut self, transaction: &LedgerTransaction) {
        self.note_id(transaction.id.0);
        let book = transaction.id.partition();
        let currency = transaction.currency;
        match &transaction.cause {
            Cause::Sale { order_id, lines, .. } => {
                let mut money = OrderMoney { currency, lines: Vec::with_capacity(lines.len()) };
                // A digital line is delivered with its sale: released early at once, where the
                // payee's profile says so (an order in fraud review: once it is approved).
                let in_review = self.in_review(*order_id);
                let digital: Vec<bool> = lines.iter().map(|line| !in_review && self.is_digital(line.hold_id)).collect();
                let state = self.money.books.entry(book).or_default();
                for (line, digital) in lines.iter().zip(digital) {
                    let mut earnings = Vec::with_capacity(line.earnings.len());
                    for earning in &line.earnings {
                        let released_at = (digital && earning.profile.release_on_fulfilment).then_some(transaction.at);
                        state.due.insert((earning.available_at, *order_id));
                        if let Some(until) = earning.reserve_until {
                            state.due.insert((until, *order_id));
                        }
                        state.due.extend(released_at.map(|at| (at, *order_id)));
                        earnings.push(EarningState {
                            payee: earning.payee,
                            amount: earning.amount_minor,
                            refunded: 0,
                            pending: earning.amount_minor - earning.reserved_minor,
                            reserved: earning.reserved_minor,
                            available_at: earning.available_at,
                            reserve_until: earning.reserve_until,
                            profile: earning.profile,
                            disputed: 0,
                            released_at,
                        });
                    }
                    money.lines.push(LineMoney {
                        hold_id: line.hold_id,
                        fee: line.fee_minor,
                        fee_refunded: 0,
                        fee_disputed: 0,
                        earnings,
                    });
                }
                let mut payees: Vec<_> = money.lines.iter().flat_map(|line| &line.earnings).map(|e| e.payee).collect();
                payees.sort_unstable();
                payees.dedup();
                for payee in payees {
                    self.money.orders_by_payee.entry(payee).or_default().push(*order_id);
                }
                self.money.orders.insert(*order_id, money);
            }
            Cause::Refund { refund_id, order_id, parts } => {
                let money = self.money.orders.get_mut(order_id).expect("refund of an order with money");
                let mut lines: Vec<(crate::AccountId, StatementLine)> = Vec::new();
                for part in parts {
                    let line = money.lines.iter_mut().find(|line| line.hold_id == part.hold_id).expect("known line");
                    let Some(payee) = part.payee else {
                        line.fee_refunded += part.amount_minor;
                        continue;
                    };
                    let earning = line.earnings.iter_mut().find(|earning| earning.payee == payee).expect("earning");
                    earning.refunded += part.amount_minor;
                    earning.pending -= part.from_pending_minor;
                    earning.reserved -= part.from_reserved_minor;
                    assert!(earning.refunded <= earning.amount && earning.pending >= 0 && earning.reserved >= 0);
                    if part.from_available_minor > 0 {
                        let mut refund_line =
                            order_line(LineKind::Refund, *order_id, -part.from_available_minor, transaction.at);
                        refund_line.refund_id = Some(*refund_id);
                        lines.push((payee, refund_line));
                    }
                }
                let state = self.money.books.entry(book).or_default();
                for (payee, line) in lines {
                    state.push_line(payee, currency, line);
                }
            }
            Cause::DisputeWon { dispute_id } => {
                let dispute = self.money.disputes[dispute_id].clone();
                let state = self.money.books.entry(book).or_default();
                for posting in &transaction.postings {
                    if let (LedgerAccount::Available(payee), Side::Credit) = (posting.account, posting.side) {
                        state.push_line(
                            payee,
                            currency,
                            dispute_line(LineKind::DisputeWon, &dispute, posting.amount_minor),
                        );
                    }
                }
            }
            Cause::Matured { .. } => {
                let state = self.money.books.entry(book).or_default();
                for posting in &transaction.postings {
                    if let (LedgerAccount::Receivable(payee), Side::Credit) = (posting.account, posting.side) {
                        let line = StatementLine {
                            kind: LineKind::DebtRecovered,
                            order_id: None,
                            refund_id: None,
                            payout_id: None,
                            dispute_id: None,
                            amount_minor: -posting.amount_minor,
                            at: transaction.at,
                        };
                        state.push_line(payee, currency, line);
                    }
                }
            }
            Cause::PayoutCreated { .. }
            | Cause::PayoutSent { .. }
            | Cause::PayoutFailed { .. }
            | Cause::DisputeOpened { .. }
            | Cause::DisputeLost { .. } => {}
        }
        let state = self.money.books.entry(book).or_default();
        state.balances.apply(transaction);
        state.transactions.push(transaction.clone());
    }
}
