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
    /// A venue's or logistics partner's service terms, which it signs by accepting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) terms: Option<TermsWire>,
}

/// Service terms, as proposed and as shown.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TermsWire {
    /// Minutes to accept a new fulfilment order (1 to 10 080).
    pub(crate) accept_within_minutes: u32,
    /// Hours from the sale to ready for pickup (a venue) or dispatched (logistics), 1 to 168.
    pub(crate) ready_within_hours: u32,
    /// Hours from dispatch to delivery (logistics only), 1 to 168.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deliver_within_hours: Option<u32>,
    /// A venue's daily pickup window, `HH:MM` UTC, `from` before `to` (`24:00` ends the day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pickup_window: Option<WindowWire>,
    /// Where buyers collect (a venue only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) location: Option<String>,
    /// Postcode prefixes served; none: everywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) service_area: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowWire {
    pub(crate) from: String,
    pub(crate) to: String,
}

fn minute_of_day(field: &str, text: &str) -> Result<u32, crate::error::ApiError> {
    let invalid = || crate::error::ApiError::invalid(field, "must be HH:MM, 00:00 to 24:00");
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(invalid());
    }
    let (hours, minutes): (u32, u32) = (hours.parse().map_err(|_| invalid())?, minutes.parse().map_err(|_| invalid())?);
    if minutes > 59 || hours * 60 + minutes > 24 * 60 {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

fn hh_mm(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

impl TermsWire {
    pub(crate) fn parse(&self, field: &str) -> Result<domain::ServiceTerms, crate::error::ApiError> {
        let pickup_window = match &self.pickup_window {
            None => None,
            Some(window) => Some(domain::DailyWindow {
                from_minute: minute_of_day(&format!("{field}.pickup_window.from"), &window.from)?,
                to_minute: minute_of_day(&format!("{field}.pickup_window.to"), &window.to)?,
            }),
        };
        Ok(domain::ServiceTerms {
            accept_within_minutes: self.accept_within_minutes,
            ready_within_hours: self.ready_within_hours,
            deliver_within_hours: self.deliver_within_hours,
            pickup_window,
            location: self.location.clone(),
            service_area: self.service_area.clone(),
        })
    }
}

impl From<&domain::ServiceTerms> for TermsWire {
    fn from(terms: &domain::ServiceTerms) -> TermsWire {
        TermsWire {
            accept_within_minutes: terms.accept_within_minutes,
            ready_within_hours: terms.ready_within_hours,
            deliver_within_hours: terms.deliver_within_hours,
            pickup_window: terms
                .pickup_window
                .map(|window| WindowWire { from: hh_mm(window.from_minute), to: hh_mm(window.to_minute) }),
            location: terms.location.clone(),
            service_area: terms.service_area.clone(),
        }
    }
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
    /// The partner's kind when the contract was proposed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) terms: Option<TermsWire>,
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
                    kind: share.kind.map(domain::PartnerKind::as_str),
                    terms: share.terms.as_ref().map(TermsWire::from),
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
