//! The per-drop transparency logs: every committed event of a drop's stream is a leaf of that drop's
//! Merkle tree (the leaf is the exact stored payload). Only committed leaves are ever added, so no
//! proof or checkpoint can name a fact a crash could still take back. Checkpoints are signed at most
//! once a second per drop whose log grew, at once when a drop closes, and on demand; each is
//! journaled before it is published. Receipts are derived: the checkpoint a receipt carries is the
//! tree of exactly the leaves up to the order's, dated when the order was paid, and ed25519 is
//! deterministic, so a replayed checkout answers the same bytes.

use crate::{Clock, EngineError};
use domain::{DropId, Event, Order, OrderId, Timestamp};
use journal::{EncodedEvent, Journal, JournalReader};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use transparency::merkle::{Hash, MerkleTree, leaf_hash};
use transparency::receipt::{RECEIPT_VERSION, drop_origin};
use transparency::{Receipt, ReceiptEntry, SignedCheckpoint, Signer};

/// Checkpoints one listing answers at most.
pub const CHECKPOINTS_PAGE_MAX: usize = 1_000;
/// Leaves one log page answers at most.
pub const LOG_PAGE_MAX: usize = 1_000;
/// A drop log gets a checkpoint at most this often (periodically or on demand) while it grows.
pub(crate) const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// A leaf decided by a shard, waiting for its batch's commit.
pub(crate) struct PendingLeaf {
    /// Position of the event in its append, so its global sequence is `first_seq + position`.
    position: u64,
    drop_id: DropId,
    hash: Hash,
    sale: Option<OrderId>,
    closes: bool,
}

impl PendingLeaf {
    fn of(event: &Event, drop_id: DropId, position: u64, payload: &str) -> PendingLeaf {
        PendingLeaf {
            position,
            drop_id,
            hash: leaf_hash(payload.as_bytes()),
            sale: match event {
                Event::HoldsSold { order_id, .. } => Some(*order_id),
                _ => None,
            },
            closes: matches!(event, Event::DropClosed { .. }),
        }
    }
}

/// The leaves among a batch's events, hashed on the shard's thread.
pub(crate) fn pending_leaves(events: &[Event], encoded: &[EncodedEvent]) -> Vec<PendingLeaf> {
    let mut leaves = Vec::new();
    for (position, (event, encoded)) in events.iter().zip(encoded).enumerate() {
        if let Some(drop_id) = event.drop_id() {
            leaves.push(PendingLeaf::of(event, drop_id, position as u64, encoded.payload()));
        }
    }
    leaves
}

#[derive(Default)]
struct DropLog {
    tree: MerkleTree,
    /// The journal sequence of each leaf, to read its bytes back.
    seqs: Vec<u64>,
    /// The leaf of each order's sale in this drop.
    sales: HashMap<OrderId, u64>,
    /// Every checkpoint signed, oldest first (a few hundred bytes each, at most one a second while
    /// the log grows).
    checkpoints: Vec<SignedCheckpoint>,
    /// When this process last signed one, to sign on demand at most once per `CHECKPOINT_INTERVAL`.
    last_signed: Option<Instant>,
}

impl DropLog {
    fn checkpointed_size(&self) -> u64 {
        self.checkpoints.last().map_or(0, |checkpoint| checkpoint.tree_size)
    }

    /// Never before the last checkpoint: a wall clock stepping back does not make times go back.
    fn checkpoint_time(&self, now: Timestamp) -> Timestamp {
        let last = self.checkpoints.last().and_then(SignedCheckpoint::timestamp_ms).unwrap_or(i64::MIN);
        Timestamp(now.0.max(last))
    }
}

/// Why a proof or page could not be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    #[error("no such drop")]
    UnknownDrop,
    #[error("{0}")]
    OutOfRange(String),
    #[error("the order has no sale in a drop log")]
    NoSale,
}

pub struct Transparency {
    signer: Signer,
    origin: String,
    logs: RwLock<HashMap<DropId, Arc<Mutex<DropLog>>>>,
    /// Drops whose log grew since their last checkpoint, so a signing round visits only those.
    grown: Mutex<BTreeSet<DropId>>,
    /// Woken when a drop closes, so its final checkpoint does not wait for the next tick.
    pub(crate) closed: tokio::sync::Notify,
    /// One signing round at a time, so a drop's checkpoints are journaled in tree-size order.
    signing: tokio::sync::Mutex<()>,
}

/// An inclusion proof as the API answers it.
pub struct InclusionProof {
    pub root: Hash,
    pub proof: Vec<Hash>,
}

impl Transparency {
    pub(crate) fn new(signer: Signer, origin: String) -> Transparency {
        Transparency {
            signer,
            origin,
            logs: RwLock::default(),
            grown: Mutex::default(),
            closed: tokio::sync::Notify::new(),
            signing: tokio::sync::Mutex::new(()),
        }
    }

    pub fn public_key(&self) -> transparency::PublicKey {
        self.signer.public_key()
    }

    fn log(&self, drop_id: DropId) -> Option<Arc<Mutex<DropLog>>> {
        self.logs.read().expect("transparency logs lock").get(&drop_id).cloned()
    }

    fn log_or_new(&self, drop_id: DropId) -> Arc<Mutex<DropLog>> {
        if let Some(log) = self.log(drop_id) {
            return log;
        }
        self.logs.write().expect("transparency logs lock").entry(drop_id).or_default().clone()
    }

    /// Adds the leaves of an append that committed at `first_seq`.
    pub(crate) fn append(&self, first_seq: u64, leaves: Vec<PendingLeaf>) {
        let mut any_closed = false;
        for leaf in leaves {
            any_closed |= leaf.closes;
            self.add_leaf(first_seq, leaf);
        }
        if any_closed {
            self.closed.notify_one();
        }
    }

    fn add_leaf(&self, first_seq: u64, leaf: PendingLeaf) {
        self.grown.lock().expect("grown logs lock").insert(leaf.drop_id);
        let log = self.log_or_new(leaf.drop_id);
        let mut log = log.lock().expect("drop log lock");
        if let Some(order_id) = leaf.sale {
            let index = log.tree.len();
            log.sales.insert(order_id, index);
        }
        log.tree.push(leaf.hash);
        log.seqs.push(first_seq + leaf.position);
    }

    /// Rebuilds the logs while the journal is replayed (a close found there needs no wake-up: the
    /// first round after start signs every log that grew past its last checkpoint).
    pub(crate) fn replay(&self, seq: u64, payload: &str, event: &Event) {
        if let Some(drop_id) = event.drop_id() {
            self.add_leaf(seq, PendingLeaf::of(event, drop_id, 0, payload));
        } else if let Event::LogCheckpointed { drop_id, .. } = event
            && let Some(checkpoint) = checkpoint_of(event)
        {
            self.record_checkpoint(*drop_id, checkpoint);
        }
    }

    fn record_checkpoint(&self, drop_id: DropId, checkpoint: SignedCheckpoint) {
        self.log_or_new(drop_id).lock().expect("drop log lock").checkpoints.push(checkpoint);
    }

    /// Signs a checkpoint of every drop log that grew since its last one, journals them all in one
    /// append, and publishes them once committed. Returns how many were signed. A failed append
    /// forgets which logs grew; it only happens when the journal has failed, which stops the engine.
    pub(crate) async fn sign_round(&self, journal: &Journal, clock: &dyn Clock) -> Result<usize, EngineError> {
        let _round = self.signing.lock().await;
        // Read under the lock, so one round's times never precede an earlier round's.
        let now = clock.now();
        let grown = std::mem::take(&mut *self.grown.lock().expect("grown logs lock"));
        let mut signed = Vec::new();
        for drop_id in grown {
            let Some(log) = self.log(drop_id) else { continue };
            let mut log = log.lock().expect("drop log lock");
            let size = log.tree.len();
            if size > log.checkpointed_size() {
                let root = log.tree.root(size).expect("size is the tree's");
                let at = log.checkpoint_time(now);
                let checkpoint = self.signer.sign(&drop_origin(&self.origin, drop_id), size, &root, at.0);
                log.last_signed = Some(Instant::now());
                signed.push((drop_id, at, checkpoint));
            }
        }
        if signed.is_empty() {
            return Ok(0);
        }
        let events: Vec<Event> =
            signed.iter().map(|(drop_id, at, checkpoint)| checkpoint_event(*drop_id, checkpoint, *at)).collect();
        journal.append(&events).await.map_err(|error| EngineError::Journal(Arc::new(error)))?;
        let n_signed = signed.len();
        for (drop_id, _, checkpoint) in signed {
            self.record_checkpoint(drop_id, checkpoint);
        }
        Ok(n_signed)
    }

    /// A checkpoint covering every leaf committed before the call: the latest if it does, else one
    /// signed for it. Anyone may ask, so a log is signed at most once per `CHECKPOINT_INTERVAL`; a
    /// caller who comes sooner waits for that (or for the periodic round), never longer than it.
    pub(crate) async fn latest(
        &self,
        journal: &Journal,
        drop_id: DropId,
        clock: &dyn Clock,
    ) -> Result<Option<SignedCheckpoint>, EngineError> {
        let Some(log) = self.log(drop_id) else { return Ok(None) };
        let target = log.lock().expect("drop log lock").tree.len();
        loop {
            let wait = {
                let log = log.lock().expect("drop log lock");
                if log.checkpointed_size() >= target {
                    return Ok(log.checkpoints.last().cloned());
                }
                log.last_signed.map_or(Duration::ZERO, |at| CHECKPOINT_INTERVAL.saturating_sub(at.elapsed()))
            };
            if wait.is_zero() {
                self.sign_round(journal, clock).await?;
            } else {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// Checkpoints `start..start + limit` (at most `CHECKPOINTS_PAGE_MAX`), and how many there are.
    pub fn checkpoints(
        &self,
        drop_id: DropId,
        start: u64,
        limit: usize,
    ) -> Result<(u64, Vec<SignedCheckpoint>), LogError> {
        let log = self.log(drop_id).ok_or(LogError::UnknownDrop)?;
        let log = log.lock().expect("drop log lock");
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let page = log.checkpoints.iter().skip(start).take(limit.min(CHECKPOINTS_PAGE_MAX)).cloned().collect();
        Ok((log.checkpoints.len() as u64, page))
    }

    /// Key ids of journaled checkpoints that this server's key did not sign.
    pub(crate) fn foreign_key_ids(&self) -> BTreeSet<String> {
        let own = self.signer.public_key().key_id();
        let logs = self.logs.read().expect("transparency logs lock");
        let ids = logs.values().flat_map(|log| {
            let log = log.lock().expect("drop log lock");
            log.checkpoints.iter().map(|checkpoint| checkpoint.key_id.clone()).collect::<Vec<_>>()
        });
        ids.filter(|key_id| *key_id != own).collect()
    }

    pub fn tree_size(&self, drop_id: DropId) -> Result<u64, LogError> {
        let log = self.log(drop_id).ok_or(LogError::UnknownDrop)?;
        Ok(log.lock().expect("drop log lock").tree.len())
    }

    pub fn inclusion(&self, drop_id: DropId, index: u64, size: u64) -> Result<InclusionProof, LogError> {
        let log = self.log(drop_id).ok_or(LogError::UnknownDrop)?;
        let log = log.lock().expect("drop log lock");
        let out_of_range = || {
            LogError::OutOfRange(format!(
                "leaf_index must be below tree_size, and tree_size at most the log's {} leaves",
                log.tree.len()
            ))
        };
        let proof = log.tree.inclusion_proof(index, size).ok_or_else(out_of_range)?;
        Ok(InclusionProof { root: log.tree.root(size).ok_or_else(out_of_range)?, proof })
    }

    pub fn consistency(&self, drop_id: DropId, first: u64, second: u64) -> Result<(Hash, Hash, Vec<Hash>), LogError> {
        let log = self.log(drop_id).ok_or(LogError::UnknownDrop)?;
        let log = log.lock().expect("drop log lock");
        let proof = log.tree.consistency_proof(first, second).ok_or_else(|| {
            LogError::OutOfRange(format!("need 1 <= first <= second <= {} (the log's leaves)", log.tree.len()))
        })?;
        let root = |size| log.tree.root(size).expect("in range");
        Ok((root(first), root(second), proof))
    }

    /// The leaves `start..start + limit` (at most `LOG_PAGE_MAX`) as stored, and the log's size.
    pub(crate) async fn leaves(
        &self,
        reader: &JournalReader,
        drop_id: DropId,
        start: u64,
        limit: usize,
    ) -> Result<Option<(u64, Vec<String>)>, EngineError> {
        let Some(log) = self.log(drop_id) else { return Ok(None) };
        let (size, seqs) = {
            let log = log.lock().expect("drop log lock");
            let seqs = log.seqs.iter().skip(start as usize).take(limit.min(LOG_PAGE_MAX)).copied().collect();
            (log.tree.len(), seqs)
        };
        let payloads = reader.read_payloads(seqs).await.map_err(|error| EngineError::Journal(Arc::new(error)))?;
        Ok(Some((size, payloads)))
    }

    /// The receipt of an order: per drop, its sale's leaf, the proof, and the deterministic
    /// checkpoint of the tree that ends with that leaf. `None` for an order the logs do not know (a
    /// benchmark baseline's).
    pub(crate) async fn receipt(&self, reader: &JournalReader, order: &Order) -> Result<Option<Receipt>, EngineError> {
        let drops: BTreeSet<DropId> = order.lines.iter().map(|line| line.drop_id).collect();
        let mut parts = Vec::with_capacity(drops.len());
        for drop_id in drops {
            let Some(log) = self.log(drop_id) else { return Ok(None) };
            let log = log.lock().expect("drop log lock");
            let Some(&index) = log.sales.get(&order.id) else { return Ok(None) };
            let size = index + 1;
            let root = log.tree.root(size).expect("the sale is in the tree");
            let proof = log.tree.inclusion_proof(index, size).expect("the sale is in the tree");
            let checkpoint = self.signer.sign(&drop_origin(&self.origin, drop_id), size, &root, order.paid_at.0);
            parts.push((log.seqs[index as usize], index, proof, checkpoint));
        }
        let leaves = reader
            .read_payloads(parts.iter().map(|part| part.0).collect())
            .await
            .map_err(|error| EngineError::Journal(Arc::new(error)))?;
        let entries = parts
            .into_iter()
            .zip(leaves)
            .map(|((_, leaf_index, proof, checkpoint), leaf)| ReceiptEntry {
                leaf,
                leaf_index,
                inclusion_proof: proof.iter().map(hex::encode).collect(),
                checkpoint,
            })
            .collect();
        let key = self.signer.public_key();
        Ok(Some(Receipt {
            version: RECEIPT_VERSION,
            order_id: order.id.to_string(),
            public_key: key.to_base64(),
            key_id: key.key_id(),
            entries,
        }))
    }
}

fn checkpoint_event(drop_id: DropId, checkpoint: &SignedCheckpoint, now: Timestamp) -> Event {
    Event::LogCheckpointed {
        drop_id,
        origin: checkpoint.origin.clone(),
        tree_size: checkpoint.tree_size,
        root_hash: checkpoint.root_hash.clone(),
        timestamp: now,
        key_id: checkpoint.key_id.clone(),
        signature: checkpoint.signature.clone(),
    }
}

fn checkpoint_of(event: &Event) -> Option<SignedCheckpoint> {
    match event {
        Event::LogCheckpointed { origin, tree_size, root_hash, timestamp, key_id, signature, .. } => {
            Some(SignedCheckpoint {
                origin: origin.clone(),
                tree_size: *tree_size,
                root_hash: root_hash.clone(),
                timestamp: transparency::checkpoint::format_timestamp(timestamp.0),
                key_id: key_id.clone(),
                signature: signature.clone(),
            })
        }
        _ => None,
    }
}
