//! Every payee's payout profile, a read model fed from committed `PayoutProfileSet` and
//! `PayoutProfileCleared` events, so a
//! checkout can put the terms of every payee of its cart into the sale (payees' accounts live in
//! other partitions) without asking their shards.

use domain::{AccountId, Event, PayoutProfile, SaleTerms};
use std::collections::HashMap;
use std::sync::RwLock;

#[derive(Default)]
pub(crate) struct Profiles {
    by_account: RwLock<HashMap<AccountId, PayoutProfile>>,
}

impl Profiles {
    /// Sets a payee's own profile, or clears it (`None`: the default applies).
    pub(crate) fn set(&self, account_id: AccountId, profile: Option<PayoutProfile>) {
        let mut by_account = self.by_account.write().expect("profiles lock");
        match profile {
            Some(profile) => by_account.insert(account_id, profile),
            None => by_account.remove(&account_id),
        };
    }

    /// The profile changes of committed events, in order.
    pub(crate) fn changes(events: &[Event]) -> Vec<(AccountId, Option<PayoutProfile>)> {
        let changes = events.iter().filter_map(|event| match event {
            Event::PayoutProfileSet { account_id, profile, .. } => Some((*account_id, Some(*profile))),
            Event::PayoutProfileCleared { account_id, .. } => Some((*account_id, None)),
            _ => None,
        });
        changes.collect()
    }

    /// The terms of a sale to `payees`: the fee, the default and each payee's own profile.
    pub(crate) fn terms(&self, fee_bps: u32, default_profile: PayoutProfile, payees: &[AccountId]) -> SaleTerms {
        let by_account = self.by_account.read().expect("profiles lock");
        let profiles = payees.iter().filter_map(|id| by_account.get(id).map(|profile| (*id, *profile))).collect();
        SaleTerms { fee_bps, default_profile, profiles, pickup_seed: 0 }
    }
}
