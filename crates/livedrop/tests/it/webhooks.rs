//! Webhook deliveries across hard kills: orders are paid while the receiver refuses each message's
//! first attempt, the binary is SIGKILLed a random moment later (before, during or after the first
//! attempts and their records), restarted, and every order's message still arrives, with one
//! `webhook-id` per message on every attempt, before and after the kill.

use crate::client::Client;
use crate::process::ServerProcess;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ROUNDS: usize = 2;
const ORDERS_PER_ROUND: usize = 4;
const KILL_DELAY_MS_MAX: u64 = 40;

/// Per `webhook-id`: the orders its bodies named and the statuses answered, in order.
type Seen = Arc<Mutex<BTreeMap<String, (BTreeSet<String>, Vec<u16>)>>>;

/// A receiver that answers 503 to a message's first attempt and 200 to the next ones.
async fn receiver() -> (Seen, String) {
    let seen: Seen = Arc::default();
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                let message: Value = serde_json::from_slice(&body).unwrap();
                let order_id = message["data"]["order_id"].as_str().unwrap().to_owned();
                let mut seen = state.lock().unwrap();
                let (orders, answers) = seen.entry(id).or_default();
                orders.insert(order_id);
                let status = if answers.is_empty() { 503 } else { 200 };
                answers.push(status);
                AxumStatus::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (seen, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_survive_hard_kills_with_their_ids() {
    let seed: u64 =
        std::env::var("LIVEDROP_CRASH_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(rand::random);
    println!("webhook crash seed {seed} (LIVEDROP_CRASH_SEED={seed} runs it again)");
    let mut rng = StdRng::seed_from_u64(seed);
    let (seen, url) = receiver().await;
    let data_dir = tempfile::tempdir().unwrap();
    let flags = ["--webhooks-allow-private"];
    let mut process = ServerProcess::start_with(data_dir.path(), &flags);
    let mut client = Client::of(&process);

    let creator = client.created("/v1/accounts", None, None, json!({"handle": "maker", "role": "creator"})).await;
    let creator = creator["token"].as_str().unwrap().to_owned();
    let endpoint = json!({"url": url, "events": ["order.paid"]});
    client.created("/v1/webhook-endpoints", Some(&creator), None, endpoint).await;
    let room = client.created("/v1/rooms", Some(&creator), None, json!({"title": "Room"})).await;
    let product = json!({"title": "Tee", "price_minor": 1250, "currency": "EUR", "stock": 100, "fulfilment": "ship"});
    let product = client.created("/v1/products", Some(&creator), None, product).await;
    let drop = json!({"product_id": product["id"], "quantity": 50, "per_buyer_limit": 2, "hold_seconds": 3600});
    let drop =
        client.created(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), None, drop).await;
    let claims = format!("/v1/drops/{}/claims", drop["id"].as_str().unwrap());

    let mut orders = BTreeSet::new();
    for round in 0..ROUNDS {
        for n in 0..ORDERS_PER_ROUND {
            let handle = format!("buyer_{round}_{n}");
            let buyer = client.created("/v1/accounts", None, None, json!({"handle": handle, "role": "buyer"})).await;
            let buyer = buyer["token"].as_str().unwrap().to_owned();
            let claim = client.created(&claims, Some(&buyer), Some("c"), json!({"quantity": 1})).await;
            let checkout = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
            let order =
                client.created(&checkout, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
            orders.insert(order["order_id"].as_str().unwrap().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..KILL_DELAY_MS_MAX))).await;
        process.kill_hard();
        process = ServerProcess::start_with(data_dir.path(), &flags);
        client = Client::of(&process);
    }

    // Each message is refused once, then tried again 5 s later by the schedule.
    let delivered = |seen: &Seen| -> BTreeSet<String> {
        let seen = seen.lock().unwrap();
        seen.values().filter(|(_, answers)| answers.contains(&200)).flat_map(|(orders, _)| orders.clone()).collect()
    };
    for _ in 0..300 {
        if delivered(&seen) == orders {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivered(&seen), orders, "every paid order's message arrives despite the kills");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), orders.len(), "one webhook-id per message, on every attempt: {seen:?}");
        for (id, (named, answers)) in seen.iter() {
            assert_eq!(named.len(), 1, "{id} always carries the same order");
            assert!(answers.len() >= 2, "{id} was refused once, then delivered: {answers:?}");
        }
    }
    process.stop_gracefully();
}
