//! Settlement windows and payouts with the lines they pay (JSON and CSV statements).

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, Authenticated, RequiredIdempotencyKey};
use crate::openapi::{RateLimited, Unavailable};
use crate::routes::ledger::payee_of;
use crate::routes::ledger::wire::AccountQuery;
use crate::routes::path_id;
use crate::wire::rfc3339;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::{PayoutId, Rejection, Role, SETTLEMENT_PARTITION, SettlementId};
use utoipa::OpenApi;
use wire::{
    PayoutBody, PayoutListBody, PayoutSummaryBody, SettlementBody, SettlementListBody, StatementLineBody, line_kind,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/settlements", post(close_settlement).get(list_settlements))
        .route("/v1/admin/settlements/{id}", get(get_settlement))
        .route("/v1/payouts", get(list_payouts))
        .route("/v1/payouts/{id}", get(get_payout))
        .route("/v1/payouts/{id}/statement.csv", get(payout_statement_csv))
}

#[derive(OpenApi)]
#[openapi(
    paths(close_settlement, list_settlements, get_settlement, list_payouts, get_payout, payout_statement_csv),
    components(schemas(
        SettlementBody,
        SettlementListBody,
        PayoutSummaryBody,
        PayoutBody,
        PayoutListBody,
        StatementLineBody
    ))
)]
pub(crate) struct PayoutsApi;

#[utoipa::path(post, path = "/v1/admin/settlements", tag = "money",
    params(("Idempotency-Key" = String, Header, description = "1 to 255 characters; a retry answers the same settlement")),
    security(("bearer" = [])),
    responses((status = 201, description = "the settlement and the payouts it created, each as it stands once sent", body = SettlementBody),
        (status = 400, description = "idempotency_key_required", body = ErrorBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn close_settlement(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    key: RequiredIdempotencyKey,
) -> Result<Response, ApiError> {
    let idempotency = key.bind(actor.id, "/v1/admin/settlements", &());
    match app.engine.close_settlement(Some(actor), Some(idempotency)).await? {
        Ok((settlement, payouts)) => {
            Ok((StatusCode::CREATED, Json(SettlementBody::of(&settlement, &payouts))).into_response())
        }
        Err(rejection) => Err(rejection.into()),
    }
}

#[utoipa::path(get, path = "/v1/admin/settlements", tag = "money", security(("bearer" = [])),
    responses((status = 200, description = "every settlement, newest first, without payouts", body = SettlementListBody),
        (status = 403, description = "forbidden: admins only", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn list_settlements(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Response, ApiError> {
    if actor.role != Role::Admin {
        return Err(Rejection::Forbidden.into());
    }
    let (settlements, _) = app
        .engine
        .read(SETTLEMENT_PARTITION, |state| {
            state.settlements().rev().map(|settlement| SettlementBody::of(settlement, &[])).collect::<Vec<_>>()
        })
        .await?;
    Ok(Json(SettlementListBody { settlements }).into_response())
}

#[utoipa::path(get, path = "/v1/admin/settlements/{id}", tag = "money",
    params(("id" = String, Path, description = "settlement id")), security(("bearer" = [])),
    responses((status = 200, body = SettlementBody), (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_settlement(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(settlement_id): ApiPath,
) -> Result<Response, ApiError> {
    if actor.role != Role::Admin {
        return Err(Rejection::Forbidden.into());
    }
    let settlement_id: SettlementId = path_id(&settlement_id)?;
    let (settlement, _) =
        app.engine.read(SETTLEMENT_PARTITION, move |state| state.settlement(settlement_id).cloned()).await?;
    let settlement = settlement.ok_or_else(ApiError::not_found)?;
    let payouts = app.engine.settlement_payouts(settlement_id).await?;
    Ok(Json(SettlementBody::of(&settlement, &payouts)).into_response())
}

#[utoipa::path(get, path = "/v1/payouts", tag = "money", params(AccountQuery), security(("bearer" = [])),
    responses((status = 200, description = "the payee's payouts, newest first", body = PayoutListBody),
        (status = 400, description = "invalid_request (account_id)", body = ErrorBody),
        (status = 403, description = "forbidden: creators and partners see their own, admins anyone's", body = ErrorBody),
        RateLimited, Unavailable))]
pub(crate) async fn list_payouts(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<AccountQuery>,
) -> Result<Response, ApiError> {
    let payee = payee_of(&actor, query.account_id.as_deref())?;
    let per_shard = app
        .engine
        .read_all(move |state| state.payouts_of(payee).map(PayoutSummaryBody::from).collect::<Vec<_>>())
        .await?;
    let mut payouts: Vec<_> = per_shard.into_iter().flatten().collect();
    // Ids sort by book, then by creation within a book; newest first overall is by creation time.
    payouts.sort_by(|a, b| b.id.cmp(&a.id));
    Ok(Json(PayoutListBody { payouts }).into_response())
}

async fn read_payout(app: &AppState, actor: domain::Actor, payout_id: &str) -> Result<domain::Payout, ApiError> {
    let payout_id: PayoutId = path_id(payout_id)?;
    let (payout, _) = app
        .engine
        .read(payout_id.partition(), move |state| {
            state.payout(payout_id).filter(|payout| payout.payee == actor.id || actor.role == Role::Admin).cloned()
        })
        .await?;
    payout.ok_or_else(ApiError::not_found)
}

#[utoipa::path(get, path = "/v1/payouts/{id}", tag = "money",
    params(("id" = String, Path, description = "payout id")), security(("bearer" = [])),
    responses((status = 200, description = "the payout and the lines it pays", body = PayoutBody),
        (status = 404, description = "no such payout, or not the caller's", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn get_payout(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(payout_id): ApiPath,
) -> Result<Response, ApiError> {
    let payout = read_payout(&app, actor, &payout_id).await?;
    Ok(Json(PayoutBody::from(&payout)).into_response())
}

#[utoipa::path(get, path = "/v1/payouts/{id}/statement.csv", tag = "money",
    params(("id" = String, Path, description = "payout id")), security(("bearer" = [])),
    responses((status = 200, description = "the payout's statement: one row per line, then the total", content_type = "text/csv", body = String),
        (status = 404, description = "no such payout, or not the caller's", body = ErrorBody), RateLimited, Unavailable))]
pub(crate) async fn payout_statement_csv(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(payout_id): ApiPath,
) -> Result<Response, ApiError> {
    let payout = read_payout(&app, actor, &payout_id).await?;
    // Every field is an id, a number, a fixed word or a timestamp: none needs quoting.
    let mut csv = String::from("payout_id,kind,order_id,refund_id,returned_payout_id,amount_minor,currency,at\n");
    for line in &payout.lines {
        let id = |id: Option<String>| id.unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            payout.id,
            line_kind(line.kind),
            id(line.order_id.map(|id| id.to_string())),
            id(line.refund_id.map(|id| id.to_string())),
            id(line.payout_id.map(|id| id.to_string())),
            line.amount_minor,
            payout.currency,
            rfc3339(line.at)
        ));
    }
    csv.push_str(&format!(
        "{},total,,,,{},{},{}\n",
        payout.id,
        payout.amount_minor,
        payout.currency,
        rfc3339(payout.created_at)
    ));
    let disposition = format!("attachment; filename=\"statement-{}.csv\"", payout.id);
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        csv,
    )
        .into_response())
}
