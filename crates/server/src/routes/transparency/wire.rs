//! The JSON shapes of a drop's transparency log: keys, checkpoints, leaves and proofs.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub(crate) struct KeyBody {
    pub(crate) key_id: String,
    /// Always `ed25519`.
    pub(crate) algorithm: String,
    /// The 32-byte public key, standard base64.
    pub(crate) public_key: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct KeysBody {
    pub(crate) keys: Vec<KeyBody>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CheckpointsBody {
    pub(crate) checkpoints: Vec<::transparency::SignedCheckpoint>,
    /// Where the next page starts, if there may be one.
    pub(crate) next_start: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LogEntryBody {
    pub(crate) index: u64,
    /// The leaf's exact bytes (a journaled event, JSON); its leaf hash is `SHA-256(0x00 ‖ leaf)`.
    pub(crate) leaf: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct LogBody {
    /// Leaves in the log now.
    pub(crate) tree_size: u64,
    pub(crate) entries: Vec<LogEntryBody>,
    pub(crate) next_start: Option<u64>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct InclusionBody {
    pub(crate) leaf_index: u64,
    pub(crate) tree_size: u64,
    /// The head of the tree of `tree_size` leaves, lowercase hex.
    pub(crate) root_hash: String,
    /// Sibling hashes from the leaf up (RFC 6962 §2.1.1), lowercase hex.
    pub(crate) inclusion_proof: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ConsistencyBody {
    pub(crate) first: u64,
    pub(crate) second: u64,
    pub(crate) first_root_hash: String,
    pub(crate) second_root_hash: String,
    /// RFC 6962 §2.1.2, lowercase hex.
    pub(crate) consistency_proof: Vec<String>,
}
