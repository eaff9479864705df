//! An episode's polls: the room's poll slots and the polls started live, their votes, and closing
//! them.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiPathPair, Authenticated, OptionalIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, EpisodeId};
use utoipa::OpenApi;
use wire::{PollBody, PollsBody, StartPollRequest, VoteRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/episodes/{id}/polls", get(get_polls).post(start_poll))
        .route("/v1/episodes/{id}/polls/{slot}/votes", post(vote))
        .route("/v1/episodes/{id}/polls/{slot}/close", post(close_poll))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_polls, vote, start_poll, close_poll),
    components(schemas(StartPollRequest, VoteRequest, PollBody, PollsBody))
)]
pub(crate) struct PollsApi;

#[utoipa::path(get, path = "/v1/episodes/{id}/polls", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "every poll slot of the episode's room, then the polls started live in the episode, with their tallies in this episode and whether they are open", body = PollsBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_polls(State(app): State<AppState>, ApiPath(episode_id): ApiPath) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| {
        state.poll_tallies(episode_id).map(|tallies| PollsBody { polls: tallies.iter().map(PollBody::from).collect() })
    });
    let (polls, _) = read.await?;
    Ok(Json(polls.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(post, path = "/v1/episodes/{id}/polls/{slot}/votes", tag = "rooms", request_body = VoteRequest,
    params(("id" = String, Path, description = "episode id"), ("slot" = u32, Path, description = "the poll's index among the room's slots, or 1000 + n for the episode's n-th live poll")),
    security(("bearer" = [])),
    responses((status = 201, description = "the poll's tallies with the vote counted", body = PollBody),
        (status = 400, description = "invalid_request (no such option)", body = ErrorBody),
        (status = 404, description = "no such episode, or that slot is not a poll", body = ErrorBody),
        (status = 409, description = "already_voted (one vote per account), poll_closed, not_in_episode (join first), episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn vote(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPathPair(episode_id, slot): ApiPathPair,
    ApiJson(request): ApiJson<VoteRequest>,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let slot: u32 = path_id(&slot)?;
    let command = Command::VotePoll { actor, episode_id, slot, option: request.option };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::CREATED))
}

#[utoipa::path(post, path = "/v1/episodes/{id}/polls", tag = "rooms", request_body = StartPollRequest,
    params(("id" = String, Path, description = "episode id"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 201, description = "the new live poll, open, numbered 1000 + n (n live polls before it in the episode); members vote in it as in the room's polls", body = PollBody),
        (status = 400, description = "invalid_request (question, options, or the episode has 50 live polls)", body = ErrorBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn start_poll(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StartPollRequest>,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/episodes/{episode_id}/polls"), &request);
    let command = Command::StartPoll { actor, episode_id, question: request.question, options: request.options };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(post, path = "/v1/episodes/{id}/polls/{slot}/close", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("slot" = u32, Path, description = "a template poll's slot or a live poll's (1000 + n)")),
    security(("bearer" = [])),
    responses((status = 200, description = "the poll, closed (`open: false`): further votes get 409 poll_closed; closing again changes nothing", body = PollBody),
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, description = "no such episode, or that slot is not a poll", body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn close_poll(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPathPair(episode_id, slot): ApiPathPair,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let slot: u32 = path_id(&slot)?;
    let command = Command::ClosePoll { actor, episode_id, slot };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::OK))
}
