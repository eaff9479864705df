//! Fulfilment orders (`/v1/fulfilment-orders`): each paid line of a shipped or picked-up product,
//! listed for whoever fulfils it (the partner the drop's split contract names, or the creator) and
//! for its creator, moved through its states by its fulfiller, cancelled by its creator too.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use crate::wire::parse_rfc3339;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{AccountId, Command, Envelope, Fulfilment, FulfilmentId, FulfilmentSamples, FulfilmentState, Role};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::collections::BTreeMap;
use utoipa::OpenApi;
use wire::{ChangeRequest, FulfilmentBody, FulfilmentListBody};

/// Fulfilment orders listed at most, the newest.
const LISTED_MAX: usize = 500;
/// Fulfilment orders per shard the figures cover at most, the newest.
const MEASURED_PER_SHARD_MAX: usize = 10_000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/fulfilment-orders", get(list_fulfilment))
        .route("/v1/fulfilment-orders/{id}", get(get_fulfilment))
        .route("/v1/fulfilment-orders/{id}/changes", post(change_fulfilment))
        .route("/v1/fulfilment-orders/{id}/pickup-code.svg", get(pickup_code_svg))
        .route("/v1/fulfilment-stats", get(fulfilment_stats))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_fulfilment, get_fulfilment, pickup_code_svg, change_fulfilment, fulfilment_stats),
    components(schemas(
        ChangeRequest,
        FulfilmentBody,
        FulfilmentListBody,
        wire::ChangeBody,
        wire::StatsBody,
        wire::FiguresBody,
        wire::FulfillerFiguresBody,
        wire::SpreadBody
    ))
)]
pub(crate) struct FulfilmentApi;

#[utoipa::path(get, path = "/v1/fulfilment-orders", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 200, description = "the fulfilment orders the caller fulfils or sold, newest first (at most 500)", body = FulfilmentListBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_fulfilment(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    // A partner's orders are in its creators' partitions, so every shard is asked; each clones only
    // its newest `LISTED_MAX` of either kind.
    let per_shard = app
        .engine
        .read_all(move |state| {
            let fulfils = state.fulfilment_of(actor.id).rev().take(LISTED_MAX);
            let sold = state.fulfilment_sold_by(actor.id).rev().filter(|f| f.fulfiller() != actor.id).take(LISTED_MAX);
            fulfils.chain(sold).cloned().collect::<Vec<_>>()
        })
        .await?;
    let mut all: Vec<_> = per_shard.into_iter().flatten().collect();
    all.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    all.truncate(LISTED_MAX);
    let fulfilment_orders = all.iter().map(FulfilmentBody::from).collect();
    Ok(Json(FulfilmentListBody { fulfilment_orders }).into_response())
}

#[utoipa::path(get, path = "/v1/fulfilment-orders/{id}", tag = "fulfilment", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = FulfilmentBody), (status = 404, description = "not one the caller fulfils, sold or bought", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_fulfilment(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let fulfilment_id: FulfilmentId = path_id(&id)?;
    let (fulfilment, _) = app
        .engine
        .read(fulfilment_id.partition(), move |state| {
            state
                .fulfilment(fulfilment_id)
                .filter(|f| [f.fulfiller(), f.creator_id, f.buyer_id].contains(&actor.id) || actor.role == Role::Admin)
                .cloned()
        })
        .await?;
    let fulfilment = fulfilment.ok_or_else(ApiError::not_found)?;
    Ok(Json(FulfilmentBody::for_viewer(&fulfilment, actor.id)).into_response())
}

#[utoipa::path(get, path = "/v1/fulfilment-orders/{id}/pickup-code.svg", tag = "fulfilment", params(("id" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, description = "the pickup code as a QR code, for the venue to scan", content_type = "image/svg+xml", body = String),
        (status = 404, description = "not a pickup, or not one the caller bought", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn pickup_code_svg(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    let fulfilment_id: FulfilmentId = path_id(&id)?;
    // The code is the buyer's alone, as on the order: the venue, the creator and an admin are told
    // nothing is there, like anyone else, and so is the buyer of a shipped line (it has no code).
    let (code, _) = app
        .engine
        .read(fulfilment_id.partition(), move |state| {
            state
                .fulfilment(fulfilment_id)
                .filter(|f| f.buyer_id == actor.id && f.method == Fulfilment::Pickup)
                .and_then(|f| f.pickup_code.clone())
        })
        .await?;
    let code = code.ok_or_else(ApiError::not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // A code that hands goods over: kept out of shared caches and off the disk.
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        qr_svg(&code)?,
    )
        .into_response())
}

/// `text` as a QR code in SVG: black on white with the standard quiet zone, medium error correction
/// (a phone screen scanned at a counter is clean but may be scratched or dimmed).
fn qr_svg(text: &str) -> Result<String, ApiError> {
    // Six digits always fit; a failure here is a bug, logged, with internal details kept out.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|error| {
        tracing::error!(%error, "encoding a pickup code as a QR code");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    })?;
    Ok(code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

#[utoipa::path(post, path = "/v1/fulfilment-orders/{id}/changes", tag = "fulfilment", request_body = ChangeRequest,
    params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the fulfilment order as changed (asking for its current state again changes nothing)", body = FulfilmentBody),
        (status = 400, description = "invalid_request (state, eta)", body = ErrorBody),
        (status = 403, description = "forbidden: the creator of a partner's order may only cancel it", body = ErrorBody),
        (status = 404, description = "not one the caller fulfils or sold", body = ErrorBody),
        (status = 409, description = "illegal_transition: e.g. delivered to in_transit, or a pickup shipped", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn change_fulfilment(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(id): ApiPath,
    ApiJson(request): ApiJson<ChangeRequest>,
) -> Result<Response, ApiError> {
    let fulfilment_id: FulfilmentId = path_id(&id)?;
    let to = next_state("state", request.state.as_deref())?;
    let eta = request.eta.as_deref().map(|text| parse_rfc3339("eta", text)).transpose()?;
    if request.pickup_code.as_ref().is_some_and(|code| code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ApiError::invalid("pickup_code", "is six digits"));
    }
    let command = Command::UpdateFulfilment { actor, fulfilment_id, to, eta, pickup_code: request.pickup_code };
    let outcome = app.engine.execute(Envelope::plain(command)).await?;
    Ok(render(outcome, StatusCode::OK))
}

#[utoipa::path(get, path = "/v1/fulfilment-stats", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 200, description = "how the caller fulfilled (as a partner or self-fulfilling creator), and how each fulfiller of the caller's sales did", body = wire::StatsBody),
        RateLimited, Unavailable))]
pub(crate) async fn fulfilment_stats(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    let per_shard = app
        .engine
        .read_all(move |state| {
            let mut own = FulfilmentSamples::default();
            for fulfilment in state.fulfilment_of(actor.id).rev().take(MEASURED_PER_SHARD_MAX) {
                own.add(fulfilment);
            }
            let mut by_fulfiller: BTreeMap<AccountId, FulfilmentSamples> = BTreeMap::new();
            for fulfilment in state.fulfilment_sold_by(actor.id).rev().take(MEASURED_PER_SHARD_MAX) {
                by_fulfiller.entry(fulfilment.fulfiller()).or_default().add(fulfilment);
            }
            (own, by_fulfiller)
        })
        .await?;
    let mut own = FulfilmentSamples::default();
    let mut by_fulfiller: BTreeMap<AccountId, FulfilmentSamples> = BTreeMap::new();
    for (shard_own, shard_by_fulfiller) in per_shard {
        own.merge(shard_own);
        for (fulfiller, samples) in shard_by_fulfiller {
            by_fulfiller.entry(fulfiller).or_default().merge(samples);
        }
    }
    let fulfillers = by_fulfiller
        .iter()
        .map(|(fulfiller, samples)| wire::FulfillerFiguresBody {
            fulfiller_id: fulfiller.to_string(),
            figures: wire::FiguresBody::from(samples),
        })
        .collect();
    Ok(Json(wire::StatsBody { as_fulfiller: wire::FiguresBody::from(&own), fulfillers_of_my_sales: fulfillers })
        .into_response())
}

/// A state a change or signal may name (not `open`, where every order starts).
pub(crate) fn next_state(field: &str, name: Option<&str>) -> Result<Option<FulfilmentState>, ApiError> {
    let Some(name) = name else { return Ok(None) };
    match FulfilmentState::parse(name).filter(|state| *state != FulfilmentState::Open) {
        Some(state) => Ok(Some(state)),
        None => Err(ApiError::invalid(
            field,
            "must be accepted, ready_for_pickup, picked_up, in_transit, delivered, cancelled or returned",
        )),
    }
}
