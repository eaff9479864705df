//! Stock counts from a drop's hub and the reconciliation cases a short count opens, in the drop's
//! partition (its shard knows what the drop has left and what waits at the hub to be handed over).

use super::State;
use super::decision::{Decision, ReadBack};
use crate::limits::CASE_REASON_CHARS_MAX;
use crate::{
    AccountId, Actor, CaseState, DropId, Event, Fulfilment, PartnerKind, ReconciliationCase, ReconciliationId,
    Rejection, Reply, SignalOutcome, StockCount, Timestamp,
};
use hashbrown::HashMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ReconciliationBook {
    cases: HashMap<ReconciliationId, ReconciliationCase>,
    /// The case of each drop still waiting for its creator (at most one per drop).
    open_by_drop: HashMap<DropId, ReconciliationId>,
    /// Cases each creator decides and each partner counted, oldest first.
    by_account: HashMap<AccountId, Vec<ReconciliationId>>,
    /// Each drop's last count.
    counts: HashMap<DropId, StockCount>,
}

impl State {
    /// The partner whose shelf holds the drop's units and who fulfils its sales: its contract's
    /// first venue for a pickup product, its first logistics partner for a shipped one; `None`
    /// when the creator keeps them.
    pub(super) fn drop_hub(&self, drop_id: DropId) -> Option<AccountId> {
        self.drop_hub_share(drop_id).map(|share| share.partner_id)
    }

    /// The hub's share of the drop's contract, with its service terms.
    pub fn drop_hub_share(&self, drop_id: DropId) -> Option<&crate::SplitShare> {
        let drop = self.drops.get(&drop_id)?;
        let kind = match self.products.get(&drop.product_id)?.fulfilment {
            Fulfilment::Digital => return None,
            Fulfilment::Pickup => PartnerKind::Venue,
            Fulfilment::Ship => PartnerKind::Logistics,
        };
        let contract = self.money.contracts.get(&drop.split_contract_id?)?;
        contract.shares.iter().find(|share| share.kind == Some(kind))
    }

    /// Units the drop believes are on its hub's shelf: not sold yet (remaining or held), or sold
    /// and not handed over yet.
    pub fn expected_on_shelf(&self, drop_id: DropId) -> u64 {
        let Some(drop) = self.drops.get(&drop_id) else { return 0 };
        drop.remaining + drop.held + self.fulfilment_on_shelf(drop_id)
    }

    pub fn reconciliation_case(&self, id: ReconciliationId) -> Option<&ReconciliationCase> {
        self.reconciliation.cases.get(&id)
    }

    /// The cases `account` decides (as the creator) or counted (as the hub), oldest first.
    pub fn reconciliation_cases_of(&self, account: AccountId) -> impl DoubleEndedIterator<Item = &ReconciliationCase> {
        let ids = self.reconciliation.by_account.get(&account).map(Vec::as_slice).unwrap_or(&[]);
        ids.iter().map(|id| &self.reconciliation.cases[id])
    }

    /// The drop's last count, if its hub sent one.
    pub fn stock_count(&self, drop_id: DropId) -> Option<&StockCount> {
        self.reconciliation.counts.get(&drop_id)
    }

    /// A count from the drop's hub. An older version than the last count's is stale. A count
    /// short of what the drop believes opens a case, unless one is open already (the creator
    /// decides that one first; the new count is kept as the drop's last).
    pub(super) fn decide_stock_signal(
        &self,
        now: Timestamp,
        actor: &Actor,
        drop_id: DropId,
        on_hand: u64,
        version: u64,
    ) -> Result<Decision, Rejection> {
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        if self.drop_hub(drop_id) != Some(actor.id) {
            return Err(Rejection::NotFound);
        }
        if version == 0 {
            return Err(Rejection::invalid("version", "must be 1 or more"));
        }
        let last = self.reconciliation.counts.get(&drop_id);
        if let Some(last) = last.filter(|last| last.version >= version) {
            let reply = Reply::StockSignal { count: *last, outcome: SignalOutcome::Stale, case: None };
            return Ok(Decision::immediate(Vec::new(), Ok(reply)));
        }
        let expected = self.expected_on_shelf(drop_id);
        let count = StockCount { partner_id: actor.id, on_hand, expected, version, at: now };
        let mut events =
            vec![Event::StockCounted { drop_id, partner_id: actor.id, on_hand, expected, version, at: now }];
        let mut case = None;
        if on_hand < expected && !self.reconciliation.open_by_drop.contains_key(&drop_id) {
            let opened = ReconciliationCase {
                id: ReconciliationId(self.allocator(drop_id.partition()).next()),
                drop_id,
                creator_id: drop.creator_id,
                partner_id: actor.id,
                on_hand,
                version,
                expected,
                opened_at: now,
                state: CaseState::Open,
                decided_at: None,
                decided_by: None,
                written_off: 0,
                reason: None,
            };
            case = Some(Box::new(opened.clone()));
            events.push(Event::ReconciliationOpened { case: opened });
        }
        Ok(Decision::immediate(events, Ok(Reply::StockSignal { count, outcome: SignalOutcome::Applied, case })))
    }

    /// The creator's word on a case: accepting writes off the shortfall (the smaller of the case's
    /// and the newest count's), as far as the drop has units left to sell (sold and held units are
    /// never taken back); disputing changes nothing.
    pub(super) fn decide_reconciliation(
        &self,
        now: Timestamp,
        actor: &Actor,
        case_id: ReconciliationId,
        accept: bool,
        reason: Option<&str>,
    ) -> Result<Decision, Rejection> {
        let case = self.reconciliation.cases.get(&case_id).ok_or(Rejection::NotFound)?;
        if case.creator_id != actor.id {
            return Err(if case.partner_id == actor.id { Rejection::Forbidden } else { Rejection::NotFound });
        }
        if case.state != CaseState::Open {
            return Err(Rejection::CaseDecided);
        }
        let reason = match (accept, reason.map(str::trim)) {
            (true, None) => None,
            (true, Some(_)) => return Err(Rejection::invalid("reason", "only a dispute gives a reason")),
            (false, Some(reason))
                if !reason.is_empty()
                    && reason.chars().count() <= CASE_REASON_CHARS_MAX
                    && !reason.chars().any(char::is_control) =>
            {
                Some(reason.to_owned())
            }
            (false, _) => {
                let message = format!("a dispute needs a reason of 1 to {CASE_REASON_CHARS_MAX} printable characters");
                return Err(Rejection::invalid("reason", message));
            }
        };
        // A newer count may have found units again: the smaller shortfall of the two stands.
        let latest = self.reconciliation.counts.get(&case.drop_id);
        let latest_shortfall = latest.map_or(u64::MAX, |count| count.expected.saturating_sub(count.on_hand));
        let shortfall = case.shortfall().min(latest_shortfall);
        let written_off = if accept { shortfall.min(self.drops[&case.drop_id].remaining) } else { 0 };
        let mut events = vec![Event::ReconciliationDecided {
            case_id,
            accepted: accept,
            written_off,
            reason,
            by: actor.id,
            at: now,
        }];
        if written_off > 0 {
            events.push(Event::StockWrittenOff { drop_id: case.drop_id, case_id, quantity: written_off, at: now });
        }
        Ok(Decision::read_back(events, ReadBack::Reconciliation(case_id)))
    }

    pub(super) fn apply_reconciliation_event(&mut self, event: &Event) {
        let book = &mut self.reconciliation;
        match event {
            Event::StockCounted { drop_id, partner_id, on_hand, expected, version, at } => {
                let count = StockCount {
                    partner_id: *partner_id,
                    on_hand: *on_hand,
                    expected: *expected,
                    version: *version,
                    at: *at,
                };
                book.counts.insert(*drop_id, count);
            }
            Event::ReconciliationOpened { case } => {
                self.note_id(case.id.0);
                let book = &mut self.reconciliation;
                let previous = book.open_by_drop.insert(case.drop_id, case.id);
                assert!(previous.is_none(), "a second open case for drop {}", case.drop_id);
                book.by_account.entry(case.creator_id).or_default().push(case.id);
                book.by_account.entry(case.partner_id).or_default().push(case.id);
                book.cases.insert(case.id, case.clone());
            }
            Event::ReconciliationDecided { case_id, accepted, written_off, reason, by, at } => {
                let case = book.cases.get_mut(case_id).expect("known case");
                assert_eq!(case.state, CaseState::Open, "case {case_id} decided twice");
                case.state = if *accepted { CaseState::Accepted } else { CaseState::Disputed };
                case.written_off = *written_off;
                case.reason = reason.clone();
                case.decided_by = Some(*by);
                case.decided_at = Some(*at);
                book.open_by_drop.remove(&case.drop_id);
            }
            Event::StockWrittenOff { drop_id, quantity, .. } => {
                let drop = self.drops.get_mut(drop_id).expect("known drop");
                assert!(drop.remaining >= *quantity, "drop {drop_id} wrote off units it did not have");
                drop.remaining -= quantity;
                drop.released += quantity;
                // The units are gone from the world, not back in the product's free stock.
                let product = self.products.get_mut(&drop.product_id).expect("drop of a known product");
                product.allocated -= quantity;
                product.stock -= quantity;
            }
            other => unreachable!("{} is not a reconciliation event", other.kind()),
        }
    }
}
