//! The whole server on each journal backend: a checkout, its receipt and its drop's log survive a
//! restart, byte for byte, on SQLite and on PostgreSQL (when PG_URL is set).

use crate::harness::{Options, PgSchema, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn log_page(server: &TestServer, drop_id: &str) -> Value {
    let (status, page) = server.get(&format!("/v1/drops/{drop_id}/log?start=0&limit=50"), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

async fn checkout_then_restart(journal: Option<engine::JournalLocation>) {
    let server = TestServer::start(Options { journal, ..Options::default() }).await;
    let fixture = server.open_drop(5, 2, 60).await;
    let ana = server.account("ana", "buyer").await;
    let (status, claim) = server.claim(&ana, &fixture.drop_id, "ana-claim", 2).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let checkout = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let visa = json!({"payment_method": "pm_card_visa"});
    let (status, order) = server.post(&checkout, Some(&ana), Some("ana-pay"), visa.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    transparency::Receipt::verify_json(&order.to_string(), None).unwrap();
    let order_path = format!("/v1/orders/{}", order["order_id"].as_str().unwrap());
    let log = log_page(&server, &fixture.drop_id).await;
    assert!(!log["entries"].as_array().unwrap().is_empty(), "{log}");

    let server = server.restart().await;
    let (status, read) = server.get(&order_path, Some(&ana)).await;
    let read = crate::harness::without_fulfilment(&read);
    assert_eq!((status, &read), (StatusCode::OK, &order), "the order and its receipt, byte for byte");
    assert_eq!(log_page(&server, &fixture.drop_id).await, log);
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (3, 0, 2, "open".into()));
    // The idempotency record came back from the journal too: the retry answers the same order.
    let (status, replay) = server.post(&checkout, Some(&ana), Some("ana-pay"), visa).await;
    assert_eq!((status, replay), (StatusCode::CREATED, order));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_survives_a_restart_on_sqlite() {
    checkout_then_restart(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_survives_a_restart_on_postgres() {
    let Some(schema) = PgSchema::create("a_checkout_survives_a_restart") else { return };
    checkout_then_restart(Some(schema.location.clone())).await;
}
