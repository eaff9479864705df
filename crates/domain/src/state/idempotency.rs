//! Idempotency records: the answer given under a client's key, digested so that a record is small
//! and fixed in size, and forgotten after `IDEMPOTENCY_TTL_MS`. Separate from the decisions because
//! no decision reads them: `execute` answers a recorded key before deciding anything.

use super::State;
use crate::command::IdempotencyKey;
use crate::limits::{IDEMPOTENCY_FORGOTTEN_PER_ADVANCE_MAX, IDEMPOTENCY_TTL_MS};
use crate::{AccountId, Outcome, Partition, Rejection, Timestamp};
use std::hash::BuildHasher;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct IdempotencyRecord {
    pub(super) fingerprint: Digest,
    pub(super) outcome: Outcome,
    pub(super) at: Timestamp,
}

/// A 128-bit digest standing in for a client's string (its key, its request's fingerprint) in the
/// state, so that recording an answer allocates nothing and a record is a fixed size; the journaled
/// event keeps the strings themselves. The owner is part of the record's key, outside the digest, so
/// a collision (accidentally about 2^-64 per pair, and no hash with public seeds is safe from one
/// crafted on purpose) could only mix up the requests of the owner whose keys collide.
pub(super) type Digest = [u64; 2];

/// Two foldhash hashes with fixed seeds: the same in every process, so a state replayed from the
/// journal equals the live one, and a few nanoseconds for a short key where SipHash took tens.
/// Digests are never stored, so the seeds are free to change between versions.
pub(super) fn digest(text: &str) -> Digest {
    const SEEDS: [foldhash::quality::FixedState; 2] = [
        foldhash::quality::FixedState::with_seed(0x6c69_7665_6472_6f70),
        foldhash::quality::FixedState::with_seed(0x6964_656d_706f_7465),
    ];
    SEEDS.map(|seed| seed.hash_one(text))
}

/// An idempotency record's key: the partition that executed the request (so records never merge when
/// partitions are regrouped under another shard count), the owner, the digest of the client's key.
pub(super) type RecordKey = (Partition, AccountId, Digest);

impl State {
    /// Idempotency records held, expired or not; expired ones go as `advance` forgets them.
    pub fn n_idempotency_records(&self) -> usize {
        self.idempotency.len()
    }

    pub(super) fn forget_expired_idempotency(&mut self, now: Timestamp) {
        for _ in 0..IDEMPOTENCY_FORGOTTEN_PER_ADVANCE_MAX {
            match self.idempotency_expiries.front() {
                Some((expires_at, _)) if *expires_at <= now => {}
                _ => return,
            }
            let (expires_at, key) = self.idempotency_expiries.pop_front().expect("checked above");
            let current =
                self.idempotency.get(&key).is_some_and(|record| record.at.plus_ms(IDEMPOTENCY_TTL_MS) == expires_at);
            if current {
                self.idempotency.remove(&key);
            }
        }
    }

    /// The answer already recorded for `key`: the stored outcome for the same request, a refusal for a
    /// different one, `None` when the key is new (or older than `IDEMPOTENCY_TTL_MS`).
    /// Keys are scoped to their owner and to the partition (the creator) the request went to.
    pub fn recorded_outcome(&self, partition: Partition, key: &IdempotencyKey, now: Timestamp) -> Option<Outcome> {
        self.recorded_answer(&(partition, key.owner, digest(&key.key)), &key.fingerprint, now)
    }

    pub(super) fn recorded_answer(&self, record_key: &RecordKey, fingerprint: &str, now: Timestamp) -> Option<Outcome> {
        let record = self.idempotency.get(record_key)?;
        if now >= record.at.plus_ms(IDEMPOTENCY_TTL_MS) {
            return None;
        }
        if record.fingerprint == digest(fingerprint) {
            Some(record.outcome.clone())
        } else {
            Some(Err(Rejection::IdempotencyKeyReused))
        }
    }

    /// Applies `IdempotencyRecorded`, given its digests. A key may be recorded again once its earlier
    /// record expired but was not yet forgotten; the earlier expiry entry then goes stale.
    pub(super) fn record_answer(
        &mut self,
        record_key: RecordKey,
        fingerprint: Digest,
        outcome: Outcome,
        at: Timestamp,
    ) {
        self.idempotency.insert(record_key, IdempotencyRecord { fingerprint, outcome, at });
        self.idempotency_expiries.push_back((at.plus_ms(IDEMPOTENCY_TTL_MS), record_key));
    }
}
