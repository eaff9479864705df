//! The host's rituals in a live episode: the pinned drop (the buy slot) and the demo window. An
//! ended episode keeps its last ones, read-only.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{body_id, path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, EpisodeId, Reply};
use utoipa::OpenApi;
use wire::{DemoBody, DemoRequest, PinBody, PinRequest, RitualsBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/episodes/{id}/rituals", get(get_rituals))
        .route("/v1/episodes/{id}/pin", post(pin))
        .route("/v1/episodes/{id}/unpin", post(unpin))
        .route("/v1/episodes/{id}/demo", post(start_demo))
        .route("/v1/episodes/{id}/demo/stop", post(stop_demo))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_rituals, pin, unpin, start_demo, stop_demo),
    components(schemas(PinRequest, DemoRequest, PinBody, DemoBody, RitualsBody))
)]
pub(crate) struct RitualsApi;

#[utoipa::path(get, path = "/v1/episodes/{id}/rituals", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "the pinned drop and the last demo window (`null` when none); an ended episode keeps its last ones", body = RitualsBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_rituals(
    State(app): State<AppState>,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).map(RitualsBody::from));
    let (rituals, _) = read.await?;
    Ok(Json(rituals.ok_or_else(ApiError::not_found)?).into_response())
}

/// Runs a ritual (pin, unpin, demo) and answers the episode's rituals as they are after it.
async fn change_rituals(app: &AppState, envelope: Envelope) -> Result<Response, ApiError> {
    match app.engine.execute(envelope).await? {
        Ok(Reply::Episode(episode)) => Ok(Json(RitualsBody::from(&*episode)).into_response()),
        other => Ok(render(other, StatusCode::OK)),
    }
}

#[utoipa::path(post, path = "/v1/episodes/{id}/pin", tag = "rooms", request_body = PinRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the rituals, with the drop pinned as the buy slot (replacing any other pin; pinning it again changes nothing)", body = RitualsBody),
        (status = 400, description = "invalid_request (a malformed id, or a drop of another room)", body = ErrorBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, description = "no such episode or drop", body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn pin(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<PinRequest>,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let drop_id = body_id("drop_id", &request.drop_id)?;
    change_rituals(&app, Envelope::plain(Command::PinDrop { actor, episode_id, drop_id })).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/unpin", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the rituals, with nothing pinned (unpinning again changes nothing)", body = RitualsBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn unpin(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    change_rituals(&app, Envelope::plain(Command::UnpinDrop { actor, episode_id })).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/demo", tag = "rooms", request_body = DemoRequest,
    params(("id" = String, Path, description = "episode id"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 200, description = "the rituals, with the demo running from now (`started_at`) to `ends_at` = started_at + seconds", body = RitualsBody),
        (status = 400, description = "invalid_request (seconds, or not a product of the room's creator)", body = ErrorBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "demo_running (stop it first) or episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn start_demo(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<DemoRequest>,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let product_id = body_id("product_id", &request.product_id)?;
    // Keyed: starting a demo is not idempotent by itself (a retry would meet its own demo running).
    let idempotency = key.bind(actor.id, &format!("/v1/episodes/{episode_id}/demo"), &request);
    let command = Command::StartDemo { actor, episode_id, product_id, seconds: request.seconds };
    change_rituals(&app, Envelope { idempotency, command }).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/demo/stop", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the rituals, with the running demo ended now (`ends_at`); with none running nothing changes", body = RitualsBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn stop_demo(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    change_rituals(&app, Envelope::plain(Command::StopDemo { actor, episode_id })).await
}
