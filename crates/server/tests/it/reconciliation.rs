//! Hub stock counts and reconciliation cases over HTTP: a venue counts a drop's units on its
//! shelf; a short count opens a case; the creator accepts it (units leave the drop, never below
//! what is sold or held, and the drop's log still audits clean) or disputes it. Stale counts,
//! counts from anyone but the hub and decisions by anyone but the creator change nothing.

use crate::harness::{Options, TestServer, error_code};
use crate::money::{buy, shop};
use reqwest::StatusCode;
use serde_json::{Value, json};
use transparency::audit::DropAudit;

async fn count(server: &TestServer, token: &str, drop_id: &str, on_hand: u64, version: u64) -> Value {
    let body = json!({"signals": [{"drop_id": drop_id, "on_hand": on_hand, "version": version}]});
    let (status, answer) = server.post("/v1/partner-signals", Some(token), None, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["results"][0].clone()
}

async fn drop_units(server: &TestServer, drop_id: &str) -> (u64, u64, u64) {
    let (_, drop) = server.get(&format!("/v1/drops/{drop_id}"), None).await;
    let field = |name: &str| drop[name].as_u64().unwrap();
    (field("remaining"), field("sold"), field("released"))
}

#[tokio::test]
async fn a_short_hub_count_is_reconciled_by_the_creator_and_nothing_else_moves_stock() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await; // 50 pickup tees, the venue's shelf
    buy(&server, &shop, "reco_fan", 2).await;
    let drop_id = shop.drop_id.as_str();

    // A count that matches opens nothing; a stale one and one from another partner change nothing.
    let matched = count(&server, &shop.venue, drop_id, 50, 1).await;
    assert_eq!((matched["outcome"].as_str(), matched["expected"].as_u64()), (Some("applied"), Some(50)), "{matched}");
    assert!(matched.get("case_id").is_none());
    let stale = count(&server, &shop.venue, drop_id, 10, 1).await;
    assert_eq!((stale["outcome"].as_str(), stale["on_hand"].as_u64()), (Some("stale"), Some(50)), "{stale}");
    let foreign = count(&server, &shop.curator, drop_id, 10, 9).await;
    assert_eq!((foreign["outcome"].as_str(), foreign["error"]["code"].as_str()), (Some("refused"), Some("not_found")));
    for bad in [
        json!({"drop_id": drop_id, "version": 3}),
        json!({"drop_id": drop_id, "on_hand": 3, "state": "accepted", "version": 3}),
        json!({"drop_id": "drop_x", "on_hand": 3, "version": 3}),
        json!({"drop_id": drop_id, "fulfilment_id": "ful_0a0000000001", "on_hand": 3, "version": 3}),
        json!({"drop_id": drop_id, "on_hand": 3, "version": 0}),
    ] {
        let (status, body) =
            server.post("/v1/partner-signals", Some(&shop.venue), None, json!({"signals": [bad]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (_, listed) = server.get("/v1/reconciliation-cases", Some(&shop.creator)).await;
    assert_eq!(listed["cases"].as_array().map(Vec::len), Some(0), "{listed}");

    // Five short: a case for the creator; a newer count keeps that one case.
    let short = count(&server, &shop.venue, drop_id, 45, 2).await;
    let case_id = short["case_id"].as_str().expect("a case opened").to_owned();
    let again = count(&server, &shop.venue, drop_id, 44, 3).await;
    assert!(again.get("case_id").is_none(), "one open case per drop: {again}");
    let (status, case) = server.get(&format!("/v1/reconciliation-cases/{case_id}"), Some(&shop.venue)).await;
    assert_eq!(status, StatusCode::OK, "{case}");
    assert_eq!(
        (case["state"].as_str(), case["expected"].as_u64(), case["on_hand"].as_u64(), case["shortfall"].as_u64()),
        (Some("open"), Some(50), Some(45), Some(5)),
        "{case}"
    );
    let (status, _) = server.get(&format!("/v1/reconciliation-cases/{case_id}"), Some(&shop.curator)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let accept = format!("/v1/reconciliation-cases/{case_id}/accept");
    let dispute = format!("/v1/reconciliation-cases/{case_id}/dispute");
    let (status, body) = server.post(&accept, Some(&shop.venue), None, json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "the hub cannot decide its count");
    for reason in ["", "  ", &"x".repeat(501)] {
        let (status, body) = server.post(&dispute, Some(&shop.creator), None, json!({"reason": reason})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(drop_units(&server, drop_id).await, (48, 2, 0), "nothing moved yet");

    let (status, accepted) = server.post(&accept, Some(&shop.creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!((accepted["state"].as_str(), accepted["written_off"].as_u64()), (Some("accepted"), Some(5)));
    assert_eq!(drop_units(&server, drop_id).await, (43, 2, 5));
    let (status, body) = server.post(&dispute, Some(&shop.creator), None, json!({"reason": "late"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "case_already_decided"));

    // An empty shelf: the write-off stops at the units left to sell; the sold pair is uncovered.
    let empty = count(&server, &shop.venue, drop_id, 0, 4).await;
    let empty_case = empty["case_id"].as_str().unwrap().to_owned();
    let (_, accepted) = server
        .post(&format!("/v1/reconciliation-cases/{empty_case}/accept"), Some(&shop.creator), None, json!({}))
        .await;
    assert_eq!(
        (accepted["shortfall"].as_u64(), accepted["written_off"].as_u64(), accepted["uncovered"].as_u64()),
        (Some(45), Some(43), Some(2)),
        "{accepted}"
    );
    assert_eq!(drop_units(&server, drop_id).await, (0, 2, 48));

    // Disputed: nothing moves.
    let short = count(&server, &shop.venue, drop_id, 1, 5).await;
    let disputed_case = short["case_id"].as_str().unwrap().to_owned();
    let path = format!("/v1/reconciliation-cases/{disputed_case}/dispute");
    let (status, disputed) = server.post(&path, Some(&shop.creator), None, json!({"reason": "two on the shelf"})).await;
    assert_eq!((status, disputed["state"].as_str()), (StatusCode::OK, Some("disputed")), "{disputed}");
    assert_eq!(drop_units(&server, drop_id).await, (0, 2, 48));

    // Every write-off is a leaf of the drop's log, and the log audits clean; a restart keeps all.
    let leaves = crate::transparency::leaves(&server, drop_id).await;
    let mut audit = DropAudit::new(drop_id.parse().unwrap());
    leaves.iter().for_each(|leaf| audit.leaf(leaf.as_bytes()));
    let report = audit.report();
    assert_eq!((report.n_violations, report.released, report.sold), (0, 48, 2), "{report:?}");
    assert!(leaves.iter().any(|leaf| leaf.contains("stock_written_off")));
    let server = server.restart().await;
    assert_eq!(drop_units(&server, drop_id).await, (0, 2, 48));
    let (_, listed) = server.get("/v1/reconciliation-cases", Some(&shop.venue)).await;
    let states: Vec<_> = listed["cases"].as_array().unwrap().iter().map(|case| case["state"].clone()).collect();
    assert_eq!(states, [json!("disputed"), json!("accepted"), json!("accepted")], "newest first");
}

/// A unit paid back and restocked is on sale again, not waiting at the hub: a count that finds it
/// once opens no case.
#[tokio::test]
async fn a_restocked_refund_is_counted_once() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let bought = buy(&server, &shop, "half_back", 2).await;
    let order = &bought["order"];
    let hold_id = order["lines"][0]["hold_id"].as_str().unwrap();
    let refund = json!({"lines": [{"hold_id": hold_id, "quantity": 1}], "reason": "one is enough"});
    let path = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let (status, refund) = server.post(&path, bought["buyer"].as_str(), Some("half"), refund).await;
    assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{refund}");
    assert_eq!(drop_units(&server, &shop.drop_id).await, (49, 1, 0));
    let counted = count(&server, &shop.venue, &shop.drop_id, 50, 1).await;
    assert_eq!((counted["expected"].as_u64(), counted.get("case_id")), (Some(50), None), "{counted}");
}
