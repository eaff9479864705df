//! Who a bearer token belongs to, since when (the fraud rules' `account_age_seconds`) and until
//! when. A read model fed from committed `AccountCreated`, `TokenIssued` and `TokenRevoked` events
//! (admins' included: they are accounts too), so authentication never waits on a shard.

use domain::{Actor, Timestamp};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;
use std::time::Duration;

/// How often expired tokens leave the directory (they are refused by their expiry meanwhile).
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Expired tokens removed per sweep at most, so a sweep holds the write lock briefly; the rest go
/// at the next sweeps.
pub(crate) const SWEEP_TOKENS_MAX: usize = 4_096;

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
struct Tokens {
    by_sha256: HashMap<String, Entry>,
    /// The tokens that expire, soonest first, so a sweep reads only what is due.
    expiries: BTreeSet<(Timestamp, String)>,
}

impl Tokens {
    fn remove(&mut self, token_sha256: &str) {
        if let Some(Entry { expires_at: Some(at), .. }) = self.by_sha256.remove(token_sha256) {
            self.expiries.remove(&(at, token_sha256.to_owned()));
        }
    }
}

#[derive(Default)]
pub(crate) struct Directory {
    tokens: RwLock<Tokens>,
}

impl Directory {
    pub(crate) fn insert(
        &self,
        token_sha256: String,
        actor: Actor,
        account_created_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) {
        let mut tokens = self.tokens.write().expect("directory lock");
        tokens.remove(&token_sha256);
        if let Some(at) = expires_at {
            tokens.expiries.insert((at, token_sha256.clone()));
        }
        tokens.by_sha256.insert(token_sha256, Entry { actor, account_created_at, expires_at });
    }

    /// A revoked token: refused from now on.
    pub(crate) fn remove(&self, token_sha256: &str) {
        self.tokens.write().expect("directory lock").remove(token_sha256);
    }

    /// Removes up to `max` tokens expired at `now`, soonest first; answers how many.
    pub(crate) fn sweep(&self, now: Timestamp, max: usize) -> usize {
        let mut tokens = self.tokens.write().expect("directory lock");
        let mut n_removed = 0;
        while n_removed < max {
            match tokens.expiries.first() {
                Some((at, _)) if *at <= now => {}
                _ => break,
            }
            let (_, token_sha256) = tokens.expiries.pop_first().expect("a first expiry");
            tokens.by_sha256.remove(&token_sha256);
            n_removed += 1;
        }
        n_removed
    }

    /// Tokens in the directory, expired ones not yet swept included.
    pub(crate) fn len(&self) -> usize {
        self.tokens.read().expect("directory lock").by_sha256.len()
    }

    /// The token's account and when the account was created; `None` for an unknown, revoked or
    /// (at `now`) expired token.
    pub(crate) fn authenticate(&self, token: &str, now: Timestamp) -> Option<(Actor, Timestamp)> {
        let entry = self.tokens.read().expect("directory lock").by_sha256.get(&token_sha256(token)).copied()?;
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

    #[test]
    fn a_sweep_removes_expired_tokens_soonest_first_and_at_most_its_share() {
        let directory = Directory::default();
        let actor = Actor { id: AccountId(EntityId { partition: 1, serial: 1 }), role: Role::Buyer };
        for (token, expires_at) in [("late", Some(30)), ("early", Some(10)), ("never", None), ("mid", Some(20))] {
            directory.insert(token_sha256(token), actor, Timestamp(0), expires_at.map(Timestamp));
        }
        // Re-inserted with a later expiry (as a replayed token would be): its old expiry is forgotten.
        directory.insert(token_sha256("mid"), actor, Timestamp(0), Some(Timestamp(40)));
        directory.remove(&token_sha256("late"));
        assert_eq!(directory.sweep(Timestamp(9), 10), 0, "nothing due yet");
        assert_eq!(directory.len(), 3);
        assert_eq!(directory.sweep(Timestamp(100), 1), 1, "one at most");
        assert_eq!(directory.len(), 2);
        assert_eq!(directory.authenticate("mid", Timestamp(39)), Some((actor, Timestamp(0))), "early went first");
        assert_eq!(directory.sweep(Timestamp(39), 10), 0, "mid is due at 40, not at 20");
        assert_eq!(directory.sweep(Timestamp(40), 10), 1);
        assert_eq!(directory.len(), 1);
        assert_eq!(directory.authenticate("never", Timestamp(i64::MAX)), Some((actor, Timestamp(0))));
        assert_eq!(directory.sweep(Timestamp(i64::MAX), 10), 0);
    }
}
