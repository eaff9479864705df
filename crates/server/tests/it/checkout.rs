//! Claim, decline, pay, expire: the checkout path with a manual clock, and who may read an order.

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_then_paid_then_expired() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(5, 2, 30).await;
    let ana = server.account("ana", "buyer").await;
    let ben = server.account("ben", "buyer").await;

    let (status, claim) = server.claim(&ana, &fixture.drop_id, "ana-1", 2).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let checkout_path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());

    let declined = json!({"payment_method": "pm_card_chargeDeclined"});
    let (status, body) = server.post(&checkout_path, Some(&ana), Some("pay-1"), declined).await;
    assert_eq!((status, error_code(&body)), (StatusCode::PAYMENT_REQUIRED, "payment_declined"));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (3, 2, 0, "open".into()), "holds stay after a decline");

    let (status, unknown) =
        server.post(&checkout_path, Some(&ana), Some("pay-2"), json!({"payment_method": "pm_nope"})).await;
    assert_eq!((status, error_code(&unknown)), (StatusCode::BAD_REQUEST, "invalid_payment_method"));

    let visa = json!({"payment_method": "pm_card_visa"});
    let (status, order) = server.post(&checkout_path, Some(&ana), Some("pay-3"), visa.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(
        (order["status"].as_str(), order["total_minor"].as_i64(), order["currency"].as_str()),
        (Some("paid"), Some(2_500), Some("EUR"))
    );
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (3, 0, 2, "open".into()));

    let (status, replay) = server.post(&checkout_path, Some(&ana), Some("pay-3"), visa.clone()).await;
    assert_eq!((status, &replay), (StatusCode::CREATED, &order), "a replay answers the first response");
    let (status, again) = server.post(&checkout_path, Some(&ana), Some("pay-4"), visa.clone()).await;
    assert_eq!((status, error_code(&again)), (StatusCode::CONFLICT, "cart_checked_out"));

    let order_path = format!("/v1/orders/{}", order["order_id"].as_str().unwrap());
    for (token, expected) in [
        (&ana, StatusCode::OK),
        (&fixture.creator, StatusCode::OK),
        (&ADMIN_TOKEN.to_owned(), StatusCode::OK),
        (&ben, StatusCode::NOT_FOUND),
    ] {
        let (status, body) = server.get(&order_path, Some(token)).await;
        assert_eq!(status, expected, "{body}");
        if status == StatusCode::OK {
            assert_eq!(crate::harness::without_fulfilment(&body), order);
        }
    }

    let (status, ben_claim) = server.claim(&ben, &fixture.drop_id, "ben-1", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{ben_claim}");
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (2, 1, 2, "open".into()));
    clock.advance_ms(31_000);
    let ben_checkout = format!("/v1/carts/{}/checkout", ben_claim["cart_id"].as_str().unwrap());
    let (status, expired) = server.post(&ben_checkout, Some(&ben), Some("ben-pay"), visa).await;
    assert_eq!((status, error_code(&expired)), (StatusCode::CONFLICT, "cart_expired"));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (3, 0, 2, "open".into()), "expired units return");
    let (_, cart) = server.get(&format!("/v1/carts/{}", ben_claim["cart_id"].as_str().unwrap()), Some(&ben)).await;
    assert_eq!(cart["holds"][0]["status"], "expired");

    let (status, closed) =
        server.post(&format!("/v1/drops/{}/close", fixture.drop_id), Some(&fixture.creator), None, json!({})).await;
    assert_eq!((status, closed["state"].as_str()), (StatusCode::OK, Some("closed")));
    let (status, late) = server.claim(&ben, &fixture.drop_id, "ben-2", 1).await;
    assert_eq!((status, error_code(&late)), (StatusCode::CONFLICT, "drop_not_open"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_drop_opens_on_time() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let creator = server.account("maker", "creator").await;
    let buyer = server.account("fan", "buyer").await;
    let (_, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Room"})).await;
    let product = json!({"title": "Zine", "price_minor": 800, "currency": "USD", "stock": 3, "fulfilment": "digital"});
    let (_, product) = server.post("/v1/products", Some(&creator), None, product).await;
    let opens_at = "2999-01-01T00:00:00Z";
    let drop = json!({"product_id": product["id"], "quantity": 3, "per_buyer_limit": 1, "hold_seconds": 60, "opens_at": opens_at});
    let (status, body) =
        server.post(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), None, drop).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"), "more than a year ahead");

    let drop = json!({"product_id": product["id"], "quantity": 3, "per_buyer_limit": 1, "hold_seconds": 60,
        "opens_at": rfc3339_after(&clock, 60_000)});
    let (status, drop) =
        server.post(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), None, drop).await;
    assert_eq!((status, drop["state"].as_str()), (StatusCode::CREATED, Some("scheduled")), "{drop}");
    let drop_id = drop["id"].as_str().unwrap();
    let (status, early) = server.claim(&buyer, drop_id, "early", 1).await;
    assert_eq!((status, error_code(&early)), (StatusCode::CONFLICT, "drop_not_open"));
    clock.advance_ms(60_000);
    let (status, on_time) = server.claim(&buyer, drop_id, "on-time", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{on_time}");
    let (status, allocated) = server.get(&format!("/v1/products/{}", product["id"].as_str().unwrap()), None).await;
    assert_eq!(
        (status, allocated["allocated"].as_u64(), allocated["stock"].as_u64()),
        (StatusCode::OK, Some(3), Some(3))
    );
}

fn rfc3339_after(clock: &engine::ManualClock, duration_ms: i64) -> String {
    use engine::Clock;
    let nanos = i128::from(clock.now().0 + duration_ms) * 1_000_000;
    let moment = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap();
    moment.format(&time::format_description::well_known::Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_checkouts_under_one_key_charge_once_and_refund_the_loser() {
    // A provider as slow as a real one, so both requests pass the quote before either completes.
    let server = std::sync::Arc::new(TestServer::start(Options { payment_latency_ms: 30, ..Options::default() }).await);
    const N_ROUNDS: u64 = 20;
    let fixture = server.open_drop(N_ROUNDS, 1, 300).await;
    let mut n_raced = 0;
    for round in 0..N_ROUNDS {
        let buyer = server.account(&format!("racer_{round}"), "buyer").await;
        let (status, claim) = server.claim(&buyer, &fixture.drop_id, "claim", 1).await;
        assert_eq!(status, StatusCode::CREATED, "{claim}");
        let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
        let approved_before = server.payments.n_approved();
        let refunded_before = server.payments.refunded_charge_ids().len();
        let racers: Vec<_> = ["pm_card_visa", "pm_card_mastercard"]
            .into_iter()
            .map(|method| {
                let (server, buyer, path) = (server.clone(), buyer.clone(), path.clone());
                tokio::spawn(async move {
                    server.post(&path, Some(&buyer), Some("same-key"), json!({"payment_method": method})).await
                })
            })
            .collect();
        let mut orders = Vec::new();
        for racer in racers {
            let (status, body) = racer.await.unwrap();
            match status {
                StatusCode::CREATED => orders.push(body),
                StatusCode::UNPROCESSABLE_ENTITY => assert_eq!(error_code(&body), "idempotency_key_reused"),
                other => panic!("unexpected {other}: {body}"),
            }
        }
        assert_eq!(orders.len(), 1, "exactly one of two requests under one key places the order");
        let charge_id = orders[0]["charge_id"].as_str().unwrap();
        let refunded = server.payments.refunded_charge_ids()[refunded_before..].to_vec();
        assert!(!refunded.iter().any(|refunded| refunded == charge_id), "the order's charge is never refunded");
        let approved = server.payments.n_approved() - approved_before;
        assert_eq!(approved - refunded.len() as u64, 1, "every charge but the order's is refunded");
        n_raced += u64::from(approved > 1);
    }
    assert!(n_raced > 0, "the two requests overlapped at least once");
}

/// Closing a drop stops new claims, not purchases under way: a hold placed while the drop was open
/// stays payable until it expires (docs/decisions/0023); one that expires returns its units to
/// a drop that no longer sells them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_placed_before_the_close_stays_payable_until_it_expires() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(5, 2, 30).await;
    let ana = server.account("ana", "buyer").await;
    let ben = server.account("ben", "buyer").await;
    let (_, ana_claim) = server.claim(&ana, &fixture.drop_id, "ana-1", 1).await;
    let (_, ben_claim) = server.claim(&ben, &fixture.drop_id, "ben-1", 1).await;
    let close = format!("/v1/drops/{}/close", fixture.drop_id);
    let (status, _) = server.post(&close, Some(&fixture.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, late) = server.claim(&ana, &fixture.drop_id, "ana-2", 1).await;
    assert_eq!((status, error_code(&late)), (StatusCode::CONFLICT, "drop_not_open"));

    let visa = json!({"payment_method": "pm_card_visa"});
    let ana_checkout = format!("/v1/carts/{}/checkout", ana_claim["cart_id"].as_str().unwrap());
    let (status, order) = server.post(&ana_checkout, Some(&ana), Some("ana-pay"), visa.clone()).await;
    assert_eq!((status, order["status"].as_str()), (StatusCode::CREATED, Some("paid")), "{order}");
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (3, 1, 1, "closed".into()));

    clock.advance_ms(31_000);
    let ben_checkout = format!("/v1/carts/{}/checkout", ben_claim["cart_id"].as_str().unwrap());
    let (status, expired) = server.post(&ben_checkout, Some(&ben), Some("ben-pay"), visa).await;
    assert_eq!((status, error_code(&expired)), (StatusCode::CONFLICT, "cart_expired"));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (4, 0, 1, "closed".into()));
}
