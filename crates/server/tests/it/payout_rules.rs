//! Payout rules over HTTP: saved whole or refused with every mistake, run on each payee's record
//! (account age, refunds), moving profiles that new sales follow, leaving an admin's profile alone
//! until it is cleared, and kept across a restart.

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use crate::money::{buy, shop};
use reqwest::StatusCode;
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

async fn run(server: &TestServer) -> Value {
    let (status, run) = server.post("/v1/admin/payout-rules/run", Some(ADMIN_TOKEN), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run
}

async fn profile(server: &TestServer, token: &str) -> Value {
    let (status, profile) = server.get("/v1/payout-profile", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    profile
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payout_rules_move_profiles_by_record_and_leave_pinned_ones_alone() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let shop = shop(&server).await;

    // Mistakes on two lines: both reported, nothing saved.
    let bad = json!({"rules": "delay 14 dayz if account_age_days < 30\nsame_day if refund_rate > 1"});
    let (status, refused) = server.send("PUT", "/v1/admin/payout-rules", Some(ADMIN_TOKEN), None, Some(bad)).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_payout_rules"));
    let lines: Vec<u64> =
        refused["error"]["errors"].as_array().unwrap().iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 2], "{refused}");
    let rules = json!({"rules": "rule \"new\": delay 14 days if account_age_days < 30\n\
        rule \"refunds\": delay 7 days reserve 1000 bps for 60 days if refund_rate_bps >= 5000 and orders_90d >= 2"});
    let (status, _) =
        server.send("PUT", "/v1/admin/payout-rules", Some(&shop.creator), None, Some(rules.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, saved) = server.get("/v1/admin/payout-rules", Some(ADMIN_TOKEN)).await;
    assert_eq!(saved["version"], 0, "{saved}");

    let (status, saved) = server.send("PUT", "/v1/admin/payout-rules", Some(ADMIN_TOKEN), None, Some(rules)).await;
    assert_eq!((status, saved["version"].as_u64()), (StatusCode::OK, Some(1)), "{saved}");
    assert_eq!(saved["parsed"][1]["action"], "delay 7 days reserve 1000 bps for 60 days", "{saved}");
    run(&server).await;
    // Every payee is days old: the creator and both partners are delayed 14 days.
    let seen = profile(&server, &shop.creator).await;
    assert_eq!((seen["set_by"].as_str(), seen["delay_days"].as_u64()), (Some("rule"), Some(14)), "{seen}");
    assert_eq!(
        (seen["rule"]["rule_name"].as_str(), seen["rule"]["signals"]["account_age_days"].as_i64()),
        (Some("new"), Some(0))
    );
    assert_eq!(profile(&server, &shop.venue).await["delay_days"], 14);

    // A sale follows the rule's profile, and says why.
    let first = buy(&server, &shop, "ada", 1).await;
    let (_, earnings) = server.get("/v1/earnings", Some(&shop.creator)).await;
    let why = earnings["earnings"][0]["why"].as_str().unwrap();
    assert!(why.contains("delayed 14 days"), "{why}");

    // A month on, with half of two orders refunded: the refunds rule takes over from the age rule.
    clock.advance_ms(31 * DAY_MS);
    buy(&server, &shop, "bob", 1).await;
    let order = &first["order"];
    let refund = json!({"lines": [{"hold_id": order["lines"][0]["hold_id"], "quantity": 1}], "reason": "torn"});
    let path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let (status, refund) = server.post(&path, Some(first["buyer"].as_str().unwrap()), Some("r-1"), refund).await;
    assert_eq!(status, StatusCode::CREATED, "{refund}");
    // An admin pins the curator's profile first: the rules leave it alone.
    let pinned = json!({"schedule": "same_day"});
    let curator_path = format!("/v1/admin/payout-profiles/{}", shop.curator_id);
    let (status, set) = server.send("PUT", &curator_path, Some(ADMIN_TOKEN), None, Some(pinned)).await;
    assert_eq!((status, set["set_by"].as_str()), (StatusCode::OK, Some("admin")), "{set}");
    let ran = run(&server).await;
    assert_eq!(
        (ran["payees"].as_u64(), ran["pinned"].as_u64(), ran["moved"].as_u64()),
        (Some(3), Some(1), Some(2)),
        "{ran}"
    );
    let seen = profile(&server, &shop.creator).await;
    assert_eq!(
        (seen["rule"]["rule_name"].as_str(), seen["reserve_bps"].as_u64()),
        (Some("refunds"), Some(1_000)),
        "{seen}"
    );
    assert_eq!(seen["rule"]["signals"]["refund_rate_bps"], 5_000, "{seen}");
    assert_eq!(profile(&server, &shop.curator).await["delay_days"], 0);
    assert_eq!(run(&server).await["moved"], 0, "nothing changed since");

    // Cleared, the curator is the rules' again: a run (started by the clear, or this one) moves it.
    let (status, cleared) = server.send("DELETE", &curator_path, Some(ADMIN_TOKEN), None, None).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert_ne!(cleared["set_by"], "admin", "{cleared}");
    run(&server).await;
    let seen = profile(&server, &shop.curator).await;
    assert_eq!((seen["set_by"].as_str(), seen["delay_days"].as_u64()), (Some("rule"), Some(7)), "{seen}");

    // Rules and the profiles they set outlive a restart; emptied rules take everyone to the default.
    let server = server.restart().await;
    let (_, saved) = server.get("/v1/admin/payout-rules", Some(ADMIN_TOKEN)).await;
    assert_eq!(saved["version"], 1, "{saved}");
    assert_eq!(profile(&server, &shop.creator).await["rule"]["rule_name"], "refunds");
    let empty = json!({"rules": ""});
    let (status, _) = server.send("PUT", "/v1/admin/payout-rules", Some(ADMIN_TOKEN), None, Some(empty)).await;
    assert_eq!(status, StatusCode::OK);
    run(&server).await;
    let seen = profile(&server, &shop.creator).await;
    assert_eq!((seen["set_by"].as_str(), seen["custom"].as_bool()), (Some("default"), Some(false)), "{seen}");
    let (status, refused) =
        server.send("DELETE", "/v1/admin/payout-profiles/acct_nope", Some(ADMIN_TOKEN), None, None).await;
    assert_eq!((status, error_code(&refused)), (StatusCode::NOT_FOUND, "not_found"));
}
