//! The transparency log end to end: a checkout's receipt verifies under the server's published key
//! and is the same bytes on every read; a single changed byte anywhere, a forged checkpoint or
//! another key fails it; the log's leaves rebuild the signed heads; proofs and pages refuse bad
//! input with 4xx.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use transparency::audit::{DropAudit, check_checkpoints};
use transparency::merkle::{self, MerkleTree};
use transparency::{PublicKey, Receipt, ReceiptError, SignedCheckpoint, Signer};

async fn server_key(server: &TestServer) -> PublicKey {
    let (status, keys) = server.get("/v1/transparency/keys", None).await;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(keys["keys"][0]["algorithm"], "ed25519");
    PublicKey::from_base64(keys["keys"][0]["public_key"].as_str().unwrap()).unwrap()
}

async fn buy(server: &TestServer, buyer: &str, drop_ids: &[&str], key: &str) -> Value {
    let mut cart_id = String::new();
    for (idx, drop_id) in drop_ids.iter().enumerate() {
        let (status, claim) = server.claim(buyer, drop_id, &format!("{key}-claim-{idx}"), 1).await;
        assert_eq!(status, StatusCode::CREATED, "{claim}");
        cart_id = claim["cart_id"].as_str().unwrap().to_owned();
    }
    let path = format!("/v1/carts/{cart_id}/checkout");
    let (status, order) = server.post(&path, Some(buyer), Some(key), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

/// A proof as the API spells it: lowercase hex hashes.
fn hashes(proof: &Value) -> Vec<merkle::Hash> {
    let hashes = proof.as_array().unwrap_or_else(|| panic!("not a proof: {proof}"));
    hashes.iter().map(|hash| transparency::parse_hash(hash.as_str().unwrap()).unwrap()).collect()
}

pub(crate) async fn leaves(server: &TestServer, drop_id: &str) -> Vec<String> {
    let mut leaves = Vec::new();
    loop {
        let (status, page) = server.get(&format!("/v1/drops/{drop_id}/log?start={}&limit=3", leaves.len()), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for entry in page["entries"].as_array().unwrap() {
            assert_eq!(entry["index"].as_u64(), Some(leaves.len() as u64));
            leaves.push(entry["leaf"].as_str().unwrap().to_owned());
        }
        if page["next_start"].is_null() {
            return leaves;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_verify_and_any_change_fails() {
    let server = TestServer::start(Options::default()).await;
    let key = server_key(&server).await;
    let fixture = server.open_drop(10, 2, 60).await;
    // A second drop in the same room, so one order spans two drop logs.
    let drop = json!({"product_id": fixture.product_id, "quantity": 5, "per_buyer_limit": 1, "hold_seconds": 60});
    let (status, second) =
        server.post(&format!("/v1/rooms/{}/drops", fixture.room_id), Some(&fixture.creator), None, drop).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let second_id = second["id"].as_str().unwrap();
    let ana = server.account("ana", "buyer").await;
    let ben = server.account("ben", "buyer").await;
    buy(&server, &ben, &[&fixture.drop_id], "ben-pay").await;
    let order = buy(&server, &ana, &[&fixture.drop_id, second_id], "ana-pay").await;

    let receipt_json = serde_json::to_string(&order["receipt"]).unwrap();
    let receipt = Receipt::from_json(&receipt_json).unwrap();
    let verified = receipt.verify(Some(&key)).unwrap();
    assert_eq!(verified.order_id.to_string(), order["order_id"].as_str().unwrap());
    let mut drops: Vec<String> = verified.entries.iter().map(|entry| entry.drop_id.to_string()).collect();
    drops.sort();
    let mut expected = vec![fixture.drop_id.clone(), second_id.to_owned()];
    expected.sort();
    assert_eq!(drops, expected, "one entry per drop of the order");
    assert!(verified.entries.iter().all(|entry| entry.quantity == 1));
    // The whole checkout response is accepted too, and without a pinned key the embedded one is used.
    let whole = Receipt::verify_json(&order.to_string(), None).unwrap();
    assert_eq!(whole.key_source, transparency::KeySource::Embedded);
    // In a whole answer, the order's id and lines must be what the receipt proves.
    let mut other_lines = order.clone();
    other_lines["lines"][0]["quantity"] = json!(2);
    assert!(Receipt::verify_json(&other_lines.to_string(), Some(&key)).is_err());
    let mut other_id = order.clone();
    other_id["order_id"] = json!("ord_0000000000ff");
    assert!(Receipt::verify_json(&other_id.to_string(), Some(&key)).is_err());

    // Every read of the order answers the same receipt, byte for byte.
    let checkout = format!("/v1/carts/{}/checkout", order["cart_id"].as_str().unwrap());
    let (_, replay) =
        server.post(&checkout, Some(&ana), Some("ana-pay"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(replay, order);
    let (_, read) = server.get(&format!("/v1/orders/{}", order["order_id"].as_str().unwrap()), Some(&ana)).await;
    assert_eq!(crate::harness::without_fulfilment(&read), order);

    // A single changed byte anywhere fails verification.
    let bytes = receipt_json.as_bytes();
    for position in 0..bytes.len() {
        for mask in [0x01u8, 0x20] {
            let mut tampered = bytes.to_vec();
            tampered[position] ^= mask;
            let Ok(text) = String::from_utf8(tampered) else { continue };
            let result = Receipt::from_json(&text).and_then(|receipt| receipt.verify(Some(&key)));
            assert!(result.is_err(), "byte {position} ^ {mask:#x} still verifies: {text}");
        }
    }

    // A checkpoint re-signed by anyone else fails against the server's key, even when the forger
    // puts their own key in the receipt.
    let forger = Signer::from_seed([42; 32]);
    let mut forged = receipt.clone();
    let checkpoint = &forged.entries[0].checkpoint;
    let root = transparency::parse_hash(&checkpoint.root_hash).unwrap();
    forged.entries[0].checkpoint = forger.sign(&checkpoint.origin, checkpoint.tree_size, &root, 0);
    assert!(matches!(forged.verify(Some(&key)), Err(ReceiptError::Checkpoint { .. })));
    forged.public_key = forger.public_key().to_base64();
    forged.key_id = forger.public_key().key_id();
    assert!(matches!(forged.verify(Some(&key)), Err(ReceiptError::NotPinnedKey { .. })));
    // Another order's leaf in this receipt is refused even with a valid proof.
    let mut swapped = receipt.clone();
    swapped.order_id = "ord_0000000000ff".to_owned();
    assert!(swapped.verify(Some(&key)).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_rebuilds_every_signed_head_and_proofs_check_out() {
    let server = TestServer::start(Options::default()).await;
    let key = server_key(&server).await;
    let fixture = server.open_drop(6, 2, 60).await;
    let mut receipts = Vec::new();
    let mut first = None;
    for idx in 0..3 {
        let buyer = server.account(&format!("buyer{idx}"), "buyer").await;
        let order = buy(&server, &buyer, &[&fixture.drop_id], &format!("pay-{idx}")).await;
        first.get_or_insert((buyer, order["order_id"].as_str().unwrap().to_owned()));
        receipts.push(order["receipt"].clone());
        let (status, checkpoint) = server.get(&format!("/v1/drops/{}/checkpoint", fixture.drop_id), None).await;
        assert_eq!(status, StatusCode::OK, "{checkpoint}");
    }
    // A refund under the threshold is paid back at once and restocks: a leaf of the drop log too.
    let (buyer, order_id) = first.unwrap();
    let (status, refund) = server
        .post(&format!("/v1/orders/{order_id}/refunds"), Some(&buyer), Some("refund-1"), json!({"reason": "too big"}))
        .await;
    assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{refund}");
    let (status, closed) =
        server.post(&format!("/v1/drops/{}/close", fixture.drop_id), Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let (_, latest) = server.get(&format!("/v1/drops/{}/checkpoint", fixture.drop_id), None).await;
    let latest: SignedCheckpoint = serde_json::from_value(latest).unwrap();
    let latest_root = latest.verify(&key).unwrap();

    let leaves = leaves(&server, &fixture.drop_id).await;
    assert_eq!(leaves.len() as u64, latest.tree_size, "the latest checkpoint covers the whole log after close");
    let tree = MerkleTree::from_leaves(leaves.iter().map(|leaf| merkle::leaf_hash(leaf.as_bytes())));
    let mut audit = DropAudit::new(fixture.drop_id.parse().unwrap());
    leaves.iter().for_each(|leaf| audit.leaf(leaf.as_bytes()));
    let report = audit.report();
    assert_eq!(
        (report.n_violations, report.sold, report.refunded, report.remaining, report.orders, report.closed),
        (0, 2, 1, 4, 3, true),
        "{report:?}"
    );

    let (status, page) = server.get(&format!("/v1/drops/{}/checkpoints", fixture.drop_id), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let checkpoints: Vec<SignedCheckpoint> = serde_json::from_value(page["checkpoints"].clone()).unwrap();
    assert!(checkpoints.len() >= 4, "one per request that found the log grown, and the last: {page}");
    assert_eq!(checkpoints.last(), Some(&latest));
    // Paged two at a time, the pages add up to the whole list.
    let mut paged: Vec<SignedCheckpoint> = Vec::new();
    loop {
        let path = format!("/v1/drops/{}/checkpoints?start={}&limit=2", fixture.drop_id, paged.len());
        let (status, page) = server.get(&path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        paged.extend(serde_json::from_value::<Vec<SignedCheckpoint>>(page["checkpoints"].clone()).unwrap());
        if page["next_start"].is_null() {
            break;
        }
        assert_eq!(page["next_start"].as_u64(), Some(paged.len() as u64));
    }
    assert_eq!(paged, checkpoints);
    let drop_id = fixture.drop_id.parse().unwrap();
    assert_eq!(check_checkpoints(drop_id, &checkpoints, &tree, &key), Vec::<String>::new());
    // A log that differs in one leaf no longer matches the signed heads.
    let mut other = leaves.clone();
    let placed = other.iter().position(|leaf| leaf.contains("\"type\":\"hold_placed\"")).unwrap();
    other[placed] = other[placed].replace("\"quantity\":1", "\"quantity\":2");
    assert_ne!(other, leaves);
    let other_tree = MerkleTree::from_leaves(other.iter().map(|leaf| merkle::leaf_hash(leaf.as_bytes())));
    assert!(!check_checkpoints(drop_id, &checkpoints, &other_tree, &key).is_empty());

    // Each receipt's checkpoint is consistent with the latest one, by the server's own proof.
    for receipt in receipts {
        let receipt = Receipt::from_json(&receipt.to_string()).unwrap();
        let entry = &receipt.entries[0];
        let old_root = entry.checkpoint.verify(&key).unwrap();
        let path = format!(
            "/v1/drops/{}/proofs/consistency?first={}&second={}",
            fixture.drop_id, entry.checkpoint.tree_size, latest.tree_size
        );
        let (status, answer) = server.get(&path, None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let proof = hashes(&answer["consistency_proof"]);
        merkle::verify_consistency(entry.checkpoint.tree_size, latest.tree_size, &proof, &old_root, &latest_root)
            .unwrap();
        let path = format!("/v1/drops/{}/proofs/inclusion?leaf_index={}", fixture.drop_id, entry.leaf_index);
        let (status, answer) = server.get(&path, None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["root_hash"].as_str(), Some(latest.root_hash.as_str()));
        let proof = hashes(&answer["inclusion_proof"]);
        let leaf = merkle::leaf_hash(entry.leaf.as_bytes());
        merkle::verify_inclusion(&leaf, entry.leaf_index, latest.tree_size, &proof, &latest_root).unwrap();
    }

    // Bad input: 4xx with the error body, never a 500.
    let base = format!("/v1/drops/{}", fixture.drop_id);
    let size = latest.tree_size;
    for (path, status, code) in [
        (format!("{base}/proofs/inclusion?leaf_index={size}"), StatusCode::BAD_REQUEST, "out_of_range"),
        (
            format!("{base}/proofs/inclusion?leaf_index=0&tree_size={}", size + 1),
            StatusCode::BAD_REQUEST,
            "out_of_range",
        ),
        (format!("{base}/proofs/inclusion?leaf_index=-1"), StatusCode::BAD_REQUEST, "invalid_query"),
        (format!("{base}/proofs/inclusion"), StatusCode::BAD_REQUEST, "invalid_query"),
        (format!("{base}/proofs/consistency?first=0&second=1"), StatusCode::BAD_REQUEST, "out_of_range"),
        (format!("{base}/proofs/consistency?first=3&second=2"), StatusCode::BAD_REQUEST, "out_of_range"),
        (format!("{base}/log?limit=0"), StatusCode::BAD_REQUEST, "invalid_request"),
        (format!("{base}/log?limit=1001"), StatusCode::BAD_REQUEST, "invalid_request"),
        (format!("{base}/log?colour=red"), StatusCode::BAD_REQUEST, "invalid_query"),
        ("/v1/drops/drp_00000000ffff/checkpoint".to_owned(), StatusCode::NOT_FOUND, "not_found"),
        ("/v1/drops/drp_00000000ffff/log".to_owned(), StatusCode::NOT_FOUND, "not_found"),
        ("/v1/drops/nonsense/proofs/consistency?first=1&second=1".to_owned(), StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (got, body) = server.get(&path, None).await;
        assert_eq!((got, error_code(&body)), (status, code), "{path}: {body}");
    }
    // A page past the end is empty, not an error.
    let (status, page) = server.get(&format!("{base}/log?start={}", size + 5), None).await;
    assert_eq!((status, page["entries"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{page}");
}
