//! Fulfilment orders over HTTP: a picked-up product's order line goes to the venue the drop's split
//! contract names, which moves it through its states; illegal moves, other partners, the creator
//! and bad input are refused and change nothing; a shipped product without a logistics partner is
//! the creator's to fulfil; the order shows its fulfilment, and `fulfilment.updated` reaches the
//! venue's webhook endpoint.

use crate::harness::{Options, TestServer, error_code};
use crate::money::{buy, shop};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn change(server: &TestServer, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    server.post(&format!("/v1/fulfilment-orders/{id}/changes"), Some(token), None, body).await
}

async fn listed(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, list) = server.get("/v1/fulfilment-orders", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["fulfilment_orders"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_venue_fulfils_a_pickup_through_its_states_and_nothing_else_moves_it() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let bought = buy(&server, &shop, "fan_one", 2).await;
    let order_id = bought["order"]["order_id"].as_str().unwrap();
    let buyer = bought["buyer"].as_str().unwrap();

    // The order shows one fulfilment order, open, the venue's; the checkout answer itself has none.
    assert!(bought["order"].get("fulfilment").is_none(), "{}", bought["order"]);
    let (status, order) = server.get(&format!("/v1/orders/{order_id}"), Some(buyer)).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    let fulfilment = &order["fulfilment"][0];
    assert_eq!(
        (fulfilment["state"].as_str(), fulfilment["method"].as_str(), fulfilment["quantity"].as_u64()),
        (Some("open"), Some("pickup"), Some(2)),
        "{order}"
    );
    assert_eq!(fulfilment["partner_id"].as_str(), Some(shop.venue_id.as_str()));
    let id = fulfilment["id"].as_str().unwrap().to_owned();
    assert_eq!(listed(&server, &shop.venue).await.len(), 1, "the venue sees what it fulfils");
    assert_eq!(listed(&server, &shop.creator).await.len(), 1, "the creator sees what it sold");
    assert!(listed(&server, &shop.curator).await.is_empty());

    // Others cannot move it: another partner is told it does not exist, the creator may only cancel.
    let (status, _) = change(&server, &shop.curator, &id, json!({"state": "accepted"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = change(&server, buyer, &id, json!({"state": "accepted"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = change(&server, &shop.creator, &id, json!({"state": "accepted"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));
    for bad in [
        json!({"state": "shipped"}),
        json!({"state": "open"}),
        json!({}),
        json!({"eta": "tomorrow"}),
        json!({"state": "accepted", "x": 1}),
    ] {
        let (status, body) = change(&server, &shop.venue, &id, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, body) = change(&server, &shop.venue, &id, json!({"state": "in_transit"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "illegal_transition"), "a pickup is not shipped");
    let (_, still) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&shop.venue)).await;
    assert_eq!(
        (still["state"].as_str(), still["changes"].as_array().map(Vec::len)),
        (Some("open"), Some(0)),
        "{still}"
    );

    // The venue accepts, promises a time, gets it ready, and the buyer picks it up.
    let (status, body) =
        change(&server, &shop.venue, &id, json!({"state": "accepted", "eta": "2030-01-01T18:00:00Z"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an ETA years ahead: {body}");
    let (status, accepted) = change(&server, &shop.venue, &id, json!({"state": "accepted"})).await;
    assert_eq!(
        (status, accepted["state"].as_str(), accepted["eta"].as_str()),
        (StatusCode::OK, Some("accepted"), None),
        "{accepted}"
    );
    let tomorrow = server.engine.now().plus_ms(86_400_000);
    let eta = time::OffsetDateTime::from_unix_timestamp(tomorrow.0 / 1_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, promised) = change(&server, &shop.venue, &id, json!({"eta": eta})).await;
    assert_eq!((status, promised["state"].as_str()), (StatusCode::OK, Some("accepted")), "{promised}");
    assert!(promised["eta"].is_string(), "{promised}");
    let (status, again) = change(&server, &shop.venue, &id, json!({"state": "accepted"})).await;
    assert_eq!(
        (status, again["changes"].as_array().unwrap().len()),
        (StatusCode::OK, 2),
        "asking again changes nothing"
    );
    let (status, moved) = change(&server, &shop.venue, &id, json!({"state": "ready_for_pickup"})).await;
    assert_eq!((status, moved["state"].as_str()), (StatusCode::OK, Some("ready_for_pickup")), "{moved}");

    // A signal cannot hand a pickup over, not even on its way to `returned`.
    let signal = json!({"signals": [{"fulfilment_id": id, "state": "returned", "version": 1}]});
    let (status, body) = server.post("/v1/partner-signals", Some(&shop.venue), None, signal).await;
    assert_eq!((status, body["results"][0]["outcome"].as_str()), (StatusCode::OK, Some("refused")), "{body}");

    // The buyer alone is shown the code; the venue hands over against it.
    let (_, order) = server.get(&format!("/v1/orders/{order_id}"), Some(buyer)).await;
    let code = order["fulfilment"][0]["pickup_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6, "{order}");
    let (_, seen) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&shop.venue)).await;
    assert!(seen.get("pickup_code").is_none(), "the venue is not told the code: {seen}");
    let (status, body) = change(&server, &shop.venue, &id, json!({"state": "picked_up"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no code: {body}");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let (status, body) = change(&server, &shop.venue, &id, json!({"state": "picked_up", "pickup_code": wrong})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNPROCESSABLE_ENTITY, "wrong_pickup_code"), "{body}");
    let (status, moved) = change(&server, &shop.venue, &id, json!({"state": "picked_up", "pickup_code": code})).await;
    assert_eq!((status, moved["state"].as_str()), (StatusCode::OK, Some("picked_up")), "{moved}");
    let (status, body) = change(&server, &shop.venue, &id, json!({"state": "cancelled"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "illegal_transition"), "picked up is not cancelled");
    let (_, order) = server.get(&format!("/v1/orders/{order_id}"), Some(buyer)).await;
    let changes: Vec<&str> =
        order["fulfilment"][0]["changes"].as_array().unwrap().iter().map(|c| c["state"].as_str().unwrap()).collect();
    assert_eq!(changes, ["accepted", "accepted", "ready_for_pickup", "picked_up"], "{order}");

    // A second order: five wrong codes make entering one wait, even the right one; the creator
    // then calls it off.
    let second = buy(&server, &shop, "fan_two", 1).await;
    let (_, order) =
        server.get(&format!("/v1/orders/{}", second["order"]["order_id"].as_str().unwrap()), Some(&shop.creator)).await;
    let second_id = order["fulfilment"][0]["id"].as_str().unwrap();
    for state in ["accepted", "ready_for_pickup"] {
        let (status, _) = change(&server, &shop.venue, second_id, json!({"state": state})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let right = order["fulfilment"][0]["pickup_code"].as_str().map(str::to_owned);
    assert!(right.is_none(), "the creator is not shown the buyer's code either");
    let (_, buyer_view) = server
        .get(
            &format!("/v1/orders/{}", second["order"]["order_id"].as_str().unwrap()),
            Some(second["buyer"].as_str().unwrap()),
        )
        .await;
    let right = buyer_view["fulfilment"][0]["pickup_code"].as_str().unwrap().to_owned();
    let wrong = if right == "000000" { "000001" } else { "000000" };
    for attempts_left in (0..5).rev() {
        let (status, body) =
            change(&server, &shop.venue, second_id, json!({"state": "picked_up", "pickup_code": wrong})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(&format!("{attempts_left} attempts left")),
            "{body}"
        );
    }
    let (status, body) =
        change(&server, &shop.venue, second_id, json!({"state": "picked_up", "pickup_code": right})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::TOO_MANY_REQUESTS, "pickup_code_locked"), "{body}");
    let (status, cancelled) = change(&server, &shop.creator, second_id, json!({"state": "cancelled"})).await;
    assert_eq!((status, cancelled["state"].as_str()), (StatusCode::OK, Some("cancelled")), "{cancelled}");

    // The venue's figures, and the creator's view of its fulfiller: two orders, both accepted, one
    // picked up before the time promised, one cancelled.
    let (status, stats) = server.get("/v1/fulfilment-stats", Some(&shop.venue)).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    let figures = &stats["as_fulfiller"];
    assert_eq!(
        (figures["orders"].as_u64(), figures["completed"].as_u64(), figures["cancelled"].as_u64()),
        (Some(2), Some(1), Some(1)),
        "{stats}"
    );
    assert_eq!(
        (figures["acceptance_ms"]["count"].as_u64(), figures["promised"].as_u64()),
        (Some(2), Some(1)),
        "{stats}"
    );
    assert_eq!(figures["on_time_rate"].as_f64(), Some(1.0), "{stats}");
    assert!(figures["eta_error_ms"]["p50"].as_i64().unwrap() < 0, "picked up early: {stats}");
    let (_, creator_stats) = server.get("/v1/fulfilment-stats", Some(&shop.creator)).await;
    let fulfillers = creator_stats["fulfillers_of_my_sales"].as_array().unwrap();
    assert_eq!(fulfillers.len(), 1, "{creator_stats}");
    assert_eq!(
        (fulfillers[0]["fulfiller_id"].as_str(), fulfillers[0]["orders"].as_u64()),
        (Some(shop.venue_id.as_str()), Some(2))
    );
    assert_eq!(creator_stats["as_fulfiller"]["orders"], 0);

    // Everything survives a restart as it was.
    let server = server.restart().await;
    let (_, after) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&shop.venue)).await;
    assert_eq!((after["state"].as_str(), after["changes"].as_array().map(Vec::len)), (Some("picked_up"), Some(4)));
}

/// `GET /v1/fulfilment-orders/{id}/pickup-code.svg` as `token` sees it: status, content type,
/// cache control and body.
async fn pickup_qr(server: &TestServer, token: Option<&str>, id: &str) -> (StatusCode, String, String, String) {
    let mut request = server.client.get(format!("{}/v1/fulfilment-orders/{id}/pickup-code.svg", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map_or("", |v| v.to_str().unwrap()).to_owned();
    let (content_type, cache_control) = (header("content-type"), header("cache-control"));
    (response.status(), content_type, cache_control, response.text().await.unwrap())
}

#[tokio::test]
async fn the_buyer_alone_gets_the_pickup_code_as_a_qr_code() {
    let server = TestServer::start(Options::default()).await;
    let shop = shop(&server).await;
    let bought = buy(&server, &shop, "qr_fan", 1).await;
    let other = buy(&server, &shop, "other_fan", 1).await;
    let buyer = bought["buyer"].as_str().unwrap();
    let order_path = format!("/v1/orders/{}", bought["order"]["order_id"].as_str().unwrap());
    let (_, order) = server.get(&order_path, Some(buyer)).await;
    let id = order["fulfilment"][0]["id"].as_str().unwrap();

    let (status, content_type, cache_control, svg) = pickup_qr(&server, Some(buyer), id).await;
    assert_eq!(status, StatusCode::OK, "{svg}");
    assert_eq!((content_type.as_str(), cache_control.as_str()), ("image/svg+xml", "private, no-store"));
    assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");

    // Everyone else is told there is nothing: the venue, the creator, another buyer, an admin.
    for token in
        [shop.venue.as_str(), shop.creator.as_str(), other["buyer"].as_str().unwrap(), crate::harness::ADMIN_TOKEN]
    {
        let (status, content_type, _, body) = pickup_qr(&server, Some(token), id).await;
        let head = &body[..body.len().min(120)];
        assert_eq!((status, content_type.as_str()), (StatusCode::NOT_FOUND, "application/json"), "{head}");
    }
    let (status, _, _, _) = pickup_qr(&server, None, id).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _, _) = pickup_qr(&server, Some(buyer), "ful_nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a malformed id");

    // A shipped line has no code to show, to its buyer either.
    let fixture = server.open_drop(10, 2, 300).await;
    let shipper = server.account("ship_fan", "buyer").await;
    let (_, claim) = server.claim(&shipper, &fixture.drop_id, "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, _) = server.post(&path, Some(&shipper), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let shipped = listed(&server, &fixture.creator).await[0]["id"].as_str().unwrap().to_owned();
    let (status, _, _, body) = pickup_qr(&server, Some(&shipper), &shipped).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn a_shipped_product_without_a_logistics_partner_is_the_creators_to_fulfil() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await; // a shipped product, no split contract
    let buyer = server.account("shipping_fan", "buyer").await;
    let (status, claim) = server.claim(&buyer, &fixture.drop_id, "c", 1).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let mine = listed(&server, &fixture.creator).await;
    assert_eq!(
        (mine.len(), mine[0]["method"].as_str(), mine[0].get("partner_id")),
        (1, Some("ship"), None),
        "{mine:?}"
    );
    let id = mine[0]["id"].as_str().unwrap();
    for state in ["accepted", "in_transit", "delivered", "returned"] {
        let (status, moved) = change(&server, &fixture.creator, id, json!({"state": state})).await;
        assert_eq!((status, moved["state"].as_str()), (StatusCode::OK, Some(state)), "{moved}");
    }
    let (status, body) = change(&server, &fixture.creator, id, json!({"state": "in_transit"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "illegal_transition"));
}

#[tokio::test]
async fn a_line_refunded_whole_is_called_off_and_a_partial_refund_is_not() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    let buyer = server.account("refund_fan", "buyer").await;
    let (status, claim) = server.claim(&buyer, &fixture.drop_id, "c", 2).await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (_, order) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    let (refunds, hold) = (
        format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap()),
        order["lines"][0]["hold_id"].as_str().unwrap().to_owned(),
    );
    let id = listed(&server, &fixture.creator).await[0]["id"].as_str().unwrap().to_owned();
    for (n, expected) in [(1, "open"), (2, "cancelled")] {
        let request = json!({"lines": [{"hold_id": hold, "quantity": 1}], "reason": "changed my mind"});
        let (status, refund) = server.post(&refunds, Some(&buyer), Some(&format!("r{n}")), request).await;
        assert_eq!((status, refund["status"].as_str()), (StatusCode::CREATED, Some("executed")), "{refund}");
        let (_, now) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
        assert_eq!(now["state"].as_str(), Some(expected), "after {n} of 2 units paid back: {now}");
    }
    let (status, body) = change(&server, &fixture.creator, &id, json!({"state": "accepted"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "illegal_transition"), "{body}");
}

#[tokio::test]
async fn goods_wait_for_the_fraud_review_and_a_rejected_order_is_called_off() {
    let server = TestServer::start(Options::default()).await;
    let rules = json!({"rules": "rule \"everyone\": review if quantity >= 1"});
    let (status, saved) =
        server.send("PUT", "/v1/admin/risk-rules", Some(crate::harness::ADMIN_TOKEN), None, Some(rules)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let fixture = server.open_drop(10, 2, 300).await;
    let buyer = server.account("reviewed_fan", "buyer").await;
    let (_, claim) = server.claim(&buyer, &fixture.drop_id, "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!((status, order["review"]["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{order}");
    let id = listed(&server, &fixture.creator).await[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = change(&server, &fixture.creator, &id, json!({"state": "accepted"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, "order_in_review"), "{body}");

    let review = format!("/v1/orders/{}/review", order["order_id"].as_str().unwrap());
    let (status, reviewed) = server
        .post(&review, Some(crate::harness::ADMIN_TOKEN), None, json!({"decision": "reject", "reason": "stolen card"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    let (_, now) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
    assert_eq!(now["state"], "cancelled", "a rejected order's goods are not handed over: {now}");
}

#[tokio::test]
async fn partner_signals_arrive_late_and_out_of_order_and_end_as_in_order() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 2, 300).await;
    let buyer = server.account("signal_fan", "buyer").await;
    let (_, claim) = server.claim(&buyer, &fixture.drop_id, "c", 1).await;
    let path = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, _) = server.post(&path, Some(&buyer), Some("p"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = listed(&server, &fixture.creator).await[0]["id"].as_str().unwrap().to_owned();
    let eta = |hours: i64| {
        let at = server.engine.now().plus_ms(hours as u64 * 3_600_000);
        time::OffsetDateTime::from_unix_timestamp(at.0 / 1_000)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let signals = |body: Value| server.post("/v1/partner-signals", Some(&fixture.creator), None, body);

    // A malformed signal refuses the whole request: nothing is applied.
    let bad = json!({"signals": [{"fulfilment_id": id, "state": "delivered", "version": 3}, {"fulfilment_id": id, "state": "lost", "version": 4}]});
    let (status, body) = signals(bad).await;
    assert_eq!(
        (status, body["error"]["message"].as_str().map(|m| m.starts_with("signals[1].state"))),
        (StatusCode::BAD_REQUEST, Some(true)),
        "{body}"
    );
    let (_, still) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
    assert_eq!(still["state"], "open");

    // The newest first, then an older one with a promise, then the oldest, then a repeat.
    let (status, body) = signals(json!({"signals": [
        {"fulfilment_id": id, "state": "delivered", "version": 3},
        {"fulfilment_id": id, "state": "in_transit", "eta": eta(5), "version": 2},
        {"fulfilment_id": id, "state": "accepted", "eta": eta(9), "version": 1},
        {"fulfilment_id": id, "state": "delivered", "version": 3},
        {"fulfilment_id": "ful_zz", "state": "delivered", "version": 1},
    ]}))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a malformed id is refused with the rest: {body}");
    let (status, body) = signals(json!({"signals": [
        {"fulfilment_id": id, "state": "delivered", "version": 3},
        {"fulfilment_id": id, "state": "in_transit", "eta": eta(5), "version": 2},
        {"fulfilment_id": id, "state": "accepted", "eta": eta(9), "version": 1},
        {"fulfilment_id": id, "state": "delivered", "version": 3},
    ]}))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let outcomes: Vec<&str> =
        body["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["applied", "applied", "stale", "stale"], "{body}");
    let (_, now) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
    assert_eq!(now["state"], "delivered");
    let states: Vec<&str> = now["changes"].as_array().unwrap().iter().map(|c| c["state"].as_str().unwrap()).collect();
    assert_eq!(
        states,
        ["accepted", "in_transit", "delivered", "delivered"],
        "through the states between, then the promise: {now}"
    );
    assert!(now["eta"].is_string(), "version 2's promise stands: {now}");

    // Another account's signal is refused, alone, and changes nothing.
    let other = server.account("other_maker", "creator").await;
    let body = json!({"signals": [{"fulfilment_id": id, "state": "returned", "version": 9}]});
    let (status, body) = server.post("/v1/partner-signals", Some(&other), None, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["results"][0]["outcome"].as_str(), body["results"][0]["error"]["code"].as_str()),
        (Some("refused"), Some("not_found"))
    );
    let (_, after) = server.get(&format!("/v1/fulfilment-orders/{id}"), Some(&fixture.creator)).await;
    assert_eq!(after["state"], "delivered");
}
