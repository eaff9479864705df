//! Extractors that turn headers and bodies into checked values, or into an `ApiError`.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::{AccountId, Actor, IDEMPOTENCY_KEY_CHARS_MAX, IdempotencyKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// `axum::Json`, but every way a body can be wrong becomes our JSON error: 400 for syntax and types,
/// 413 for size, 415 for content type. Never a plain-text error, never a 500.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(rejection)),
        }
    }
}

fn json_error(rejection: JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body may be at most {} bytes", crate::BODY_BYTES_MAX),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as application/json",
        ),
        _ if matches!(rejection, JsonRejection::JsonSyntaxError(_)) => ApiError::bad_request("invalid_json", message),
        _ => ApiError::bad_request("invalid_request", message),
    }
}

/// The caller, from `Authorization: Bearer <token>`; 401 without a known token.
pub(crate) struct Authenticated(pub(crate) Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        bearer_token(parts)
            .and_then(|token| state.engine.authenticate(token))
            .map(Authenticated)
            .ok_or_else(ApiError::unauthorized)
    }
}

pub(crate) fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

/// The `Idempotency-Key` header of a call that requires one.
pub(crate) struct RequiredIdempotencyKey(pub(crate) String);

impl FromRequestParts<AppState> for RequiredIdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Err(ApiError::bad_request(
                "idempotency_key_required",
                "this call needs an Idempotency-Key header (1 to 255 characters)",
            ));
        };
        let key = value.to_str().ok().filter(|key| {
            (1..=IDEMPOTENCY_KEY_CHARS_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
        });
        match key {
            Some(key) => Ok(RequiredIdempotencyKey(key.to_owned())),
            None => Err(ApiError::bad_request(
                "invalid_idempotency_key",
                "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
            )),
        }
    }
}

impl RequiredIdempotencyKey {
    /// Binds the key to its owner and to this exact request: the path and the parsed body, re-encoded,
    /// so whitespace or field order do not make the same request look different.
    pub(crate) fn bind(self, owner: AccountId, path: &str, body: &impl Serialize) -> IdempotencyKey {
        let mut hasher = Sha256::new();
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(serde_json::to_vec(body).expect("request bodies serialize"));
        IdempotencyKey { owner, key: self.0, fingerprint: hex::encode(hasher.finalize()) }
    }
}
