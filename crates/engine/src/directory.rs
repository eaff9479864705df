//! Who a bearer token belongs to, since when (the fraud rules' `account_age_seconds`) and until
//! when. A read model fed from committed `AccountCreated`, `TokenIssued` and `TokenRevoked` events
//! (admins' included: they are accounts too), so authentication never waits on a shard.

use domain::{Actor, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::RwLock;

pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Clone, Copy)]
struct Entry {
    actor: Actor,
    /// When the account (not the token) was created.
    account_created_at: Timestamp,
    expires_at: Option<Timestamp>,
}

#[derive(Default)]
pub(crate) struct Directory {
    by_token_sha256: RwLock<HashMap<String, Entry>>,
}

impl Directory {
    pub(crate) fn insert(
        &self,
        token_sha256: String,
        actor: Actor,
        account_created_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) {
        let entry = Entry { actor, account_created_at, expires_at };
        self.by_token_sha256.write().expect("directory lock").insert(token_sha256, entry);
    }

    /// A revoked token: refused from now on.
    pub(crate) fn remove(&self, token_sha256: &str) {
        self.by_token_sha256.write().expect("directory lock").remove(token_sha256);
    }

    /// The token's account and when the account was created; `None` for an unknown, revoked or
    /// (at `now`) expired token.
    pub(crate) fn authenticate(&self, token: &str, now: Timestamp) -> Option<(Actor, Timestamp)> {
        let entry = self.by_token_sha256.read().expect("directory lock").get(&token_sha256(token)).copied()?;
        let live = entry.expires_at.is_none_or(|expires_at| now < expires_at);
        live.then_some((entry.actor, entry.account_created_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AccountId, EntityId, Role};

    #[test]
    fn expired_and_removed_tokens_do_not_authenticate() {
        let directory = Directory::default();
        let actor = Actor { id: AccountId(EntityId { partition: 1, serial: 1 }), role: Role::Buyer };
        directory.insert(token_sha256("a"), actor, Timestamp(5), Some(Timestamp(100)));
        directory.insert(token_sha256("b"), actor, Timestamp(5), None);
        assert_eq!(directory.authenticate("a", Timestamp(99)), Some((actor, Timestamp(5))));
        assert_eq!(directory.authenticate("a", Timestamp(100)), None);
        assert_eq!(directory.authenticate("b", Timestamp(i64::MAX)), Some((actor, Timestamp(5))));
        directory.remove(&token_sha256("b"));
        assert_eq!(directory.authenticate("b", Timestamp(0)), None);
        assert_eq!(directory.authenticate("c", Timestamp(0)), None);
    }
}
