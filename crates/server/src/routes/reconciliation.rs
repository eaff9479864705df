//! Reconciliation cases (`/v1/reconciliation-cases`): a drop's hub counted fewer units than the
//! drop believes are on its shelf (a stock signal, `/v1/partner-signals`); the creator accepts
//! the count, and the missing units leave the drop, or disputes it.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, ReconciliationId, Role};
use utoipa::OpenApi;
use wire::{CaseBody, CaseListBody, DisputeCaseRequest};

/// Cases listed at most, the newest.
const LISTED_MAX: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reconciliation-cases", get(list_cases))
        .route("/v1/reconciliation-cases/{id}", get(get_case))
        .route("/v1/reconciliation-cases/{id}/accept", post(accept_case))
        .route("/v1/reconciliation-cases/{id}/dispute", post(dispute_case))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_cases, get_case, accept_case, dispute_case),
    components(schemas(CaseBody, CaseListBody, DisputeCaseRequest))
)]
pub(crate) struct ReconciliationApi;

#[utoipa::path(get, path = "/v1/reconciliation-cases", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 200, description = "the cases the caller decides (creator) or whose count opened them (partner), newest first (at most 200)", body = CaseListBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_cases(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    // A partner's cases are in its creators' partitions: every shard is asked.
    let per_shard = app
        .engine
        .read_all(move |state| {
            state.reconciliation_cases_of(actor.id).rev().take(LISTED_MAX).cloned().collect::<Vec<_>>()
        })
        .await?;
    let mut all: Vec<_> = per_shard.into_iter().flatten().collect();
    all.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.id.cmp(&a.id)));
    all.truncate(LISTED_MAX);
    Ok(Json(CaseListBody { cases: all.iter().map(CaseBody::from).collect() }).into_response())
}

#[utoipa::path(get, path = "/v1/reconciliation-cases/{id}", tag = "fulfilment", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = CaseBody), (status = 404, description = "not the caller's case", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_case(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let case_id: ReconciliationId = path_id(&id)?;
    let (case, _) = app
        .engine
        .read(case_id.partition(), move |state| {
            state
                .reconciliation_case(case_id)
                .filter(|case| [case.creator_id, case.partner_id].contains(&actor.id) || actor.role == Role::Admin)
                .cloned()
        })
        .await?;
    let case = case.ok_or_else(ApiError::not_found)?;
    Ok(Json(CaseBody::from(&case)).into_response())
}

#[utoipa::path(post, path = "/v1/reconciliation-cases/{id}/accept", tag = "fulfilment", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "accepted: the shortfall left the drop as far as units were unsold (`written_off`); the rest is `uncovered`", body = CaseBody),
        (status = 403, description = "forbidden: the partner cannot decide its own count", body = ErrorBody),
        (status = 404, description = "not the caller's case", body = ErrorBody),
        (status = 409, description = "case_already_decided", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn accept_case(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let case_id: ReconciliationId = path_id(&id)?;
    let command = Command::DecideReconciliation { actor, case_id, accept: true, reason: None };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/reconciliation-cases/{id}/dispute", tag = "fulfilment", params(("id" = String, Path)),
    request_body = DisputeCaseRequest, security(("bearer" = [])),
    responses((status = 200, description = "disputed: the drop is unchanged", body = CaseBody),
        (status = 400, description = "invalid_request (reason)", body = ErrorBody),
        (status = 403, description = "forbidden: the partner cannot decide its own count", body = ErrorBody),
        (status = 404, description = "not the caller's case", body = ErrorBody),
        (status = 409, description = "case_already_decided", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn dispute_case(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
    ApiJson(request): ApiJson<DisputeCaseRequest>,
) -> Result<Response, ApiError> {
    let case_id: ReconciliationId = path_id(&id)?;
    let command = Command::DecideReconciliation { actor, case_id, accept: false, reason: Some(request.reason) };
    Ok(render(app.engine.execute(Envelope::plain(command)).await?, StatusCode::OK))
}
