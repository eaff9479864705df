//! The JSON shapes of split contracts.

use crate::wire::rfc3339;
use domain::SplitContract;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShareRequest {
    pub(crate) partner_id: String,
    /// Basis points of each sale after the platform fee.
    #[schema(minimum = 1, maximum = 10_000)]
    pub(crate) share_bps: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProposeContractRequest {
    /// 1 to 8 partners; their shares add up to at most 10 000 basis points.
    #[schema(min_items = 1, max_items = 8)]
    pub(crate) shares: Vec<ShareRequest>,
    /// An earlier contract of yours that this one is the next version of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replaces: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ShareBody {
    pub(crate) partner_id: String,
    pub(crate) share_bps: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) accepted_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ContractBody {
    pub(crate) id: String,
    pub(crate) creator_id: String,
    pub(crate) version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) replaces: Option<String>,
    /// `pending` until every partner accepted (`accepted`), or `rejected` by one.
    pub(crate) state: &'static str,
    pub(crate) shares: Vec<ShareBody>,
    /// What the creator keeps of each sale after the platform fee, in basis points.
    pub(crate) creator_share_bps: u32,
    pub(crate) created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rejected_by: Option<String>,
}

impl From<&SplitContract> for ContractBody {
    fn from(contract: &SplitContract) -> ContractBody {
        ContractBody {
            id: contract.id.to_string(),
            creator_id: contract.creator_id.to_string(),
            version: contract.version,
            replaces: contract.replaces.map(|id| id.to_string()),
            state: contract.state.as_str(),
            shares: contract
                .shares
                .iter()
                .map(|share| ShareBody {
                    partner_id: share.partner_id.to_string(),
                    share_bps: share.share_bps,
                    accepted_at: share.accepted_at.map(rfc3339),
                })
                .collect(),
            creator_share_bps: contract.creator_bps(),
            created_at: rfc3339(contract.created_at),
            rejected_by: contract.rejected_by.map(|id| id.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ContractListBody {
    pub(crate) contracts: Vec<ContractBody>,
}
