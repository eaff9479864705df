//! `GET` and `PUT /v1/admin/risk-rules`: the platform's fraud rules, for admins only.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Authenticated};
use crate::openapi::{RateLimited, Unavailable};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use domain::{Actor, Rejection, Role};
use utoipa::OpenApi;
use wire::{
    RiskRuleBody, RiskRulesBody, RiskRulesErrorBody, RiskRulesErrorDetail, RiskRulesRequest, RuleErrorBody, SignalBody,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/admin/risk-rules", get(get_risk_rules).put(put_risk_rules))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_risk_rules, put_risk_rules),
    components(schemas(
        RiskRulesRequest,
        RiskRulesBody,
        RiskRuleBody,
        SignalBody,
        RiskRulesErrorBody,
        RiskRulesErrorDetail,
        RuleErrorBody,
    ))
)]
pub(crate) struct RiskApi;

fn require_admin(actor: &Actor) -> Result<(), ApiError> {
    if actor.role == Role::Admin { Ok(()) } else { Err(domain::Rejection::Forbidden.into()) }
}

#[utoipa::path(get, path = "/v1/admin/risk-rules", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = RiskRulesBody), (status = 403, description = "forbidden: admins only", body = ErrorBody), RateLimited))]
pub(crate) async fn get_risk_rules(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    require_admin(&actor)?;
    let installed = app.engine.risk_rules();
    Ok(Json(RiskRulesBody::of(&installed.text, installed.version, &installed.rules)).into_response())
}

#[utoipa::path(put, path = "/v1/admin/risk-rules", tag = "risk", request_body = RiskRulesRequest, security(("bearer" = [])),
    responses((status = 200, description = "saved, journaled and in force", body = RiskRulesBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 422, description = "invalid_risk_rules: nothing was saved; every error with its line and column", body = RiskRulesErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn put_risk_rules(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiJson(request): ApiJson<RiskRulesRequest>,
) -> Result<Response, ApiError> {
    require_admin(&actor)?;
    // The domain decides on the rules (the engine parses them once); a refusal for mistakes in the
    // text lists each with its line and column.
    match app.engine.save_risk_rules(actor, request.rules).await? {
        Ok(saved) => Ok(Json(RiskRulesBody::of(&saved.text, saved.version, &saved.rules)).into_response()),
        Err(rejection) => rules_refused("invalid_risk_rules", rejection),
    }
}

/// A rule text refused for its mistakes: 422 `code` with every one's line and column; any other
/// refusal as usual.
pub(crate) fn rules_refused(code: &str, rejection: Rejection) -> Result<Response, ApiError> {
    match rejection {
        Rejection::Invalid { message, mistakes, .. } if !mistakes.is_empty() => {
            let errors = mistakes
                .into_iter()
                .map(|mistake| RuleErrorBody { line: mistake.line, column: mistake.column, message: mistake.message })
                .collect();
            let body = RiskRulesErrorBody { error: RiskRulesErrorDetail { code: code.to_owned(), message, errors } };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
        rejection => Err(rejection.into()),
    }
}
