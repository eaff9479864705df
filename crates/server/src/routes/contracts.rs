//! Split contracts: a creator proposes partners' shares of its sales, each partner accepts or
//! rejects, and a drop may name an accepted one (`split_contract_id`).

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
use domain::{Command, Envelope, Role, SPLIT_PARTNERS_MAX, SplitContractId};
use utoipa::OpenApi;
use wire::{ContractBody, ContractListBody, ProposeContractRequest, ShareBody, ShareRequest};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/split-contracts", post(propose_contract).get(list_contracts))
        .route("/v1/split-contracts/{id}", get(get_contract))
        .route("/v1/split-contracts/{id}/accept", post(accept_contract))
        .route("/v1/split-contracts/{id}/reject", post(reject_contract))
}

#[derive(OpenApi)]
#[openapi(
    paths(propose_contract, list_contracts, get_contract, accept_contract, reject_contract),
    components(schemas(
        ProposeContractRequest,
        ShareRequest,
        wire::TermsWire,
        wire::WindowWire,
        ContractBody,
        ShareBody,
        ContractListBody
    ))
)]
pub(crate) struct ContractsApi;

#[utoipa::path(post, path = "/v1/split-contracts", tag = "split contracts", request_body = ProposeContractRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 255 characters")),
    security(("bearer" = [])),
    responses((status = 201, description = "the contract, `pending` until every partner accepts", body = ContractBody),
        (status = 400, description = "invalid_request (shares, share_bps, a partner named twice) or idempotency_key_required", body = ErrorBody),
        (status = 403, description = "forbidden: creators only", body = ErrorBody),
        (status = 404, description = "`replaces` names no contract of yours", body = ErrorBody),
        (status = 422, description = "shares_exceed_whole (over 10 000 basis points) or unknown_partner", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn propose_contract(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
    ApiJson(request): ApiJson<ProposeContractRequest>,
) -> Result<Response, ApiError> {
    if request.shares.is_empty() || request.shares.len() > SPLIT_PARTNERS_MAX {
        return Err(ApiError::invalid("shares", format!("must name 1 to {SPLIT_PARTNERS_MAX} partners")));
    }
    let mut shares = Vec::with_capacity(request.shares.len());
    let mut terms = Vec::new();
    for (index, share) in request.shares.iter().enumerate() {
        let partner_id = body_id("partner_id", &share.partner_id)?;
        shares.push((partner_id, share.share_bps));
        if let Some(wire) = &share.terms {
            terms.push((partner_id, wire.parse(&format!("shares[{index}].terms"))?));
        }
    }
    let replaces = request.replaces.as_deref().map(|text| body_id("replaces", text)).transpose()?;
    let idempotency = key.bind(actor.id, "/v1/split-contracts", &request);
    let outcome = app.engine.propose_split_contract(actor, shares, replaces, terms, idempotency).await?;
    Ok(render(outcome, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/split-contracts", tag = "split contracts", security(("bearer" = [])),
    responses((status = 200, description = "a creator's contracts, or those naming a partner, oldest first", body = ContractListBody),
        (status = 403, description = "forbidden: creators and partners only", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_contracts(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    let contracts = match actor.role {
        // A creator's contracts live in its own partition.
        Role::Creator => {
            let (bodies, _) = app
                .engine
                .read(actor.id.partition(), move |state| {
                    state.split_contracts_of(actor.id).map(ContractBody::from).collect::<Vec<_>>()
                })
                .await?;
            bodies
        }
        // A partner is named in the contracts of creators of any partition.
        Role::Partner => {
            let per_shard = app
                .engine
                .read_all(move |state| {
                    let mut contracts: Vec<_> = state.split_contracts_of(actor.id).cloned().collect();
                    contracts.sort_by_key(|contract| (contract.created_at, contract.id));
                    contracts
                })
                .await?;
            let mut contracts: Vec<_> = per_shard.into_iter().flatten().collect();
            contracts.sort_by_key(|contract| (contract.created_at, contract.id));
            contracts.iter().map(ContractBody::from).collect()
        }
        _ => return Err(ApiError::from(domain::Rejection::Forbidden)),
    };
    Ok(Json(ContractListBody { contracts }).into_response())
}

#[utoipa::path(get, path = "/v1/split-contracts/{id}", tag = "split contracts",
    params(("id" = String, Path, description = "split contract id")), security(("bearer" = [])),
    responses((status = 200, body = ContractBody),
        (status = 404, description = "no such contract, or not its creator's, a named partner's or an admin's to see", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_contract(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(contract_id): ApiPath,
) -> Result<Response, ApiError> {
    let contract_id: SplitContractId = path_id(&contract_id)?;
    let (body, _) = app
        .engine
        .read(contract_id.partition(), move |state| {
            let contract = state.split_contract(contract_id)?;
            let named = contract.shares.iter().any(|share| share.partner_id == actor.id);
            (contract.creator_id == actor.id || named || actor.role == Role::Admin)
                .then(|| ContractBody::from(contract))
        })
        .await?;
    Ok(Json(body.ok_or_else(ApiError::not_found)?).into_response())
}

async fn answer(
    app: AppState,
    actor: domain::Actor,
    key: OptionalIdempotencyKey,
    contract_id: String,
    accept: bool,
) -> Result<Response, ApiError> {
    let contract_id: SplitContractId = path_id(&contract_id)?;
    let verb = if accept { "accept" } else { "reject" };
    let idempotency = key.bind(actor.id, &format!("/v1/split-contracts/{contract_id}/{verb}"), &());
    let command = Command::AnswerSplitContract { actor, contract_id, accept };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}

#[utoipa::path(post, path = "/v1/split-contracts/{id}/accept", tag = "split contracts",
    params(("id" = String, Path, description = "split contract id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the contract; `accepted` once every partner has", body = ContractBody),
        (status = 404, description = "no such contract, or it does not name you", body = ErrorBody),
        (status = 409, description = "contract_already_answered", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn accept_contract(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(contract_id): ApiPath,
) -> Result<Response, ApiError> {
    answer(app, actor, key, contract_id, true).await
}

#[utoipa::path(post, path = "/v1/split-contracts/{id}/reject", tag = "split contracts",
    params(("id" = String, Path, description = "split contract id"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the contract, `rejected`", body = ContractBody),
        (status = 404, description = "no such contract, or it does not name you", body = ErrorBody),
        (status = 409, description = "contract_already_answered", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn reject_contract(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(contract_id): ApiPath,
) -> Result<Response, ApiError> {
    answer(app, actor, key, contract_id, false).await
}
