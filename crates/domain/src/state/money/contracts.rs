//! Split contracts: a creator proposes partners' shares, each partner accepts or rejects.

use super::super::decision::{Decision, ReadBack};
use super::super::{State, require_role};
use crate::limits::{BPS_WHOLE, CREATOR_CONTRACTS_MAX, SPLIT_PARTNERS_MAX};
use crate::{
    AccountId, Actor, ContractState, Event, PartnerKind, Rejection, Role, SplitContract, SplitContractId, SplitShare,
    Timestamp,
};

/// What a creator proposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSplitContract {
    /// `(partner, basis points of each sale after the platform fee)`.
    pub shares: Vec<(AccountId, u32)>,
    /// The partners among them that exist as partner accounts, with their kinds, checked by the
    /// engine on their own shards (a partner's account lives in its own partition).
    pub known_partners: Vec<(AccountId, PartnerKind)>,
    /// The creator's earlier contract this one is the next version of.
    pub replaces: Option<SplitContractId>,
    /// Service terms proposed to some of the partners, which they sign by accepting.
    pub terms: Vec<(AccountId, crate::ServiceTerms)>,
}

impl State {
    pub(in crate::state) fn decide_propose_contract(
        &self,
        now: Timestamp,
        actor: &Actor,
        proposal: &NewSplitContract,
    ) -> Result<Decision, Rejection> {
        require_role(actor, Role::Creator)?;
        let shares = &proposal.shares;
        if shares.is_empty() || shares.len() > SPLIT_PARTNERS_MAX {
            return Err(Rejection::invalid("shares", format!("must name 1 to {SPLIT_PARTNERS_MAX} partners")));
        }
        for (index, (partner_id, share_bps)) in shares.iter().enumerate() {
            let field = format!("shares[{index}]");
            if *share_bps == 0 || *share_bps > BPS_WHOLE {
                return Err(Rejection::invalid(&format!("{field}.share_bps"), "must be 1 to 10000"));
            }
            if shares[..index].iter().any(|(earlier, _)| earlier == partner_id) {
                return Err(Rejection::invalid(&format!("{field}.partner_id"), "names a partner twice"));
            }
            if !proposal.known_partners.iter().any(|(known, _)| known == partner_id) {
                return Err(Rejection::UnknownPartner { partner_id: *partner_id });
            }
        }
        for (index, (partner_id, terms)) in proposal.terms.iter().enumerate() {
            let share = shares.iter().position(|(shared, _)| shared == partner_id);
            let kind = proposal.known_partners.iter().find(|(known, _)| known == partner_id).map(|(_, kind)| *kind);
            let (Some(share), Some(kind)) = (share, kind) else {
                return Err(Rejection::invalid("terms", "name partners of the contract"));
            };
            if proposal.terms[..index].iter().any(|(earlier, _)| earlier == partner_id) {
                return Err(Rejection::invalid("terms", "name each partner once"));
            }
            terms.check(kind, &format!("shares[{share}].terms"))?;
        }
        let total: u32 = shares.iter().map(|(_, bps)| bps).sum();
        if total > BPS_WHOLE {
            return Err(Rejection::SharesExceedWhole { total_bps: total });
        }
        let existing = self.money.contracts_by_creator.get(&actor.id).map_or(0, Vec::len);
        if existing >= CREATOR_CONTRACTS_MAX {
            return Err(Rejection::invalid(
                "shares",
                format!("a creator may propose {CREATOR_CONTRACTS_MAX} contracts"),
            ));
        }
        let version = match proposal.replaces {
            None => 1,
            Some(replaced) => match self.money.contracts.get(&replaced) {
                Some(contract) if contract.creator_id == actor.id => contract.version + 1,
                _ => return Err(Rejection::NotFound),
            },
        };
        let contract = SplitContract {
            id: SplitContractId(self.allocator(actor.id.partition()).next()),
            creator_id: actor.id,
            version,
            replaces: proposal.replaces,
            shares: shares
                .iter()
                .map(|&(partner_id, share_bps)| SplitShare {
                    partner_id,
                    share_bps,
                    accepted_at: None,
                    kind: proposal.known_partners.iter().find(|(known, _)| *known == partner_id).map(|(_, kind)| *kind),
                    terms: proposal
                        .terms
                        .iter()
                        .find(|(named, _)| *named == partner_id)
                        .map(|(_, terms)| terms.clone()),
                })
                .collect(),
            state: ContractState::Pending,
            created_at: now,
            rejected_by: None,
        };
        let id = contract.id;
        Ok(Decision::read_back(vec![Event::SplitContractProposed { contract }], ReadBack::SplitContract(id)))
    }

    pub(in crate::state) fn decide_answer_contract(
        &self,
        now: Timestamp,
        actor: &Actor,
        contract_id: SplitContractId,
        accept: bool,
    ) -> Result<Decision, Rejection> {
        let contract = self.money.contracts.get(&contract_id).ok_or(Rejection::NotFound)?;
        // Only the named partners may see it is there.
        let share = contract.shares.iter().find(|share| share.partner_id == actor.id).ok_or(Rejection::NotFound)?;
        if contract.state != ContractState::Pending || share.accepted_at.is_some() {
            return Err(Rejection::ContractAnswered { state: contract.state });
        }
        let event = Event::SplitContractAnswered { contract_id, partner_id: actor.id, accepted: accept, at: now };
        Ok(Decision::read_back(vec![event], ReadBack::SplitContract(contract_id)))
    }
}
