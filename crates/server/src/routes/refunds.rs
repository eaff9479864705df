//! Refunds: asked for by an order's buyer or creator, signed off by a platform admin and the creator
//! when above the threshold, paid back through the payment provider. Always decided by the engine.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey, RequiredIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{body_id, path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{CART_HOLDS_MAX, OrderId, PER_BUYER_LIMIT_MAX, RefundDecision, RefundId, RefundStatus, Role};
use utoipa::OpenApi;
use wire::{
    CreateRefundRequest, OrderRefundsBody, RefundApprovalBody, RefundBody, RefundLineBody, RefundLineRequest,
    RefundRejectionBody, RejectRefundRequest,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/orders/{id}/refunds", post(create_refund).get(list_order_refunds))
        .route("/v1/refunds/{id}", get(get_refund))
        .route("/v1/refunds/{id}/approve", post(approve_refund))
        .route("/v1/refunds/{id}/reject", post(reject_refund))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_refund, list_order_refunds, get_refund, approve_refund, reject_refund),
    components(schemas(
        CreateRefundRequest,
        RefundLineRequest,
        RejectRefundRequest,
        RefundBody,
        RefundLineBody,
        RefundApprovalBody,
        RefundRejectionBody,
        OrderRefundsBody,
    ))
)]
pub(crate) struct RefundsApi;

#[utoipa::path(post, path = "/v1/orders/{id}/refunds", tag = "refunds", request_body = CreateRefundRequest,
    params(("id" = String, Path, description = "order id"), ("Idempotency-Key" = String, Header, description = "1 to 255 characters")),
    security(("bearer" = [])),
    responses((status = 201, description = "the refund: `executed` at or under the approval threshold, else `pending_approval`", body = RefundBody),
        (status = 400, description = "invalid_request (lines, quantity, reason) or idempotency_key_required", body = ErrorBody),
        (status = 403, description = "forbidden: admins decide refunds, they do not ask for them", body = ErrorBody),
        (status = 404, description = "no such order, or not the caller's", body = ErrorBody),
        (status = 409, description = "refund_exceeds_paid: more units than the order has left to refund", body = ErrorBody),
        (status = 502, description = "payment_provider_error: the refund is approved and kept; retry with the same key", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn create_refund(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
    ApiPath(order_id): ApiPath,
    ApiJson(request): ApiJson<CreateRefundRequest>,
) -> Result<Response, ApiError> {
    let order_id: OrderId = path_id(&order_id)?;
    let lines = match &request.lines {
        None => None,
        Some(lines) => {
            if !(1..=CART_HOLDS_MAX).contains(&lines.len()) {
                return Err(ApiError::invalid(
                    "lines",
                    format!("must name 1 to {CART_HOLDS_MAX} lines, or be left out"),
                ));
            }
            let mut parsed = Vec::with_capacity(lines.len());
            for line in lines {
                if !(1..=PER_BUYER_LIMIT_MAX).contains(&line.quantity) {
                    return Err(ApiError::invalid("quantity", format!("must be 1 to {PER_BUYER_LIMIT_MAX}")));
                }
                parsed.push((body_id("hold_id", &line.hold_id)?, line.quantity));
            }
            Some(parsed)
        }
    };
    let idempotency = key.bind(actor.id, &format!("/v1/orders/{order_id}/refunds"), &request);
    let restock = request.restock.unwrap_or(true);
    let outcome = app.engine.request_refund(actor, order_id, lines, request.reason, restock, idempotency).await?;
    Ok(render(outcome, StatusCode::CREATED))
}

#[utoipa::path(post, path = "/v1/refunds/{id}/approve", tag = "refunds",
    params(("id" = String, Path, description = "refund id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the refund; `executed` once both sides approved", body = RefundBody),
        (status = 403, description = "forbidden: the buyer may not sign off", body = ErrorBody),
        (status = 404, description = "no such refund, or not the caller's", body = ErrorBody),
        (status = 409, description = "refund_not_pending: rejected, or executed without this side's approval", body = ErrorBody),
        (status = 502, description = "payment_provider_error: approved and kept; approve again to retry", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn approve_refund(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(refund_id): ApiPath,
) -> Result<Response, ApiError> {
    let refund_id: RefundId = path_id(&refund_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/refunds/{refund_id}/approve"), &());
    let outcome = app.engine.decide_refund(actor, refund_id, RefundDecision::Approve, idempotency).await?;
    Ok(render(outcome, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/refunds/{id}/reject", tag = "refunds", request_body = RejectRefundRequest,
    params(("id" = String, Path, description = "refund id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the refund, `rejected`", body = RefundBody),
        (status = 400, description = "invalid_request (reason)", body = ErrorBody),
        (status = 403, description = "forbidden: the buyer may not decide", body = ErrorBody),
        (status = 404, description = "no such refund, or not the caller's", body = ErrorBody),
        (status = 409, description = "refund_not_pending: approved, rejected or executed", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn reject_refund(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(refund_id): ApiPath,
    ApiJson(request): ApiJson<RejectRefundRequest>,
) -> Result<Response, ApiError> {
    let refund_id: RefundId = path_id(&refund_id)?;
    let idempotency = key.bind(actor.id, &format!("/v1/refunds/{refund_id}/reject"), &request);
    let decision = RefundDecision::Reject { reason: request.reason };
    let outcome = app.engine.decide_refund(actor, refund_id, decision, idempotency).await?;
    Ok(render(outcome, StatusCode::OK))
}

#[utoipa::path(get, path = "/v1/refunds/{id}", tag = "refunds", params(("id" = String, Path, description = "refund id")),
    security(("bearer" = [])),
    responses((status = 200, body = RefundBody),
        (status = 404, description = "no such refund, or not the buyer's, creator's or an admin's to see", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_refund(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(refund_id): ApiPath,
) -> Result<Response, ApiError> {
    let refund_id: RefundId = path_id(&refund_id)?;
    let (refund, _) = app
        .engine
        .read(refund_id.partition(), move |state| {
            let refund = state.refund(refund_id).filter(|refund| {
                refund.buyer_id == actor.id || refund.creator_id == actor.id || actor.role == Role::Admin
            })?;
            Some(RefundBody::from(refund))
        })
        .await?;
    Ok(Json(refund.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(get, path = "/v1/orders/{id}/refunds", tag = "refunds", params(("id" = String, Path, description = "order id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the order's refunds and how much was paid back", body = OrderRefundsBody),
        (status = 404, description = "no such order, or not the buyer's, creator's or an admin's to see", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_order_refunds(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(order_id): ApiPath,
) -> Result<Response, ApiError> {
    let order_id: OrderId = path_id(&order_id)?;
    let (body, _) = app
        .engine
        .read(order_id.partition(), move |state| {
            let order = state.order(order_id).filter(|order| {
                order.buyer_id == actor.id || order.creator_id == actor.id || actor.role == Role::Admin
            })?;
            let sum = |statuses: &[RefundStatus]| -> i64 {
                let refunds = state.order_refunds(order_id).filter(|refund| statuses.contains(&refund.status));
                refunds.map(|refund| refund.amount.minor).sum()
            };
            Some(OrderRefundsBody {
                order_id: order.id.to_string(),
                total_minor: order.total.minor,
                refunded_minor: sum(&[RefundStatus::Executed]),
                pending_minor: sum(&[RefundStatus::PendingApproval, RefundStatus::Approved]),
                currency: order.total.currency.to_string(),
                refunds: state.order_refunds(order_id).map(RefundBody::from).collect(),
            })
        })
        .await?;
    Ok(Json(body.ok_or_else(ApiError::not_found)?).into_response())
}
