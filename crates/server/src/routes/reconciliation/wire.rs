//! The JSON shapes of reconciliation cases.

use crate::wire::rfc3339;
use domain::ReconciliationCase;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct CaseBody {
    pub(crate) id: String,
    pub(crate) drop_id: String,
    pub(crate) creator_id: String,
    /// The hub partner whose count opened it.
    pub(crate) partner_id: String,
    /// `open`, `accepted` or `disputed`.
    pub(crate) state: &'static str,
    /// What the partner counted on its shelf, under its `version`.
    pub(crate) on_hand: u64,
    pub(crate) version: u64,
    /// What the drop believed was there: units unsold (remaining or held) and sold units not handed
    /// over yet.
    pub(crate) expected: u64,
    /// `expected - on_hand`.
    pub(crate) shortfall: u64,
    pub(crate) opened_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) decided_at: Option<String>,
    /// Units that left the drop when the count was accepted: the shortfall, as far as units were
    /// left to sell.
    pub(crate) written_off: u64,
    /// Of the shortfall, units already sold or held that the write-off could not cover: the
    /// creator settles those with the buyers (a refund, a replacement).
    pub(crate) uncovered: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

impl From<&ReconciliationCase> for CaseBody {
    fn from(case: &ReconciliationCase) -> CaseBody {
        let decided = case.state != domain::CaseState::Open;
        CaseBody {
            id: case.id.to_string(),
            drop_id: case.drop_id.to_string(),
            creator_id: case.creator_id.to_string(),
            partner_id: case.partner_id.to_string(),
            state: case.state.name(),
            on_hand: case.on_hand,
            version: case.version,
            expected: case.expected,
            shortfall: case.shortfall(),
            opened_at: rfc3339(case.opened_at),
            decided_at: case.decided_at.map(rfc3339),
            written_off: case.written_off,
            uncovered: if case.state == domain::CaseState::Accepted { case.shortfall() - case.written_off } else { 0 },
            reason: case.reason.clone().filter(|_| decided),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CaseListBody {
    pub(crate) cases: Vec<CaseBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisputeCaseRequest {
    /// Why the count is wrong (1 to 500 characters).
    pub(crate) reason: String,
}
