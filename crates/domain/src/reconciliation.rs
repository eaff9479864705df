//! Stock reconciliation: a hub partner (the venue or logistics partner that fulfils a drop) counts
//! the drop's units on its shelf. When it counts fewer than the drop believes are there, a case
//! opens for the creator, who accepts the count (the missing units leave the drop, journaled, never
//! below what is sold or held) or disputes it. Nothing is overwritten without the creator's word.

use crate::{AccountId, DropId, ReconciliationId, Timestamp};

/// What a case came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Open,
    /// The creator took the partner's count: `written_off` units left the drop.
    Accepted,
    /// The creator says the count is wrong; the drop is unchanged.
    Disputed,
}

impl CaseState {
    pub fn name(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Accepted => "accepted",
            CaseState::Disputed => "disputed",
        }
    }
}

/// A hub's count that came short of what the drop believes is on its shelf.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReconciliationCase {
    pub id: ReconciliationId,
    pub drop_id: DropId,
    pub creator_id: AccountId,
    pub partner_id: AccountId,
    /// What the partner counted, under its `version`.
    pub on_hand: u64,
    pub version: u64,
    /// What the drop believed was on the shelf then: units not sold yet (remaining or held) and sold
    /// units not handed over yet.
    pub expected: u64,
    pub opened_at: Timestamp,
    pub state: CaseState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<AccountId>,
    /// Units that left the drop when the count was accepted.
    #[serde(default)]
    pub written_off: u64,
    /// The creator's reason for a dispute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ReconciliationCase {
    /// Units the count came short by.
    pub fn shortfall(&self) -> u64 {
        self.expected.saturating_sub(self.on_hand)
    }
}

/// A hub's last count of a drop, kept with the drop's expectation at the time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StockCount {
    pub partner_id: AccountId,
    pub on_hand: u64,
    pub expected: u64,
    pub version: u64,
    pub at: Timestamp,
}
