//! Products and rooms: a creator's catalogue.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::drops::wire::DropBody;
use crate::routes::rooms::wire::EpisodeBody;
use crate::routes::{body_id, path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Currency, Envelope, Money, ProductId, RoomId, TemplateId};
use utoipa::OpenApi;
use wire::{CreateProductRequest, CreateRoomRequest, FulfilmentWire, ProductBody, RoomBody, TemplateRefBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/products", post(create_product))
        .route("/v1/products/{id}", get(get_product))
        .route("/v1/rooms", post(create_room))
        .route("/v1/rooms/{id}", get(get_room))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_product, get_product, create_room, get_room),
    components(schemas(
        CreateProductRequest,
        FulfilmentWire,
        ProductBody,
        CreateRoomRequest,
        RoomBody,
        TemplateRefBody
    ))
)]
pub(crate) struct CatalogueApi;

#[utoipa::path(post, path = "/v1/products", tag = "catalogue",
    params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")), request_body = CreateProductRequest, security(("bearer" = [])),
    responses((status = 201, body = ProductBody), (status = 400, description = "invalid_request (title, price, currency, stock)", body = ErrorBody),
        (status = 403, description = "forbidden: creators only", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_product(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiJson(request): ApiJson<CreateProductRequest>,
) -> Result<Response, ApiError> {
    let currency: Currency = request.currency.parse().map_err(|error| ApiError::invalid("currency", error))?;
    let edition = match &request.edition {
        None => None,
        Some(edition) => {
            let curator_id = edition
                .curator_id
                .parse()
                .map_err(|_| ApiError::invalid("edition.curator_id", "is not an account id"))?;
            Some(domain::Edition { label: edition.label.clone(), curator_id })
        }
    };
    let idempotency = key.bind(actor.id, "/v1/products", &request);
    let command = Command::CreateProduct {
        actor,
        title: request.title,
        price: Money { minor: request.price_minor, currency },
        stock: request.stock,
        fulfilment: request.fulfilment.into(),
        edition,
    };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(post, path = "/v1/rooms", tag = "catalogue",
    params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first response")), request_body = CreateRoomRequest, security(("bearer" = [])),
    responses((status = 201, body = RoomBody), (status = 400, description = "invalid_request (title, template_id)", body = ErrorBody),
        (status = 403, description = "forbidden: creators only, from their own templates", body = ErrorBody),
        (status = 404, description = "no such template", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_room(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiJson(request): ApiJson<CreateRoomRequest>,
) -> Result<Response, ApiError> {
    let template_id: Option<TemplateId> =
        request.template_id.as_deref().map(|text| body_id("template_id", text)).transpose()?;
    let idempotency = key.bind(actor.id, "/v1/rooms", &request);
    let command = Command::CreateRoom { actor, title: request.title, template_id };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/products/{id}", tag = "catalogue", params(("id" = String, Path, description = "product id")),
    responses((status = 200, body = ProductBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_product(
    State(app): State<AppState>,
    ApiPath(product_id): ApiPath,
) -> Result<Response, ApiError> {
    let product_id: ProductId = path_id(&product_id)?;
    let read = app.engine.read(product_id.partition(), move |state| state.product(product_id).map(ProductBody::from));
    let (product, _) = read.await?;
    Ok(Json(product.ok_or_else(ApiError::not_found)?).into_response())
}

/// A room with its drops, read in one shard turn so the counters are consistent with each other.
pub(crate) async fn read_room(app: &AppState, room_id: RoomId) -> Result<(Option<RoomBody>, u64), ApiError> {
    let read = app.engine.read(room_id.partition(), move |state| room_body(state, room_id));
    Ok(read.await?)
}

/// A room as `GET /v1/rooms/{id}` answers it, read from the state of its shard.
pub(crate) fn room_body(state: &domain::State, room_id: RoomId) -> Option<RoomBody> {
    let room = state.room(room_id)?;
    let drops = room
        .drop_ids
        .iter()
        .filter_map(|drop_id| state.drop(*drop_id))
        .map(|drop| DropBody::read(state, drop))
        .collect();
    let episodes = room.episode_ids.iter().filter_map(|id| state.episode(*id)).map(EpisodeBody::from).collect();
    Some(RoomBody::of(room, drops, episodes))
}

#[utoipa::path(get, path = "/v1/rooms/{id}", tag = "catalogue", params(("id" = String, Path, description = "room id")),
    responses((status = 200, body = RoomBody), (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_room(State(app): State<AppState>, ApiPath(room_id): ApiPath) -> Result<Response, ApiError> {
    let (room, _) = read_room(&app, path_id(&room_id)?).await?;
    Ok(Json(room.ok_or_else(ApiError::not_found)?).into_response())
}
