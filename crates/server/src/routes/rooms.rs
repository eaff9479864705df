//! Room templates and episodes: a creator saves templates, schedules a room's episodes, starts and
//! ends them. An episode's stage, polls, Q&A queue and rituals have modules of their own. Everything
//! here lives in the creator's partition: a template in its creator's, an episode in its room's, so
//! each call goes to one shard.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use crate::wire::parse_rfc3339;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, EpisodeId, RoomId, TemplateId};
use utoipa::OpenApi;
use wire::{CreateEpisodeRequest, CreateTemplateRequest, EpisodeBody, SlotBody, SlotKind, TemplateBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/templates", post(create_template))
        .route("/v1/templates/{id}", get(get_template))
        .route("/v1/rooms/{id}/episodes", post(create_episode))
        .route("/v1/episodes/{id}", get(get_episode))
        .route("/v1/episodes/{id}/start", post(start_episode))
        .route("/v1/episodes/{id}/end", post(end_episode))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_template, get_template, create_episode, get_episode, start_episode, end_episode),
    components(schemas(SlotKind, SlotBody, CreateTemplateRequest, TemplateBody, CreateEpisodeRequest, EpisodeBody))
)]
pub(crate) struct RoomsApi;

#[utoipa::path(post, path = "/v1/templates", tag = "rooms", request_body = CreateTemplateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 201, description = "the saved version: 1 for a new name, else the name's next version", body = TemplateBody),
        (status = 400, description = "invalid_request (slot fields, counts, demo length, poll options, not your product)", body = ErrorBody),
        (status = 403, description = "forbidden: creators only", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_template(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiJson(request): ApiJson<CreateTemplateRequest>,
) -> Result<Response, ApiError> {
    let slots = request.slots.iter().enumerate().map(|(slot_idx, slot)| slot.to_slot(slot_idx));
    let slots = slots.collect::<Result<Vec<_>, _>>()?;
    let idempotency = key.bind(actor.id, "/v1/templates", &request);
    let command = Command::SaveTemplate { actor, name: request.name, slots };
    // Answered as saved (its own version is the newest then), so a replay under the key is the same bytes.
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/templates/{id}", tag = "rooms", params(("id" = String, Path, description = "template id (one version)")),
    security(("bearer" = [])),
    responses((status = 200, body = TemplateBody),
        (status = 404, description = "no such template, or not the caller's", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_template(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(template_id): ApiPath,
) -> Result<Response, ApiError> {
    let template_id: TemplateId = path_id(&template_id)?;
    let read = app.engine.read(template_id.partition(), move |state| {
        let template = state.template(template_id).filter(|template| template.creator_id == actor.id)?;
        Some(TemplateBody::of(template, state.latest_template_version(template)))
    });
    let (template, _) = read.await?;
    Ok(Json(template.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(post, path = "/v1/rooms/{room_id}/episodes", tag = "rooms", request_body = CreateEpisodeRequest,
    params(("room_id" = String, Path, description = "room id"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 201, description = "the episode, `scheduled`", body = EpisodeBody),
        (status = 400, description = "invalid_request (title, starts_at, ends_at, too many episodes)", body = ErrorBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_episode(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(room_id): ApiPath,
    ApiJson(request): ApiJson<CreateEpisodeRequest>,
) -> Result<Response, ApiError> {
    let room_id: RoomId = path_id(&room_id)?;
    let starts_at = parse_rfc3339("starts_at", &request.starts_at)?;
    let ends_at = request.ends_at.as_deref().map(|text| parse_rfc3339("ends_at", text)).transpose()?;
    let idempotency = key.bind(actor.id, &format!("/v1/rooms/{room_id}/episodes"), &request);
    let command = Command::ScheduleEpisode { actor, room_id, title: request.title, starts_at, ends_at };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/episodes/{id}", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, body = EpisodeBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_episode(
    State(app): State<AppState>,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).map(EpisodeBody::from));
    let (episode, _) = read.await?;
    Ok(Json(episode.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(post, path = "/v1/episodes/{id}/start", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the episode, `live`, with the host on stage (starting a live episode again answers it)", body = EpisodeBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "episode_already_live (another episode of the room), episode_ended, or episode_over (its ends_at has passed)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn start_episode(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/episodes/{episode_id}/start"), &());
    let command = Command::StartEpisode { actor, episode_id };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/episodes/{id}/end", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the episode, `ended` (a scheduled one is cancelled; ending again answers it)", body = EpisodeBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn end_episode(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/episodes/{episode_id}/end"), &());
    let command = Command::EndEpisode { actor, episode_id };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}
