//! Outbound webhooks end to end: a receiver on loopback, deliveries checked by an independent
//! implementation of Standard Webhooks (the `standardwebhooks` crate), retries on the schedule with
//! the same `webhook-id`, 410 disabling the endpoint, rotation, redelivery, the delivery log, a
//! restart with a delivery pending, and the refusals of the endpoint API.

use crate::harness::{Options, TestServer, error_code};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ENDPOINTS: &str = "/v1/webhook-endpoints";

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn id(&self) -> &str {
        self.headers["webhook-id"].to_str().unwrap()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    /// Checked by the other implementation, against the receiver's own clock.
    fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret).unwrap().verify(&self.body, &self.headers).is_ok()
    }
}

/// A webhook receiver on 127.0.0.1 that answers the statuses it is told, in order, then 200.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    state.received.lock().unwrap().push(Received { headers, body: body.to_vec() });
                    let status = state.answers.lock().unwrap().pop_front().unwrap_or(200);
                    AxumStatus::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until `n` requests came, and answers them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver got {} requests, not {n}", self.received().len());
    }
}

async fn create_endpoint(server: &TestServer, token: &str, url: &str, events: &[&str]) -> Value {
    let (status, endpoint) = server.post(ENDPOINTS, Some(token), None, json!({"url": url, "events": events})).await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    assert!(endpoint["secret"].as_str().unwrap().starts_with("whsec_"), "{endpoint}");
    endpoint
}

/// A buyer claims and pays one unit: the order.
async fn order(server: &TestServer, drop_id: &str, handle: &str) -> Value {
    let buyer = server.account(handle, "buyer").await;
    let (status, claim) = server.claim(&buyer, drop_id, &format!("{handle}-claim"), 1).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let body = json!({"payment_method": "pm_card_visa"});
    let (status, order) = server.post(&path, Some(&buyer), Some(&format!("{handle}-pay")), body).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    order
}

async fn deliveries(server: &TestServer, token: &str, endpoint_id: &str) -> Vec<Value> {
    let (status, log) = server.get(&format!("{ENDPOINTS}/{endpoint_id}/deliveries"), Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["deliveries"].as_array().unwrap().clone()
}

/// Polls the delivery log until its newest message has `status`.
async fn wait_for_status(server: &TestServer, token: &str, endpoint_id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let log = deliveries(server, token, endpoint_id).await;
        if log.first().is_some_and(|newest| newest["status"] == status) {
            return log[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery came to {status}: {:?}", deliveries(server, token, endpoint_id).await);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_id_and_410_disables_the_endpoint() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let (receiver, url) = Receiver::start().await;
    let fixture = server.open_drop(10, 2, 300).await;
    let endpoint = create_endpoint(&server, &fixture.creator, &url, &["order.paid", "drop.closed"]).await;
    let (endpoint_id, secret) = (endpoint["id"].as_str().unwrap(), endpoint["secret"].as_str().unwrap());

    receiver.answer(&[500]);
    let order = order(&server, &fixture.drop_id, "buyer_a").await;
    let first = receiver.wait_for(1).await[0].clone();
    let pending = wait_for_status(&server, &fixture.creator, endpoint_id, "pending").await;
    assert_eq!(pending["attempts"][0]["status_code"], 500, "{pending}");
    assert_eq!(pending["attempts"][0]["outcome"], "retry", "{pending}");
    assert!(pending["next_attempt_at"].is_string(), "{pending}");
    assert_eq!(receiver.received().len(), 1, "nothing is tried again before the schedule says");
    let redeliver = format!("{ENDPOINTS}/{endpoint_id}/deliveries/{}/redeliver", first.id());
    let (status, body) = server.post(&redeliver, Some(&fixture.creator), None, json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "delivery_pending"), "it is owed already");

    // The schedule's first wait is 5 s, by the server's clock.
    clock.advance_ms(5_000);
    let second = receiver.wait_for(2).await[1].clone();
    assert_eq!(second.id(), first.id(), "every attempt carries the same webhook-id");
    assert!(first.verifies_with(secret) && second.verifies_with(secret), "signatures verify independently");
    assert!(!second.verifies_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "another secret does not verify");
    let message = second.json();
    assert_eq!(message["type"], "order.paid");
    assert_eq!(message["data"]["order_id"], order["order_id"], "{message}");
    assert_eq!(message["data"]["total_minor"], 1250);
    let delivered = wait_for_status(&server, &fixture.creator, endpoint_id, "delivered").await;
    assert_eq!(delivered["message_id"], first.id());
    assert_eq!(delivered["attempts"].as_array().unwrap().len(), 2, "{delivered}");

    // The receiver answers 410 Gone: the endpoint is disabled and hears nothing more.
    receiver.answer(&[410]);
    let close = format!("/v1/drops/{}/close", fixture.drop_id);
    let (status, closed) = server.post(&close, Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    let gone = receiver.wait_for(3).await[2].json();
    assert_eq!(gone["type"], "drop.closed");
    assert_eq!(gone["data"]["drop_id"].as_str(), Some(fixture.drop_id.as_str()));
    for _ in 0..100 {
        let (_, now) = server.get(&format!("{ENDPOINTS}/{endpoint_id}"), Some(&fixture.creator)).await;
        if now["status"] == "disabled" {
            assert_eq!(now["disabled_reason"], "gone", "{now}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, now) = server.get(&format!("{ENDPOINTS}/{endpoint_id}"), Some(&fixture.creator)).await;
    assert_eq!(
        (now["status"].as_str(), now["attempts"].as_u64(), now["delivered"].as_u64()),
        (Some("disabled"), Some(3), Some(1))
    );
    clock.advance_ms(600_000);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.received().len(), 3, "a disabled endpoint is never called again");
}

#[tokio::test]
async fn rotation_signs_with_both_secrets_and_a_redelivery_keeps_the_id() {
    let server = TestServer::start(Options::default()).await;
    let (receiver, url) = Receiver::start().await;
    let fixture = server.open_drop(10, 2, 300).await;
    let endpoint = create_endpoint(&server, &fixture.creator, &url, &["order.paid"]).await;
    let (endpoint_id, old_secret) = (endpoint["id"].as_str().unwrap(), endpoint["secret"].as_str().unwrap());

    let rotate = format!("{ENDPOINTS}/{endpoint_id}/rotate-secret");
    let (status, rotated) = server.post(&rotate, Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, old_secret);
    assert!(rotated["previous_secret_expires_at"].is_string(), "{rotated}");

    order(&server, &fixture.drop_id, "buyer_b").await;
    let first = receiver.wait_for(1).await[0].clone();
    assert!(first.verifies_with(old_secret), "receivers on the old secret keep verifying while it rotates");
    assert!(first.verifies_with(new_secret));
    let delivered = wait_for_status(&server, &fixture.creator, endpoint_id, "delivered").await;

    let message_id = delivered["message_id"].as_str().unwrap();
    let redeliver = format!("{ENDPOINTS}/{endpoint_id}/deliveries/{message_id}/redeliver");
    let (status, body) = server.post(&redeliver, Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let again = receiver.wait_for(2).await[1].clone();
    assert_eq!(again.id(), first.id());
    assert_eq!(again.body, first.body, "a redelivery sends the same message");
    let unknown = format!("{ENDPOINTS}/{endpoint_id}/deliveries/msg_00000000000fffff/redeliver");
    let (status, body) = server.post(&unknown, Some(&fixture.creator), None, json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn the_last_unit_sold_is_one_drop_sold_out() {
    let server = TestServer::start(Options::default()).await;
    let (receiver, url) = Receiver::start().await;
    let fixture = server.open_drop(2, 1, 300).await;
    let endpoint = create_endpoint(&server, &fixture.creator, &url, &["drop.sold_out"]).await;
    order(&server, &fixture.drop_id, "first_fan").await;
    let last = order(&server, &fixture.drop_id, "last_fan").await;
    let message = receiver.wait_for(1).await[0].clone();
    assert!(message.verifies_with(endpoint["secret"].as_str().unwrap()));
    let body = message.json();
    assert_eq!((body["type"].as_str(), body["data"]["quantity"].as_u64()), (Some("drop.sold_out"), Some(2)), "{body}");
    assert_eq!(body["data"]["drop_id"].as_str(), Some(fixture.drop_id.as_str()));
    assert_eq!(body["data"]["last_order_id"], last["order_id"]);
    let server = server.restart().await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.received().len(), 1, "said once, and not again after a restart");
    assert_eq!(server.engine.webhooks_waiting(), 0);
}

#[tokio::test]
async fn a_pending_delivery_survives_a_restart_with_its_id() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let (receiver, url) = Receiver::start().await;
    let fixture = server.open_drop(10, 2, 300).await;
    let endpoint = create_endpoint(&server, &fixture.creator, &url, &["order.paid"]).await;
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();
    receiver.answer(&[503]);
    order(&server, &fixture.drop_id, "buyer_c").await;
    let first = receiver.wait_for(1).await[0].clone();
    wait_for_status(&server, &fixture.creator, &endpoint_id, "pending").await;

    let server = server.restart().await;
    let pending = wait_for_status(&server, &fixture.creator, &endpoint_id, "pending").await;
    assert_eq!(pending["attempts"][0]["status_code"], 503, "the log outlives the restart: {pending}");
    server.manual_clock.as_ref().unwrap().advance_ms(5_000);
    let second = receiver.wait_for(2).await[1].clone();
    assert_eq!(second.id(), first.id());
    assert!(second.verifies_with(endpoint["secret"].as_str().unwrap()));
    wait_for_status(&server, &fixture.creator, &endpoint_id, "delivered").await;
    let server = server.restart().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(receiver.received().len(), 2, "a delivered message is not sent again after a restart");
    assert_eq!(server.engine.webhooks_waiting(), 0);
}

#[tokio::test]
async fn the_endpoint_api_refuses_bad_input_and_changes_nothing() {
    let server = TestServer::start(Options { webhooks_refuse_private: true, ..Options::default() }).await;
    let creator = server.account("hook_maker", "creator").await;
    let buyer = server.account("hook_buyer", "buyer").await;
    let other = server.account("other_maker", "creator").await;
    let refused = |body: Value| {
        let server = &server;
        let creator = creator.clone();
        async move { server.post(ENDPOINTS, Some(&creator), None, body).await }
    };
    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9/hook", "events": ["order.paid"]}), "url"),
        (json!({"url": "http://10.0.0.8/hook", "events": ["order.paid"]}), "url"),
        (json!({"url": "http://169.254.169.254/latest", "events": ["order.paid"]}), "url"),
        (json!({"url": "https://user:pw@hooks.example.com/", "events": ["order.paid"]}), "url"),
        (json!({"url": "ftp://hooks.example.com/", "events": ["order.paid"]}), "url"),
        (json!({"url": "https://hooks.example.com/", "events": ["order.shipped"]}), "events"),
        (json!({"url": "https://hooks.example.com/", "events": []}), "events"),
    ] {
        let (status, error) = refused(body.clone()).await;
        assert_eq!((status, error_code(&error)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}: {error}");
        assert!(error["error"]["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{error}");
    }
    let (status, error) =
        refused(json!({"url": "https://hooks.example.com/", "events": ["order.paid"], "extra": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (_, listed) = server.get(ENDPOINTS, Some(&creator)).await;
    assert_eq!(listed["endpoints"], json!([]), "no refused request made an endpoint");

    let body = json!({"url": "https://hooks.example.com/in", "events": ["order.paid", "order.paid", "episode.live"]});
    let (status, error) = server.post(ENDPOINTS, Some(&buyer), None, body.clone()).await;
    assert_eq!((status, error_code(&error)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, created) = server.post(ENDPOINTS, Some(&creator), None, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["events"], json!(["order.paid", "episode.live"]), "sorted, without repeats");
    let endpoint_id = created["id"].as_str().unwrap();
    let path = format!("{ENDPOINTS}/{endpoint_id}");
    let (status, _) = server.get(&path, Some(&other)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another account's endpoint is unknown to the caller");
    let (status, _) = server.send("DELETE", &path, Some(&other), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, got) = server.get(&path, Some(&creator)).await;
    assert_eq!((status, got.get("secret")), (StatusCode::OK, None), "the secret is shown once: {got}");
    let (status, _) = server.get(&format!("{ENDPOINTS}/hook_zz"), Some(&creator)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // At most 16 live endpoints.
    for _ in 1..16 {
        let (status, created) = server.post(ENDPOINTS, Some(&creator), None, body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let (status, error) = server.post(ENDPOINTS, Some(&creator), None, body.clone()).await;
    assert_eq!((status, error_code(&error)), (StatusCode::CONFLICT, "too_many_webhook_endpoints"));

    let (status, deleted) = server.send("DELETE", &path, Some(&creator), None, None).await;
    assert_eq!(
        (status, deleted["status"].as_str(), deleted["disabled_reason"].as_str()),
        (StatusCode::OK, Some("disabled"), Some("by_owner"))
    );
    let (status, again) = server.send("DELETE", &path, Some(&creator), None, None).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::OK, Some("disabled")),
        "deleting twice changes nothing"
    );
    let (status, error) = server.post(&format!("{path}/rotate-secret"), Some(&creator), None, json!({})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::CONFLICT, "webhook_endpoint_disabled"));
    let (status, _) = server.post(ENDPOINTS, Some(&creator), None, body).await;
    assert_eq!(status, StatusCode::CREATED, "a deleted endpoint frees its place");
}

#[tokio::test]
async fn fulfilment_updates_reach_the_partner_and_the_creator() {
    let server = TestServer::start(Options::default()).await;
    let shop = crate::money::shop(&server).await;
    let (venue_receiver, venue_url) = Receiver::start().await;
    let (creator_receiver, creator_url) = Receiver::start().await;
    create_endpoint(&server, &shop.venue, &venue_url, &["fulfilment.updated"]).await;
    create_endpoint(&server, &shop.creator, &creator_url, &["fulfilment.updated"]).await;
    let bought = crate::money::buy(&server, &shop, "fan_hook", 1).await;
    let (_, order) =
        server.get(&format!("/v1/orders/{}", bought["order"]["order_id"].as_str().unwrap()), Some(&shop.creator)).await;
    let id = order["fulfilment"][0]["id"].as_str().unwrap();
    let path = format!("/v1/fulfilment-orders/{id}/changes");
    let (status, moved) = server.post(&path, Some(&shop.venue), None, json!({"state": "accepted"})).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    for receiver in [&venue_receiver, &creator_receiver] {
        // Opening it is the first update (so a partner hears of new work), then the change.
        let mut states: Vec<String> = Vec::new();
        for received in receiver.wait_for(2).await {
            let message = received.json();
            assert_eq!(message["type"], "fulfilment.updated");
            assert_eq!(message["data"]["fulfilment_id"].as_str(), Some(id));
            assert_eq!(message["data"]["partner_id"].as_str(), Some(shop.venue_id.as_str()));
            states.push(message["data"]["state"].as_str().unwrap().to_owned());
        }
        states.sort();
        assert_eq!(states, ["accepted", "open"]);
    }
}
