//! An episode's Q&A queue: members ask and upvote; the host and moderators answer or dismiss.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiPathPair, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Actor, Command, Envelope, EpisodeId};
use utoipa::OpenApi;
use wire::{AskRequest, QuestionBody, QuestionsBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/episodes/{id}/questions", get(get_questions).post(ask))
        .route("/v1/episodes/{id}/questions/{number}/upvote", post(upvote))
        .route("/v1/episodes/{id}/questions/{number}/answer", post(answer))
        .route("/v1/episodes/{id}/questions/{number}/dismiss", post(dismiss))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_questions, ask, upvote, answer, dismiss),
    components(schemas(AskRequest, QuestionBody, QuestionsBody))
)]
pub(crate) struct QuestionsApi;

#[utoipa::path(get, path = "/v1/episodes/{id}/questions", tag = "rooms", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "the Q&A queue: open questions by upvotes, then the answered and dismissed", body = QuestionsBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
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
        (status = 400, description = "invalid_request (text, or the queue is full)", body = ErrorBody),
        (status = 404, description = "no such episode, or its room has no `qa` slot", body = ErrorBody),
        (status = 409, description = "not_in_episode (join first), episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
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
        (status = 404, body = ErrorBody),
        (status = 409, description = "already_voted (one upvote per account), question_closed, not_in_episode, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
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
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "question_closed, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
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
        (status = 403, description = "forbidden: the host and moderators only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "question_closed, episode_not_live or episode_ended", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn dismiss(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    path: ApiPathPair,
) -> Result<Response, ApiError> {
    resolve(&app, actor, path, false).await
}

fn question_number(text: &str) -> Result<u32, ApiError> {
    text.parse().ok().filter(|number| *number >= 1).ok_or_else(ApiError::not_found)
}
