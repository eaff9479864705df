//! Partner signals: what a fulfiller's own systems know about its fulfilment orders (state, ETA),
//! sent with its bearer token (`/v1/partner-signals`) or as a Standard Webhooks inbound webhook
//! signed with a secret the platform made for it (`/v1/inbound/{account_id}/signals`), so a
//! courier's platform can push without holding a token.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Authenticated, RawJsonBody};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::fulfilment::next_state;
use crate::wire::parse_rfc3339;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use domain::{AccountId, Actor, Command, DropId, Envelope, FulfilmentId, Reply, WebhookSecret};
use utoipa::OpenApi;

/// Signals in one request at most.
const SIGNALS_PER_REQUEST_MAX: usize = 100;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/partner-signals", post(partner_signals))
        .route("/v1/partner-signals/inbound-secret", post(set_inbound_secret))
        .route("/v1/inbound/{account_id}/signals", post(inbound_signals))
}

#[derive(OpenApi)]
#[openapi(
    paths(partner_signals, set_inbound_secret, inbound_signals),
    components(schemas(
        wire::SignalsRequest,
        wire::SignalRequest,
        wire::SignalsBody,
        wire::SignalResultBody,
        wire::SignalErrorBody,
        wire::InboundSecretBody
    ))
)]
pub(crate) struct SignalsApi;

#[utoipa::path(post, path = "/v1/partner-signals", tag = "fulfilment", request_body = wire::SignalsRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "each signal's outcome, in order: applied, stale (older than what is known: nothing changed) or refused with its error", body = wire::SignalsBody),
        (status = 400, description = "invalid_request: the whole request is refused and nothing is applied", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn partner_signals(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<wire::SignalsRequest>,
) -> Result<Response, ApiError> {
    apply_signals(&app, actor, request).await
}

/// Checks every signal, then applies each in order as `actor`'s.
async fn apply_signals(app: &AppState, actor: Actor, request: wire::SignalsRequest) -> Result<Response, ApiError> {
    if request.signals.is_empty() || request.signals.len() > SIGNALS_PER_REQUEST_MAX {
        return Err(ApiError::invalid("signals", format!("must hold 1 to {SIGNALS_PER_REQUEST_MAX} signals")));
    }
    // Every signal is checked before any is applied: a malformed one refuses the whole request.
    let mut commands = Vec::with_capacity(request.signals.len());
    for (index, signal) in request.signals.iter().enumerate() {
        let field = |name: &str| format!("signals[{index}].{name}");
        if signal.version == 0 {
            return Err(ApiError::invalid(&field("version"), "must be 1 or more"));
        }
        let fulfilment_id = match (&signal.fulfilment_id, &signal.drop_id) {
            (Some(id), None) => id,
            (None, Some(drop_id)) => {
                commands.push(stock_count(actor, signal, drop_id, &field)?);
                continue;
            }
            _ => return Err(ApiError::invalid(&field("fulfilment_id"), "name a fulfilment_id or a drop_id")),
        };
        if signal.on_hand.is_some() {
            return Err(ApiError::invalid(&field("on_hand"), "a stock count names a drop_id, not a fulfilment order"));
        }
        let fulfilment_id: FulfilmentId = fulfilment_id
            .parse()
            .map_err(|_| ApiError::invalid(&field("fulfilment_id"), "is not a fulfilment order id"))?;
        let to = next_state(&field("state"), signal.state.as_deref())?;
        let eta = signal.eta.as_deref().map(|text| parse_rfc3339(&field("eta"), text)).transpose()?;
        if to.is_none() && eta.is_none() {
            return Err(ApiError::invalid(&field("state"), "name a state, an eta, or both"));
        }
        commands.push(Command::SignalFulfilment { actor, fulfilment_id, to, eta, version: signal.version });
    }
    let mut results = Vec::with_capacity(commands.len());
    for (command, signal) in commands.into_iter().zip(&request.signals) {
        // A refusal is that signal's answer; an engine that cannot take one (overloaded, stopped)
        // answers the whole request (503 and Retry-After), so a sender retries it: the signals
        // applied before it come back stale.
        let result = match app.engine.execute(Envelope::plain(command)).await? {
            Ok(Reply::FulfilmentSignal { fulfilment, outcome }) => {
                let id = signal.fulfilment_id.as_deref().unwrap_or_default();
                wire::SignalResultBody::of(id, &fulfilment, outcome)
            }
            Ok(Reply::StockSignal { count, outcome, case }) => {
                let drop_id = signal.drop_id.as_deref().unwrap_or_default();
                wire::SignalResultBody::of_count(drop_id, &count, outcome, case.as_deref())
            }
            Ok(other) => unreachable!("a signal answered {other:?}"),
            Err(rejection) => wire::SignalResultBody::refused(signal, ApiError::from(rejection)),
        };
        results.push(result);
    }
    Ok(Json(wire::SignalsBody { results }).into_response())
}

/// A stock count: the units a drop's hub partner has of it on its shelf.
fn stock_count(
    actor: Actor,
    signal: &wire::SignalRequest,
    drop_id: &str,
    field: &dyn Fn(&str) -> String,
) -> Result<Command, ApiError> {
    let drop_id: DropId = drop_id.parse().map_err(|_| ApiError::invalid(&field("drop_id"), "is not a drop id"))?;
    if signal.state.is_some() || signal.eta.is_some() {
        return Err(ApiError::invalid(&field("drop_id"), "a stock count takes on_hand only, no state or eta"));
    }
    let on_hand = signal.on_hand.ok_or_else(|| ApiError::invalid(&field("on_hand"), "a stock count needs on_hand"))?;
    if on_hand > domain::PRODUCT_STOCK_MAX {
        return Err(ApiError::invalid(&field("on_hand"), format!("must be 0 to {}", domain::PRODUCT_STOCK_MAX)));
    }
    Ok(Command::SignalStock { actor, drop_id, on_hand, version: signal.version })
}

#[utoipa::path(post, path = "/v1/partner-signals/inbound-secret", tag = "fulfilment", security(("bearer" = [])),
    responses((status = 201, description = "a new secret for the caller's inbound webhooks, shown this once", body = wire::InboundSecretBody),
        (status = 403, description = "forbidden: partners and creators only", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn set_inbound_secret(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    let secret = ::webhooks::Secret::generate().to_string();
    let command = Command::SetInboundSecret { actor, secret: WebhookSecret(secret.clone()) };
    match app.engine.execute(Envelope::plain(command)).await? {
        Ok(Reply::InboundSecretSet { account_id }) => {
            let body = wire::InboundSecretBody { secret, url: format!("/v1/inbound/{account_id}/signals") };
            Ok((StatusCode::CREATED, Json(body)).into_response())
        }
        Ok(other) => unreachable!("set_inbound_secret answered {other:?}"),
        Err(rejection) => Err(rejection.into()),
    }
}

fn invalid_signature(reason: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_signature",
        format!("the webhook signature does not verify: {reason}"),
    )
}

#[utoipa::path(post, path = "/v1/inbound/{account_id}/signals", tag = "fulfilment", request_body = wire::SignalsRequest,
    params(("account_id" = String, Path), ("webhook-id" = String, Header), ("webhook-timestamp" = String, Header), ("webhook-signature" = String, Header)),
    responses((status = 200, description = "as /v1/partner-signals, for the account whose secret signed it", body = wire::SignalsBody),
        (status = 400, description = "invalid_request: nothing applied", body = ErrorBody),
        (status = 401, description = "invalid_signature: missing headers, a timestamp more than 5 minutes off, or no secret of the account verifies it", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn inbound_signals(
    State(app): State<AppState>,
    ApiPath(account_id): ApiPath,
    headers: HeaderMap,
    RawJsonBody(body): RawJsonBody,
) -> Result<Response, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    let (id, timestamp, signature) =
        (header(::webhooks::HEADER_ID), header(::webhooks::HEADER_TIMESTAMP), header(::webhooks::HEADER_SIGNATURE));
    if id.is_empty() || timestamp.is_empty() || signature.is_empty() {
        return Err(invalid_signature("webhook-id, webhook-timestamp and webhook-signature are required"));
    }
    // The free checks first: a stale or malformed timestamp costs no shard read. The receiver's
    // own clock decides a message's age (replays older than five minutes fail).
    let wall_secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let sent_at: i64 = timestamp.trim().parse().map_err(|_| invalid_signature(::webhooks::VerifyError::Timestamp))?;
    if sent_at.abs_diff(wall_secs) > ::webhooks::TOLERANCE_SECS as u64 {
        return Err(invalid_signature(::webhooks::VerifyError::Stale));
    }
    // A malformed id is refused like an unknown one: the address says nothing about accounts.
    let account_id: AccountId = account_id.parse().map_err(|_| invalid_signature(::webhooks::VerifyError::Mismatch))?;
    let now = app.engine.now();
    let (found, _) = app
        .engine
        .read(account_id.partition(), move |state| {
            let account = state.account(account_id)?;
            let secrets: Vec<String> = state.inbound_secrets(account_id, now).into_iter().map(str::to_owned).collect();
            Some((Actor { id: account.id, role: account.role }, secrets))
        })
        .await?;
    // An unknown account and one without a secret are refused alike: nothing verifies.
    let (actor, secrets) = found.unwrap_or((Actor { id: account_id, role: domain::Role::Buyer }, Vec::new()));
    let mut secrets: Vec<::webhooks::Secret> = secrets.iter().filter_map(|secret| secret.parse().ok()).collect();
    // Without a secret, a throwaway one is checked all the same, so the time taken does not tell
    // which accounts have a secret.
    if secrets.is_empty() {
        secrets.push(::webhooks::Secret::generate());
    }
    ::webhooks::verify(&secrets, &id, &timestamp, &signature, &body, wall_secs).map_err(invalid_signature)?;
    let request: wire::SignalsRequest = serde_json::from_slice(&body).map_err(|error| {
        ApiError::bad_request("invalid_request", format!("the body is not a signals request: {error}"))
    })?;
    apply_signals(&app, actor, request).await
}
