//! The receipt a checkout returns: for each drop of the order, the order's leaf in that drop's log
//! (the exact journaled bytes of its `holds_sold` event), the leaf's inclusion proof, and a signed
//! checkpoint of the tree it is in. It is self-contained: [`Receipt::verify`] needs nothing else,
//! and every byte of it is bound either by the signature, by the leaf hash, or by a check here, so a
//! single changed byte anywhere fails verification.

use crate::checkpoint::{PublicKey, SignedCheckpoint, VerifyError};
use crate::merkle::{self, Hash, ProofError};
use domain::{DropId, Event, HoldId, OrderId};
use serde::Deserialize as _;
use std::collections::{BTreeMap, BTreeSet};

pub const RECEIPT_VERSION: u32 = 1;
/// An order has a line per hold and a cart holds at most this many, so no honest receipt is longer.
const ENTRIES_MAX: usize = domain::CART_HOLDS_MAX;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    pub version: u32,
    pub order_id: String,
    /// The key that signed every checkpoint below, standard base64 (see `GET /v1/transparency/keys`).
    pub public_key: String,
    pub key_id: String,
    /// One per drop of the order, in drop id order.
    pub entries: Vec<ReceiptEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptEntry {
    /// The exact bytes of the leaf (the journaled `holds_sold` event), as a JSON string.
    pub leaf: String,
    pub leaf_index: u64,
    /// Sibling hashes from the leaf up (RFC 6962 §2.1.1), lowercase hex.
    pub inclusion_proof: Vec<String>,
    pub checkpoint: SignedCheckpoint,
}

/// Which key a receipt was checked with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The key the caller pinned (the server's published key, obtained independently).
    Pinned,
    /// The key the receipt itself carries: proves the receipt is intact and consistent, not that the
    /// key is the server's.
    Embedded,
}

/// What a valid receipt proves, per drop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEntry {
    pub drop_id: DropId,
    pub hold_ids: Vec<HoldId>,
    pub quantity: u64,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub root_hash: String,
    pub timestamp: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub order_id: OrderId,
    pub key_id: String,
    pub key_source: KeySource,
    pub entries: Vec<VerifiedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a receipt: {0}")]
    Malformed(String),
    #[error("receipt version {0} is not supported (this build reads version {RECEIPT_VERSION})")]
    Version(u32),
    #[error("the receipt's public key does not match its key id {0}")]
    KeyIdMismatch(String),
    #[error("the receipt was signed by key {signed_by}, not by the pinned key {pinned}")]
    NotPinnedKey { signed_by: String, pinned: String },
    #[error("entry {entry}: {reason}")]
    Entry { entry: usize, reason: String },
    #[error("entry {entry}: checkpoint: {source}")]
    Checkpoint { entry: usize, source: VerifyError },
    #[error("entry {entry}: inclusion proof: {source}")]
    Proof { entry: usize, source: ProofError },
}

impl Receipt {
    /// Parses a receipt: either the `receipt` object itself or a whole checkout response holding it.
    pub fn from_json(text: &str) -> Result<Receipt, ReceiptError> {
        Receipt::from_value(&parse(text)?)
    }

    fn from_value(value: &serde_json::Value) -> Result<Receipt, ReceiptError> {
        let object = match value.get("receipt") {
            Some(receipt) if value.get("order_id").is_some() => receipt,
            _ => value,
        };
        Receipt::deserialize(object).map_err(|error| ReceiptError::Malformed(error.to_string()))
    }

    /// Parses and verifies `text`: the receipt object, or a whole order answer holding it. For a
    /// whole answer, its `order_id` and `lines` (drop, hold and units) must also be what the receipt
    /// proves; prices and totals are not in the drop logs, so they are not checked here.
    pub fn verify_json(text: &str, pinned: Option<&PublicKey>) -> Result<VerifiedReceipt, ReceiptError> {
        let value = parse(text)?;
        let verified = Receipt::from_value(&value)?.verify(pinned)?;
        if value.get("receipt").is_none() {
            return Ok(verified);
        }
        let mismatch =
            |what: &str| ReceiptError::Malformed(format!("the order's {what} are not what its receipt proves"));
        if value["order_id"].as_str() != Some(verified.order_id.to_string().as_str()) {
            return Err(mismatch("id"));
        }
        let mut claimed: BTreeMap<String, (BTreeSet<String>, u64)> = BTreeMap::new();
        for line in value["lines"].as_array().ok_or_else(|| mismatch("lines"))? {
            let (Some(drop_id), Some(hold_id), Some(quantity)) =
                (line["drop_id"].as_str(), line["hold_id"].as_str(), line["quantity"].as_u64())
            else {
                return Err(mismatch("lines"));
            };
            let entry = claimed.entry(drop_id.to_owned()).or_default();
            if !entry.0.insert(hold_id.to_owned()) {
                return Err(mismatch("lines"));
            }
            entry.1 = entry.1.saturating_add(quantity);
        }
        let proven: BTreeMap<String, (BTreeSet<String>, u64)> = verified
            .entries
            .iter()
            .map(|entry| {
                let holds = entry.hold_ids.iter().map(ToString::to_string).collect();
                (entry.drop_id.to_string(), (holds, entry.quantity))
            })
            .collect();
        if claimed != proven {
            return Err(mismatch("lines"));
        }
        Ok(verified)
    }

    /// Checks every signature, every proof and that each leaf is this order's sale in the drop its
    /// checkpoint names. With `pinned`, the signing key must be that key.
    pub fn verify(&self, pinned: Option<&PublicKey>) -> Result<VerifiedReceipt, ReceiptError> {
        if self.version != RECEIPT_VERSION {
            return Err(ReceiptError::Version(self.version));
        }
        let order_id: OrderId =
            self.order_id.parse().map_err(|_| ReceiptError::Malformed(format!("order id {:?}", self.order_id)))?;
        let key = PublicKey::from_base64(&self.public_key)
            .map_err(|_| ReceiptError::Malformed("public_key is not a base64 ed25519 key".into()))?;
        if key.key_id() != self.key_id {
            return Err(ReceiptError::KeyIdMismatch(self.key_id.clone()));
        }
        let key_source = match pinned {
            Some(pinned) if *pinned != key => {
                return Err(ReceiptError::NotPinnedKey { signed_by: key.key_id(), pinned: pinned.key_id() });
            }
            Some(_) => KeySource::Pinned,
            None => KeySource::Embedded,
        };
        if self.entries.is_empty() || self.entries.len() > ENTRIES_MAX {
            return Err(ReceiptError::Malformed(format!("a receipt has 1 to {ENTRIES_MAX} entries")));
        }
        let mut entries = Vec::with_capacity(self.entries.len());
        let mut drops = BTreeSet::new();
        for (idx, entry) in self.entries.iter().enumerate() {
            let verified = entry.verify(idx, order_id, &key)?;
            if !drops.insert(verified.drop_id) {
                return Err(ReceiptError::Entry { entry: idx, reason: "a drop appears twice".into() });
            }
            entries.push(verified);
        }
        if !entries.is_sorted_by_key(|entry| entry.drop_id) {
            return Err(ReceiptError::Malformed("entries are not in drop id order".into()));
        }
        Ok(VerifiedReceipt { order_id, key_id: key.key_id(), key_source, entries })
    }
}

impl ReceiptEntry {
    fn verify(&self, idx: usize, order_id: OrderId, key: &PublicKey) -> Result<VerifiedEntry, ReceiptError> {
        let fail = |reason: &str| ReceiptError::Entry { entry: idx, reason: reason.to_owned() };
        let root = self.checkpoint.verify(key).map_err(|source| ReceiptError::Checkpoint { entry: idx, source })?;
        let Ok(Event::HoldsSold { drop_id, order_id: sold_in, hold_ids, quantity }) = codec::decode(&self.leaf) else {
            return Err(fail("the leaf is not a holds_sold event"));
        };
        if sold_in != order_id {
            return Err(fail("the leaf records another order's sale"));
        }
        if origin_drop(&self.checkpoint.origin) != Some(drop_id) {
            return Err(fail("the checkpoint is not of the leaf's drop log"));
        }
        let proof: Vec<Hash> = self
            .inclusion_proof
            .iter()
            .map(|text| crate::parse_hash(text))
            .collect::<Option<_>>()
            .ok_or_else(|| fail("an inclusion proof hash is not 64 lowercase hex digits"))?;
        let leaf = merkle::leaf_hash(self.leaf.as_bytes());
        merkle::verify_inclusion(&leaf, self.leaf_index, self.checkpoint.tree_size, &proof, &root)
            .map_err(|source| ReceiptError::Proof { entry: idx, source })?;
        Ok(VerifiedEntry {
            drop_id,
            hold_ids,
            quantity,
            leaf_index: self.leaf_index,
            tree_size: self.checkpoint.tree_size,
            root_hash: self.checkpoint.root_hash.clone(),
            timestamp: self.checkpoint.timestamp.clone(),
        })
    }
}

fn parse(text: &str) -> Result<serde_json::Value, ReceiptError> {
    serde_json::from_str(text).map_err(|error| ReceiptError::Malformed(error.to_string()))
}

/// The origin of a drop's log names the drop last: `<server origin>/drops/<drop id>`.
pub fn drop_origin(server_origin: &str, drop_id: DropId) -> String {
    format!("{server_origin}/drops/{drop_id}")
}

/// The drop an origin names, if it is a drop log's origin.
pub fn origin_drop(origin: &str) -> Option<DropId> {
    origin.rsplit_once("/drops/")?.1.parse().ok()
}
