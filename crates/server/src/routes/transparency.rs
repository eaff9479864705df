//! The transparency log of each drop, public so that anyone can audit a drop: its signed
//! checkpoints, its leaves (the drop's journaled events, byte for byte), inclusion and consistency
//! proofs, and the keys checkpoints are signed with.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::openapi::RateLimited;
use crate::routes::path_id;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use domain::DropId;
use engine::{CHECKPOINTS_PAGE_MAX, LOG_PAGE_MAX, LogError};
use serde::Deserialize;
use transparency::SignedCheckpoint;
use utoipa::OpenApi;
use wire::{CheckpointsBody, ConsistencyBody, InclusionBody, KeyBody, KeysBody, LogBody, LogEntryBody};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/drops/{id}/checkpoint", get(checkpoint))
        .route("/v1/drops/{id}/checkpoints", get(checkpoints))
        .route("/v1/drops/{id}/log", get(log))
        .route("/v1/drops/{id}/proofs/inclusion", get(inclusion))
        .route("/v1/drops/{id}/proofs/consistency", get(consistency))
        .route("/v1/transparency/keys", get(keys))
}

#[derive(OpenApi)]
#[openapi(
    paths(keys, checkpoint, checkpoints, log, inclusion, consistency),
    components(schemas(KeysBody, KeyBody, CheckpointsBody, LogBody, LogEntryBody, InclusionBody, ConsistencyBody))
)]
pub(crate) struct TransparencyApi;

impl From<LogError> for ApiError {
    fn from(error: LogError) -> ApiError {
        match error {
            LogError::UnknownDrop | LogError::NoSale => ApiError::not_found(),
            LogError::OutOfRange(message) => ApiError::bad_request("out_of_range", message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    #[serde(default)]
    start: u64,
    limit: Option<usize>,
}

impl PageQuery {
    fn limit(&self, max: usize) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(max),
            Some(limit) if (1..=max).contains(&limit) => Ok(limit),
            Some(_) => Err(ApiError::invalid("limit", format!("must be 1 to {max}"))),
        }
    }
}

/// Where the next page starts, unless this one reached `end`.
fn next_start(start: u64, n_items: usize, end: u64) -> Option<u64> {
    let next = start + n_items as u64;
    (n_items > 0 && next < end).then_some(next)
}

#[utoipa::path(get, path = "/v1/transparency/keys", tag = "transparency",
    responses((status = 200, body = KeysBody), RateLimited))]
pub(crate) async fn keys(State(app): State<AppState>) -> Json<KeysBody> {
    let key = app.engine.transparency().public_key();
    Json(KeysBody {
        keys: vec![KeyBody { key_id: key.key_id(), algorithm: "ed25519".to_owned(), public_key: key.to_base64() }],
    })
}

#[utoipa::path(get, path = "/v1/drops/{id}/checkpoint", tag = "transparency",
    params(("id" = String, Path, description = "drop id")),
    responses((status = 200, description = "the latest signed checkpoint, covering every committed leaf", body = SignedCheckpoint),
        (status = 404, body = ErrorBody), RateLimited))]
pub(crate) async fn checkpoint(
    State(app): State<AppState>,
    ApiPath(drop_id): ApiPath,
) -> Result<Json<SignedCheckpoint>, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let checkpoint = app.engine.latest_checkpoint(drop_id).await?;
    Ok(Json(checkpoint.ok_or_else(ApiError::not_found)?))
}

#[utoipa::path(get, path = "/v1/drops/{id}/checkpoints", tag = "transparency",
    params(("id" = String, Path, description = "drop id"), ("start" = Option<u64>, Query, description = "index of the first checkpoint, default 0"),
        ("limit" = Option<usize>, Query, description = "1 to 1000, default 1000")),
    responses((status = 200, description = "every checkpoint signed so far, oldest first", body = CheckpointsBody),
        (status = 400, description = "invalid_query or invalid_request", body = ErrorBody), (status = 404, body = ErrorBody), RateLimited))]
pub(crate) async fn checkpoints(
    State(app): State<AppState>,
    ApiPath(drop_id): ApiPath,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<CheckpointsBody>, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let limit = page.limit(CHECKPOINTS_PAGE_MAX)?;
    let (total, checkpoints) = app.engine.transparency().checkpoints(drop_id, page.start, limit)?;
    let next_start = next_start(page.start, checkpoints.len(), total);
    Ok(Json(CheckpointsBody { checkpoints, next_start }))
}

#[utoipa::path(get, path = "/v1/drops/{id}/log", tag = "transparency",
    params(("id" = String, Path, description = "drop id"), ("start" = Option<u64>, Query, description = "index of the first leaf, default 0"),
        ("limit" = Option<usize>, Query, description = "1 to 1000, default 1000")),
    responses((status = 200, description = "the drop's leaves, in log order", body = LogBody),
        (status = 400, description = "invalid_query or invalid_request", body = ErrorBody), (status = 404, body = ErrorBody), RateLimited))]
pub(crate) async fn log(
    State(app): State<AppState>,
    ApiPath(drop_id): ApiPath,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<LogBody>, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let limit = page.limit(LOG_PAGE_MAX)?;
    let (tree_size, leaves) =
        app.engine.log_leaves(drop_id, page.start, limit).await?.ok_or_else(ApiError::not_found)?;
    let next_start = next_start(page.start, leaves.len(), tree_size);
    let entries = (page.start..).zip(leaves).map(|(index, leaf)| LogEntryBody { index, leaf }).collect();
    Ok(Json(LogBody { tree_size, entries, next_start }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InclusionQuery {
    leaf_index: u64,
    /// Defaults to the log's current size.
    tree_size: Option<u64>,
}

#[utoipa::path(get, path = "/v1/drops/{id}/proofs/inclusion", tag = "transparency",
    params(("id" = String, Path, description = "drop id"), ("leaf_index" = u64, Query, description = "from 0"),
        ("tree_size" = Option<u64>, Query, description = "a size the log has reached; default its current size")),
    responses((status = 200, body = InclusionBody), (status = 400, description = "invalid_query or out_of_range", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited))]
pub(crate) async fn inclusion(
    State(app): State<AppState>,
    ApiPath(drop_id): ApiPath,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionBody>, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let logs = app.engine.transparency();
    let tree_size = match query.tree_size {
        Some(size) => size,
        None => logs.tree_size(drop_id)?,
    };
    let proof = logs.inclusion(drop_id, query.leaf_index, tree_size)?;
    Ok(Json(InclusionBody {
        leaf_index: query.leaf_index,
        tree_size,
        root_hash: hex::encode(proof.root),
        inclusion_proof: proof.proof.iter().map(hex::encode).collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConsistencyQuery {
    first: u64,
    second: u64,
}

#[utoipa::path(get, path = "/v1/drops/{id}/proofs/consistency", tag = "transparency",
    params(("id" = String, Path, description = "drop id"), ("first" = u64, Query, description = "the older tree size, at least 1"),
        ("second" = u64, Query, description = "the newer tree size, at most the log's")),
    responses((status = 200, body = ConsistencyBody), (status = 400, description = "invalid_query or out_of_range", body = ErrorBody),
        (status = 404, body = ErrorBody), RateLimited))]
pub(crate) async fn consistency(
    State(app): State<AppState>,
    ApiPath(drop_id): ApiPath,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyBody>, ApiError> {
    let drop_id: DropId = path_id(&drop_id)?;
    let (first_root, second_root, proof) = app.engine.transparency().consistency(drop_id, query.first, query.second)?;
    Ok(Json(ConsistencyBody {
        first: query.first,
        second: query.second,
        first_root_hash: hex::encode(first_root),
        second_root_hash: hex::encode(second_root),
        consistency_proof: proof.iter().map(hex::encode).collect(),
    }))
}
