//! Named platform admins over HTTP: each configured admin is an account of its own, so the journal
//! says which admin signed off a refund; a token rotated or an admin removed from the
//! configuration stops working at the next start.

use crate::harness::{Options, TestServer, error_code};
use engine::AdminToken;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALICE: &str = "alice-admin-token-0123456789";
const BOB: &str = "bob-admin-token-0123456789";
const ALICE_ROTATED: &str = "alice-admin-token-rotated-0123456789";

fn options(admins: &[(&str, &str)]) -> Options {
    let admins = admins.iter().map(|(name, token)| AdminToken::new(*name, *token)).collect();
    // 12.50 EUR a unit: a refund of two units needs both sign-offs.
    Options { admins: Some(admins), refund_approval_threshold_minor: Some(2_000), ..Options::default() }
}

async fn me(server: &TestServer, token: &str) -> (StatusCode, Value) {
    server.get("/v1/accounts/me", Some(token)).await
}

/// A new buyer buys two units and asks for them back: a refund pending both sign-offs.
async fn pending_refund(server: &TestServer, drop_id: &str, creator: &str, handle: &str) -> String {
    let buyer = server.account(handle, "buyer").await;
    let (status, claim) = server.claim(&buyer, drop_id, &format!("{handle}-claim"), 2).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let pay = json!({"payment_method": "pm_card_visa"});
    let (status, order) = server.post(&path, Some(&buyer), Some(&format!("{handle}-pay")), pay).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let (status, refund) = server.post(&path, Some(&buyer), Some("refund"), json!({"reason": "wrong size"})).await;
    assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("pending_approval")), "{refund}");
    let id = refund["id"].as_str().unwrap().to_owned();
    let (status, body) = server.post(&format!("/v1/refunds/{id}/approve"), Some(creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

async fn approve(server: &TestServer, token: &str, refund_id: &str) -> Value {
    let (status, refund) = server.post(&format!("/v1/refunds/{refund_id}/approve"), Some(token), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{refund}");
    refund
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_admin_signs_off_under_its_own_account() {
    let server = TestServer::start(options(&[("alice", ALICE), ("bob", BOB)])).await;
    let (status, alice) = me(&server, ALICE).await;
    assert_eq!(status, StatusCode::OK, "{alice}");
    assert_eq!((alice["handle"].as_str(), alice["role"].as_str()), (Some("alice"), Some("admin")));
    let (_, bob) = me(&server, BOB).await;
    assert_eq!((bob["handle"].as_str(), bob["role"].as_str()), (Some("bob"), Some("admin")));
    let (alice_id, bob_id) = (alice["id"].as_str().unwrap(), bob["id"].as_str().unwrap());
    assert_ne!(alice_id, bob_id);

    let fixture = server.open_drop(20, 3, 300).await;
    let first = pending_refund(&server, &fixture.drop_id, &fixture.creator, "ana").await;
    let second = pending_refund(&server, &fixture.drop_id, &fixture.creator, "ben").await;
    let by_alice = approve(&server, ALICE, &first).await;
    let by_bob = approve(&server, BOB, &second).await;
    assert_eq!(by_alice["status"], "executed");
    assert_eq!(by_alice["platform_approval"]["by"].as_str(), Some(alice_id), "{by_alice}");
    assert_eq!(by_bob["platform_approval"]["by"].as_str(), Some(bob_id), "{by_bob}");
    // Bob approving what alice approved is the platform's same sign-off: it stays alice's.
    let again = approve(&server, BOB, &first).await;
    assert_eq!(again["platform_approval"]["by"].as_str(), Some(alice_id));

    // So it stays after a restart: the sign-offs name accounts of the journal.
    let server = server.restart().await;
    let (_, read) = server.get(&format!("/v1/refunds/{second}"), Some(BOB)).await;
    assert_eq!(read["platform_approval"]["by"].as_str(), Some(bob_id), "{read}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_admin_or_a_replaced_token_gets_401_after_a_restart() {
    let server = TestServer::start(options(&[("alice", ALICE), ("bob", BOB)])).await;
    let (_, alice) = me(&server, ALICE).await;
    assert_eq!(me(&server, BOB).await.0, StatusCode::OK);

    let server = server.restart_with(options(&[("alice", ALICE_ROTATED)])).await;
    for (token, what) in [(BOB, "the removed admin"), (ALICE, "alice's replaced token")] {
        let (status, body) = me(&server, token).await;
        assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"), "{what}");
        let (status, _) = server.get("/v1/admin/risk-rules", Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} cannot act as an admin");
    }
    assert_eq!(server.get("/v1/admin/risk-rules", Some(ALICE_ROTATED)).await.0, StatusCode::OK);
    let (status, rotated) = me(&server, ALICE_ROTATED).await;
    assert_eq!((status, &rotated["id"]), (StatusCode::OK, &alice["id"]), "the same admin with its new token");

    // Bob configured again: the same account, working again.
    let server = server.restart_with(options(&[("alice", ALICE_ROTATED), ("bob", BOB)])).await;
    let (status, bob) = me(&server, BOB).await;
    assert_eq!((status, bob["handle"].as_str()), (StatusCode::OK, Some("bob")));
}
