//! Malformed, oversized, out-of-range and unauthorised input gets a 4xx JSON error and changes
//! nothing; idempotency replays and mismatches behave as documented.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Raw<'a> {
    method: &'a str,
    path: String,
    token: Option<&'a str>,
    key: Option<String>,
    content_type: Option<&'a str>,
    body: Vec<u8>,
}

async fn send_raw(server: &TestServer, raw: Raw<'_>) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(raw.method.as_bytes()).unwrap();
    let mut request = server.client.request(method, format!("{}{}", server.base, raw.path)).body(raw.body);
    if let Some(token) = raw.token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = raw.key {
        request = request.header("Idempotency-Key", key);
    }
    if let Some(content_type) = raw.content_type {
        request = request.header("Content-Type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 3, 300).await;
    let buyer = server.account("buyer", "buyer").await;
    let (status, claim) = server.claim(&buyer, &fixture.drop_id, "first", 1).await;
    assert_eq!(status, StatusCode::CREATED);
    let claims = format!("/v1/drops/{}/claims", fixture.drop_id);
    let drops = format!("/v1/rooms/{}/drops", fixture.room_id);
    let cart_path = format!("/v1/carts/{}", claim["cart_id"].as_str().unwrap());
    let before =
        (server.get(&format!("/v1/rooms/{}", fixture.room_id), None).await, server.get(&cart_path, Some(&buyer)).await);

    let json_body = |value: Value| value.to_string().into_bytes();
    let claim_with = |body: Vec<u8>, key: Option<String>| Raw {
        method: "POST",
        path: claims.clone(),
        token: Some(&buyer),
        key,
        content_type: Some("application/json"),
        body,
    };
    let key = |text: &str| Some(text.to_owned());
    let cases: Vec<(Raw, StatusCode, &str)> = vec![
        (claim_with(b"{\"quantity\": ".to_vec(), key("a")), StatusCode::BAD_REQUEST, "invalid_json"),
        (claim_with(b"\xff\xfe".to_vec(), key("b")), StatusCode::BAD_REQUEST, "invalid_json"),
        (claim_with(json_body(json!({"quantity": "one"})), key("c")), StatusCode::BAD_REQUEST, "invalid_request"),
        (claim_with(json_body(json!({"quantity": -1})), key("d")), StatusCode::BAD_REQUEST, "invalid_request"),
        (claim_with(json_body(json!({"quantity": 0})), key("e")), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            claim_with(json_body(json!({"quantity": 4_294_967_296u64})), key("f")),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            claim_with(json_body(json!({"quantity": 1, "extra": true})), key("g")),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (claim_with(json_body(json!([1])), key("h")), StatusCode::BAD_REQUEST, "invalid_request"),
        (claim_with(vec![b' '; 64 * 1024], key("i")), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (claim_with(json_body(json!({"quantity": 1})), None), StatusCode::BAD_REQUEST, "idempotency_key_required"),
        (
            claim_with(json_body(json!({"quantity": 1})), Some("k".repeat(256))),
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
        ),
        (claim_with(json_body(json!({"quantity": 1})), key("")), StatusCode::BAD_REQUEST, "invalid_idempotency_key"),
        (
            Raw { content_type: None, ..claim_with(json_body(json!({"quantity": 1})), key("j")) },
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Raw { token: Some("ldt_wrong"), ..claim_with(json_body(json!({"quantity": 1})), key("l")) },
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Raw { token: None, ..claim_with(json_body(json!({"quantity": 1})), key("m")) },
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Raw { token: Some(&fixture.creator), ..claim_with(json_body(json!({"quantity": 1})), key("n")) },
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            Raw { path: "/v1/drops/drop_zz/claims".into(), ..claim_with(json_body(json!({"quantity": 1})), key("o")) },
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Raw {
                path: "/v1/drops/drop_ff0000000999/claims".into(),
                ..claim_with(json_body(json!({"quantity": 1})), key("p"))
            },
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Raw { method: "PUT", ..claim_with(json_body(json!({"quantity": 1})), key("q")) },
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (claim_with(json_body(json!({"quantity": 4})), key("r")), StatusCode::CONFLICT, "limit_exceeded"),
    ];
    let creator_post = |path: &str, body: Value| Raw {
        method: "POST",
        path: path.to_owned(),
        token: Some(&fixture.creator),
        key: None,
        content_type: Some("application/json"),
        body: body.to_string().into_bytes(),
    };
    let drop_with = |fields: Value| {
        let mut body =
            json!({"product_id": fixture.product_id, "quantity": 1, "per_buyer_limit": 1, "hold_seconds": 60});
        body.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        creator_post(&drops, body)
    };
    let creator_cases: Vec<(Raw, StatusCode, &str)> = vec![
        (drop_with(json!({"quantity": 0})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"quantity": 11})), StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock"),
        (drop_with(json!({"hold_seconds": 1})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"per_buyer_limit": 0})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"opens_at": "tomorrow"})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"closes_at": "2001-01-01T00:00:00Z"})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"product_id": "prod_nope"})), StatusCode::BAD_REQUEST, "invalid_request"),
        (drop_with(json!({"product_id": "prod_000000000001"})), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            creator_post(
                "/v1/products",
                json!({"title": "x", "price_minor": -5, "currency": "EUR", "stock": 1, "fulfilment": "ship"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            creator_post(
                "/v1/products",
                json!({"title": "x", "price_minor": 5, "currency": "eur", "stock": 1, "fulfilment": "ship"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            creator_post(
                "/v1/products",
                json!({"title": "x", "price_minor": 5, "currency": "EUR", "stock": 1, "fulfilment": "teleport"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            creator_post(
                "/v1/products",
                json!({"title": "", "price_minor": 5, "currency": "EUR", "stock": 1, "fulfilment": "ship"}),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (creator_post("/v1/rooms", json!({"title": "t".repeat(201)})), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            creator_post("/v1/accounts", json!({"handle": "Bad Handle", "role": "buyer"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            creator_post("/v1/accounts", json!({"handle": "mallory", "role": "admin"})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            creator_post("/v1/accounts", json!({"handle": "buyer", "role": "buyer"})),
            StatusCode::CONFLICT,
            "handle_taken",
        ),
    ];
    for (raw, expected_status, expected_code) in cases.into_iter().chain(creator_cases) {
        let label = format!("{} {}", raw.method, raw.path);
        let (status, body) = send_raw(&server, raw).await;
        assert_eq!(status, expected_status, "{label}: {body}");
        assert_eq!(error_code(&body), expected_code, "{label}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()));
    }

    let after =
        (server.get(&format!("/v1/rooms/{}", fixture.room_id), None).await, server.get(&cart_path, Some(&buyer)).await);
    assert_eq!(before, after, "rejected requests changed nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_replays_and_mismatches() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(3, 3, 300).await;
    let buyer = server.account("buyer", "buyer").await;
    let other = server.account("other", "buyer").await;

    let (status, first) = server.claim(&buyer, &fixture.drop_id, "same-key", 1).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, replay) = server.claim(&buyer, &fixture.drop_id, "same-key", 1).await;
    assert_eq!((status, &replay), (StatusCode::CREATED, &first), "same key, same body: same answer");
    assert_eq!(server.drop_counters(&fixture.drop_id).await.1, 1, "a replay claims nothing");

    let (status, mismatch) = server.claim(&buyer, &fixture.drop_id, "same-key", 2).await;
    assert_eq!((status, error_code(&mismatch)), (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"));
    let (status, others) = server.claim(&other, &fixture.drop_id, "same-key", 1).await;
    assert_eq!(status, StatusCode::CREATED, "keys are scoped to their account: {others}");
    assert_ne!(others["hold_id"], first["hold_id"]);

    // A refusal is an answer too: replaying it answers the refusal, even once stock is back.
    let (status, sold_out) = server.claim(&other, &fixture.drop_id, "big", 2).await;
    assert_eq!((status, error_code(&sold_out)), (StatusCode::CONFLICT, "sold_out"));
    let (status, replayed) = server.claim(&other, &fixture.drop_id, "big", 2).await;
    assert_eq!((status, replayed), (StatusCode::CONFLICT, sold_out));
    assert_eq!(server.drop_counters(&fixture.drop_id).await, (1, 2, 0, "open".into()));

    // Creators' calls take an optional key: a retried drop creation allocates its stock once.
    let drops_path = format!("/v1/rooms/{}/drops", fixture.room_id);
    let drop = json!({"product_id": fixture.product_id, "quantity": 10, "per_buyer_limit": 1, "hold_seconds": 60});
    let (status, first_drop) = server.post(&drops_path, Some(&fixture.creator), Some("drop-2"), drop.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first_drop}");
    let (status, retried) = server.post(&drops_path, Some(&fixture.creator), Some("drop-2"), drop.clone()).await;
    assert_eq!((status, &retried), (StatusCode::CREATED, &first_drop));
    let (status, unkeyed) = server.post(&drops_path, Some(&fixture.creator), None, drop).await;
    assert_eq!(
        (status, error_code(&unkeyed)),
        (StatusCode::UNPROCESSABLE_ENTITY, "insufficient_stock"),
        "stock was taken once"
    );
    let (_, room) = server.get(&format!("/v1/rooms/{}", fixture.room_id), None).await;
    assert_eq!(room["drops"].as_array().unwrap().len(), 2);

    let (status, openapi) = server.get("/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/v1/accounts",
        "/v1/products",
        "/v1/rooms",
        "/v1/rooms/{id}",
        "/v1/rooms/{room_id}/drops",
        "/v1/drops/{id}",
        "/v1/drops/{id}/claims",
        "/v1/carts/{id}/checkout",
        "/v1/orders/{id}",
        "/v1/rooms/{id}/live",
        "/v1/orders/{id}/refunds",
        "/v1/refunds/{id}",
        "/v1/refunds/{id}/approve",
        "/v1/refunds/{id}/reject",
        "/v1/templates",
        "/v1/templates/{id}",
        "/v1/rooms/{room_id}/episodes",
        "/v1/episodes/{id}",
        "/v1/episodes/{id}/stage",
        "/v1/episodes/{id}/start",
        "/v1/episodes/{id}/end",
        "/v1/episodes/{id}/join",
        "/v1/episodes/{id}/raise-hand",
        "/v1/episodes/{id}/invite",
        "/v1/episodes/{id}/move-to-audience",
        "/v1/episodes/{id}/mute",
        "/v1/episodes/{id}/unmute",
        "/v1/episodes/{id}/remove",
        "/v1/episodes/{id}/moderators",
        "/v1/episodes/{id}/polls",
        "/v1/episodes/{id}/polls/{slot}/votes",
        "/v1/episodes/{id}/questions",
        "/v1/episodes/{id}/questions/{number}/upvote",
        "/v1/episodes/{id}/questions/{number}/answer",
        "/v1/episodes/{id}/questions/{number}/dismiss",
        "/v1/episodes/{id}/polls/{slot}/close",
        "/v1/episodes/{id}/rituals",
        "/v1/episodes/{id}/pin",
        "/v1/episodes/{id}/unpin",
        "/v1/episodes/{id}/demo",
        "/v1/episodes/{id}/demo/stop",
        "/healthz",
        "/metrics",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "openapi documents {path}");
    }
    // The document states the same bounds the domain enforces (utoipa takes only literals there).
    let schemas = &openapi["components"]["schemas"];
    let bound = |schema: &str, field: &str, key: &str| schemas[schema]["properties"][field][key].as_u64();
    assert_eq!(bound("CreateDropRequest", "quantity", "maximum"), Some(domain::DROP_QUANTITY_MAX));
    assert_eq!(bound("CreateDropRequest", "per_buyer_limit", "maximum"), Some(domain::PER_BUYER_LIMIT_MAX.into()));
    assert_eq!(bound("CreateDropRequest", "hold_seconds", "minimum"), Some(domain::HOLD_SECONDS_MIN));
    assert_eq!(bound("CreateDropRequest", "hold_seconds", "maximum"), Some(domain::HOLD_SECONDS_MAX));
    assert_eq!(bound("ClaimRequest", "quantity", "maximum"), Some(domain::PER_BUYER_LIMIT_MAX.into()));
    assert_eq!(bound("CreateProductRequest", "stock", "maximum"), Some(domain::PRODUCT_STOCK_MAX));
    assert_eq!(bound("CreateProductRequest", "price_minor", "maximum"), Some(domain::PRICE_MINOR_MAX as u64));
    assert_eq!(bound("CreateProductRequest", "title", "maxLength"), Some(domain::TITLE_CHARS_MAX as u64));
    assert_eq!(bound("CreateRoomRequest", "title", "maxLength"), Some(domain::TITLE_CHARS_MAX as u64));
    assert_eq!(bound("CreateAccountRequest", "handle", "minLength"), Some(domain::HANDLE_CHARS_MIN as u64));
    assert_eq!(bound("CreateAccountRequest", "handle", "maxLength"), Some(domain::HANDLE_CHARS_MAX as u64));
    assert_eq!(bound("CreateRefundRequest", "reason", "maxLength"), Some(domain::REFUND_REASON_CHARS_MAX as u64));
    assert_eq!(bound("RejectRefundRequest", "reason", "maxLength"), Some(domain::REFUND_REASON_CHARS_MAX as u64));
    assert_eq!(bound("RefundLineRequest", "quantity", "maximum"), Some(domain::PER_BUYER_LIMIT_MAX.into()));
    assert_eq!(bound("CreateTemplateRequest", "name", "maxLength"), Some(domain::TEMPLATE_NAME_CHARS_MAX as u64));
    assert_eq!(bound("CreateTemplateRequest", "slots", "maxItems"), Some(domain::TEMPLATE_SLOTS_MAX as u64));
    let demo_seconds = domain::DEMO_SECONDS_ALLOWED.map(u64::from);
    assert_eq!(bound("SlotBody", "seconds", "minimum"), demo_seconds.iter().min().copied());
    assert_eq!(bound("SlotBody", "seconds", "maximum"), demo_seconds.iter().max().copied());
    assert_eq!(bound("SlotBody", "question", "maxLength"), Some(domain::TITLE_CHARS_MAX as u64));
    assert_eq!(bound("SlotBody", "options", "minItems"), Some(domain::POLL_OPTIONS_MIN as u64));
    assert_eq!(bound("SlotBody", "options", "maxItems"), Some(domain::POLL_OPTIONS_MAX as u64));
    assert_eq!(bound("CreateEpisodeRequest", "title", "maxLength"), Some(domain::TITLE_CHARS_MAX as u64));
    assert_eq!(bound("VoteRequest", "option", "maximum"), Some(domain::POLL_OPTIONS_MAX as u64 - 1));
    assert_eq!(bound("AskRequest", "text", "maxLength"), Some(domain::QUESTION_CHARS_MAX as u64));
    assert_eq!(bound("DemoRequest", "seconds", "minimum"), demo_seconds.iter().min().copied());
    assert_eq!(bound("DemoRequest", "seconds", "maximum"), demo_seconds.iter().max().copied());
    assert_eq!(bound("StartPollRequest", "question", "maxLength"), Some(domain::TITLE_CHARS_MAX as u64));
    assert_eq!(bound("StartPollRequest", "options", "minItems"), Some(domain::POLL_OPTIONS_MIN as u64));
    assert_eq!(bound("StartPollRequest", "options", "maxItems"), Some(domain::POLL_OPTIONS_MAX as u64));
    let start_poll = &openapi["paths"]["/v1/episodes/{id}/polls"]["post"];
    assert!(start_poll.is_object(), "starting a live poll is documented beside the list");
    // Live poll slots are documented as 1000 + n: the constant the domain numbers them from.
    assert_eq!(domain::LIVE_POLL_SLOT_FIRST, 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_refund_input_gets_a_clear_4xx_and_changes_nothing() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(10, 3, 300).await;
    let buyer = server.account("buyer", "buyer").await;
    let (_, claim) = server.claim(&buyer, &fixture.drop_id, "claim", 1).await;
    let checkout = format!("/v1/carts/{}/checkout", claim["cart_id"].as_str().unwrap());
    let (status, order) =
        server.post(&checkout, Some(&buyer), Some("pay"), json!({"payment_method": "pm_card_visa"})).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let refunds = format!("/v1/orders/{}/refunds", order["order_id"].as_str().unwrap());
    let hold_id = order["lines"][0]["hold_id"].as_str().unwrap();
    let other_hold = format!("hold_{}", &"ff0000000999");
    let before = (server.get(&refunds, Some(&buyer)).await, server.drop_counters(&fixture.drop_id).await);

    let refund_with = |body: Vec<u8>, key: &str| Raw {
        method: "POST",
        path: refunds.clone(),
        token: Some(&buyer),
        key: Some(key.to_owned()),
        content_type: Some("application/json"),
        body,
    };
    let json_body = |value: Value| value.to_string().into_bytes();
    let line = |hold: &str, quantity: i64| json!({"lines": [{"hold_id": hold, "quantity": quantity}], "reason": "r"});
    let cases: Vec<(Raw, StatusCode, &str)> = vec![
        (refund_with(b"{\"reason\": ".to_vec(), "a"), StatusCode::BAD_REQUEST, "invalid_json"),
        (refund_with(json_body(json!({"reason": 5})), "b"), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            refund_with(json_body(json!({"reason": "r", "amount_minor": 1})), "c"),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (refund_with(json_body(json!({"reason": " "})), "d"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(json!({"reason": "r".repeat(501)})), "e"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(json!({"lines": [], "reason": "r"})), "f"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(line(hold_id, 0)), "g"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(line(hold_id, -1)), "h"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(line("hold_zz", 1)), "i"), StatusCode::BAD_REQUEST, "invalid_request"),
        (refund_with(json_body(line(&other_hold, 1)), "j"), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            refund_with(
                json_body(
                    json!({"lines": [{"hold_id": hold_id, "quantity": 1}, {"hold_id": hold_id, "quantity": 1}], "reason": "r"}),
                ),
                "k",
            ),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (refund_with(json_body(line(hold_id, 2)), "l"), StatusCode::CONFLICT, "refund_exceeds_paid"),
        (
            Raw { key: None, ..refund_with(json_body(json!({"reason": "r"})), "m") },
            StatusCode::BAD_REQUEST,
            "idempotency_key_required",
        ),
        (
            Raw { token: None, ..refund_with(json_body(json!({"reason": "r"})), "n") },
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Raw { content_type: Some("text/plain"), ..refund_with(json_body(json!({"reason": "r"})), "o") },
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            Raw { path: "/v1/orders/ord_zz/refunds".into(), ..refund_with(json_body(json!({"reason": "r"})), "p") },
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Raw { path: "/v1/refunds/rf_000000000099/approve".into(), ..refund_with(Vec::new(), "q") },
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            Raw { path: "/v1/refunds/rf_000000000099/reject".into(), ..refund_with(json_body(json!({})), "r") },
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Raw { method: "PUT", ..refund_with(json_body(json!({"reason": "r"})), "s") },
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ];
    for (raw, expected_status, expected_code) in cases {
        let label = format!("{} {} {:?}", raw.method, raw.path, String::from_utf8_lossy(&raw.body));
        let (status, body) = send_raw(&server, raw).await;
        assert_eq!(status, expected_status, "{label}: {body}");
        assert_eq!(error_code(&body), expected_code, "{label}: {body}");
    }
    let after = (server.get(&refunds, Some(&buyer)).await, server.drop_counters(&fixture.drop_id).await);
    assert_eq!(before, after, "rejected refund requests changed nothing");
    assert!(server.payments.refunds().is_empty());
    assert_eq!(after.0.1["refunds"], json!([]));
}
