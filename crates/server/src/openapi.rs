//! The OpenAPI document: each route module's paths and schemas (its `…Api`), merged, and the
//! responses that whole kinds of operations share, added here once so that an annotation lists only
//! what is particular to its route:
//! - 401 `unauthorized` to every operation with bearer security;
//! - 400 `invalid_json`/`invalid_request`, 408, 413 and 415 to every operation with a JSON body;
//! - 400 `invalid_idempotency_key` and 422 `idempotency_key_reused` to every operation that takes
//!   an `Idempotency-Key` header.
//!
//! 429 and 503 are not derived: an annotation names them with `RateLimited` and `Unavailable`.
//! Where a route answers one of these statuses for reasons of its own too, its annotation says so
//! and the shared reason is added to its description.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{
    accounts, catalogue, checkout, contracts, drops, ledger, live, media, ops, payouts, polls, questions, refunds,
    risk, rituals, rooms, stage, transparency,
};
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "livedrop", description = "Live drops in audio rooms: claim, hold, check out, refund; room templates, episodes, the stage and the host's rituals."),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&RouteModules, &BearerAuth, &SharedResponses),
)]
pub struct ApiDoc;

/// 429 `rate_limited`: over the per-IP or per-account limit (`limits.rs`). Named in the
/// `responses(…)` of every operation that documents it.
pub(crate) struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("429".to_owned(), RefOr::T(error_response("rate_limited")))])
    }
}

/// 503 from the engine: a shard's queue is full, the server is stopping, or the journal failed.
pub(crate) struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let reason = "overloaded, shutting_down or unavailable; retry after Retry-After";
        BTreeMap::from([("503".to_owned(), RefOr::T(error_response(reason)))])
    }
}

/// Every route module's paths and schemas.
struct RouteModules;

impl Modify for RouteModules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let modules = [
            accounts::AccountsApi::openapi(),
            catalogue::CatalogueApi::openapi(),
            drops::DropsApi::openapi(),
            checkout::CheckoutApi::openapi(),
            refunds::RefundsApi::openapi(),
            contracts::ContractsApi::openapi(),
            ledger::LedgerApi::openapi(),
            payouts::PayoutsApi::openapi(),
            risk::RiskApi::openapi(),
            transparency::TransparencyApi::openapi(),
            rooms::RoomsApi::openapi(),
            stage::StageApi::openapi(),
            polls::PollsApi::openapi(),
            questions::QuestionsApi::openapi(),
            rituals::RitualsApi::openapi(),
            media::MediaApi::openapi(),
            live::LiveApi::openapi(),
            ops::OpsApi::openapi(),
        ];
        for module in modules {
            openapi.merge(module);
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                add_shared_responses(operation);
            }
        }
    }
}

fn add_shared_responses(operation: &mut Operation) {
    if has_bearer_security(operation) {
        add_error_response(operation, "401", "unauthorized");
    }
    if operation.request_body.as_ref().is_some_and(is_json) {
        // `ApiJson`: syntax is invalid_json; a body of the wrong shape or types is invalid_request.
        add_error_response(operation, "400", "invalid_json, or invalid_request for a body of the wrong shape");
        add_error_response(operation, "408", "request_timeout: the body was not sent in time");
        add_error_response(operation, "413", "payload_too_large");
        add_error_response(operation, "415", "unsupported_media_type");
    }
    if takes_idempotency_key(operation) {
        add_error_response(operation, "400", "invalid_idempotency_key");
        add_error_response(operation, "422", "idempotency_key_reused");
    }
}

fn has_bearer_security(operation: &Operation) -> bool {
    // A security requirement's scheme names are private fields; its JSON form names them.
    let requirements = serde_json::to_value(&operation.security).expect("security requirements serialise");
    requirements.as_array().is_some_and(|requirements| requirements.iter().any(|each| each.get("bearer").is_some()))
}

fn is_json(body: &RequestBody) -> bool {
    body.content.contains_key("application/json")
}

fn takes_idempotency_key(operation: &Operation) -> bool {
    let mut parameters = operation.parameters.iter().flatten();
    parameters.any(|each| each.name == "Idempotency-Key" && each.parameter_in == ParameterIn::Header)
}

/// Adds an `ErrorBody` response, or, when the route declares that status itself, adds `reason` to
/// its description.
fn add_error_response(operation: &mut Operation, status: &str, reason: &str) {
    match operation.responses.responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            if response.description.is_empty() {
                response.description = reason.to_owned();
            } else if !response.description.contains(reason) {
                response.description = format!("{}; {reason}", response.description);
            }
        }
        // Responses are declared inline in this API, never as references to shared components.
        Some(RefOr::Ref(_)) => {}
        None => {
            operation.responses.responses.insert(status.to_owned(), RefOr::T(error_response(reason)));
        }
    }
}

/// A response whose body is the API's `ErrorBody`.
fn error_response(description: &str) -> Response {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
    ResponseBuilder::new().description(description).content("application/json", content).build()
}
