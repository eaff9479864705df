//! Rate limits answer 429 `rate_limited` with Retry-After and do not touch other accounts.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_account_is_limited_and_told_when_to_retry() {
    let server = TestServer::start(Options { rate_limit_per_account: 2, ..Options::default() }).await;
    let busy = server.account("busy", "buyer").await;
    let calm = server.account("calm", "buyer").await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let response =
            server.client.get(format!("{}/v1/accounts/me", server.base)).bearer_auth(&busy).send().await.unwrap();
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!(retry_after >= 1);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "rate_limited");
        }
        statuses.push(status);
    }
    assert!(
        statuses.iter().filter(|status| **status == StatusCode::OK).count() >= 4,
        "the burst is allowed: {statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "then the limit applies: {statuses:?}");
    let (status, _) = server.get("/v1/accounts/me", Some(&calm)).await;
    assert_eq!(status, StatusCode::OK, "other accounts are not affected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_ip_is_limited_but_health_checks_are_not() {
    let server = TestServer::start(Options { rate_limit_per_ip: 2, ..Options::default() }).await;
    let mut n_limited = 0;
    for _ in 0..10 {
        let response = server.client.get(format!("{}/v1/openapi.json", server.base)).send().await.unwrap();
        n_limited += usize::from(response.status() == StatusCode::TOO_MANY_REQUESTS);
    }
    assert!(n_limited > 0, "the per-IP limit applies");
    for path in ["/healthz", "/metrics"] {
        let response = server.client.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path} is never limited");
    }
}

/// Sign-ups are limited for all callers together: new addresses do not buy new accounts.
#[tokio::test]
async fn sign_ups_are_limited_across_addresses() {
    let server = TestServer::start(Options { signups_per_second: 1, ..Options::default() }).await;
    let mut statuses = Vec::new();
    for (idx, source) in ["127.0.0.1", "127.0.0.2", "127.0.0.3"].into_iter().enumerate() {
        let client = reqwest::Client::builder().local_address(source.parse::<std::net::IpAddr>().unwrap()).build();
        let body = serde_json::json!({"handle": format!("newcomer{idx}"), "role": "buyer"});
        let response = client.unwrap().post(format!("{}/v1/accounts", server.base)).json(&body).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    // A burst of two, then 429 for the third, from an address never seen before.
    assert_eq!(statuses, vec![201, 201, 429]);
}

/// One address has its own share of sign-ups, so it cannot use up everyone's.
#[tokio::test]
async fn one_address_cannot_take_every_sign_up() {
    let server = TestServer::start(Options { signups_per_second: 1_000, ..Options::default() }).await;
    let mut statuses = Vec::new();
    for idx in 0..11 {
        let body = serde_json::json!({"handle": format!("eager{idx}"), "role": "buyer"});
        let response = server.client.post(format!("{}/v1/accounts", server.base)).json(&body).send().await.unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses[..10], [201; 10]);
    assert_eq!(statuses[10], 429, "the eleventh sign-up in a minute from one address");
    let client = reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build();
    let body = serde_json::json!({"handle": "other_place", "role": "buyer"});
    let response = client.unwrap().post(format!("{}/v1/accounts", server.base)).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "another address still signs up");
}
