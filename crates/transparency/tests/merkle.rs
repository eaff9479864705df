//! The Merkle tree against RFC 6962's published test vectors (the 8-leaf reference tree used by
//! Certificate Transparency and transparency-dev), then every proof of many tree shapes round trip,
//! and a single flipped bit anywhere refused.

use transparency::merkle::{Hash, MerkleTree, ProofError, leaf_hash, verify_consistency, verify_inclusion};

const LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
/// Tree heads of sizes 0 to 8.
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
/// (leaf index from 0, tree size, audit path)
const INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];
/// (old size, new size, proof)
const CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn h(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts.iter().map(|text| h(text)).collect()
}

fn reference_leaves() -> Vec<Hash> {
    LEAVES.iter().map(|data| leaf_hash(&hex::decode(data).unwrap())).collect()
}

#[test]
fn tree_heads_and_proofs_match_the_published_vectors() {
    let leaves = reference_leaves();
    let tree = MerkleTree::from_leaves(leaves.clone());
    for (size, head) in ROOTS.iter().enumerate() {
        assert_eq!(tree.root(size as u64), Some(h(head)), "tree head of size {size}");
    }
    for (index, size, path) in INCLUSION {
        let proof = tree.inclusion_proof(index, size).unwrap();
        assert_eq!(proof, hashes(path), "audit path of leaf {index} in {size}");
        verify_inclusion(&leaves[index as usize], index, size, &proof, &h(ROOTS[size as usize])).unwrap();
    }
    for (old, new, path) in CONSISTENCY {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert_eq!(proof, hashes(path), "consistency {old} -> {new}");
        verify_consistency(old, new, &proof, &h(ROOTS[old as usize]), &h(ROOTS[new as usize])).unwrap();
    }
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8] ^= 1 << (bit % 8);
    flipped
}

/// Every tree shape up to 40 leaves: every proof verifies, and flipping any one bit of the leaf, of
/// any proof element or of the root, or naming another index, is refused. (The size is bound by the
/// signed checkpoint that carries the root, not by the proof: some paths are the same for two sizes.)
#[test]
fn every_proof_verifies_and_any_flipped_bit_fails() {
    let leaves: Vec<Hash> = (0u32..40).map(|idx| leaf_hash(&idx.to_be_bytes())).collect();
    let full = MerkleTree::from_leaves(leaves.clone());
    for size in 1..=leaves.len() {
        // The head of a prefix of a big tree equals the head of a tree built from that prefix alone.
        let head = MerkleTree::from_leaves(leaves[..size].iter().copied()).root(size as u64).unwrap();
        assert_eq!(full.root(size as u64), Some(head));
        for (index, leaf) in leaves[..size].iter().enumerate() {
            let proof = full.inclusion_proof(index as u64, size as u64).unwrap();
            let (idx, n) = (index as u64, size as u64);
            verify_inclusion(leaf, idx, n, &proof, &head).unwrap();
            let bit = (index * 37 + size) % 256;
            assert!(verify_inclusion(&flip(leaf, bit), idx, n, &proof, &head).is_err());
            assert!(verify_inclusion(leaf, idx, n, &proof, &flip(&head, bit)).is_err());
            for element in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[element] = flip(&tampered[element], bit);
                assert!(verify_inclusion(leaf, idx, n, &tampered, &head).is_err());
            }
            if size > 1 {
                let other = (index + 1) % size;
                assert!(verify_inclusion(leaf, other as u64, n, &proof, &head).is_err(), "{index} as {other}");
            }
        }
        for old in 1..=size {
            let proof = full.consistency_proof(old as u64, size as u64).unwrap();
            let old_head = full.root(old as u64).unwrap();
            verify_consistency(old as u64, size as u64, &proof, &old_head, &head).unwrap();
            let bit = (old * 11 + size) % 256;
            assert!(verify_consistency(old as u64, size as u64, &proof, &flip(&old_head, bit), &head).is_err());
            assert!(verify_consistency(old as u64, size as u64, &proof, &old_head, &flip(&head, bit)).is_err());
            for element in 0..proof.len() {
                let mut tampered = proof.clone();
                tampered[element] = flip(&tampered[element], bit);
                assert!(verify_consistency(old as u64, size as u64, &tampered, &old_head, &head).is_err());
            }
        }
    }
}

#[test]
fn malformed_requests_are_refused() {
    let leaves = reference_leaves();
    let tree = MerkleTree::from_leaves(leaves.clone());
    let head = tree.root(8).unwrap();
    assert_eq!(tree.root(9), None);
    assert_eq!(tree.inclusion_proof(8, 8), None);
    assert_eq!(tree.inclusion_proof(0, 9), None);
    assert_eq!(tree.consistency_proof(0, 8), None);
    assert_eq!(tree.consistency_proof(8, 9), None);
    assert_eq!(tree.consistency_proof(5, 4), None);
    assert_eq!(verify_inclusion(&leaves[0], 8, 8, &[], &head), Err(ProofError::OutOfRange));
    assert_eq!(verify_consistency(0, 8, &[], &head, &head), Err(ProofError::OutOfRange));
    assert_eq!(verify_consistency(3, 2, &[], &head, &head), Err(ProofError::OutOfRange));
    assert_eq!(verify_consistency(4, 8, &[], &tree.root(4).unwrap(), &head), Err(ProofError::WrongLength));
    // A proof padded with an extra hash is the wrong length, not silently accepted.
    let mut padded = tree.inclusion_proof(3, 8).unwrap();
    padded.push(head);
    assert_eq!(verify_inclusion(&leaves[3], 3, 8, &padded, &head), Err(ProofError::WrongLength));
}

/// RFC 6962's definition, written out naively, to check the stored-subtree tree against.
fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        1 => leaves[0],
        n => {
            let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
            transparency::merkle::node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

proptest::proptest! {
    /// Big trees of random shape: every earlier head is the naive head of that prefix, and proofs
    /// between random sizes verify.
    #[test]
    fn big_trees_match_the_definition(n in 1usize..3_000, picks in proptest::collection::vec(0.0f64..1.0, 3)) {
        let leaves: Vec<Hash> = (0..n as u32).map(|idx| leaf_hash(&idx.to_le_bytes())).collect();
        let tree = MerkleTree::from_leaves(leaves.clone());
        let new = 1 + ((n - 1) as f64 * picks[0]) as usize;
        let old = 1 + ((new - 1) as f64 * picks[1]) as usize;
        let index = ((new - 1) as f64 * picks[2]) as usize;
        let (old_root, new_root) = (naive_root(&leaves[..old]), naive_root(&leaves[..new]));
        proptest::prop_assert_eq!(tree.root(new as u64), Some(new_root));
        let inclusion = tree.inclusion_proof(index as u64, new as u64).unwrap();
        proptest::prop_assert!(verify_inclusion(&leaves[index], index as u64, new as u64, &inclusion, &new_root).is_ok());
        let consistency = tree.consistency_proof(old as u64, new as u64).unwrap();
        proptest::prop_assert!(verify_consistency(old as u64, new as u64, &consistency, &old_root, &new_root).is_ok());
    }
}
