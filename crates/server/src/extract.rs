//! Extractors that turn headers and bodies into checked values, or into an `ApiError`.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use domain::{AccountId, Actor, IDEMPOTENCY_KEY_CHARS_MAX, IdempotencyKey, Timestamp};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use sha2::{Digest, Sha256};

/// A JSON object body. Every way a body can be wrong becomes our JSON error: 400 for syntax, shape
/// and types, 413 for size, 415 for content type. Never a plain-text error, never a 500.
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, ApiError> {
        if !has_content_type(&request, "application/json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = read_body(request, app.connections.body_read_timeout).await?;
        let value: T = serde_json::from_slice(&bytes).map_err(|error| match error.classify() {
            Category::Data => ApiError::bad_request("invalid_request", error.to_string()),
            Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request("invalid_json", error.to_string()),
        })?;
        // serde also reads a struct from a JSON array; the API takes objects only.
        if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::bad_request("invalid_request", "the body must be a JSON object"));
        }
        Ok(ApiJson(value))
    }
}

/// Whether the request's `Content-Type` is `mime` (parameters such as a charset aside).
fn has_content_type(request: &Request, mime: &str) -> bool {
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    content_type.and_then(|value| value.split(';').next()).is_some_and(|given| given.trim().eq_ignore_ascii_case(mime))
}

/// Reads the body, refusing more than `BODY_BYTES_MAX`. An oversized body is still read (and dropped)
/// up to `BODY_DRAIN_BYTES_MAX`, so the client finishes sending and receives the 413 instead of a
/// broken pipe; beyond that the connection is given up. The whole body must arrive within
/// `deadline`, else 408: a client trickling a body would otherwise hold its connection and a task.
async fn read_body(request: Request, deadline: std::time::Duration) -> Result<Vec<u8>, ApiError> {
    let deadline = tokio::time::Instant::now() + deadline;
    let mut chunks = request.into_body().into_data_stream();
    let mut body = Vec::new();
    let mut n_bytes_total = 0usize;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, chunks.next()).await else {
            metrics::counter!("livedrop_http_body_timeouts_total").increment(1);
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body was not sent in time",
            ));
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|_| ApiError::bad_request("invalid_request", "the body could not be read"))?;
        n_bytes_total += chunk.len();
        if n_bytes_total <= crate::BODY_BYTES_MAX {
            body.extend_from_slice(&chunk);
        } else if n_bytes_total > crate::BODY_DRAIN_BYTES_MAX {
            break;
        }
    }
    if n_bytes_total > crate::BODY_BYTES_MAX {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body may be at most {} bytes", crate::BODY_BYTES_MAX),
        ));
    }
    Ok(body)
}

/// An SDP offer (WHIP/WHEP): `application/sdp`, UTF-8, at most `BODY_BYTES_MAX` bytes. Whether it
/// is a usable offer is the media server's to say (400 `invalid_sdp`).
/// A JSON body as its exact bytes (for a signature over them), within the same size and time
/// limits as `ApiJson`; parsed by the handler once verified.
pub(crate) struct RawJsonBody(pub(crate) Vec<u8>);

impl FromRequest<AppState> for RawJsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, ApiError> {
        Ok(RawJsonBody(read_body(request, app.connections.body_read_timeout).await?))
    }
}

pub(crate) struct SdpBody(pub(crate) String);

impl FromRequest<AppState> for SdpBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, app: &AppState) -> Result<Self, ApiError> {
        if !has_content_type(&request, "application/sdp") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the offer as application/sdp",
            ));
        }
        let bytes = read_body(request, app.connections.body_read_timeout).await?;
        let offer =
            String::from_utf8(bytes).map_err(|_| ApiError::bad_request("invalid_sdp", "the offer is not UTF-8"))?;
        Ok(SdpBody(offer))
    }
}

/// A path segment naming a resource. Anything axum cannot decode names nothing: 404, as JSON.
pub(crate) struct ApiPath(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(segment)) => Ok(ApiPath(segment)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// Two path segments (a resource and an item of it); anything axum cannot decode names nothing: 404.
pub(crate) struct ApiPathPair(pub(crate) String, pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPathPair {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<(String, String)>::from_request_parts(parts, state).await {
            Ok(Path((first, second))) => Ok(ApiPathPair(first, second)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// Query parameters; a malformed or unknown one is a 400 naming it, as JSON.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(query)) => Ok(ApiQuery(query)),
            Err(rejection) => Err(ApiError::bad_request("invalid_query", rejection.body_text())),
        }
    }
}

/// Who sent the request, resolved once from `Authorization: Bearer <token>` by the limits
/// middleware (which needs it for the per-account limit) and kept in the request's extensions.
/// With the account's creation time, for the fraud rules' `account_age_seconds`.
#[derive(Clone, Copy)]
pub(crate) struct Caller(pub(crate) Option<(Actor, Timestamp)>);

/// The caller, required: 401 without a known token.
pub(crate) struct Authenticated(pub(crate) Actor);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        match parts.extensions.get::<Caller>() {
            Some(Caller(Some((actor, _)))) => Ok(Authenticated(*actor)),
            _ => Err(ApiError::unauthorized()),
        }
    }
}

pub(crate) fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

/// Device ids longer than this are refused: a device id is an opaque client identifier, not a payload.
pub(crate) const DEVICE_ID_CHARS_MAX: usize = 128;

/// What the fraud rules know of a request besides its body: the peer's IP address, the optional
/// `X-Device-Id` header (1 to 128 visible ASCII characters, else 400 `invalid_device_id`) and the
/// caller's account age. The peer address is the TCP peer: behind a proxy every request shares the
/// proxy's address (trusting `X-Forwarded-For` needs a configured proxy list; not built yet).
pub(crate) struct RiskInputs(pub(crate) engine::RiskContext);

impl FromRequestParts<AppState> for RiskInputs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        let device_id = match parts.headers.get("x-device-id") {
            None => None,
            Some(value) => {
                let device = value.to_str().ok().filter(|device| {
                    (1..=DEVICE_ID_CHARS_MAX).contains(&device.len()) && device.bytes().all(|b| b.is_ascii_graphic())
                });
                let device = device.ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_device_id",
                        format!("the X-Device-Id header must be 1 to {DEVICE_ID_CHARS_MAX} visible ASCII characters"),
                    )
                })?;
                Some(device.to_owned())
            }
        };
        let ip = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
        let account_created_at = match parts.extensions.get::<Caller>() {
            Some(Caller(Some((_, created_at)))) => Some(*created_at),
            _ => None,
        };
        Ok(RiskInputs(engine::RiskContext { ip, device_id, account_created_at }))
    }
}

/// The `Idempotency-Key` header of a call that requires one.
pub(crate) struct RequiredIdempotencyKey(pub(crate) String);

/// The `Idempotency-Key` header of a call that takes one if given (creators' calls).
pub(crate) struct OptionalIdempotencyKey(pub(crate) Option<RequiredIdempotencyKey>);

fn idempotency_key(parts: &Parts) -> Result<Option<RequiredIdempotencyKey>, ApiError> {
    let Some(value) = parts.headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().filter(|key| {
        (1..=IDEMPOTENCY_KEY_CHARS_MAX).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
    });
    match key {
        Some(key) => Ok(Some(RequiredIdempotencyKey(key.to_owned()))),
        None => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
        )),
    }
}

impl FromRequestParts<AppState> for RequiredIdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        idempotency_key(parts)?.ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "this call needs an Idempotency-Key header (1 to 255 characters)",
            )
        })
    }
}

impl FromRequestParts<AppState> for OptionalIdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        idempotency_key(parts).map(OptionalIdempotencyKey)
    }
}

impl OptionalIdempotencyKey {
    pub(crate) fn bind(self, owner: AccountId, path: &str, body: &impl Serialize) -> Option<IdempotencyKey> {
        self.0.map(|key| key.bind(owner, path, body))
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
