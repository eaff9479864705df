//! The transparency log of a drop: every event of the drop's journal stream is a leaf of an RFC 6962
//! Merkle tree; the server signs checkpoints (origin, tree size, head, time) with ed25519; a receipt
//! proves that an order's leaf is in a signed tree; an audit replays a whole drop log and checks the
//! rules a fair drop must keep. Everything here is pure and runs the same on the server and offline
//! in `livedrop verify` / `livedrop audit`, so a buyer needs nothing from the server to check a receipt.

pub mod audit;
pub mod checkpoint;
pub mod merkle;
pub mod receipt;

pub use checkpoint::{PublicKey, SignedCheckpoint, Signer, VerifyError};
pub use receipt::{KeySource, Receipt, ReceiptEntry, ReceiptError, VerifiedReceipt};

/// Lowercase hex only, so that every hash has exactly one spelling: a changed letter case is a
/// changed receipt, never the same one.
pub fn parse_hash(text: &str) -> Option<merkle::Hash> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}
