//! Bearer tokens over HTTP: rotation (issue, switch, revoke the old one, refused at once), expiry
//! by the engine's clock, listings without secrets, other accounts' tokens, validation, the limit,
//! keyed retries, and revocations that outlive a restart.

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TOKENS: &str = "/v1/accounts/me/tokens";

async fn issue(server: &TestServer, token: &str, body: Value) -> Value {
    let (status, issued) = server.post(TOKENS, Some(token), None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    issued
}

fn secret(issued: &Value) -> String {
    issued["token"].as_str().unwrap_or_else(|| panic!("no secret in {issued}")).to_owned()
}

async fn revoke(server: &TestServer, token: &str, id: &str) -> (StatusCode, Value) {
    server.send("DELETE", &format!("{TOKENS}/{id}"), Some(token), None, None).await
}

/// The caller's own account id, or the 401 error code.
async fn me(server: &TestServer, token: &str) -> Result<String, String> {
    let (status, body) = server.get("/v1/accounts/me", Some(token)).await;
    match status {
        StatusCode::OK => Ok(body["id"].as_str().unwrap().to_owned()),
        StatusCode::UNAUTHORIZED => Err(error_code(&body).to_owned()),
        other => panic!("{other}: {body}"),
    }
}

async fn list(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = server.get(TOKENS, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tokens"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_rotated_and_the_revoked_one_is_refused_at_once() {
    let server = TestServer::start(Options::default()).await;
    let first = server.account("ana", "creator").await;
    let ana = me(&server, &first).await.unwrap();

    let issued = issue(&server, &first, json!({})).await;
    let second = secret(&issued);
    assert!(second.starts_with("ldt_") && second != first, "{issued}");
    assert!(issued["id"].as_str().unwrap().starts_with("tok_"), "{issued}");
    assert!(issued["created_at"].is_string() && issued["expires_at"].is_null(), "{issued}");
    assert_eq!(me(&server, &first).await, Ok(ana.clone()));
    assert_eq!(me(&server, &second).await, Ok(ana.clone()));

    // The sign-up token is listed first, with the account's own entity id.
    let tokens = list(&server, &second).await;
    assert_eq!(tokens.len(), 2, "{tokens:?}");
    let sign_up_id = tokens[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sign_up_id, format!("tok_{}", &ana["acct_".len()..]));
    assert_eq!((tokens[0]["current"].as_bool(), tokens[1]["current"].as_bool()), (Some(false), Some(true)));
    assert_eq!(tokens[1]["id"], issued["id"]);

    let (status, revoked) = revoke(&server, &second, &sign_up_id).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["id"].as_str(), Some(sign_up_id.as_str()));
    assert!(revoked["revoked_at"].is_string() && revoked["current"] == json!(false), "{revoked}");
    assert_eq!(me(&server, &first).await, Err("unauthorized".to_owned()), "refused on the very next request");
    let (status, body) = server.post("/v1/rooms", Some(&first), None, json!({"title": "Launch night"})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(me(&server, &second).await, Ok(ana.clone()));
    let (status, room) = server.post("/v1/rooms", Some(&second), None, json!({"title": "Launch night"})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");

    // Revoking it again answers it unchanged.
    let (status, again) = revoke(&server, &second, &sign_up_id).await;
    assert_eq!((status, &again), (StatusCode::OK, &revoked));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_an_expiry_stops_working_once_the_clock_passes_it() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let first = server.account("ana", "buyer").await;
    let issued = issue(&server, &first, json!({"expires_in_seconds": 60})).await;
    let brief = secret(&issued);
    assert!(issued["expires_at"].is_string(), "{issued}");
    let ana = me(&server, &first).await.unwrap();
    assert_eq!(me(&server, &brief).await, Ok(ana.clone()));
    clock.advance_ms(59_999);
    assert_eq!(me(&server, &brief).await, Ok(ana.clone()));
    clock.advance_ms(1);
    assert_eq!(me(&server, &brief).await, Err("unauthorized".to_owned()));
    assert_eq!(me(&server, &first).await, Ok(ana), "the sign-up token does not expire");
    let tokens = list(&server, &first).await;
    assert_eq!(tokens[1]["expires_at"], issued["expires_at"]);
    assert!(tokens[1]["revoked_at"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_never_shows_a_secret() {
    let server = TestServer::start(Options::default()).await;
    let first = server.account("ana", "buyer").await;
    let second = secret(&issue(&server, &first, json!({"expires_in_seconds": 3_600})).await);
    let (status, body) = server.get(TOKENS, Some(&second)).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.to_string();
    for secret in [&first, &second] {
        assert!(!text.contains(secret.as_str()), "{text}");
        assert!(!text.contains(&engine::token_sha256(secret)), "nor its hash: {text}");
    }
    for token in body["tokens"].as_array().unwrap() {
        let mut fields: Vec<&str> = token.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["created_at", "current", "expires_at", "id", "revoked_at"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_account_cannot_revoke_a_token() {
    let server = TestServer::start(Options::default()).await;
    let ana = server.account("ana", "buyer").await;
    let bob = server.account("bob", "buyer").await;
    let issued = issue(&server, &ana, json!({})).await;
    let id = issued["id"].as_str().unwrap();
    let (status, body) = revoke(&server, &bob, id).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    let sign_up_id = list(&server, &ana).await[0]["id"].as_str().unwrap().to_owned();
    let (status, body) = revoke(&server, &bob, &sign_up_id).await;
    assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{body}");
    for unknown in ["tok_000000000fff", "nonsense"] {
        let (status, body) = revoke(&server, &ana, unknown).await;
        assert_eq!((status, error_code(&body)), (StatusCode::NOT_FOUND, "not_found"), "{unknown}: {body}");
    }
    assert!(me(&server, &secret(&issued)).await.is_ok());
    assert!(list(&server, &bob).await.iter().all(|token| token["id"].as_str() != Some(id)));
    let (status, body) = revoke(&server, ADMIN_TOKEN, id).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"), "{body}");
    let (status, body) = server.post(TOKENS, None, None, json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::UNAUTHORIZED, "unauthorized"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lifetimes_are_refused_and_the_limit_is_a_conflict() {
    let server = TestServer::start(Options::default()).await;
    let ana = server.account("ana", "buyer").await;
    for body in [json!({"expires_in_seconds": 0}), json!({"expires_in_seconds": 31_622_401}), json!({"scope": "x"})] {
        let (status, error) = server.post(TOKENS, Some(&ana), None, body.clone()).await;
        assert_eq!((status, error_code(&error)), (StatusCode::BAD_REQUEST, "invalid_request"), "{body}: {error}");
    }
    issue(&server, &ana, json!({"expires_in_seconds": 31_622_400})).await;
    // The sign-up token and the one above count: 18 more reach the limit of 20.
    let mut last = String::new();
    for _ in 0..domain::ACCOUNT_TOKENS_MAX - 2 {
        last = issue(&server, &ana, json!({})).await["id"].as_str().unwrap().to_owned();
    }
    let (status, error) = server.post(TOKENS, Some(&ana), None, json!({})).await;
    assert_eq!((status, error_code(&error)), (StatusCode::CONFLICT, "too_many_tokens"), "{error}");
    let (status, _) = revoke(&server, &ana, &last).await;
    assert_eq!(status, StatusCode::OK);
    issue(&server, &ana, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_retry_answers_the_first_token_without_its_secret() {
    let server = TestServer::start(Options::default()).await;
    let ana = server.account("ana", "buyer").await;
    let (status, first) = server.post(TOKENS, Some(&ana), Some("rotate-1"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, retry) = server.post(TOKENS, Some(&ana), Some("rotate-1"), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{retry}");
    assert_eq!(retry["id"], first["id"]);
    assert!(retry.get("token").is_none(), "{retry}");
    assert_eq!(list(&server, &ana).await.len(), 2, "one token issued");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stays_revoked_after_a_restart() {
    let server = TestServer::start(Options::default()).await;
    let first = server.account("ana", "buyer").await;
    let issued = issue(&server, &first, json!({})).await;
    let second = secret(&issued);
    let third = secret(&issue(&server, &first, json!({"expires_in_seconds": 3_600})).await);
    let (status, _) = revoke(&server, &first, issued["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(me(&server, &second).await.is_err());

    let server = server.restart().await;
    assert_eq!(me(&server, &second).await, Err("unauthorized".to_owned()), "still revoked");
    let ana = me(&server, &first).await.unwrap();
    assert_eq!(me(&server, &third).await, Ok(ana));
    let tokens = list(&server, &third).await;
    assert_eq!(tokens.len(), 3);
    assert!(tokens[1]["revoked_at"].is_string() && tokens[2]["current"] == json!(true), "{tokens:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_calls_are_documented() {
    let server = TestServer::start(Options::default()).await;
    let (status, openapi) = server.get("/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = &openapi["paths"];
    for (path, method) in [(TOKENS, "post"), (TOKENS, "get"), ("/v1/accounts/me/tokens/{id}", "delete")] {
        assert!(paths[path][method].is_object(), "openapi documents {method} {path}");
    }
    let lifetime = &openapi["components"]["schemas"]["IssueTokenRequest"]["properties"]["expires_in_seconds"];
    assert_eq!(lifetime["maximum"].as_u64(), Some(domain::TOKEN_LIFETIME_MS_MAX as u64 / 1_000), "{lifetime}");
    assert_eq!(lifetime["minimum"].as_u64(), Some(1), "{lifetime}");
}
