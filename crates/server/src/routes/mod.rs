//! One file per resource; each handler validates its input, calls the engine, renders the outcome.

pub(crate) mod accounts;
pub(crate) mod catalogue;
pub(crate) mod checkout;
pub(crate) mod drops;
pub(crate) mod live;
pub(crate) mod ops;
pub(crate) mod risk;

use crate::error::ApiError;
use crate::wire::{AccountBody, ClaimBody, DropBody, OrderBody, ProductBody, RoomBody};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{Outcome, Reply};
use std::str::FromStr;

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
        Reply::Product(product) => (success, Json(ProductBody::from(product))).into_response(),
        Reply::Room(room) => (success, Json(RoomBody::of(room, Vec::new()))).into_response(),
        Reply::Drop(drop) => (success, Json(DropBody::from(drop))).into_response(),
        Reply::Claimed(receipt) => (success, Json(ClaimBody::from(receipt))).into_response(),
        Reply::Ordered(order) => (success, Json(OrderBody::from(order))).into_response(),
        Reply::RiskRules { text, version } => {
            (success, Json(serde_json::json!({"rules": text, "version": version}))).into_response()
        }
    }
}
