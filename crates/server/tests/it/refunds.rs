//! Refunds over HTTP: paid back at once under the threshold, two sign-offs above it, rejection by
//! either side, double submission, refunds beyond what was paid, who may see and decide, and restarts.

use crate::harness::{ADMIN_TOKEN, Fixture, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 12.50 EUR a unit (the fixture's product); refunds above 20.00 EUR need both sign-offs.
const THRESHOLD_MINOR: i64 = 2_000;

async fn server() -> (TestServer, Fixture) {
    let options = Options { refund_approval_threshold_minor: Some(THRESHOLD_MINOR), ..Options::default() };
    let server = TestServer::start(options).await;
    let fixture = server.open_drop(20, 3, 300).await;
    (server, fixture)
}

/// A new buyer claims `units` and pays; answers the buyer's token and the order.
async fn buy(server: &TestServer, fixture: &Fixture, handle: &str, units: u32) -> (String, Value) {
    let buyer = server.account(handle, "buyer").await;
    let (status, claim) = server.claim(&buyer, &fixture.drop_id, &format!("{handle}-claim"), units).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) = server
        .post(&path, Some(&buyer), Some(&format!("{handle}-pay")), json!({"payment_method": "pm_card_visa"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    (buyer, order)
}

fn refunds_path(order: &Value) -> String {
    format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap())
}

fn hold_id(order: &Value) -> &str {
    order["lines"][0]["hold_id"].as_str().unwrap()
}

fn id(refund: &Value) -> &str {
    refund["id"].as_str().unwrap()
}

async fn decide(server: &TestServer, token: &str, refund: &Value, decision: &str) -> (StatusCode, Value) {
    let path = format!("/v1/refunds/{}/{decision}", id(refund));
    let body = if decision == "reject" { json!({"reason": "not returned"}) } else { json!({}) };
    server.post(&path, Some(token), None, body).await
}

/// What the provider paid back so far: (charge id, amount in minor units, idempotency key).
fn provider_refunds(server: &TestServer) -> Vec<(String, i64, String)> {
    let refunds = server.payments.refunds().into_iter();
    refunds
        .map(|(request, _)| {
            (request.charge_id, request.amount.map_or(-1, |amount| amount.minor), request.idempotency_key)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_at_or_under_the_threshold_is_paid_back_at_once() {
    let (server, fixture) = server().await;
    let (buyer, order) = buy(&server, &fixture, "ana", 3).await;
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (17, 0, 3, "open".into()));
    let request = json!({"lines": [{"hold_id": hold_id(&order), "quantity": 1}], "reason": "wrong size"});
    let (status, refund) = server.post(&refunds_path(&order), Some(&buyer), Some("refund-1"), request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(
        (refund["status"].as_str(), refund["amount_minor"].as_i64(), refund["currency"].as_str()),
        (Some("executed"), Some(1_250), Some("EUR"))
    );
    assert_eq!((refund["needs_approval"].as_bool(), refund["restock"].as_bool()), (Some(false), Some(true)));
    assert!(refund["provider_refund_id"].as_str().is_some_and(|id| id.starts_with("re_")), "{refund}");
    let charge_id = order["charge_id"].as_str().unwrap().to_owned();
    let key = engine::refund_key(id(&refund).parse().unwrap());
    assert_eq!(provider_refunds(&server), vec![(charge_id, 1_250, key)]);
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (18, 0, 2, "open".into()), "restocked in the open drop");

    let (status, listed) = server.get(&refunds_path(&order), Some(&buyer)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((listed["total_minor"].as_i64(), listed["refunded_minor"].as_i64()), (Some(3_750), Some(1_250)));
    assert_eq!(listed["refunds"], json!([refund.clone()]));
    let (status, read) = server.get(&format!("/v1/refunds/{}", id(&refund)), Some(&fixture.creator)).await;
    assert_eq!((status, &read), (StatusCode::OK, &refund));

    // The refunded unit no longer counts against the buyer's limit of 3.
    let (status, again) = server.claim(&buyer, &fixture.drop_id, "ana-again", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn above_the_threshold_both_sides_must_approve_and_one_is_not_enough() {
    let (server, fixture) = server().await;
    let (buyer, order) = buy(&server, &fixture, "ana", 3).await;
    let stranger = server.account("stranger", "buyer").await;
    let request = json!({"reason": "never arrived", "restock": false});
    let (status, refund) = server.post(&refunds_path(&order), Some(&buyer), Some("refund-1"), request).await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    assert_eq!(
        (refund["status"].as_str(), refund["amount_minor"].as_i64(), refund["needs_approval"].as_bool()),
        (Some("pending_approval"), Some(3_750), Some(true))
    );

    let (status, one_side) = decide(&server, &fixture.creator, &refund, "approve").await;
    assert_eq!((status, one_side["status"].as_str()), (StatusCode::OK, Some("pending_approval")), "{one_side}");
    assert!(one_side["creator_approval"]["at"].is_string() && one_side["platform_approval"].is_null());
    let (status, twice) = decide(&server, &fixture.creator, &refund, "approve").await;
    assert_eq!((status, &twice), (StatusCode::OK, &one_side), "the same side twice is one sign-off");
    let (status, body) = decide(&server, &buyer, &refund, "approve").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, body) = decide(&server, &stranger, &refund, "approve").await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
    assert!(provider_refunds(&server).is_empty(), "nothing is paid back on one side's approval");
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (17, 0, 3, "open".into()));
    let (_, listed) = server.get(&refunds_path(&order), Some(&buyer)).await;
    assert_eq!((listed["refunded_minor"].as_i64(), listed["pending_minor"].as_i64()), (Some(0), Some(3_750)));

    let (_, product_before) = server.get(&format!("/v1/products/{}", fixture.product_id), None).await;
    let approve_path = format!("/v1/refunds/{}/approve", id(&refund));
    let (status, executed) = server.post(&approve_path, Some(ADMIN_TOKEN), Some("approve-1"), json!({})).await;
    assert_eq!((status, executed["status"].as_str()), (StatusCode::OK, Some("executed")), "{executed}");
    let (status, replay) = server.post(&approve_path, Some(ADMIN_TOKEN), Some("approve-1"), json!({})).await;
    assert_eq!((status, &replay), (StatusCode::OK, &executed), "a keyed approval replays its answer");
    assert!(executed["platform_approval"]["by"].is_string() && executed["executed_at"].is_string());
    assert_eq!(provider_refunds(&server).iter().map(|refund| refund.1).collect::<Vec<_>>(), vec![3_750]);
    // Not restocked: the units leave the drop for the product's unallocated stock.
    let (_, drop) = server.get(&format!("/v1/drops/{}", fixture.drop_id), None).await;
    assert_eq!(
        (drop["remaining"].as_u64(), drop["sold"].as_u64(), drop["released"].as_u64()),
        (Some(17), Some(0), Some(3))
    );
    let (_, product) = server.get(&format!("/v1/products/{}", fixture.product_id), None).await;
    assert_eq!(product["allocated"].as_u64().unwrap(), product_before["allocated"].as_u64().unwrap() - 3);

    let (status, again) = decide(&server, ADMIN_TOKEN, &refund, "approve").await;
    assert_eq!((status, &again), (StatusCode::OK, &executed), "an unkeyed retry of an approval");
    let (status, body) = decide(&server, &fixture.creator, &refund, "reject").await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "refund_not_pending"));
    let (status, body) =
        server.post(&refunds_path(&order), Some(&buyer), Some("refund-2"), json!({"reason": "again"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "refund_exceeds_paid"));
    assert_eq!(provider_refunds(&server).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_side_may_reject_with_a_reason_and_nothing_is_paid_back() {
    let (server, fixture) = server().await;
    for (handle, rejecter, other) in
        [("ana", ADMIN_TOKEN, fixture.creator.as_str()), ("ben", fixture.creator.as_str(), ADMIN_TOKEN)]
    {
        let (buyer, order) = buy(&server, &fixture, handle, 2).await;
        let (status, refund) =
            server.post(&refunds_path(&order), Some(&fixture.creator), Some(handle), json!({"reason": "defect"})).await;
        assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("pending_approval")), "{refund}");
        let (status, _) = decide(&server, other, &refund, "approve").await;
        assert_eq!(status, StatusCode::OK);
        let path = format!("/v1/refunds/{}/reject", id(&refund));
        let (status, body) = server.post(&path, Some(rejecter), None, json!({"reason": ""})).await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"));
        let (status, rejected) = decide(&server, rejecter, &refund, "reject").await;
        assert_eq!((status, rejected["status"].as_str()), (StatusCode::OK, Some("rejected")), "{rejected}");
        let side = if rejecter == ADMIN_TOKEN { "platform" } else { "creator" };
        assert_eq!(
            (rejected["rejection"]["side"].as_str(), rejected["rejection"]["reason"].as_str()),
            (Some(side), Some("not returned"))
        );
        for token in [rejecter, other] {
            let (status, body) = decide(&server, token, &refund, "approve").await;
            assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "refund_not_pending"));
        }
        let (_, read) = server.get(&format!("/v1/refunds/{}", id(&refund)), Some(&buyer)).await;
        assert_eq!(read, rejected);
    }
    assert!(provider_refunds(&server).is_empty());
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (16, 0, 4, "open".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_submitted_refund_answers_the_same_and_pays_back_once() {
    let server = std::sync::Arc::new(TestServer::start(Options { payment_latency_ms: 20, ..Options::default() }).await);
    let fixture = server.open_drop(20, 3, 300).await;
    let (buyer, order) = buy(&server, &fixture, "ana", 2).await;
    let path = refunds_path(&order);
    let request = json!({"reason": "changed my mind"});
    // Two submissions at once under one key, then a third after both answered.
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let (server, buyer, path, request) = (server.clone(), buyer.clone(), path.clone(), request.clone());
            tokio::spawn(async move { server.post(&path, Some(&buyer), Some("refund-1"), request).await })
        })
        .collect();
    let mut answers = Vec::new();
    for racer in racers {
        answers.push(racer.await.unwrap());
    }
    answers.push(server.post(&path, Some(&buyer), Some("refund-1"), request).await);
    let (status, first) = &answers[0];
    assert_eq!((*status, first["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{first}");
    for answer in &answers {
        assert_eq!(answer, &answers[0], "the same key answers the same refund");
    }
    assert_eq!(provider_refunds(&server).len(), 1, "one refund at the provider");
    let (status, body) = server.post(&path, Some(&buyer), Some("refund-1"), json!({"reason": "other"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));

    // Another request that would pay back more than was paid is refused.
    let partial = json!({"lines": [{"hold_id": hold_id(&order), "quantity": 1}], "reason": "again"});
    for (key, body) in [("refund-2", json!({"reason": "again"})), ("refund-3", partial)] {
        let (status, refused) = server.post(&path, Some(&buyer), Some(key), body).await;
        assert_eq!((status, error_code(&refused)), (StatusCode::CONFLICT, "refund_exceeds_paid"));
    }
    let (_, listed) = server.get(&path, Some(&buyer)).await;
    assert_eq!((listed["refunded_minor"].as_i64(), listed["total_minor"].as_i64()), (Some(2_500), Some(2_500)));
    assert_eq!(listed["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(provider_refunds(&server).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_buyer_and_the_creator_ask_and_others_see_nothing() {
    let (server, fixture) = server().await;
    let (buyer, order) = buy(&server, &fixture, "ana", 1).await;
    let (other_buyer, _) = buy(&server, &fixture, "ben", 1).await;
    let path = refunds_path(&order);
    let request = json!({"reason": "mine?"});
    let (status, body) = server.post(&path, Some(&other_buyer), Some("r"), request.clone()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "a buyer of another order");
    let (status, body) = server.post(&path, Some(ADMIN_TOKEN), Some("r"), request.clone()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "admins decide, not ask");
    let (status, body) = server.get(&path, Some(&other_buyer)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));

    let (status, refund) = server.post(&path, Some(&buyer), Some("r"), request).await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    let refund_path = format!("/v1/refunds/{}", id(&refund));
    for (token, expected) in [
        (buyer.as_str(), StatusCode::OK),
        (fixture.creator.as_str(), StatusCode::OK),
        (ADMIN_TOKEN, StatusCode::OK),
        (other_buyer.as_str(), StatusCode::NOT_FOUND),
    ] {
        let (status, body) = server.get(&refund_path, Some(token)).await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = server.get(&refund_path, None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    let (status, body) = server.get("/v1/refunds/rf_00000000ffff", Some(ADMIN_TOKEN)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_refund_and_pays_back_the_approved_ones() {
    let (server, fixture) = server().await;
    let (ana, pending_order) = buy(&server, &fixture, "ana", 2).await;
    let (ben, executed_order) = buy(&server, &fixture, "ben", 1).await;
    let (cat, approved_order) = buy(&server, &fixture, "cat", 2).await;
    let reason = json!({"reason": "late"});
    let (_, pending) = server.post(&refunds_path(&pending_order), Some(&ana), Some("r"), reason.clone()).await;
    assert_eq!(pending["status"], "pending_approval");
    let (_, executed) = server.post(&refunds_path(&executed_order), Some(&ben), Some("r"), reason.clone()).await;
    assert_eq!(executed["status"], "executed");

    // Both sign off while the provider is down: the refund is approved, journaled, not paid back.
    server.payments.set_refunds_failing(true);
    let (status, approved) = server.post(&refunds_path(&approved_order), Some(&cat), Some("r"), reason.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = decide(&server, &fixture.creator, &approved, "approve").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = decide(&server, ADMIN_TOKEN, &approved, "approve").await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_GATEWAY, "payment_provider_error"));
    let approved_path = format!("/v1/refunds/{}", id(&approved));
    let (_, read) = server.get(&approved_path, Some(&cat)).await;
    assert_eq!(read["status"], "approved");
    assert_eq!(provider_refunds(&server).len(), 1, "only the executed refund was paid back");
    assert_eq!(server.drop_counters(&fixture.drop_id).await.2, 4, "the approved refund's units are still sold");

    let paths: Vec<String> = [&pending, &executed].iter().map(|refund| format!("/v1/refunds/{}", id(refund))).collect();
    let mut snapshots = Vec::new();
    for path in &paths {
        snapshots.push(server.get(path, Some(ADMIN_TOKEN)).await);
    }
    server.payments.set_refunds_failing(false);
    let server = server.restart().await;
    for (path, snapshot) in paths.iter().zip(&snapshots) {
        assert_eq!(&server.get(path, Some(ADMIN_TOKEN)).await, snapshot, "kept across the restart");
    }
    // The start-up scan pays the approved refund back.
    let mut read = Value::Null;
    for _ in 0..100 {
        read = server.get(&approved_path, Some(&cat)).await.1;
        if read["status"] == "executed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(read["status"], "executed", "{read}");
    let keys: Vec<String> = provider_refunds(&server).into_iter().map(|(_, _, key)| key).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1], engine::refund_key(id(&approved).parse().unwrap()));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (18, 0, 2, "open".into()));
    // Retrying the first request's key after the restart still answers its first response.
    let (status, replay) = server.post(&refunds_path(&executed_order), Some(&ben), Some("r"), reason).await;
    assert_eq!((status, &replay), (StatusCode::CREATED, &executed));
    assert_eq!(provider_refunds(&server).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_the_provider_failed_to_pay_is_paid_once_on_a_retry_under_its_key() {
    let (server, fixture) = server().await;
    let (buyer, order) = buy(&server, &fixture, "ana", 1).await;
    let path = refunds_path(&order);
    let request = json!({"reason": "broken"});
    server.payments.set_refunds_failing(true);
    let (status, body) = server.post(&path, Some(&buyer), Some("refund-1"), request.clone()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_GATEWAY, "payment_provider_error"));
    let (_, listed) = server.get(&path, Some(&buyer)).await;
    assert_eq!(listed["refunds"][0]["status"], "approved", "kept, approved, for a retry: {listed}");
    assert_eq!((listed["refunded_minor"].as_i64(), listed["pending_minor"].as_i64()), (Some(0), Some(1_250)));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (19, 0, 1, "open".into()), "units stay sold");
    let (status, body) = server.post(&path, Some(&buyer), Some("refund-2"), request.clone()).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "refund_exceeds_paid"), "the units are taken");

    server.payments.set_refunds_failing(false);
    let (status, refund) = server.post(&path, Some(&buyer), Some("refund-1"), request.clone()).await;
    assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{refund}");
    let (status, replay) = server.post(&path, Some(&buyer), Some("refund-1"), request).await;
    assert_eq!((status, &replay), (StatusCode::CREATED, &refund));
    assert_eq!(provider_refunds(&server).len(), 1);
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (20, 0, 0, "open".into()));
}
