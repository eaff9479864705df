//! RFC 6962 (and RFC 9162 §2.1) Merkle trees over a drop's events: the tree head, inclusion and
//! consistency proofs, and their verification. Written here rather than taken from a crate: the
//! Rust CT crates in reach are either unmaintained or tied to a storage layer, and the whole algorithm
//! is the ~150 lines below, pinned by the RFC's published test vectors.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 ‖ data)`: a leaf can never be mistaken for an interior node.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two smaller than `n` (n ≥ 2): where RFC 6962 splits a tree of `n` leaves.
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// An append-only tree that keeps the head of every complete subtree (about two hashes per leaf), so
/// the head of any earlier size and every proof take O(log² n) hashes instead of O(n): a drop with
/// tens of thousands of events signs a checkpoint or answers a proof in microseconds.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    /// `levels[k][i]` is the head of the complete subtree of leaves `i·2^k .. (i+1)·2^k`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> MerkleTree {
        let mut tree = MerkleTree::default();
        leaves.into_iter().for_each(|leaf| tree.push(leaf));
        tree
    }

    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.levels.first()?.get(usize::try_from(index).ok()?)
    }

    /// Appends a leaf hash, completing every subtree it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        for level in 0.. {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let nodes = &mut self.levels[level];
            nodes.push(hash);
            if nodes.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
        }
    }

    /// MTH of the `size` leaves from `start`. RFC 6962's recursion only ever asks for ranges whose
    /// left part is an aligned complete subtree, which is stored.
    fn head(&self, start: u64, size: u64) -> Hash {
        match size {
            0 => Sha256::digest([]).into(),
            _ if size.is_power_of_two() && start.is_multiple_of(size) => {
                self.levels[size.trailing_zeros() as usize][(start / size) as usize]
            }
            _ => {
                let k = split(size);
                node_hash(&self.head(start, k), &self.head(start + k, size - k))
            }
        }
    }

    /// The tree head of the first `size` leaves; the empty tree's is `SHA-256("")`.
    pub fn root(&self, size: u64) -> Option<Hash> {
        (size <= self.len()).then(|| self.head(0, size))
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 §2.1.1).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Option<Vec<Hash>> {
        if index >= size || size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Some(proof)
    }

    fn path(&self, index: u64, start: u64, size: u64, proof: &mut Vec<Hash>) {
        if size <= 1 {
            return;
        }
        let k = split(size);
        if index < k {
            self.path(index, start, k, proof);
            proof.push(self.head(start + k, size - k));
        } else {
            self.path(index - k, start + k, size - k, proof);
            proof.push(self.head(start, k));
        }
    }

    /// The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size` leaves
    /// (RFC 6962 §2.1.2).
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Option<Vec<Hash>> {
        if old_size == 0 || old_size > new_size || new_size > self.len() {
            return None;
        }
        let mut proof = Vec::new();
        self.subproof(old_size, 0, new_size, true, &mut proof);
        Some(proof)
    }

    fn subproof(&self, m: u64, start: u64, size: u64, complete: bool, proof: &mut Vec<Hash>) {
        if m == size {
            if !complete {
                proof.push(self.head(start, size));
            }
            return;
        }
        let k = split(size);
        if m <= k {
            self.subproof(m, start, k, complete, proof);
            proof.push(self.head(start + k, size - k));
        } else {
            self.subproof(m - k, start + k, size - k, false, proof);
            proof.push(self.head(start, k));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the index or sizes are out of range")]
    OutOfRange,
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves whose head is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::OutOfRange);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &r != root { Err(ProofError::RootMismatch) } else { Ok(()) }
}

/// Checks that the tree of `old_size` leaves with head `old_root` is a prefix of the tree of
/// `new_size` leaves with head `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old_size == 0 || old_size > new_size {
        return Err(ProofError::OutOfRange);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if old_root == new_root { Ok(()) } else { Err(ProofError::RootMismatch) };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    // When the old tree is a complete subtree, its root is the implicit first proof element.
    let mut hashes: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        hashes.push(*old_root);
    }
    hashes.extend_from_slice(proof);
    let Some((first, rest)) = hashes.split_first() else { return Err(ProofError::WrongLength) };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if &fr == old_root && &sr == new_root { Ok(()) } else { Err(ProofError::RootMismatch) }
}
