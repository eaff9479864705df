//! The OpenAPI document: each route module's paths and schemas (its `…Api`), merged, and the
//! responses that whole kinds of operations share, added here once so that an annotation lists only
//! what is particular to its route:
//! - 401 `unauthorized` to every operation with bearer security;
//! - 400 `invalid_json`/`invalid_request`, 408, 413 and 415 to every operation with a JSON body;
//! - 400 `invalid_idempotency_key` and 422 `idempotency_key_reused` to every operation that takes
//!   an `Idempotency-Key` header;
//! - 429 `rate_limited` to every operation the limits middleware limits (all but
//!   `limits::UNLIMITED_PATHS`);
//! - 503 from the engine to every operation but the few in `ENGINE_FREE`, which never wait on it.
//!
//! An annotation may still name `RateLimited` or `Unavailable`; it need not. Where a route answers
//! one of these statuses for reasons of its own too, its annotation says so and the shared reason
//! is added to its description. `tests::every_operation_documents_its_shared_refusals` walks the
//! generated document.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{
    accounts, catalogue, checkout, contracts, disputes, drops, fulfilment, ledger, live, media, ops, payouts, polls,
    profiles, questions, reconciliation, refunds, risk, rituals, rooms, signals, stage, transparency, webhooks,
};
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
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

/// 429 `rate_limited`: over the per-IP or per-account limit (`limits.rs`). Added to every limited
/// operation by `SharedResponses`.
pub(crate) struct RateLimited;

impl IntoResponses for RateLimited {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("429".to_owned(), RefOr::T(error_response(RATE_LIMITED)))])
    }
}

/// 503 from the engine: a shard's queue is full, the server is stopping, or the journal failed.
/// Added to every operation but `ENGINE_FREE` by `SharedResponses`.
pub(crate) struct Unavailable;

impl IntoResponses for Unavailable {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::from([("503".to_owned(), RefOr::T(error_response(ENGINE_UNAVAILABLE)))])
    }
}

const RATE_LIMITED: &str = "rate_limited";
const ENGINE_UNAVAILABLE: &str = "overloaded, shutting_down or unavailable; retry after Retry-After";

/// Operations (method, path) that never send to a shard or wait on the journal: they read what is
/// in memory (the signing key, the trees, the rules in force, the SFU) or nothing, so the engine's
/// 503 is not theirs. Media operations answer 503 for reasons of their own, in their annotations.
const ENGINE_FREE: [(&str, &str); 11] = [
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/v1/openapi.json"),
    ("get", "/v1/transparency/keys"),
    ("get", "/v1/drops/{id}/checkpoints"),
    ("get", "/v1/drops/{id}/proofs/inclusion"),
    ("get", "/v1/drops/{id}/proofs/consistency"),
    ("get", "/v1/admin/risk-rules"),
    ("delete", "/v1/media/sessions/{id}"),
    ("get", "/v1/episodes/{id}/recordings/{file}"),
    ("get", "/v1/admin/media/stats"),
];

/// Every route module's paths and schemas.
struct RouteModules;

impl Modify for RouteModules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let modules = [
            accounts::AccountsApi::openapi(),
            catalogue::CatalogueApi::openapi(),
            drops::DropsApi::openapi(),
            checkout::CheckoutApi::openapi(),
            fulfilment::FulfilmentApi::openapi(),
            signals::SignalsApi::openapi(),
            reconciliation::ReconciliationApi::openapi(),
            refunds::RefundsApi::openapi(),
            contracts::ContractsApi::openapi(),
            disputes::DisputesApi::openapi(),
            ledger::LedgerApi::openapi(),
            payouts::PayoutsApi::openapi(),
            profiles::ProfilesApi::openapi(),
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
            webhooks::WebhooksApi::openapi(),
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
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in operations(item) {
                add_shared_responses(path, method, operation);
            }
        }
    }
}

/// Every operation of a path, with its method's name as in `ENGINE_FREE`.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    let operations = [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("patch", &mut item.patch),
    ];
    operations.into_iter().filter_map(|(method, operation)| Some((method, operation.as_mut()?)))
}

fn add_shared_responses(path: &str, method: &str, operation: &mut Operation) {
    if !crate::limits::UNLIMITED_PATHS.contains(&path) {
        add_error_response(operation, "429", RATE_LIMITED);
    }
    if !ENGINE_FREE.contains(&(method, path)) {
        add_error_response(operation, "503", ENGINE_UNAVAILABLE);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks the generated document, as clients read it: every operation the limits middleware
    /// limits says 429, every operation that can wait on the engine says 503.
    #[test]
    fn every_operation_documents_its_shared_refusals() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let mut n_operations = 0;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                n_operations += 1;
                let responses = operation["responses"].as_object().unwrap();
                let limited = !crate::limits::UNLIMITED_PATHS.contains(&path.as_str());
                assert_eq!(responses.contains_key("429"), limited, "{method} {path}: 429");
                let free = ENGINE_FREE.contains(&(method.as_str(), path.as_str()));
                if !free {
                    let description = responses.get("503").and_then(|response| response["description"].as_str());
                    let description = description.unwrap_or_else(|| panic!("{method} {path}: no 503"));
                    assert!(description.contains(ENGINE_UNAVAILABLE), "{method} {path}: 503 {description}");
                }
            }
        }
        assert!(n_operations > 60, "the walk saw {n_operations} operations");
        // Each exemption names an operation that exists, so none outlives its route.
        for (method, path) in ENGINE_FREE {
            assert!(document["paths"][path][method].is_object(), "{method} {path} is not an operation");
        }
    }
}
