//! Drops: a creator's limited release of a product in a room, and buyers' claims on it.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey, RequiredIdempotencyKey, RiskInputs};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{body_id, path_id, render};
use crate::wire::parse_rfc3339;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, DropId, Envelope, NewDrop, PER_BUYER_LIMIT_MAX, RoomId};
use utoipa::OpenApi;
use wire::{ClaimBody, ClaimRequest, CreateDropRequest, DropBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/rooms/{id}/drops", post(create_drop))
        .route("/v1/drops/{id}", get(get_drop))
        .route("/v1/drops/{id}/close", post(close_drop))
        .route("/v1/drops/{id}/claims", post(create_claim))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_drop, get_drop, close_drop, create_claim),
    components(schemas(CreateDropRequest, DropBody, wire::ServiceBody, ClaimRequest, ClaimBody))
)]
pub(crate) struct DropsApi;

#[utoipa::path(post, path = "/v1/rooms/{room_id}/drops", tag = "drops", request_body = CreateDropRequest,
    params(("room_id" = String, Path, description = "room id"), ("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")),
    security(("bearer" = [])),
    responses((status = 201, body = DropBody),
        (status = 400, description = "invalid_request (quantity, per_buyer_limit, hold_seconds, opens_at, closes_at, not your product)", body = ErrorBody),
        (status = 403, description = "forbidden: only the room's creator", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "split_not_accepted: the split contract is pending or rejected", body = ErrorBody),
        (status = 422, description = "insufficient_stock", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_drop(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(room_id): ApiPath,
    ApiJson(request): ApiJson<CreateDropRequest>,
) -> Result<Response, ApiError> {
    let room_id: RoomId = path_id(&room_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/rooms/{room_id}/drops"), &request);
    let opens_at = request.opens_at.as_deref().map(|text| parse_rfc3339("opens_at", text)).transpose()?;
    let closes_at = request.closes_at.as_deref().map(|text| parse_rfc3339("closes_at", text)).transpose()?;
    let split_contract_id =
        request.split_contract_id.as_deref().map(|text| body_id("split_contract_id", text)).transpose()?;
    let drop = NewDrop {
        room_id,
        split_contract_id,
        product_id: body_id("product_id", &request.product_id)?,
        quantity: request.quantity,
        per_buyer_limit: request.per_buyer_limit,
        hold_seconds: request.hold_seconds,
        opens_at,
        closes_at,
    };
    let command = Command::CreateDrop { actor, drop };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/drops/{id}", tag = "drops", params(("id" = String, Path, description = "drop id")),
    responses((status = 200, body = DropBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_drop(State(app): State<AppState>, ApiPath(drop_id): ApiPath) -> Result<Response, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let (drop, _) = app
        .engine
        .read(drop_id.partition(), move |state| state.drop(drop_id).map(|drop| DropBody::read(state, drop)))
        .await?;
    Ok(Json(drop.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(post, path = "/v1/drops/{id}/close", tag = "drops",
    params(("id" = String, Path, description = "drop id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, body = DropBody), (status = 403, description = "forbidden: only the drop's creator", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn close_drop(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(drop_id): ApiPath,
) -> Result<Response, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/drops/{drop_id}/close"), &());
    let command = Command::CloseDrop { actor, drop_id };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/drops/{id}/claims", tag = "drops", request_body = ClaimRequest,
    params(("id" = String, Path, description = "drop id"), ("Idempotency-Key" = String, Header, description = "1 to 255 characters"),
        ("X-Device-Id" = Option<String>, Header, description = "optional client device id, 1 to 128 visible ASCII characters, read by the fraud rules")),
    security(("bearer" = [])),
    responses((status = 201, body = ClaimBody),
        (status = 400, description = "invalid_request (quantity), idempotency_key_required or invalid_device_id", body = ErrorBody),
        (status = 403, description = "blocked_by_risk_rules (or forbidden for a non-buyer)", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "sold_out, limit_exceeded or drop_not_open", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_claim(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
    RiskInputs(context): RiskInputs,
    ApiPath(drop_id): ApiPath,
    ApiJson(request): ApiJson<ClaimRequest>,
) -> Result<Response, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    if !(1..=PER_BUYER_LIMIT_MAX).contains(&request.quantity) {
        return Err(ApiError::invalid("quantity", format!("must be 1 to {PER_BUYER_LIMIT_MAX}")));
    }
    let idempotency = key.bind(actor.id, &format!("/v1/drops/{drop_id}/claims"), &request);
    let outcome = app.inventory.claim(actor, drop_id, request.quantity, idempotency, context).await?;
    Ok(render(outcome, StatusCode::CREATED))
}
