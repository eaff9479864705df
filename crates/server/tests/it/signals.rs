//! Signed inbound webhooks carrying partner signals: a secret made for the fulfiller, signals
//! signed with it (by the independent `standardwebhooks` crate) applied as its own, and every
//! unsigned, tampered, stale or foreign request refused with nothing changed.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Posts `body` to `path` with Standard Webhooks headers signed by `secret` at `timestamp`.
async fn post_signed(
    server: &TestServer,
    path: &str,
    secret: &str,
    timestamp: i64,
    body: &[u8],
) -> (StatusCode, Value) {
    let signature = standardwebhooks::Webhook::new(secret).unwrap().sign("msg_inbound_1", timestamp, body).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("webhook-id", "msg_inbound_1")
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn signed_inbound_signals_apply_and_anything_else_is_refused() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await; // shipped; the creator fulfils it
    let buyer = server.account("inbound_fan", "buyer").await;
    let (_, claim) = server.claim(&buyer, &fixture.drop_id, "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, _) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = server.get("/v1/fulfilment-orders", Some(&fixture.creator)).await;
    let id = list["fulfilment_orders"][0]["id"].as_str().unwrap().to_owned();
    let state = || async {
        let (_, now) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
        now["state"].as_str().unwrap().to_owned()
    };

    let (status, error) = server.post("/v1/partner-signals/inbound-secret", Some(&buyer), None, json!({})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, made) =
        server.post("/v1/partner-signals/inbound-secret", Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (secret, url) = (made["secret"].as_str().unwrap().to_owned(), made["url"].as_str().unwrap().to_owned());

    let body =
        serde_json::to_vec(&json!({"signals": [{"fulfilment_id": id, "state": "in_transit", "version": 1}]})).unwrap();
    // Refused, changing nothing: another secret, a tampered body, a stale time, no headers, another account.
    let other = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (status, error) = post_signed(&server, &url, other, now_secs(), &body).await;
    assert_eq!((status, error_code(&error)), (StatusCode::UNAUTHORIZED, "invalid_signature"), "{error}");
    let signature = standardwebhooks::Webhook::new(&secret).unwrap().sign("msg_inbound_1", now_secs(), &body).unwrap();
    let tampered =
        serde_json::to_vec(&json!({"signals": [{"fulfilment_id": id, "state": "delivered", "version": 1}]})).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}{url}", server.base))
        .header("webhook-id", "msg_inbound_1")
        .header("webhook-timestamp", now_secs().to_string())
        .header("webhook-signature", signature)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = post_signed(&server, &url, &secret, now_secs() - 600, &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a replay older than five minutes");
    let (status, _) = server.post(&url, None, None, json!({"signals": []})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "unsigned");
    let foreign = format!("/v1/inbound/{}/signals", list["fulfilment_orders"][0]["buyer_id"].as_str().unwrap());
    let (status, _) = post_signed(&server, &foreign, &secret, now_secs(), &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "another account's address");
    let too_big = vec![b' '; 20_000];
    let (status, _) = post_signed(&server, &url, &secret, now_secs(), &too_big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "the body limit holds before any signature is checked");
    assert_eq!(state().await, "open");

    // Signed with its secret: applied as the fulfiller's own signal. After a rotation the old
    // secret still verifies (for a day), so the courier's platform can switch without a gap.
    let (status, applied) = post_signed(&server, &url, &secret, now_secs(), &body).await;
    assert_eq!((status, applied["results"][0]["outcome"].as_str()), (StatusCode::OK, Some("applied")), "{applied}");
    assert_eq!(state().await, "in_transit");
    let (status, _) = server.post("/v1/partner-signals/inbound-secret", Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let delivered =
        serde_json::to_vec(&json!({"signals": [{"fulfilment_id": id, "state": "delivered", "version": 2}]})).unwrap();
    let (status, applied) = post_signed(&server, &url, &secret, now_secs(), &delivered).await;
    assert_eq!((status, applied["results"][0]["outcome"].as_str()), (StatusCode::OK, Some("applied")), "{applied}");
    assert_eq!(state().await, "delivered");
    let (status, error) = post_signed(&server, &url, &secret, now_secs(), b"{\"signals\": 3}").await;
    assert_eq!((status, error_code(&error)), (StatusCode::BAD_REQUEST, "invalid_request"), "signed but malformed");
}
