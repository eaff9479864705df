//! Who a bearer token belongs to, and since when (the fraud rules' `account_age_seconds`). A read
//! model fed from committed `AccountCreated` events (and the operator's admin tokens), so
//! authentication never waits on a shard.

use domain::{AccountId, Actor, EntityId, Role, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;

/// Admins are configured, not created; they share this reserved id (serial 0 is never allocated).
pub(crate) const ADMIN_ACCOUNT_ID: AccountId = AccountId(EntityId { partition: 0, serial: 0 });

pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Default)]
pub(crate) struct Directory {
    by_token_sha256: RwLock<HashMap<String, (Actor, Timestamp)>>,
}

impl Directory {
    pub(crate) fn insert(&self, token_sha256: String, actor: Actor, created_at: Timestamp) {
        self.by_token_sha256.write().expect("directory lock").insert(token_sha256, (actor, created_at));
    }

    pub(crate) fn insert_admin(&self, token: &str) {
        self.insert(token_sha256(token), Actor { id: ADMIN_ACCOUNT_ID, role: Role::Admin }, Timestamp(0));
    }

    /// The token's account and when it was created.
    pub(crate) fn authenticate(&self, token: &str) -> Option<(Actor, Timestamp)> {
        self.by_token_sha256.read().expect("directory lock").get(&token_sha256(token)).copied()
    }
}
