//! Disputes (chargebacks): an admin opens one for an order and records its outcome, standing in
//! for the payment provider's webhooks. The ledger sets each party's share aside while it is open.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey, RequiredIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, DisputeId, Envelope, OrderId, Role};
use utoipa::OpenApi;
use wire::{DisputeBody, OpenDisputeRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/orders/{id}/disputes", post(open_dispute))
        .route("/v1/admin/disputes/{id}/won", post(dispute_won))
        .route("/v1/admin/disputes/{id}/lost", post(dispute_lost))
        .route("/v1/disputes/{id}", get(get_dispute))
}

#[derive(OpenApi)]
#[openapi(
    paths(open_dispute, dispute_won, dispute_lost, get_dispute),
    components(schemas(OpenDisputeRequest, DisputeBody))
)]
pub(crate) struct DisputesApi;

#[utoipa::path(post, path = "/v1/admin/orders/{id}/disputes", tag = "money", request_body = OpenDisputeRequest,
    params(("id" = String, Path, description = "order id"), ("Idempotency-Key" = String, Header, description = "1 to 255 characters")),
    security(("bearer" = [])),
    responses((status = 201, description = "the dispute, `open`: each party's share is set aside", body = DisputeBody),
        (status = 400, description = "invalid_request (amount_minor beyond what is not refunded, reason) or idempotency_key_required", body = ErrorBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 404, description = "no such order", body = ErrorBody),
        (status = 409, description = "already_disputed", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn open_dispute(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
    ApiPath(order_id): ApiPath,
    ApiJson(request): ApiJson<OpenDisputeRequest>,
) -> Result<Response, ApiError> {
    let order_id: OrderId = path_id(&order_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/admin/orders/{order_id}/disputes"), &request);
    let command = Command::OpenDispute { actor, order_id, amount_minor: request.amount_minor, reason: request.reason };
    Ok(render(app.engine.execute(Envelope { idempotency: Some(idempotency), command }).await?, StatusCode::CREATED))
}

async fn decide(
    app: AppState,
    actor: domain::Actor,
    key: OptionalIdempotencyKey,
    dispute_id: String,
    won: bool,
) -> Result<Response, ApiError> {
    let dispute_id: DisputeId = path_id(&dispute_id)?;
    let outcome = if won { "won" } else { "lost" };
    let idempotency = key.bind(actor.id, &format!("/v1/admin/disputes/{dispute_id}/{outcome}"), &());
    let command = Command::DecideDispute { actor, dispute_id, won };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/admin/disputes/{id}/won", tag = "money",
    params(("id" = String, Path, description = "dispute id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the dispute, `won`: the money set aside is available again", body = DisputeBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "dispute_not_open", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn dispute_won(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(dispute_id): ApiPath,
) -> Result<Response, ApiError> {
    decide(app, actor, key, dispute_id, true).await
}

#[utoipa::path(post, path = "/v1/admin/disputes/{id}/lost", tag = "money",
    params(("id" = String, Path, description = "dispute id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the dispute, `lost`: the processor took the amount back", body = DisputeBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "dispute_not_open", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn dispute_lost(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(dispute_id): ApiPath,
) -> Result<Response, ApiError> {
    decide(app, actor, key, dispute_id, false).await
}

#[utoipa::path(get, path = "/v1/disputes/{id}", tag = "money", params(("id" = String, Path, description = "dispute id")),
    security(("bearer" = [])),
    responses((status = 200, body = DisputeBody),
        (status = 404, description = "no such dispute, or not the order's creator's or an admin's to see", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_dispute(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(dispute_id): ApiPath,
) -> Result<Response, ApiError> {
    let dispute_id: DisputeId = path_id(&dispute_id)?;
    let (body, _) = app
        .engine
        .read(dispute_id.partition(), move |state| {
            let dispute = state.dispute(dispute_id)?;
            (dispute.creator_id == actor.id || actor.role == Role::Admin).then(|| DisputeBody::from(dispute))
        })
        .await?;
    Ok(Json(body.ok_or_else(ApiError::not_found)?).into_response())
}
