//! The stage of an episode: its members' roles (host, moderators, speakers, listeners), raised
//! hands, mutes and bans. Every action answers the whole stage as it is after it.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{body_id, path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{AccountId, Actor, Command, Envelope, EpisodeId, Reply, StageAction};
use utoipa::OpenApi;
use wire::{StageBody, StageMemberBody, StageTargetRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/episodes/{id}/stage", get(get_stage))
        .route("/v1/episodes/{id}/join", post(join))
        .route("/v1/episodes/{id}/raise-hand", post(raise_hand))
        .route("/v1/episodes/{id}/invite", post(invite))
        .route("/v1/episodes/{id}/move-to-audience", post(move_to_audience))
        .route("/v1/episodes/{id}/mute", post(mute))
        .route("/v1/episodes/{id}/unmute", post(unmute))
        .route("/v1/episodes/{id}/remove", post(remove))
        .route("/v1/episodes/{id}/moderators", post(appoint_moderator))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_stage, join, raise_hand, invite, move_to_audience, mute, unmute, remove, appoint_moderator),
    components(schemas(StageTargetRequest, StageMemberBody, StageBody))
)]
pub(crate) struct StageApi;

#[utoipa::path(get, path = "/v1/episodes/{id}/stage", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "roles, raised hands, muted and banned members, and who may publish audio", body = StageBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_stage(State(app): State<AppState>, ApiPath(episode_id): ApiPath) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).map(StageBody::from));
    let (stage, _) = read.await?;
    Ok(Json(stage.ok_or_else(ApiError::not_found)?).into_response())
}

/// Runs a stage action and answers the whole stage as it is after it. Stage actions take no
/// idempotency key: each one sets a state, so a retry changes nothing more.
async fn change_stage(
    app: &AppState,
    actor: Actor,
    episode_id: &str,
    action: StageAction,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(episode_id)?;
    let command = Command::ChangeStage { actor, episode_id, action };
    match app.engine.execute(Envelope::plain(command)).await? {
        Ok(Reply::Episode(episode)) => Ok(Json(StageBody::from(&*episode)).into_response()),
        other => Ok(render(other, StatusCode::OK)),
    }
}

fn target(request: &StageTargetRequest) -> Result<AccountId, ApiError> {
    body_id("account_id", &request.account_id)
}

#[utoipa::path(post, path = "/v1/episodes/{id}/join", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the caller as a listener (joining again changes nothing)", body = StageBody),
        (status = 403, description = "banned_from_episode: removed from this episode", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "episode_not_live, episode_ended or episode_full", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn join(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::Join).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/raise-hand", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the stage; a listener's hand is raised until invited or moved to the audience", body = StageBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn raise_hand(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::RaiseHand).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/invite", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the listener now a speaker", body = StageBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn invite(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::Invite(target(&request)?)).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/move-to-audience", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the member a listener again (hand lowered); members may step down themselves", body = StageBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn move_to_audience(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::MoveToAudience(target(&request)?)).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/mute", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the member muted: they may not publish until unmuted", body = StageBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn mute(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::Mute(target(&request)?)).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/unmute", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the member unmuted", body = StageBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn unmute(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::Unmute(target(&request)?)).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/remove", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage without the member, who is banned from joining this episode again", body = StageBody),
        (status = 400, description = "invalid_request (also: the episode's ban list is full)", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn remove(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::Remove(target(&request)?)).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/moderators", tag = "rooms", request_body = StageTargetRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 200, description = "the stage, with the member a moderator (on stage, and controls speakers and listeners)", body = StageBody),
        (status = 403, description = "forbidden: the host only", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn appoint_moderator(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::AppointModerator(target(&request)?)).await
}
