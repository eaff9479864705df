//! Carts, checkout and orders, and an admin's review of an order a fraud rule held.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, RequiredIdempotencyKey, RiskInputs};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::fulfilment::wire::FulfilmentBody;
use crate::routes::{order_body, path_id, render_order};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{CartId, OrderId, Role};
use utoipa::OpenApi;
use wire::{CartBody, CheckoutRequest, HoldBody, OrderBody, OrderLineBody, ReviewBody, ReviewDecision, ReviewRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/carts/{id}", get(get_cart))
        .route("/v1/carts/{id}/checkout", post(checkout))
        .route("/v1/orders/{id}", get(get_order))
        .route("/v1/orders/{id}/review", post(review_order))
}

#[derive(OpenApi)]
#[openapi(
    paths(checkout, get_cart, get_order, review_order),
    components(schemas(
        CheckoutRequest,
        OrderBody,
        OrderLineBody,
        CartBody,
        HoldBody,
        ReviewBody,
        ReviewRequest,
        ReviewDecision,
        ::transparency::SignedCheckpoint,
        ::transparency::Receipt,
        ::transparency::ReceiptEntry,
    ))
)]
pub(crate) struct CheckoutApi;

const PAYMENT_METHOD_CHARS_MAX: usize = 255;

#[utoipa::path(post, path = "/v1/carts/{id}/checkout", tag = "checkout", request_body = CheckoutRequest,
    params(("id" = String, Path, description = "cart id"), ("Idempotency-Key" = String, Header, description = "1 to 255 characters"),
        ("X-Device-Id" = Option<String>, Header, description = "optional client device id, 1 to 128 visible ASCII characters, read by the fraud rules")),
    security(("bearer" = [])),
    responses((status = 201, description = "the order; with `review.status` `pending` when a review rule fired", body = OrderBody),
        (status = 400, description = "invalid_request (payment_method), invalid_payment_method, idempotency_key_required or invalid_device_id", body = ErrorBody),
        (status = 402, description = "payment_declined", body = ErrorBody),
        (status = 403, description = "blocked_by_risk_rules: refused before any charge", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "cart_expired, cart_checked_out or cart_changed", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn checkout(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
    RiskInputs(context): RiskInputs,
    ApiPath(cart_id): ApiPath,
    ApiJson(request): ApiJson<CheckoutRequest>,
) -> Result<Response, ApiError> {
    let cart_id: CartId = path_id(&cart_id)?;
    let method = &request.payment_method;
    if method.is_empty() || method.len() > PAYMENT_METHOD_CHARS_MAX || !method.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid("payment_method", "must be a payment method id such as pm_card_visa"));
    }
    let idempotency = key.bind(actor.id, &format!("/v1/carts/{cart_id}/checkout"), &request);
    let outcome = app.inventory.checkout(actor, cart_id, request.payment_method, idempotency, context).await?;
    render_order(&app, outcome, StatusCode::CREATED).await
}

#[utoipa::path(get, path = "/v1/carts/{id}", tag = "checkout", params(("id" = String, Path, description = "cart id")),
    security(("bearer" = [])),
    responses((status = 200, body = CartBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_cart(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(cart_id): ApiPath,
) -> Result<Response, ApiError> {
    let cart_id: CartId = path_id(&cart_id)?;
    let (cart, _) = app
        .engine
        .read(cart_id.partition(), move |state| {
            let cart = state.cart(cart_id).filter(|cart| cart.buyer_id == actor.id || actor.role == Role::Admin)?;
            let holds = cart.hold_ids.iter().filter_map(|hold_id| state.hold(*hold_id)).map(HoldBody::from).collect();
            Some(CartBody::of(cart, holds))
        })
        .await?;
    Ok(Json(cart.ok_or_else(ApiError::not_found)?).into_response())
}

#[utoipa::path(get, path = "/v1/orders/{id}", tag = "checkout", params(("id" = String, Path, description = "order id")),
    security(("bearer" = [])),
    responses((status = 200, body = OrderBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_order(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(order_id): ApiPath,
) -> Result<Response, ApiError> {
    let order_id: OrderId = path_id(&order_id)?;
    let (found, _) = app
        .engine
        .read(order_id.partition(), move |state| {
            // Anyone but the buyer, the seller and an admin gets the same 404 as for a missing order.
            let order = state.order(order_id).filter(|order| {
                order.buyer_id == actor.id || order.creator_id == actor.id || actor.role == Role::Admin
            })?;
            let fulfilment: Vec<FulfilmentBody> =
                state.order_fulfilment(order_id).map(|f| FulfilmentBody::for_viewer(f, actor.id)).collect();
            Some((order.clone(), fulfilment))
        })
        .await?;
    let (order, fulfilment) = found.ok_or_else(ApiError::not_found)?;
    let mut body = order_body(&app, &order).await;
    body.fulfilment = Some(fulfilment);
    Ok(Json(body).into_response())
}

#[utoipa::path(post, path = "/v1/orders/{id}/review", tag = "risk", request_body = ReviewRequest,
    params(("id" = String, Path, description = "order id")), security(("bearer" = [])),
    responses((status = 200, description = "the order with its review decided; a rejected order is refunded whole", body = OrderBody),
        (status = 400, description = "invalid_request (reason)", body = ErrorBody), (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "order_not_in_review: no review rule fired, or it was already decided", body = ErrorBody),
        RateLimited, Unavailable))]
/// An admin approves or rejects an order a `review` rule held. Rejecting also refunds the whole
/// order at once, restocked (refunds still awaiting sign-off are rejected in its favour).
pub(crate) async fn review_order(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(order_id): ApiPath,
    ApiJson(request): ApiJson<ReviewRequest>,
) -> Result<Response, ApiError> {
    if actor.role != Role::Admin {
        return Err(domain::Rejection::Forbidden.into());
    }
    let order_id: OrderId = path_id(&order_id)?;
    let approve = matches!(request.decision, ReviewDecision::Approve);
    let outcome = app.engine.review_order(actor, order_id, approve, request.reason).await?;
    render_order(&app, outcome, StatusCode::OK).await
}
