//! Signing up (`POST /v1/accounts`), the caller's own account, and its bearer tokens: issuing
//! further ones, listing them and revoking any (rotation is issue, switch, revoke).

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, OptionalIdempotencyKey, bearer_token};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, Rejection, Reply, Role, TOKEN_LIFETIME_MS_MAX, TokenId};
use rand::RngCore;
use utoipa::OpenApi;
use wire::{
    AccountBody, CreateAccountRequest, IssueTokenRequest, IssuedTokenBody, PartnerKindWire, SignupRole, TokenBody,
    TokenListBody,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", post(create_account))
        .route("/v1/accounts/me", get(me))
        .route("/v1/accounts/me/tokens", post(issue_token).get(list_tokens))
        .route("/v1/accounts/me/tokens/{id}", delete(revoke_token))
}

#[derive(OpenApi)]
#[openapi(
    paths(create_account, me, issue_token, list_tokens, revoke_token),
    components(schemas(
        CreateAccountRequest,
        SignupRole,
        PartnerKindWire,
        AccountBody,
        IssueTokenRequest,
        IssuedTokenBody,
        TokenBody,
        TokenListBody
    ))
)]
pub(crate) struct AccountsApi;

/// The longest `expires_in_seconds`: 366 days.
const TOKEN_LIFETIME_SECONDS_MAX: u64 = (TOKEN_LIFETIME_MS_MAX / 1_000) as u64;

/// Bearer tokens are 32 random bytes; the engine keeps only their SHA-256.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ldt_{}", hex::encode(bytes))
}

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccountRequest,
    responses((status = 201, body = AccountBody), (status = 400, description = "invalid_request (handle; partner_kind required for partners and only for them)", body = ErrorBody),
        (status = 409, description = "handle_taken", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_account(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<CreateAccountRequest>,
) -> Result<Response, ApiError> {
    let token = new_token();
    let role = match request.role {
        SignupRole::Buyer => Role::Buyer,
        SignupRole::Creator => Role::Creator,
        SignupRole::Partner => Role::Partner,
    };
    let command = Command::CreateAccount {
        partition: engine::handle_partition(&request.handle),
        handle: request.handle,
        role,
        partner_kind: request.partner_kind.map(PartnerKindWire::into_domain),
        token_sha256: engine::token_sha256(&token),
    };
    match app.engine.execute(Envelope::plain(command)).await? {
        Ok(Reply::Account(account)) => {
            Ok((StatusCode::CREATED, Json(AccountBody::of(&account, Some(token)))).into_response())
        }
        Ok(other) => unreachable!("create_account answered {other:?}"),
        Err(rejection) => Err(rejection.into()),
    }
}

#[utoipa::path(get, path = "/v1/accounts/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountBody), Unavailable))]
pub(crate) async fn me(State(app): State<AppState>, Authenticated(actor): Authenticated) -> Result<Response, ApiError> {
    // Admins too: each is an account of its own, named in the configuration.
    let (account, _) = app.engine.read(actor.id.partition(), move |state| state.account(actor.id).cloned()).await?;
    let account = account.ok_or_else(ApiError::not_found)?;
    Ok(Json(AccountBody::of(&account, None)).into_response())
}

/// The SHA-256 of the bearer token the request was sent with (it authenticated, so there is one).
fn current_sha256(parts: &Parts) -> String {
    bearer_token(parts).map(engine::token_sha256).unwrap_or_default()
}

#[utoipa::path(post, path = "/v1/accounts/me/tokens", tag = "accounts",
    params(("Idempotency-Key" = Option<String>, Header, description = "optional; a retry with the same key and body answers the first token, without its secret")),
    request_body = IssueTokenRequest, security(("bearer" = [])),
    responses((status = 201, body = IssuedTokenBody), (status = 400, description = "invalid_request (expires_in_seconds)", body = ErrorBody),
        (status = 403, description = "forbidden: admin tokens are configured, not issued", body = ErrorBody),
        (status = 409, description = "too_many_tokens: revoke one first", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn issue_token(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiJson(request): ApiJson<IssueTokenRequest>,
) -> Result<Response, ApiError> {
    if let Some(seconds) = request.expires_in_seconds
        && !(1..=TOKEN_LIFETIME_SECONDS_MAX).contains(&seconds)
    {
        return Err(ApiError::invalid("expires_in_seconds", format!("must be 1 to {TOKEN_LIFETIME_SECONDS_MAX}")));
    }
    let idempotency = key.bind(actor.id, "/v1/accounts/me/tokens", &request);
    let token = new_token();
    let token_sha256 = engine::token_sha256(&token);
    let expires_at = request.expires_in_seconds.map(|seconds| app.engine.now().plus_ms(seconds * 1_000));
    let command = Command::IssueToken { actor, token_sha256: token_sha256.clone(), expires_at };
    match app.engine.execute(Envelope { idempotency, command }).await? {
        // Issued by this request: the secret made here is the token's.
        Ok(Reply::Token(issued)) if issued.token_sha256 == token_sha256 => {
            Ok((StatusCode::CREATED, Json(IssuedTokenBody::of(&issued, Some(token)))).into_response())
        }
        // A retry answered from its record: that token's secret was shown once, to the first answer.
        outcome => Ok(render(outcome, StatusCode::CREATED)),
    }
}

#[utoipa::path(get, path = "/v1/accounts/me/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = TokenListBody), (status = 403, description = "forbidden: admins have no tokens here", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_tokens(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    parts: Parts,
) -> Result<Response, ApiError> {
    if actor.role == Role::Admin {
        return Err(Rejection::Forbidden.into());
    }
    let current = current_sha256(&parts);
    let read = app.engine.read(actor.id.partition(), move |state| {
        state.tokens_of(actor.id).map(|token| TokenBody::of(token, &current)).collect::<Vec<_>>()
    });
    let (tokens, _) = read.await?;
    Ok(Json(TokenListBody { tokens }).into_response())
}

#[utoipa::path(delete, path = "/v1/accounts/me/tokens/{id}", tag = "accounts", params(("id" = String, Path, description = "token id")),
    security(("bearer" = [])),
    responses((status = 200, description = "the token, revoked (revoking a revoked one answers it unchanged)", body = TokenBody),
        (status = 403, description = "forbidden: admin tokens are configured, not revoked here", body = ErrorBody),
        (status = 404, description = "no token of yours has this id", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn revoke_token(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(token_id): ApiPath,
    parts: Parts,
) -> Result<Response, ApiError> {
    let token_id: TokenId = path_id(&token_id)?;
    let command = Command::RevokeToken { actor, token_id };
    match app.engine.execute(Envelope::plain(command)).await? {
        Ok(Reply::Token(token)) => Ok(Json(TokenBody::of(&token, &current_sha256(&parts))).into_response()),
        Ok(other) => unreachable!("revoke_token answered {other:?}"),
        Err(rejection) => Err(rejection.into()),
    }
}
