//! Fraud velocity rules end to end: saving rules (and refusing bad ones with their position), blocks,
//! allow overriding block, review holding an order for an admin, declines counted, windows sliding,
//! and decisions surviving a restart in the journal.

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

const RULES: &str = "/v1/admin/risk-rules";

async fn put_rules(server: &TestServer, token: &str, rules: &str) -> (StatusCode, Value) {
    server.send("PUT", RULES, Some(token), None, Some(json!({"rules": rules}))).await
}

async fn save_rules(server: &TestServer, rules: &str) {
    let (status, body) = put_rules(server, ADMIN_TOKEN, rules).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn manual() -> Options {
    Options { manual_clock: true, ..Options::default() }
}

/// Checks out `cart_id` with `method` under `key`.
async fn checkout(server: &TestServer, buyer: &str, claim: &Value, key: &str, method: &str) -> (StatusCode, Value) {
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    server.post(&path, Some(buyer), Some(key), json!({"payment_method": method})).await
}

/// The risk decisions in a journal, read after the engine stopped.
fn journaled_decisions(location: &engine::JournalLocation) -> Vec<risk::Verdict> {
    let mut verdicts = Vec::new();
    let (journal, writer, _) = journal::Journal::open_at(location, |recovered| {
        if let domain::Event::RiskDecided { verdict, .. } = recovered.event {
            verdicts.push(verdict);
        }
    })
    .unwrap();
    drop(journal);
    writer.join();
    verdicts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rules_are_refused_with_line_and_column_and_nothing_is_saved() {
    let server = TestServer::start(Options::default()).await;
    let buyer = server.account("ana", "buyer").await;
    let (status, body) = put_rules(&server, &buyer, "block if quantity > 1").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, body) = server.get(RULES, Some(&buyer)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, body) = server.get(RULES, None).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));

    let bad = "# two mistakes\nblock if clams_per_ip_10m > 3\nreview quantity > 1\nallow if account_age_seconds > 60";
    let (status, body) = put_rules(&server, ADMIN_TOKEN, bad).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_risk_rules"), "{body}");
    assert_eq!(
        body["error"]["message"],
        "line 2, column 10: unknown signal \"clams_per_ip_10m\"; did you mean \"claims_per_ip_10m\"?"
    );
    assert_eq!(
        body["error"]["errors"],
        json!([
            {"line": 2, "column": 10, "message": "unknown signal \"clams_per_ip_10m\"; did you mean \"claims_per_ip_10m\"?"},
            {"line": 3, "column": 8, "message": "expected \"if\" after \"review\", found \"quantity\""},
        ])
    );
    let (status, current) = server.get(RULES, Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((current["version"].as_u64(), current["rules"].as_str()), (Some(0), Some("")), "nothing saved");

    let good = "rule \"bots\": block if claims_per_ip_10m > 3\nallow if account_age_seconds>86400";
    let (status, saved) = put_rules(&server, ADMIN_TOKEN, good).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["parsed"][0]["name"], "bots");
    assert_eq!(saved["parsed"][1]["condition"], "account_age_seconds > 86400");
    assert_eq!(saved["evaluation_order"], json!(["allow", "block", "review"]));
    assert_eq!(saved["signals"].as_array().unwrap().len(), risk::Signal::ALL.len());
    assert_eq!(saved["signals"][0]["name"], "claims_per_buyer_1m");
    let (_, current) = server.get(RULES, Some(ADMIN_TOKEN)).await;
    assert_eq!(current, saved);
    let (status, body) = server.send("PUT", RULES, Some(ADMIN_TOKEN), None, Some(json!({"rule": good}))).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_rule_stops_the_fourth_claim_from_one_ip_until_the_window_slides() {
    let server = TestServer::start(manual()).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(20, 2, 3_600).await;
    save_rules(&server, "rule \"per ip\": block if claims_per_ip_10m > 3").await;
    let mut buyers = Vec::new();
    for idx in 0..7 {
        buyers.push(server.account(&format!("buyer_{idx}"), "buyer").await);
    }
    // A retry of an answered claim (buyer 0's second request) is answered again but not counted again.
    for buyer in [&buyers[0], &buyers[0], &buyers[1], &buyers[2]] {
        let (status, body) = server.claim(buyer, &fixture.drop_id, "c1", 1).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, blocked) = server.claim(&buyers[3], &fixture.drop_id, "c1", 1).await;
    assert_eq!((status, error_code(&blocked)), (StatusCode::FORBIDDEN, "blocked_by_risk_rules"));
    assert!(!blocked["error"]["message"].as_str().unwrap().contains("per ip"), "the rule is not revealed");
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (17, 3, 0, "open".into()), "a block changes nothing");
    let (status, again) = server.claim(&buyers[3], &fixture.drop_id, "c1", 1).await;
    assert_eq!((status, &again), (StatusCode::FORBIDDEN, &blocked), "a retry gets the stored answer");

    clock.advance_ms(60_000);
    let (status, body) = server.claim(&buyers[4], &fixture.drop_id, "c1", 1).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "blocked_by_risk_rules"), "still in the window");
    clock.advance_ms(20 * 60_000);
    let (status, body) = server.claim(&buyers[5], &fixture.drop_id, "c1", 1).await;
    assert_eq!(status, StatusCode::CREATED, "the window slid past the earlier claims: {body}");

    // The decisions are journaled with the rule that fired, and survive a restart with the rules.
    let server = server.restart().await;
    let (_, rules) = server.get(RULES, Some(ADMIN_TOKEN)).await;
    assert_eq!((rules["version"].as_u64(), rules["parsed"][0]["name"].as_str()), (Some(1), Some("per ip")));
    let (status, after) = server.claim(&buyers[3], &fixture.drop_id, "c1", 1).await;
    assert_eq!((status, &after), (StatusCode::FORBIDDEN, &blocked), "the recorded block outlives the counters");
    server.engine.shutdown().await;
    let verdicts = journaled_decisions(&server.journal_location());
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    for verdict in &verdicts {
        assert_eq!(
            (verdict.action, verdict.rule_index, verdict.rule_name.as_deref()),
            (risk::Action::Block, 0, Some("per ip"))
        );
    }
    assert_eq!(verdicts[0].signals, [("claims_per_ip_10m".to_owned(), 4)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_rule_overrides_a_block() {
    let server = TestServer::start(manual()).await;
    let clock = server.manual_clock.clone().unwrap();
    let fixture = server.open_drop(10, 2, 3_600).await;
    let old = server.account("old_timer", "buyer").await;
    clock.advance_ms(2 * 3_600_000);
    let new = server.account("newcomer", "buyer").await;
    save_rules(&server, "block if claims_per_ip_10m >= 1\nrule \"trusted\": allow if account_age_seconds >= 3600")
        .await;
    let (status, body) = server.claim(&new, &fixture.drop_id, "c1", 1).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "blocked_by_risk_rules"));
    let (status, body) = server.claim(&old, &fixture.drop_id, "c1", 1).await;
    assert_eq!(status, StatusCode::CREATED, "allow wins over block: {body}");
    let (status, order) = checkout(&server, &old, &body, "p1", "pm_card_visa").await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert!(order.get("review").is_none(), "an allowed order is not held: {order}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_holds_the_order_until_an_admin_decides() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    save_rules(&server, "rule \"bulk\": review if quantity >= 2").await;
    let ana = server.account("ana", "buyer").await;
    let ben = server.account("ben", "buyer").await;
    let cy = server.account("cyd", "buyer").await;

    let (status, claim) = server.claim(&ana, &fixture.drop_id, "c1", 2).await;
    assert_eq!(status, StatusCode::CREATED, "review lets the claim through: {claim}");
    let (status, order) = checkout(&server, &ana, &claim, "p1", "pm_card_visa").await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["review"], json!({"status": "pending", "reason": null, "decided_at": null}));
    let review_path = format!("/v1/orders/{}/review", order["order_id"].as_str().unwrap());
    let (status, body) = server.post(&review_path, Some(&ana), None, json!({"decision": "approve"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "buyers cannot approve");
    let (status, approved) = server.post(&review_path, Some(ADMIN_TOKEN), None, json!({"decision": "approve"})).await;
    assert_eq!((status, approved["review"]["status"].as_str()), (StatusCode::OK, Some("approved")), "{approved}");
    let (_, read) = server.get(&format!("/v1/orders/{}", order["order_id"].as_str().unwrap()), Some(&ana)).await;
    assert_eq!(crate::harness::without_fulfilment(&read), approved);
    let (status, body) = server.post(&review_path, Some(ADMIN_TOKEN), None, json!({"decision": "reject"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "order_not_in_review"), "decided once");

    let (_, claim) = server.claim(&ben, &fixture.drop_id, "c1", 2).await;
    let (_, order) = checkout(&server, &ben, &claim, "p1", "pm_card_visa").await;
    let review_path = format!("/v1/orders/{}/review", order["order_id"].as_str().unwrap());
    let rejection = json!({"decision": "reject", "reason": "stolen card pattern"});
    let (status, rejected) = server.post(&review_path, Some(ADMIN_TOKEN), None, rejection).await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(
        (rejected["review"]["status"].as_str(), rejected["review"]["reason"].as_str()),
        (Some("rejected"), Some("stolen card pattern"))
    );
    // A rejected order is paid back whole at once, and its units go back on sale.
    let refunds_path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let (status, refunds) = server.get(&refunds_path, Some(&ben)).await;
    assert_eq!(status, StatusCode::OK, "{refunds}");
    assert_eq!(
        (refunds["refunded_minor"].as_i64(), refunds["pending_minor"].as_i64()),
        (Some(2_500), Some(0)),
        "{refunds}"
    );
    assert_eq!(refunds["refunds"][0]["status"], "executed", "{refunds}");
    assert_eq!(refunds["refunds"][0]["reason"], "order rejected in a fraud review: stolen card pattern");
    let charge_id = order["charge_id"].as_str().unwrap();
    let paid_back: Vec<_> =
        server.payments.refunds().into_iter().filter(|(request, _)| request.charge_id == charge_id).collect();
    assert_eq!(paid_back.len(), 1, "the provider paid the order back once: {paid_back:?}");
    assert_eq!(paid_back[0].0.amount.map(|amount| amount.minor), Some(2_500));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (8, 0, 2, "open".into()), "restocked");

    let (_, claim) = server.claim(&cy, &fixture.drop_id, "c1", 1).await;
    let (status, order) = checkout(&server, &cy, &claim, "p1", "pm_card_visa").await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(order.get("review").is_none(), "no rule fired: {order}");
    let review_path = format!("/v1/orders/{}/review", order["order_id"].as_str().unwrap());
    let (status, body) = server.post(&review_path, Some(ADMIN_TOKEN), None, json!({"decision": "approve"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "order_not_in_review"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_payments_count_per_buyer_and_block_before_any_charge() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    save_rules(&server, "rule \"card testing\": block if is_checkout == 1 and declines_per_buyer_1h >= 2").await;
    let ana = server.account("ana", "buyer").await;
    let ben = server.account("ben", "buyer").await;
    let (_, claim) = server.claim(&ana, &fixture.drop_id, "c1", 1).await;
    for key in ["p1", "p2", "p1"] {
        let (status, body) = checkout(&server, &ana, &claim, key, "pm_card_chargeDeclined").await;
        assert_eq!((status, error_code(&body)), (StatusCode::PAYMENT_REQUIRED, "payment_declined"), "{key}");
    }
    let approved_before = server.payments.n_approved();
    let (status, body) = checkout(&server, &ana, &claim, "p3", "pm_card_visa").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "blocked_by_risk_rules"), "{body}");
    assert_eq!(server.payments.n_approved(), approved_before, "a blocked checkout charges nothing");
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (9, 1, 0, "open".into()));

    let (_, claim) = server.claim(&ben, &fixture.drop_id, "c1", 1).await;
    let (status, _) = checkout(&server, &ben, &claim, "p1", "pm_card_chargeDeclined").await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    let (status, order) = checkout(&server, &ben, &claim, "p2", "pm_card_visa").await;
    assert_eq!(status, StatusCode::CREATED, "one decline is under the threshold: {order}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_ids_are_counted_and_checked() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    save_rules(&server, "block if claims_per_device_10m > 1").await;
    let claim = |token: String, device: &'static str| {
        let request = server
            .client
            .post(format!("{}/v1/drops/{}/claims", server.base, fixture.drop_id))
            .bearer_auth(token)
            .header("Idempotency-Key", "c1")
            .header("X-Device-Id", device)
            .json(&json!({"quantity": 1}));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, _) = claim(server.account("ana", "buyer").await, "phone-1").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = claim(server.account("ben", "buyer").await, "phone-1").await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "blocked_by_risk_rules"), "same device");
    let (status, _) = claim(server.account("cyd", "buyer").await, "phone-2").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = claim(server.account("dia", "buyer").await, "bad device").await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_device_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_at_checkout_counts_checkouts_per_payment_method() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    save_rules(&server, "review if is_checkout == 1 and checkouts_per_payment_method_1h > 1").await;
    let mut orders = Vec::new();
    for (handle, method) in [("ana", "pm_card_amex"), ("ben", "pm_card_visa"), ("cyd", "pm_card_amex")] {
        let buyer = server.account(handle, "buyer").await;
        let (_, claim) = server.claim(&buyer, &fixture.drop_id, "c1", 1).await;
        let (status, order) = checkout(&server, &buyer, &claim, "p1", method).await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        orders.push(order);
    }
    assert!(orders[0].get("review").is_none() && orders[1].get("review").is_none(), "first use of each method");
    assert_eq!(orders[2]["review"]["status"], "pending", "second checkout with the same method");
}
