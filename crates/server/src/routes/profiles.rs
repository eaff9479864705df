//! Payout profiles (when a payee's earnings become available) and the payout rules that move them
//! by each payee's record: `GET /v1/payout-profile`, an admin's `PUT` and `DELETE
//! /v1/admin/payout-profiles/{account_id}`, and `/v1/admin/payout-rules` (read, save, run).

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authenticated, OptionalIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::ledger::payee_of;
use crate::routes::ledger::wire::AccountQuery;
use crate::routes::risk::rules_refused;
use crate::routes::risk::wire::RiskRulesErrorBody;
use crate::routes::{path_id, render};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use domain::{AccountId, Command, Envelope, PAYOUT_DAYS_MAX, PayoutProfile, Rejection, Role};
use utoipa::OpenApi;
use wire::{
    PayoutRuleBody, PayoutRulesBody, PayoutRulesRequest, ProfileBody, ProfileMoveBody, ProfileRequest, ProfileRuleBody,
    ProfileTermsBody, RulesRunBody, ScheduleWire,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/payout-profile", get(get_profile))
        .route("/v1/admin/payout-profiles/{account_id}", put(set_profile).delete(clear_profile))
        .route("/v1/admin/payout-rules", get(get_payout_rules).put(put_payout_rules))
        .route("/v1/admin/payout-rules/run", post(run_payout_rules))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_profile, set_profile, clear_profile, get_payout_rules, put_payout_rules, run_payout_rules),
    components(schemas(
        ProfileRequest,
        ScheduleWire,
        ProfileBody,
        ProfileRuleBody,
        PayoutRulesRequest,
        PayoutRulesBody,
        PayoutRuleBody,
        ProfileTermsBody,
        RulesRunBody,
        ProfileMoveBody
    ))
)]
pub(crate) struct ProfilesApi;

fn require_admin(actor: &domain::Actor) -> Result<(), ApiError> {
    if actor.role == Role::Admin { Ok(()) } else { Err(Rejection::Forbidden.into()) }
}

#[utoipa::path(get, path = "/v1/payout-profile", tag = "money", params(AccountQuery), security(("bearer" = [])),
    responses((status = 200, description = "the payout profile in force for new sales", body = ProfileBody),
        (status = 403, description = "forbidden: creators and partners see their own, admins anyone's", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn get_profile(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<Response, ApiError> {
    let payee = payee_of(&actor, query.account_id.as_deref())?;
    profile_in_force(&app, payee).await
}

async fn profile_in_force(app: &AppState, payee: AccountId) -> Result<Response, ApiError> {
    let (in_force, _) =
        app.engine.read(payee.partition(), move |state| state.payout_profile_in_force(payee).cloned()).await?;
    let default = app.engine.money_config().default_profile;
    Ok(Json(ProfileBody::in_force(payee, in_force.as_ref(), &default)).into_response())
}

#[utoipa::path(put, path = "/v1/admin/payout-profiles/{account_id}", tag = "money", request_body = ProfileRequest,
    params(("account_id" = String, Path, description = "a creator or partner"), ("Idempotency-Key" = Option<String>, Header, description = "optional")),
    security(("bearer" = [])),
    responses((status = 200, description = "the profile, in force for sales from now on; the payout rules leave it alone until it is cleared", body = ProfileBody),
        (status = 400, description = "invalid_request (delay_days, reserve_bps, reserve_days, release_on_fulfilment; not a payee)", body = ErrorBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn set_profile(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: OptionalIdempotencyKey,
    ApiPath(account_id): ApiPath,
    ApiJson(request): ApiJson<ProfileRequest>,
) -> Result<Response, ApiError> {
    let account_id: AccountId = path_id(&account_id)?;
    let delay_days = match (request.schedule, request.delay_days) {
        (ScheduleWire::SameDay, None | Some(0)) => 0,
        (ScheduleWire::SameDay, Some(_)) => return Err(ApiError::invalid("delay_days", "same_day takes no delay")),
        (ScheduleWire::Delayed, Some(days @ 1..=PAYOUT_DAYS_MAX)) => days,
        (ScheduleWire::Delayed, _) => {
            return Err(ApiError::invalid("delay_days", format!("delayed needs 1 to {PAYOUT_DAYS_MAX} days")));
        }
    };
    let profile = PayoutProfile {
        delay_days,
        reserve_bps: request.reserve_bps.unwrap_or(0),
        reserve_days: request.reserve_days.unwrap_or(0),
        release_on_fulfilment: request.release_on_fulfilment,
    };
    let idempotency = key.bind(actor.id, &format!("/v1/admin/payout-profiles/{account_id}"), &request);
    let command = Command::SetPayoutProfile { actor, account_id, profile };
    Ok(render(app.engine.execute(Envelope { idempotency, command }).await?, StatusCode::OK))
}

#[utoipa::path(delete, path = "/v1/admin/payout-profiles/{account_id}", tag = "money",
    params(("account_id" = String, Path, description = "a creator or partner")),
    security(("bearer" = [])),
    responses((status = 200, description = "cleared: the default is in force until a payout rule matches the payee (the rules start a run now)", body = ProfileBody),
        (status = 400, description = "invalid_request: not a payee", body = ErrorBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 404, description = "no such account", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn clear_profile(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(account_id): ApiPath,
) -> Result<Response, ApiError> {
    let account_id: AccountId = path_id(&account_id)?;
    let command = Command::ClearPayoutProfile { actor, account_id };
    if let Err(rejection) = app.engine.execute(Envelope::plain(command)).await? {
        return Err(rejection.into());
    }
    // The payee is the rules' again: they run now, in the background, rather than at the next
    // hour; the answer is the profile in force at once (the default until a rule moves it).
    app.engine.start_payout_rules_run();
    profile_in_force(&app, account_id).await
}

#[utoipa::path(get, path = "/v1/admin/payout-rules", tag = "money", security(("bearer" = [])),
    responses((status = 200, body = PayoutRulesBody), (status = 403, description = "forbidden: admins only", body = ErrorBody), RateLimited))]
pub(crate) async fn get_payout_rules(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    require_admin(&actor)?;
    Ok(Json(PayoutRulesBody::of(&app.engine.payout_rules())).into_response())
}

#[utoipa::path(put, path = "/v1/admin/payout-rules", tag = "money", request_body = PayoutRulesRequest, security(("bearer" = [])),
    responses((status = 200, description = "saved, journaled and in force; they run on every payee now, in the background", body = PayoutRulesBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 422, description = "invalid_payout_rules: nothing was saved; every error with its line and column", body = RiskRulesErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn put_payout_rules(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<PayoutRulesRequest>,
) -> Result<Response, ApiError> {
    require_admin(&actor)?;
    match app.engine.save_payout_rules(actor, request.rules).await? {
        Ok(saved) => Ok(Json(PayoutRulesBody::of(&saved)).into_response()),
        Err(rejection) => rules_refused("invalid_payout_rules", rejection),
    }
}

#[utoipa::path(post, path = "/v1/admin/payout-rules/run", tag = "money", security(("bearer" = [])),
    responses((status = 200, description = "the rules ran on every payee's record; what moved", body = RulesRunBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn run_payout_rules(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    require_admin(&actor)?;
    let run = app.engine.run_payout_rules().await?;
    Ok(Json(RulesRunBody::from(&run)).into_response())
}
