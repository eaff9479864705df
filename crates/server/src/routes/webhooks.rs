//! Outbound webhook endpoints (`/v1/webhook-endpoints`): a creator or partner registers a URL and
//! the event types it wants, gets a `whsec_` secret once, rotates it, reads the delivery log, asks
//! for a redelivery and deletes the endpoint. The outbox in the engine delivers.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiPathPair, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::path_id;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Actor, Command, Envelope, Reply, WebhookEndpoint, WebhookEndpointId, WebhookEventType, WebhookSecret};
use utoipa::OpenApi;
use wire::{CreateEndpointRequest, DeliveryBody, DeliveryListBody, EndpointBody, EndpointListBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-endpoints", post(create_endpoint).get(list_endpoints))
        .route("/v1/webhook-endpoints/{id}", get(get_endpoint).delete(delete_endpoint))
        .route("/v1/webhook-endpoints/{id}/rotate-secret", post(rotate_secret))
        .route("/v1/webhook-endpoints/{id}/deliveries", get(list_deliveries))
        .route("/v1/webhook-endpoints/{id}/deliveries/{message_id}/redeliver", post(redeliver))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_endpoint, list_endpoints, get_endpoint, delete_endpoint, rotate_secret, list_deliveries, redeliver),
    components(schemas(
        CreateEndpointRequest,
        EndpointBody,
        EndpointListBody,
        DeliveryBody,
        DeliveryListBody,
        wire::AttemptBody
    ))
)]
pub(crate) struct WebhooksApi;

/// Event types by name; an unknown one is a 400 that lists the known ones.
fn event_types(names: &[String]) -> Result<Vec<WebhookEventType>, ApiError> {
    names
        .iter()
        .map(|name| {
            WebhookEventType::parse(name).ok_or_else(|| {
                let known: Vec<&str> = WebhookEventType::ALL.iter().map(|kind| kind.name()).collect();
                ApiError::invalid("events", format!("unknown event type {name:?}; known: {}", known.join(", ")))
            })
        })
        .collect()
}

/// The caller's endpoint, or 404 (another account's is unknown to the caller).
async fn own_endpoint(app: &AppState, actor: Actor, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let endpoint_id: WebhookEndpointId = path_id(id)?;
    let read = app.engine.read(endpoint_id.partition(), move |state| state.webhook_endpoint(endpoint_id).cloned());
    match read.await?.0 {
        Some(endpoint) if endpoint.owner_id == actor.id => Ok(endpoint),
        _ => Err(ApiError::not_found()),
    }
}

async fn execute_endpoint(app: &AppState, command: Command) -> Result<WebhookEndpoint, ApiError> {
    match app.engine.execute(Envelope::plain(command)).await? {
        Ok(Reply::WebhookEndpoint(endpoint)) => Ok(*endpoint),
        Ok(other) => unreachable!("a webhook endpoint command answered {other:?}"),
        Err(rejection) => Err(rejection.into()),
    }
}

#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks", request_body = CreateEndpointRequest,
    security(("bearer" = [])),
    responses((status = 201, description = "the endpoint, with its secret (shown this once)", body = EndpointBody),
        (status = 400, description = "invalid_request (url, events)", body = ErrorBody),
        (status = 403, description = "forbidden: creators and partners only", body = ErrorBody),
        (status = 409, description = "too_many_webhook_endpoints", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_endpoint(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<CreateEndpointRequest>,
) -> Result<Response, ApiError> {
    ::webhooks::check_url(&request.url, app.engine.webhooks_allow_private())
        .map_err(|error| ApiError::invalid("url", error.to_string()))?;
    let events = event_types(&request.events)?;
    let secret = ::webhooks::Secret::generate().to_string();
    let command =
        Command::CreateWebhookEndpoint { actor, url: request.url, events, secret: WebhookSecret(secret.clone()) };
    let endpoint = execute_endpoint(&app, command).await?;
    let body = EndpointBody::of(&endpoint, Some(secret), app.engine.now());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, description = "the caller's endpoints, oldest first, without secrets", body = EndpointListBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_endpoints(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    let now = app.engine.now();
    let read = app.engine.read(actor.id.partition(), move |state| {
        state.webhook_endpoints_of(actor.id).map(|endpoint| EndpointBody::of(endpoint, None, now)).collect()
    });
    let (endpoints, _) = read.await?;
    Ok(Json(EndpointListBody { endpoints }).into_response())
}

#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = EndpointBody), (status = 404, description = "no endpoint of yours has this id", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_endpoint(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let endpoint = own_endpoint(&app, actor, &id).await?;
    Ok(Json(EndpointBody::of(&endpoint, None, app.engine.now())).into_response())
}

#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the endpoint, disabled for good; what waited for it is not delivered", body = EndpointBody),
        (status = 404, description = "no endpoint of yours has this id", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn delete_endpoint(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let endpoint_id: WebhookEndpointId = path_id(&id)?;
    let endpoint = execute_endpoint(&app, Command::DeleteWebhookEndpoint { actor, endpoint_id }).await?;
    Ok(Json(EndpointBody::of(&endpoint, None, app.engine.now())).into_response())
}

#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the endpoint with its new secret (shown this once); the old one signs too for 24 hours", body = EndpointBody),
        (status = 404, description = "no endpoint of yours has this id", body = ErrorBody),
        (status = 409, description = "webhook_endpoint_disabled", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn rotate_secret(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let endpoint_id: WebhookEndpointId = path_id(&id)?;
    let secret = ::webhooks::Secret::generate().to_string();
    let command = Command::RotateWebhookSecret { actor, endpoint_id, secret: WebhookSecret(secret.clone()) };
    let endpoint = execute_endpoint(&app, command).await?;
    Ok(Json(EndpointBody::of(&endpoint, Some(secret), app.engine.now())).into_response())
}

#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the endpoint's last 100 messages, newest first, with their attempts", body = DeliveryListBody),
        (status = 404, description = "no endpoint of yours has this id", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn list_deliveries(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let endpoint = own_endpoint(&app, actor, &id).await?;
    let deliveries = app.engine.webhook_deliveries(endpoint.id).iter().map(DeliveryBody::of).collect();
    Ok(Json(DeliveryListBody { deliveries }).into_response())
}

#[utoipa::path(post, path = "/v1/webhook-endpoints/{id}/deliveries/{message_id}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("message_id" = String, Path)), security(("bearer" = [])),
    responses((status = 202, description = "the message is delivered again, from attempt 1, with the same webhook-id", body = EndpointBody),
        (status = 404, description = "no endpoint of yours has this id, or its log no longer holds the message", body = ErrorBody),
        (status = 409, description = "webhook_endpoint_disabled, or delivery_pending: an attempt is due or under way", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn redeliver(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPathPair(id, message_id): ApiPathPair,
) -> Result<Response, ApiError> {
    let endpoint = own_endpoint(&app, actor, &id).await?;
    if !app.engine.webhook_message_known(endpoint.id, &message_id) {
        return Err(ApiError::not_found());
    }
    // It is being delivered: a redelivery would change nothing (the outbox ignores it too).
    if app.engine.webhook_message_waiting(endpoint.id, &message_id) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "delivery_pending",
            "the message is still being delivered; see its next attempt",
        ));
    }
    let command = Command::RedeliverWebhook { actor, endpoint_id: endpoint.id, message_id };
    let endpoint = execute_endpoint(&app, command).await?;
    Ok((StatusCode::ACCEPTED, Json(EndpointBody::of(&endpoint, None, app.engine.now()))).into_response())
}
