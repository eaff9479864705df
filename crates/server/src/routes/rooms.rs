//! Room templates, episodes, the stage of a live episode, its polls and Q&A queue, and the host's
//! rituals (the pinned drop, the demo window, live polls). Everything here lives in the creator's
//! partition: a template in its creator's, an episode in its room's, so each call goes to one shard.

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiPathPair, Authenticated, OptionalIdempotencyKey};
use crate::routes::{body_id, path_id, render};
use crate::wire::{
    AskRequest, CreateEpisodeRequest, CreateTemplateRequest, DemoRequest, EpisodeBody, PinRequest, PollBody, PollsBody,
    QuestionBody, QuestionsBody, RitualsBody, StageBody, StageTargetRequest, StartPollRequest, TemplateBody,
    VoteRequest, parse_rfc3339,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{AccountId, Actor, Command, Envelope, EpisodeId, Reply, RoomId, StageAction, TemplateId};

#[utoipa::path(post, path = "/v1/templates", tag = "rooms", request_body = CreateTemplateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 201, description = "the saved version: 1 for a new name, else the name's next version", body = TemplateBody),
        (status = 400, description = "invalid_request (slot fields, counts, demo length, poll options, not your product), invalid_json or invalid_idempotency_key", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: creators only", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
    responses((status = 200, body = TemplateBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "no such template, or not the caller's", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (title, starts_at, ends_at, too many episodes), invalid_json or invalid_idempotency_key", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: only the room's creator", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
    responses((status = 200, body = EpisodeBody), (status = 404, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn get_episode(
    State(app): State<AppState>,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).map(EpisodeBody::from));
    let (episode, _) = read.await?;
    Ok(Json(episode.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(get, path = "/v1/episodes/{id}/stage", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "roles, raised hands, muted and banned members, and who may publish audio", body = StageBody),
        (status = 404, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn get_stage(State(app): State<AppState>, ApiPath(episode_id): ApiPath) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).map(StageBody::from));
    let (stage, _) = read.await?;
    Ok(Json(stage.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(post, path = "/v1/episodes/{id}/start", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the episode, `live`, with the host on stage (starting a live episode again answers it)", body = EpisodeBody),
        (status = 400, description = "invalid_idempotency_key", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "episode_already_live (another episode of the room), episode_ended, or episode_over (its ends_at has passed)", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_idempotency_key", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "banned_from_episode: removed from this episode", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live, episode_ended or episode_full", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (also: the episode's ban list is full) or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host, or a moderator for speakers and listeners", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 403, description = "forbidden: the host only", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn appoint_moderator(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<StageTargetRequest>,
) -> Result<Response, ApiError> {
    change_stage(&app, actor, &episode_id, StageAction::AppointModerator(target(&request)?)).await
}

fn question_number(text: &str) -> Result<u32, ApiError> {
    text.parse().ok().filter(|number| *number >= 1).ok_or_else(ApiError::not_found)
}

#[utoipa::path(get, path = "/v1/episodes/{id}/polls", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "every poll slot of the episode's room, then the polls started live in the episode, with their tallies in this episode and whether they are open", body = PollsBody),
        (status = 404, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (no such option) or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "no such episode, or that slot is not a poll", body = ErrorBody),
        (status = 409, description = "already_voted (one vote per account), poll_closed, not_in_episode (join first), episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (question, options, or the episode has 50 live polls), invalid_json or invalid_idempotency_key", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, description = "no such episode, or that slot is not a poll", body = ErrorBody),
        (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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

#[utoipa::path(get, path = "/v1/episodes/{id}/rituals", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "the pinned drop and the last demo window (`null` when none); an ended episode keeps its last ones", body = RitualsBody),
        (status = 404, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (a malformed id, or a drop of another room) or invalid_json", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, description = "no such episode or drop", body = ErrorBody), (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 400, description = "invalid_request (seconds, or not a product of the room's creator), invalid_json or invalid_idempotency_key", body = ErrorBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "demo_running (stop it first) or episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 422, description = "idempotency_key_reused", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
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
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live (scheduled or ended)", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn stop_demo(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    change_rituals(&app, Envelope::plain(Command::StopDemo { actor, episode_id })).await
}

#[utoipa::path(get, path = "/v1/episodes/{id}/questions", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "the Q&A queue: open questions by upvotes, then the answered and dismissed", body = QuestionsBody),
        (status = 404, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody),
        (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn get_questions(
    State(app): State<AppState>,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let read = app.engine.read(episode_id.partition(), move |state| {
        state.episode(episode_id)?;
        Some(questions_body(state.questions(episode_id)))
    });
    let (questions, _) = read.await?;
    Ok(Json(questions.ok_or_else(ApiError::not_found)?).into_response())
}

/// A Q&A queue as `GET /v1/episodes/{id}/questions` answers it: open questions first, most upvoted
/// first, then in the order asked.
pub(crate) fn questions_body(questions: &[domain::Question]) -> QuestionsBody {
    let mut questions: Vec<&domain::Question> = questions.iter().collect();
    let open_first = |question: &&domain::Question| question.status != domain::QuestionStatus::Open;
    questions.sort_by_key(|question| {
        let upvotes = if open_first(question) { 0 } else { question.upvoters.len() };
        (open_first(question), std::cmp::Reverse(upvotes), question.number)
    });
    QuestionsBody { questions: questions.into_iter().map(QuestionBody::from).collect() }
}

#[utoipa::path(post, path = "/v1/episodes/{id}/questions", tag = "rooms", request_body = AskRequest,
    params(("id" = String, Path, description = "episode id")), security(("bearer" = [])),
    responses((status = 201, description = "the question, `open`, numbered in the episode", body = QuestionBody),
        (status = 400, description = "invalid_request (text, or the queue is full) or invalid_json", body = ErrorBody), (status = 401, description = "unauthorized", body = ErrorBody),
        (status = 404, description = "no such episode, or its room has no `qa` slot", body = ErrorBody),
        (status = 409, description = "not_in_episode (join first), episode_not_live or episode_ended", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn ask(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    ApiJson(request): ApiJson<AskRequest>,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let command = Command::AskQuestion { actor, episode_id, text: request.text };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::CREATED))
}

#[utoipa::path(post, path = "/v1/episodes/{id}/questions/{number}/upvote", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("number" = u32, Path, description = "the question's number")),
    security(("bearer" = [])),
    responses((status = 200, description = "the question with the upvote counted", body = QuestionBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "already_voted (one upvote per account), question_closed, not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn upvote(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPathPair(episode_id, number): ApiPathPair,
) -> Result<Response, ApiError> {
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let command = Command::UpvoteQuestion { actor, episode_id, number: question_number(&number)? };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::OK))
}

async fn resolve(app: &AppState, actor: Actor, path: ApiPathPair, answered: bool) -> Result<Response, ApiError> {
    let ApiPathPair(episode_id, number) = path;
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let command = Command::ResolveQuestion { actor, episode_id, number: question_number(&number)?, answered };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/episodes/{id}/questions/{number}/answer", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("number" = u32, Path, description = "the question's number")),
    security(("bearer" = [])),
    responses((status = 200, description = "the question, `answered`", body = QuestionBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "question_closed, episode_not_live or episode_ended", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn answer(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    path: ApiPathPair,
) -> Result<Response, ApiError> {
    resolve(&app, actor, path, true).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/questions/{number}/dismiss", tag = "rooms",
    params(("id" = String, Path, description = "episode id"), ("number" = u32, Path, description = "the question's number")),
    security(("bearer" = [])),
    responses((status = 200, description = "the question, `dismissed`", body = QuestionBody),
        (status = 401, description = "unauthorized", body = ErrorBody), (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "question_closed, episode_not_live or episode_ended", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody), (status = 503, description = "overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody)))]
pub(crate) async fn dismiss(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    path: ApiPathPair,
) -> Result<Response, ApiError> {
    resolve(&app, actor, path, false).await
}
