//! The front speaks HTTP/2 without TLS (prior knowledge) beside HTTP/1.1, as a proxy in front of it
//! may: the same routes, answers and refusals, many requests multiplexed on one connection.

use crate::harness::{Options, TestServer, error_code};
use reqwest::{StatusCode, Version};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_clients_get_the_same_answers_on_one_connection() {
    let server = TestServer::start(Options::default()).await;
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let created = h2
        .post(format!("{}/v1/accounts", server.base))
        .json(&json!({"handle": "over_h2", "role": "buyer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.version(), Version::HTTP_2);
    assert_eq!(created.status(), StatusCode::CREATED);
    let token = created.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();

    // Concurrent requests share the connection; each gets its own answer.
    let reads = (0..32).map(|_| h2.get(format!("{}/v1/accounts/me", server.base)).bearer_auth(&token).send());
    for answer in futures_util::future::join_all(reads).await {
        let answer = answer.unwrap();
        assert_eq!((answer.version(), answer.status()), (Version::HTTP_2, StatusCode::OK));
        assert_eq!(answer.json::<Value>().await.unwrap()["handle"], "over_h2");
    }

    // Bad input is refused the same way, and changes nothing.
    let refused = h2
        .post(format!("{}/v1/accounts", server.base))
        .header("content-type", "application/json")
        .body("{\"handle\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&refused.json::<Value>().await.unwrap()), "invalid_json");
    let (status, me) = server.get("/v1/accounts/me", Some(&token)).await;
    assert_eq!((status, me["handle"].as_str()), (StatusCode::OK, Some("over_h2")), "HTTP/1.1 sees the same account");
}
