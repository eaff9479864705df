//! Split contracts: the engine reads each named partner's account on its own shard (its kind
//! decides who fulfils what) before the creator's shard decides the proposal.

use crate::{Engine, EngineError};
use domain::{Actor, Command, Envelope, IdempotencyKey, Outcome};

impl Engine {
    /// A creator proposes a split contract. Each partner's account lives in its own partition, so
    /// the engine asks those shards which of the named accounts are partners before the creator's
    /// shard decides.
    pub async fn propose_split_contract(
        &self,
        actor: Actor,
        shares: Vec<(domain::AccountId, u32)>,
        replaces: Option<domain::SplitContractId>,
        terms: Vec<(domain::AccountId, domain::ServiceTerms)>,
        idempotency: IdempotencyKey,
    ) -> Result<Outcome, EngineError> {
        let mut known_partners = Vec::new();
        for &(partner_id, _) in shares.iter().take(domain::SPLIT_PARTNERS_MAX + 1) {
            let (kind, _) = self
                .read(partner_id.partition(), move |state| {
                    state
                        .account(partner_id)
                        .filter(|account| account.role == domain::Role::Partner)
                        .and_then(|account| account.partner_kind)
                })
                .await?;
            if let Some(kind) = kind {
                known_partners.push((partner_id, kind));
            }
        }
        let contract = domain::NewSplitContract { shares, known_partners, replaces, terms };
        let command = Command::ProposeSplitContract { actor, contract };
        self.execute(Envelope { idempotency: Some(idempotency), command }).await
    }
}
