//! One module per resource: its handlers, its routes (`routes()`), its OpenAPI paths and schemas
//! (`…Api`) and, in `<resource>/wire.rs`, its JSON shapes. Each handler validates its input, calls
//! the engine, renders the outcome.

pub(crate) mod accounts;
pub(crate) mod catalogue;
pub(crate) mod checkout;
pub(crate) mod contracts;
pub(crate) mod disputes;
pub(crate) mod drops;
pub(crate) mod fulfilment;
pub(crate) mod ledger;
pub(crate) mod live;
pub(crate) mod media;
pub(crate) mod ops;
pub(crate) mod payouts;
pub(crate) mod polls;
pub(crate) mod profiles;
pub(crate) mod questions;
pub(crate) mod reconciliation;
pub(crate) mod refunds;
pub(crate) mod risk;
pub(crate) mod rituals;
pub(crate) mod rooms;
pub(crate) mod signals;
pub(crate) mod stage;
pub(crate) mod transparency;
pub(crate) mod web;
pub(crate) mod webhooks;

use crate::AppState;
use crate::error::ApiError;
use accounts::wire::{AccountBody, IssuedTokenBody};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use catalogue::wire::{ProductBody, RoomBody};
use checkout::wire::OrderBody;
use contracts::wire::ContractBody;
use disputes::wire::DisputeBody;
use domain::{Outcome, Reply};
use drops::wire::{ClaimBody, DropBody};
use payouts::wire::{PayoutBody, PayoutListBody, PayoutSummaryBody, SettlementBody};
use polls::wire::PollBody;
use profiles::wire::ProfileBody;
use questions::wire::QuestionBody;
use refunds::wire::RefundBody;
use rooms::wire::{EpisodeBody, TemplateBody};
use std::str::FromStr;

/// Every route of the API and of the web client; an unknown path or method is a JSON 404 or 405.
pub(crate) fn all() -> Router<AppState> {
    Router::new()
        .merge(accounts::routes())
        .merge(catalogue::routes())
        .merge(drops::routes())
        .merge(checkout::routes())
        .merge(fulfilment::routes())
        .merge(signals::routes())
        .merge(reconciliation::routes())
        .merge(refunds::routes())
        .merge(contracts::routes())
        .merge(disputes::routes())
        .merge(ledger::routes())
        .merge(payouts::routes())
        .merge(profiles::routes())
        .merge(risk::routes())
        .merge(transparency::routes())
        .merge(rooms::routes())
        .merge(stage::routes())
        .merge(polls::routes())
        .merge(questions::routes())
        .merge(rituals::routes())
        .merge(media::routes())
        .merge(live::routes())
        .merge(ops::routes())
        .merge(webhooks::routes())
        .merge(web::routes())
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
}

/// A malformed id names nothing, so it is a 404 like an unknown one.
pub(crate) fn path_id<T: FromStr>(text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::not_found())
}

/// An id in a body that does not parse is a bad request, not a missing resource.
pub(crate) fn body_id<T: FromStr>(field: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::invalid(field, "malformed id"))
}

/// Renders an outcome; a stored outcome renders to the same bytes, which is what makes idempotent
/// replays identical to the first answer.
pub(crate) fn render(outcome: Outcome, success: StatusCode) -> Response {
    let reply = match outcome {
        Ok(reply) => reply,
        Err(rejection) => return ApiError::from(rejection).into_response(),
    };
    match &reply {
        Reply::Account(account) => (success, Json(AccountBody::of(account, None))).into_response(),
        Reply::Product(product) => (success, Json(ProductBody::from(&**product))).into_response(),
        Reply::Room(room) => (success, Json(RoomBody::of(room, Vec::new(), Vec::new()))).into_response(),
        Reply::Drop(drop) => (success, Json(DropBody::from(&**drop))).into_response(),
        Reply::Claimed(receipt) => (success, Json(ClaimBody::from(receipt))).into_response(),
        // Without the engine at hand there is no receipt; handlers with one use `render_order`.
        Reply::Ordered(order) => (success, Json(OrderBody::of(order, None))).into_response(),
        Reply::Refund(refund) => (success, Json(RefundBody::from(&**refund))).into_response(),
        // A template is answered when saved, when it is its name's newest version.
        Reply::Template(template) => (success, Json(TemplateBody::of(template, template.version))).into_response(),
        Reply::Episode(episode) => (success, Json(EpisodeBody::from(&**episode))).into_response(),
        Reply::Poll(tally) => (success, Json(PollBody::from(&**tally))).into_response(),
        Reply::Question(question) => (success, Json(QuestionBody::from(&**question))).into_response(),
        // Without the request's secret: a token is answered whole (with `token`) only by the request
        // that issued it; a retry answered from its record gets this.
        Reply::Token(token) => (success, Json(IssuedTokenBody::of(token, None))).into_response(),
        Reply::RiskRules { text, version } => {
            (success, Json(serde_json::json!({"rules": text, "version": version}))).into_response()
        }
        Reply::SplitContract(contract) => (success, Json(ContractBody::from(&**contract))).into_response(),
        Reply::PayoutProfile { account_id, profile } => {
            (success, Json(ProfileBody::of(*account_id, profile, true))).into_response()
        }
        Reply::PayoutProfileCleared { account_id } => {
            (success, Json(serde_json::json!({"account_id": account_id.to_string()}))).into_response()
        }
        Reply::PayoutRules { text, version } => {
            (success, Json(serde_json::json!({"rules": text, "version": version}))).into_response()
        }
        // Engine-only.
        Reply::PayoutRuleApplied { changed } => {
            (success, Json(serde_json::json!({"changed": changed}))).into_response()
        }
        Reply::Settlement(settlement) => (success, Json(SettlementBody::of(settlement, &[]))).into_response(),
        // Engine-only commands; no route answers these.
        Reply::ChargeReleased { charge_id } | Reply::ChargeUnused { charge_id } => {
            (success, Json(serde_json::json!({"charge_id": charge_id}))).into_response()
        }
        Reply::Dispute(dispute) => (success, Json(DisputeBody::from(&**dispute))).into_response(),
        Reply::Payout(payout) => (success, Json(PayoutBody::from(&**payout))).into_response(),
        Reply::Payouts(payouts) => {
            let payouts = payouts.iter().map(PayoutSummaryBody::from).collect();
            (success, Json(PayoutListBody { payouts })).into_response()
        }
        // Engine-internal answers of their own routes.
        Reply::InboundSecretSet { account_id } => {
            (success, Json(serde_json::json!({"account_id": account_id.to_string()}))).into_response()
        }
        Reply::FulfilmentSignal { fulfilment, .. } => {
            (success, Json(fulfilment::wire::FulfilmentBody::from(&**fulfilment))).into_response()
        }
        // Answered per signal by the signals handler; rendered alone, as the count it left.
        Reply::StockSignal { count, .. } => {
            let body =
                serde_json::json!({ "on_hand": count.on_hand, "expected": count.expected, "version": count.version });
            (success, Json(body)).into_response()
        }
        Reply::Reconciliation(case) => (success, Json(reconciliation::wire::CaseBody::from(&**case))).into_response(),
        Reply::Fulfilment(fulfilment) => {
            (success, Json(fulfilment::wire::FulfilmentBody::from(&**fulfilment))).into_response()
        }
        // Without the secret, which only the request that made it shows.
        Reply::WebhookEndpoint(endpoint) => {
            (success, Json(webhooks::wire::EndpointBody::of(endpoint, None, endpoint.created_at))).into_response()
        }
    }
}

/// Renders an outcome whose success is an order, with the order's receipt.
pub(crate) async fn render_order(app: &AppState, outcome: Outcome, success: StatusCode) -> Result<Response, ApiError> {
    match outcome {
        Ok(Reply::Ordered(order)) => Ok((success, Json(order_body(app, &order).await)).into_response()),
        other => Ok(render(other, success)),
    }
}

/// An order with its receipt. The order is committed (and paid); failing to read its receipt must
/// not turn that into an error. The same receipt comes back on the next read of the order.
pub(crate) async fn order_body(app: &AppState, order: &domain::Order) -> OrderBody {
    let receipt = app.engine.receipt(order).await.unwrap_or_else(|error| {
        tracing::error!(order_id = %order.id, %error, "could not build the order's receipt");
        None
    });
    OrderBody::of(order, receipt)
}
