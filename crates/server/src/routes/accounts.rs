//! Signing up (`POST /v1/accounts`) and the caller's own account.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use crate::wire::role_name;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{Command, Envelope, Reply, Role};
use rand::RngCore;
use utoipa::OpenApi;
use wire::{AccountBody, CreateAccountRequest, SignupRole};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/accounts", post(create_account)).route("/v1/accounts/me", get(me))
}

#[derive(OpenApi)]
#[openapi(paths(create_account, me), components(schemas(CreateAccountRequest, SignupRole, AccountBody)))]
pub(crate) struct AccountsApi;

/// Bearer tokens are 32 random bytes; the engine keeps only their SHA-256.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("ldt_{}", hex::encode(bytes))
}

#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccountRequest,
    responses((status = 201, body = AccountBody), (status = 400, description = "invalid_request (handle)", body = ErrorBody),
        (status = 409, description = "handle_taken", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn create_account(
    State(app): State<AppState>,
    ApiJson(request): ApiJson<CreateAccountRequest>,
) -> Result<Response, ApiError> {
    let token = new_token();
    let role = match request.role {
        SignupRole::Buyer => Role::Buyer,
        SignupRole::Creator => Role::Creator,
    };
    let command = Command::CreateAccount {
        partition: engine::handle_partition(&request.handle),
        handle: request.handle,
        role,
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
    if actor.role == Role::Admin {
        let body = serde_json::json!({"id": actor.id.to_string(), "handle": "admin", "role": role_name(Role::Admin)});
        return Ok(Json(body).into_response());
    }
    let (account, _) = app.engine.read(actor.id.partition(), move |state| state.account(actor.id).cloned()).await?;
    let account = account.ok_or_else(ApiError::not_found)?;
    Ok(Json(AccountBody::of(&account, None)).into_response())
}
