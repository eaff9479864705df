//! The HTTP front without a socket: `Server::router` answers requests handed to it in process.

use crate::harness::{Options, TestServer};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use server::{Server, ServerConfig};
use tower::ServiceExt;

/// Bodies here are small JSON objects.
const BODY_BYTES_MAX: usize = 4_096;

async fn call(router: axum::Router, path: &str) -> (StatusCode, Value) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), BODY_BYTES_MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_in_process() {
    let server = TestServer::start(Options::default()).await;
    // Connection limits apply to `serve` only, not to requests handed to the router.
    let connections = server::ConnectionLimits::default();
    let config = ServerConfig {
        rate_limit_per_ip: 0,
        rate_limit_per_account: 0,
        signups_per_second: 0,
        media: None,
        connections,
    };
    // A second front on the test server's engine; it stays alive while its router is used.
    let front = Server::new(server.engine.clone(), &config);
    let router = front.router();

    assert_eq!(call(router.clone(), "/healthz").await, (StatusCode::OK, json!({"status": "ok"})));
    let not_found = json!({"error": {"code": "not_found", "message": "no such route"}});
    assert_eq!(call(router, "/v1/no-such-route").await, (StatusCode::NOT_FOUND, not_found));
}
