//! Partnerships: a creator proposes a venue's and a courier's service terms in a split contract,
//! each signs its own by accepting; the drop shows its fulfiller's terms to buyers (the room's
//! promise), and each sale's fulfilment order opens with the ETA the terms promise.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

async fn partner(server: &TestServer, handle: &str, kind: &str) -> (String, String) {
    let body = json!({"handle": handle, "role": "partner", "partner_kind": kind});
    let (status, account) = server.post("/v1/accounts", None, None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    (account["token"].as_str().unwrap().to_owned(), account["id"].as_str().unwrap().to_owned())
}

fn at(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// A drop of `fulfilment` products under `contract_id`, and one unit bought: (drop, order's ETA, paid at).
async fn sale(server: &TestServer, creator: &str, contract_id: &str, fulfilment: &str, buyer: &str) -> (Value, Value) {
    let (_, room) = server.post("/v1/rooms", Some(creator), None, json!({"title": fulfilment})).await;
    let product =
        json!({"title": "Mug", "price_minor": 2000, "currency": "EUR", "stock": 10, "fulfilment": fulfilment});
    let (_, product) = server.post("/v1/products", Some(creator), None, product).await;
    let drop = json!({"product_id": product["id"], "quantity": 5, "per_buyer_limit": 1, "hold_seconds": 300,
        "split_contract_id": contract_id});
    let (status, drop) =
        server.post(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(creator), None, drop).await;
    assert_eq!(status, StatusCode::CREATED, "{drop}");
    let drop_id = drop["id"].as_str().unwrap();
    let buyer = server.account(buyer, "buyer").await;
    let (_, claim) = server.claim(&buyer, drop_id, "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (_, order) = server.get(&format!("/v1/orders/{}", order["order_id"].as_str().unwrap()), Some(&buyer)).await;
    let (_, drop) = server.get(&format!("/v1/drops/{drop_id}"), None).await;
    (drop, order)
}

#[tokio::test]
async fn service_terms_are_signed_shown_and_promised() {
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("terms_maker", "creator").await;
    let (venue, venue_id) = partner(&server, "terms_venue", "venue").await;
    let (courier, courier_id) = partner(&server, "terms_courier", "logistics").await;
    let venue_terms = json!({"accept_within_minutes": 30, "ready_within_hours": 4,
        "pickup_window": {"from": "18:00", "to": "20:00"}, "location": "Corner Café, 12 High St"});
    let courier_terms = json!({"accept_within_minutes": 60, "ready_within_hours": 4, "deliver_within_hours": 24,
        "service_area": ["E1", "SW1"]});

    // Terms that do not fit the partner are refused, and nothing is proposed.
    let bad = [
        json!({"partner_id": venue_id, "share_bps": 1000, "terms": {"accept_within_minutes": 30, "ready_within_hours": 4, "deliver_within_hours": 24}}),
        json!({"partner_id": venue_id, "share_bps": 1000, "terms": {"accept_within_minutes": 30, "ready_within_hours": 4, "pickup_window": {"from": "20:00", "to": "18:00"}}}),
        json!({"partner_id": venue_id, "share_bps": 1000, "terms": {"accept_within_minutes": 30, "ready_within_hours": 4, "pickup_window": {"from": "6pm", "to": "20:00"}}}),
        json!({"partner_id": courier_id, "share_bps": 1000, "terms": {"accept_within_minutes": 0, "ready_within_hours": 4, "deliver_within_hours": 24}}),
        json!({"partner_id": courier_id, "share_bps": 1000, "terms": {"accept_within_minutes": 60, "ready_within_hours": 4}}),
    ];
    for (n, share) in bad.into_iter().enumerate() {
        let (status, body) = server
            .post("/v1/split-contracts", Some(&creator), Some(&format!("bad-{n}")), json!({"shares": [share]}))
            .await;
        assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}");
    }
    let (_, listed) = server.get("/v1/split-contracts", Some(&creator)).await;
    assert_eq!(listed["contracts"].as_array().map(Vec::len), Some(0));

    // Each partner signs its own terms by accepting; the contract shows them.
    let shares = json!({"shares": [
        {"partner_id": venue_id, "share_bps": 1000, "terms": venue_terms},
        {"partner_id": courier_id, "share_bps": 500, "terms": courier_terms}]});
    let (status, contract) = server.post("/v1/split-contracts", Some(&creator), Some("terms"), shares).await;
    assert_eq!(status, StatusCode::CREATED, "{contract}");
    let contract_id = contract["id"].as_str().unwrap().to_owned();
    for token in [&venue, &courier] {
        let (status, _) =
            server.post(&format!("/v1/split-contracts/{contract_id}/accept"), Some(token), None, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, contract) = server.get(&format!("/v1/split-contracts/{contract_id}"), Some(&venue)).await;
    assert_eq!(contract["shares"][0]["terms"], venue_terms, "{contract}");
    assert_eq!(contract["shares"][1]["terms"], courier_terms, "{contract}");

    // A pickup drop shows the venue's terms; its sale's order opens promised at the first window
    // from 18:00 UTC once ready, four hours after payment.
    let (drop, order) = sale(&server, &creator, &contract_id, "pickup", "terms_fan_a").await;
    assert_eq!(
        (drop["service"]["method"].as_str(), drop["service"]["partner_id"].as_str()),
        (Some("pickup"), Some(venue_id.as_str())),
        "{drop}"
    );
    assert_eq!(drop["service"]["terms"]["location"], "Corner Café, 12 High St");
    let (paid, eta) = (at(&order["paid_at"]), at(&order["fulfilment"][0]["eta"]));
    let ready = paid + time::Duration::hours(4);
    let minute = |t: OffsetDateTime| u32::from(t.hour()) * 60 + u32::from(t.minute());
    assert!(eta >= ready && eta - ready < time::Duration::hours(24), "{paid} → {eta}");
    assert!((18 * 60..20 * 60).contains(&minute(eta)), "within the window: {eta}");
    assert!(eta == ready || minute(eta) == 18 * 60, "the window's start, unless ready inside it: {eta}");

    // A shipped drop shows the courier's terms: delivery four plus 24 hours after payment.
    let (drop, order) = sale(&server, &creator, &contract_id, "ship", "terms_fan_b").await;
    assert_eq!(drop["service"]["method"].as_str(), Some("ship"), "{drop}");
    assert_eq!(drop["service"]["terms"]["deliver_within_hours"], 24);
    assert_eq!(at(&order["fulfilment"][0]["eta"]) - at(&order["paid_at"]), time::Duration::hours(28));
}

#[tokio::test]
async fn a_curators_edition_is_sold_with_its_curator_and_named_on_the_receipt() {
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("edition_maker", "creator").await;
    let (curator, curator_id) = partner(&server, "edition_curator", "curator").await;
    let (venue, venue_id) = partner(&server, "edition_venue", "venue").await;
    let edition = json!({"label": "Summer '26, 1 of 50", "curator_id": curator_id});
    let product = |edition: Value| json!({"title": "Print", "price_minor": 5000, "currency": "EUR", "stock": 50, "fulfilment": "ship", "edition": edition});
    for bad in [json!({"label": "", "curator_id": curator_id}), json!({"label": "x", "curator_id": "acct_nope"})] {
        let (status, body) = server.post("/v1/products", Some(&creator), None, product(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let (status, print) = server.post("/v1/products", Some(&creator), None, product(edition.clone())).await;
    assert_eq!((status, &print["edition"]), (StatusCode::CREATED, &edition), "{print}");
    let (_, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Editions"})).await;
    let drops = format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap());
    let drop = |contract: Option<&str>| {
        json!({"product_id": print["id"], "quantity": 10, "per_buyer_limit": 2, "hold_seconds": 300,
            "split_contract_id": contract})
    };
    // Without its curator's share, the edition is not dropped.
    let (status, body) = server.post(&drops, Some(&creator), None, drop(None)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}");
    let mut contracts = Vec::new();
    for (key, partner, token) in [("venue-only", &venue_id, &venue), ("curated", &curator_id, &curator)] {
        let shares = json!({"shares": [{"partner_id": partner, "share_bps": 2000}]});
        let (_, contract) = server.post("/v1/split-contracts", Some(&creator), Some(key), shares).await;
        let id = contract["id"].as_str().unwrap().to_owned();
        server.post(&format!("/v1/split-contracts/{id}/accept"), Some(token), None, json!({})).await;
        contracts.push(id);
    }
    let (status, body) = server.post(&drops, Some(&creator), None, drop(Some(&contracts[0]))).await;
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(status == StatusCode::BAD_REQUEST && message.starts_with("split_contract_id"), "{body}");
    let (status, dropped) = server.post(&drops, Some(&creator), None, drop(Some(&contracts[1]))).await;
    assert_eq!(status, StatusCode::CREATED, "{dropped}");

    // The receipt names the edition.
    let buyer = server.account("edition_fan", "buyer").await;
    let (_, claim) = server.claim(&buyer, dropped["id"].as_str().unwrap(), "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, order["lines"][0]["edition"].as_str()), (StatusCode::CREATED, Some("Summer '26, 1 of 50")));
    let (_, again) = server.get(&format!("/v1/orders/{}", order["order_id"].as_str().unwrap()), Some(&buyer)).await;
    assert_eq!(again["lines"][0]["edition"], order["lines"][0]["edition"]);
}
