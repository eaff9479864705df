//! Operations: health, metrics, this API's OpenAPI document, and the JSON answers for unknown routes
//! and methods.

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::RateLimited;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

#[derive(OpenApi)]
#[openapi(paths(healthz, metrics, openapi))]
pub(crate) struct OpsApi;

#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "serving"), (status = 503, description = "the journal failed")))]
pub(crate) async fn healthz(State(app): State<AppState>) -> Response {
    if app.engine.is_healthy() {
        Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the journal failed; restart the server")
            .into_response()
    }
}

#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
pub(crate) async fn metrics(State(app): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations", responses((status = 200, description = "this document"), RateLimited))]
pub(crate) async fn openapi() -> Response {
    Json(crate::openapi::ApiDoc::openapi()).into_response()
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}
