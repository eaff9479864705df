//! `GET /v1/rooms/{id}/live`: a snapshot, then committed drop counters in journal order (`seq` never
//! decreases; drops changed in one shard batch share it), coalesced to at most one message per drop per
//! `LIVE_FLUSH_MS`. A subscriber that lags behind the room's buffer
//! gets a fresh snapshot instead of an ever-growing queue.

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::routes::catalogue::read_room;
use crate::routes::path_id;
use crate::wire::rfc3339;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use domain::{DropId, RoomId};
use engine::DropCounters;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Counter updates per drop are sent at most this often.
pub const LIVE_FLUSH_MS: u64 = 100;
/// Live connections served at once; more get 503.
pub const LIVE_CONNECTIONS_MAX: usize = 10_000;
/// Clients only send pings and closes; anything bigger is refused by the WebSocket layer.
const LIVE_CLIENT_FRAME_BYTES_MAX: usize = 4_096;

#[utoipa::path(get, path = "/v1/rooms/{id}/live", tag = "live", params(("id" = String, Path, description = "room id")),
    responses((status = 101, description = "WebSocket: a `snapshot` message, then `drop` messages with non-decreasing `seq`"),
        (status = 400, description = "websocket_required: not a WebSocket upgrade request", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody)))]
pub(crate) async fn live(
    State(app): State<AppState>,
    ApiPath(room_id): ApiPath,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let room_id: RoomId = path_id(&room_id)?;
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(rejection.status(), "websocket_required", "connect with a WebSocket upgrade request")
    })?;
    let (room, _) = read_room(&app, room_id).await?;
    if room.is_none() {
        return Err(ApiError::not_found());
    }
    let Ok(slot) = app.live_slots.clone().try_acquire_owned() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "too many live connections",
        )
        .retry_after(5));
    };
    Ok(upgrade.max_message_size(LIVE_CLIENT_FRAME_BYTES_MAX).on_upgrade(move |socket| async move {
        let _slot = slot;
        if let Err(error) = serve_room(app, room_id, socket).await {
            tracing::debug!(%room_id, %error, "live connection ended");
        }
    }))
}

/// A client that does not read for this long is disconnected rather than allowed to hold its slot.
const LIVE_SEND_TIMEOUT_MS: u64 = 10_000;

async fn send_json(socket: &mut WebSocket, value: serde_json::Value) -> Result<(), axum::Error> {
    let send = socket.send(Message::Text(value.to_string().into()));
    match tokio::time::timeout(Duration::from_millis(LIVE_SEND_TIMEOUT_MS), send).await {
        Ok(result) => result,
        Err(_) => Err(axum::Error::new("live client stopped reading")),
    }
}

/// Sends a snapshot and returns the journal position it reflects.
async fn send_snapshot(app: &AppState, room_id: RoomId, socket: &mut WebSocket) -> Result<u64, axum::Error> {
    let (room, seq) = read_room(app, room_id).await.map_err(|error| axum::Error::new(error.message))?;
    let message = serde_json::json!({
        "type": "snapshot",
        "seq": seq,
        "server_time": rfc3339(app.engine.now()),
        "room": room,
    });
    send_json(socket, message).await?;
    Ok(seq)
}

async fn serve_room(app: AppState, room_id: RoomId, mut socket: WebSocket) -> Result<(), axum::Error> {
    // Subscribe before the snapshot so no update between the two is missed; older ones are skipped.
    let mut updates = app.engine.subscribe(room_id);
    let mut shutdown = app.shutdown.clone();
    let mut seen_seq = send_snapshot(&app, room_id, &mut socket).await?;
    let mut pending: BTreeMap<DropId, DropCounters> = BTreeMap::new();
    let mut flush = tokio::time::interval(Duration::from_millis(LIVE_FLUSH_MS));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                // `>=`: a snapshot's watermark can cover counters decided after its read in the same
                // batch; resending equal counters is harmless, dropping newer ones is not.
                Ok(counters) if counters.seq >= seen_seq => {
                    pending.insert(counters.drop_id, counters);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    pending.clear();
                    updates = updates.resubscribe();
                    seen_seq = send_snapshot(&app, room_id, &mut socket).await?;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = flush.tick() => {
                let mut due: Vec<DropCounters> = std::mem::take(&mut pending).into_values().collect();
                due.sort_by_key(|counters| counters.seq);
                for counters in due {
                    seen_seq = seen_seq.max(counters.seq);
                    let message = serde_json::json!({
                        "type": "drop",
                        "seq": counters.seq,
                        "drop_id": counters.drop_id.to_string(),
                        "state": counters.status.as_str(),
                        "quantity": counters.quantity,
                        "remaining": counters.remaining,
                        "held": counters.held,
                        "sold": counters.sold,
                        "released": counters.released,
                    });
                    send_json(&mut socket, message).await?;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                Some(Ok(_)) => {} // pings are answered by the WebSocket layer; other input is ignored
            },
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}
