//! Replays a drop's log, leaf by leaf, and checks the rules of a fair drop from the log alone:
//! every unit is accounted for (`remaining + held + sold + released == quantity` after every leaf),
//! no unit is sold twice (a hold is sold at most once, only while active, and only the units it
//! held), no unit is refunded that was not sold, no buyer ever holds or owns more than the drop's
//! per-buyer limit, and nothing is claimed before the drop opened or after it closed, nor restocked
//! after. It trusts nothing the server says about counters: only the leaves. Hostile leaves (absurd
//! quantities) make violations, never a panic: the sums saturate.

use domain::{AccountId, DropId, Event, HoldId, HoldStatus};
use std::collections::HashMap;

/// Violations kept verbatim at most; the count goes on.
const VIOLATIONS_KEPT_MAX: usize = 100;

struct AuditedHold {
    buyer_id: AccountId,
    quantity: u32,
    status: HoldStatus,
    /// Units of a sold hold refunded since.
    refunded: u32,
}

/// The state of one drop as its log tells it.
pub struct DropAudit {
    drop_id: DropId,
    leaves: u64,
    quantity: u64,
    per_buyer_limit: u32,
    remaining: u64,
    held: u64,
    sold: u64,
    released: u64,
    opened: bool,
    closed: bool,
    holds: HashMap<HoldId, AuditedHold>,
    buyer_units: HashMap<AccountId, u32>,
    n_orders: u64,
    refunded: u64,
    violations: Vec<String>,
    n_violations: u64,
}

/// The outcome of an audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditReport {
    pub drop_id: DropId,
    pub leaves: u64,
    pub quantity: u64,
    pub remaining: u64,
    pub held: u64,
    pub sold: u64,
    /// Units that left the drop for good: refunded without restock, or written off.
    pub released: u64,
    /// Refunded units, restocked or released.
    pub refunded: u64,
    pub closed: bool,
    pub buyers: usize,
    pub holds: usize,
    pub orders: u64,
    /// Total violations; the first `VIOLATIONS_KEPT_MAX` are in `violations`.
    pub n_violations: u64,
    pub violations: Vec<String>,
}

impl DropAudit {
    pub fn new(drop_id: DropId) -> DropAudit {
        DropAudit {
            drop_id,
            leaves: 0,
            quantity: 0,
            per_buyer_limit: 0,
            remaining: 0,
            held: 0,
            sold: 0,
            released: 0,
            opened: false,
            closed: false,
            holds: HashMap::new(),
            buyer_units: HashMap::new(),
            n_orders: 0,
            refunded: 0,
            violations: Vec::new(),
            n_violations: 0,
        }
    }

    fn violation(&mut self, message: String) {
        self.n_violations += 1;
        if self.violations.len() < VIOLATIONS_KEPT_MAX {
            self.violations.push(format!("leaf {}: {message}", self.leaves));
        }
    }

    /// Checks the next leaf (the exact bytes the server logged).
    pub fn leaf(&mut self, bytes: &[u8]) {
        let decoded = std::str::from_utf8(bytes).map_err(|error| error.to_string());
        match decoded.and_then(|text| codec::decode(text).map_err(|error| error.to_string())) {
            Ok(event) => self.event(&event),
            Err(error) => self.violation(format!("not a drop event: {error}")),
        }
        self.leaves += 1;
    }

    fn event(&mut self, event: &Event) {
        if event.drop_id() != Some(self.drop_id) {
            return self.violation(format!("a {} event that is not of drop {}", event.kind(), self.drop_id));
        }
        if self.leaves == 0 && !matches!(event, Event::DropCreated { .. }) {
            return self.violation("the log does not start with drop_created".into());
        }
        match event {
            Event::DropCreated { drop } => {
                if self.leaves != 0 {
                    return self.violation("drop_created again".into());
                }
                if (drop.remaining, drop.held, drop.sold, drop.released) != (drop.quantity, 0, 0, 0) {
                    self.violation("the drop was created with units already taken".into());
                }
                self.quantity = drop.quantity;
                self.remaining = drop.quantity;
                self.per_buyer_limit = drop.per_buyer_limit;
            }
            Event::DropOpened { .. } => {
                if self.opened || self.closed {
                    self.violation("opened twice or after closing".into());
                }
                self.opened = true;
            }
            Event::DropClosed { .. } => self.closed = true,
            Event::HoldPlaced { hold } => {
                if !self.opened || self.closed {
                    self.violation(format!("hold {} placed while the drop was not open", hold.id));
                }
                if hold.quantity == 0 || hold.status != HoldStatus::Active {
                    self.violation(format!("hold {} placed empty or not active", hold.id));
                }
                if self.holds.contains_key(&hold.id) {
                    return self.violation(format!("hold {} placed twice", hold.id));
                }
                let quantity = u64::from(hold.quantity);
                if quantity > self.remaining {
                    self.violation(format!("hold {} takes {quantity} units, {} remained", hold.id, self.remaining));
                }
                self.remaining = self.remaining.saturating_sub(quantity);
                self.held = self.held.saturating_add(quantity);
                let units = self.buyer_units.entry(hold.buyer_id).or_default();
                *units = units.saturating_add(hold.quantity);
                let units = *units;
                if units > self.per_buyer_limit {
                    self.violation(format!(
                        "buyer {} holds or bought {units} units, over the limit of {}",
                        hold.buyer_id, self.per_buyer_limit
                    ));
                }
                let audited =
                    AuditedHold { buyer_id: hold.buyer_id, quantity: hold.quantity, status: hold.status, refunded: 0 };
                self.holds.insert(hold.id, audited);
            }
            Event::HoldExpired { hold_id, quantity, .. } => {
                let Some(hold) = self.holds.get_mut(hold_id) else {
                    return self.violation(format!("unknown hold {hold_id} expired"));
                };
                if hold.status != HoldStatus::Active || hold.quantity != *quantity {
                    return self.violation(format!("hold {hold_id} expired while not active or with other units"));
                }
                hold.status = HoldStatus::Expired;
                let (buyer_id, units) = (hold.buyer_id, hold.quantity);
                self.held = self.held.saturating_sub(u64::from(units));
                self.remaining = self.remaining.saturating_add(u64::from(units));
                if let Some(owned) = self.buyer_units.get_mut(&buyer_id) {
                    *owned = owned.saturating_sub(units);
                }
            }
            Event::HoldsSold { hold_ids, quantity, .. } => {
                self.n_orders += 1;
                let mut units = 0u64;
                for hold_id in hold_ids {
                    match self.holds.get_mut(hold_id) {
                        Some(hold) if hold.status == HoldStatus::Active => {
                            hold.status = HoldStatus::Sold;
                            units = units.saturating_add(u64::from(hold.quantity));
                        }
                        Some(hold) if hold.status == HoldStatus::Sold => {
                            self.violation(format!("hold {hold_id} sold twice"));
                        }
                        Some(_) => self.violation(format!("hold {hold_id} sold after it expired")),
                        None => self.violation(format!("unknown hold {hold_id} sold")),
                    }
                }
                if units != *quantity {
                    self.violation(format!("a sale of {quantity} units whose holds held {units}"));
                }
                self.held = self.held.saturating_sub(units);
                self.sold = self.sold.saturating_add(units);
            }
            Event::UnitsRefunded { hold_ids, quantity, restocked, .. } => self.refund(hold_ids, *quantity, *restocked),
            // A hub's short count the creator accepted: units nobody holds or bought leave the drop.
            Event::StockWrittenOff { quantity, case_id, .. } => {
                if *quantity == 0 || *quantity > self.remaining {
                    self.violation(format!(
                        "case {case_id} wrote off {quantity} units, {} remained unsold",
                        self.remaining
                    ));
                }
                let quantity = (*quantity).min(self.remaining);
                self.remaining -= quantity;
                self.released = self.released.saturating_add(quantity);
            }
            other => self.violation(format!("a {} event has no place in a drop log", other.kind())),
        }
        let accounted =
            [self.held, self.sold, self.released].iter().fold(self.remaining, |sum, n| sum.saturating_add(*n));
        if accounted != self.quantity {
            self.violation(format!(
                "units unaccounted for: {} remaining + {} held + {} sold + {} released != {}",
                self.remaining, self.held, self.sold, self.released, self.quantity
            ));
        }
    }

    /// Refunded units leave `sold`, for `remaining` (restocked) or `released`, and free the buyer's
    /// limit. The leaf names the holds but not the units per hold (those are in the refund's own
    /// stream); all of an order's holds are one buyer's, so only their total matters here.
    fn refund(&mut self, hold_ids: &[HoldId], quantity: u64, restocked: bool) {
        let mut refundable = 0u64;
        let mut buyers = std::collections::BTreeSet::new();
        for hold_id in hold_ids {
            match self.holds.get(hold_id) {
                Some(hold) if hold.status == HoldStatus::Sold => {
                    refundable = refundable.saturating_add(u64::from(hold.quantity.saturating_sub(hold.refunded)));
                    buyers.insert(hold.buyer_id);
                }
                _ => return self.violation(format!("hold {hold_id} refunded but never sold")),
            }
        }
        if quantity == 0 || quantity > refundable || buyers.len() != 1 {
            return self.violation(format!("a refund of {quantity} units of holds that had {refundable} to refund"));
        }
        if restocked && self.closed {
            self.violation("units restocked after the drop closed".into());
        }
        let mut left = quantity;
        for hold_id in hold_ids {
            let hold = self.holds.get_mut(hold_id).expect("checked above");
            let units = left.min(u64::from(hold.quantity.saturating_sub(hold.refunded)));
            hold.refunded = hold.refunded.saturating_add(units as u32);
            left -= units;
        }
        if let Some(owned) = buyers.first().and_then(|buyer| self.buyer_units.get_mut(buyer)) {
            *owned = owned.saturating_sub(quantity as u32);
        }
        self.sold = self.sold.saturating_sub(quantity);
        self.refunded = self.refunded.saturating_add(quantity);
        if restocked {
            self.remaining = self.remaining.saturating_add(quantity);
        } else {
            self.released = self.released.saturating_add(quantity);
        }
    }

    pub fn report(&self) -> AuditReport {
        AuditReport {
            drop_id: self.drop_id,
            leaves: self.leaves,
            quantity: self.quantity,
            remaining: self.remaining,
            held: self.held,
            sold: self.sold,
            released: self.released,
            refunded: self.refunded,
            closed: self.closed,
            buyers: self.buyer_units.len(),
            holds: self.holds.len(),
            orders: self.n_orders,
            n_violations: self.n_violations,
            violations: self.violations.clone(),
        }
    }
}

/// Checks a drop's checkpoints, oldest first, against the tree rebuilt from its leaves: each is
/// signed by `key`, names this drop's log, covers no leaf the auditor has not seen, signs exactly
/// the head of that many leaves (which makes it consistent with every other such checkpoint), and
/// neither size nor time goes backwards. Returns the violations.
pub fn check_checkpoints(
    drop_id: DropId,
    checkpoints: &[crate::SignedCheckpoint],
    tree: &crate::merkle::MerkleTree,
    key: &crate::PublicKey,
) -> Vec<String> {
    let mut violations = Vec::new();
    let mut previous: Option<(u64, i64)> = None;
    for (idx, checkpoint) in checkpoints.iter().enumerate() {
        let mut fail = |message: String| violations.push(format!("checkpoint {idx}: {message}"));
        let root = match checkpoint.verify(key) {
            Ok(root) => root,
            Err(error) => {
                fail(error.to_string());
                continue;
            }
        };
        if crate::receipt::origin_drop(&checkpoint.origin) != Some(drop_id) {
            fail(format!("names the log {}, not drop {drop_id}'s", checkpoint.origin));
        }
        match tree.root(checkpoint.tree_size) {
            None => fail(format!("covers {} leaves; the log showed {}", checkpoint.tree_size, tree.len())),
            Some(head) if head != root => {
                fail(format!("signs a head that is not the log's at {}", checkpoint.tree_size))
            }
            Some(_) => {}
        }
        let at = checkpoint.timestamp_ms().unwrap_or_default();
        if let Some((size, time)) = previous
            && (checkpoint.tree_size < size || at < time)
        {
            fail("goes back in size or time from the one before".into());
        }
        previous = Some((checkpoint.tree_size, at));
    }
    violations
}
