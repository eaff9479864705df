use crate::process::ServerProcess;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const N_BUYERS: usize = 40;
const CLAIMS_PER_BUYER: usize = 10;
const QUANTITY: u64 = 1_000;
/// Acknowledged claims to wait for before the kill, so it lands mid-burst.
const ACKNOWLEDGED_BEFORE_KILL: usize = 80;

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> reqwest::Result<(StatusCode, Value)> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await?;
        Ok((response.status(), response.json().await?))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

#[derive(Default)]
struct Acknowledged {
    /// (buyer index, idempotency key, claim response)
    holds: Vec<(usize, String, Value)>,
    /// (buyer index, order response)
    orders: Vec<(usize, Value)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_fact_survives_a_hard_kill() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut process = ServerProcess::start(data_dir.path());
    let client = Arc::new(Client { http: reqwest::Client::new(), base: process.base.clone() });

    let (_, creator) =
        client.post("/v1/accounts", None, None, json!({"handle": "maker", "role": "creator"})).await.unwrap();
    let creator = creator["token"].as_str().unwrap().to_owned();
    let (_, room) = client.post("/v1/rooms", Some(&creator), None, json!({"title": "Room"})).await.unwrap();
    let product =
        json!({"title": "Tee", "price_minor": 2000, "currency": "EUR", "stock": QUANTITY, "fulfilment": "ship"});
    let (_, product) = client.post("/v1/products", Some(&creator), None, product).await.unwrap();
    let drop = json!({"product_id": product["id"], "quantity": QUANTITY, "per_buyer_limit": CLAIMS_PER_BUYER, "hold_seconds": 3600});
    let (status, drop) = client
        .post(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), None, drop)
        .await
        .unwrap();
    assert_eq!(status, StatusCode::CREATED, "{drop}");
    let drop_id = drop["id"].as_str().unwrap().to_owned();
    let mut buyers = Vec::new();
    for buyer_idx in 0..N_BUYERS {
        let (_, buyer) = client
            .post("/v1/accounts", None, None, json!({"handle": format!("fan_{buyer_idx}"), "role": "buyer"}))
            .await
            .unwrap();
        buyers.push(buyer["token"].as_str().unwrap().to_owned());
    }

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let mut tasks = Vec::new();
    for (buyer_idx, buyer) in buyers.iter().cloned().enumerate() {
        let (client, acknowledged, drop_id) = (client.clone(), acknowledged.clone(), drop_id.clone());
        tasks.push(tokio::spawn(async move {
            for claim_idx in 0..CLAIMS_PER_BUYER {
                let key = format!("claim-{buyer_idx}-{claim_idx}");
                let path = format!("/v1/drops/{drop_id}/claims");
                let Ok((status, claim)) = client.post(&path, Some(&buyer), Some(&key), json!({"quantity": 1})).await
                else {
                    return;
                };
                assert_eq!(status, StatusCode::CREATED, "{claim}");
                acknowledged.lock().unwrap().holds.push((buyer_idx, key.clone(), claim.clone()));
                if claim_idx % 3 == 2 {
                    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
                    let body = json!({"payment_method": "pm_card_visa"});
                    let Ok((status, order)) = client.post(&path, Some(&buyer), Some(&format!("pay-{key}")), body).await
                    else {
                        return;
                    };
                    assert_eq!(status, StatusCode::CREATED, "{order}");
                    acknowledged.lock().unwrap().orders.push((buyer_idx, order));
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().holds.len() < ACKNOWLEDGED_BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    process.kill_hard();
    for task in tasks {
        task.await.expect("client tasks only stop on connection errors");
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(acknowledged.holds.len() < N_BUYERS * CLAIMS_PER_BUYER, "the kill landed mid-burst");
    eprintln!("killed after {} acknowledged holds and {} orders", acknowledged.holds.len(), acknowledged.orders.len());

    let process = ServerProcess::start(data_dir.path());
    let client = Client { http: reqwest::Client::new(), base: process.base.clone() };
    for (buyer_idx, _, claim) in &acknowledged.holds {
        let (status, cart) =
            client.get(&format!("/v1/carts/{}", claim["cart_id"].as_str().unwrap()), &buyers[*buyer_idx]).await;
        assert_eq!(status, StatusCode::OK, "{cart}");
        let hold = cart["holds"].as_array().unwrap().iter().find(|hold| hold["hold_id"] == claim["hold_id"]);
        let hold = hold.unwrap_or_else(|| panic!("acknowledged hold lost: {claim}"));
        assert!(hold["status"] == "active" || hold["status"] == "sold", "{hold}");
    }
    let mut units_sold_acknowledged = 0;
    for (buyer_idx, order) in &acknowledged.orders {
        let (status, reread) =
            client.get(&format!("/v1/orders/{}", order["order_id"].as_str().unwrap()), &buyers[*buyer_idx]).await;
        assert_eq!((status, &reread), (StatusCode::OK, order), "acknowledged order lost or changed");
        units_sold_acknowledged += order["receipt"]["lines"].as_array().unwrap().len() as u64;
    }
    let (_, drop) = client.get(&format!("/v1/drops/{drop_id}"), &buyers[0]).await;
    let (remaining, held, sold) =
        (drop["remaining"].as_u64().unwrap(), drop["held"].as_u64().unwrap(), drop["sold"].as_u64().unwrap());
    assert_eq!(remaining + held + sold, QUANTITY, "{drop}");
    assert!(held + sold >= acknowledged.holds.len() as u64, "every acknowledged unit is held or sold: {drop}");
    assert!(sold >= units_sold_acknowledged, "{drop}");
    eprintln!("after restart: remaining {remaining}, held {held}, sold {sold}");

    // Idempotency records are durable too: a retry after the restart answers the first response.
    let (buyer_idx, key, claim) = &acknowledged.holds[0];
    let path = format!("/v1/drops/{drop_id}/claims");
    let (status, replay) =
        client.post(&path, Some(&buyers[*buyer_idx]), Some(key), json!({"quantity": 1})).await.unwrap();
    assert_eq!((status, &replay), (StatusCode::CREATED, claim));

    let exit = process.stop_gracefully();
    assert!(exit.success(), "SIGTERM ends the server cleanly: {exit}");
    let process = ServerProcess::start(data_dir.path());
    let client = Client { http: reqwest::Client::new(), base: process.base.clone() };
    let (_, after_graceful) = client.get(&format!("/v1/drops/{drop_id}"), &buyers[0]).await;
    assert_eq!(after_graceful, drop, "a graceful restart restores the same state");
}
