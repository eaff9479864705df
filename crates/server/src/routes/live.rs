//! `GET /v1/rooms/{id}/live`: a snapshot (the room, its drops and its live episode with stage, polls,
//! questions and rituals), then committed changes in journal order (`seq` never decreases; everything
//! changed in one shard batch shares it): `drop` counters, and the live episode's `episode` status,
//! `stage`, `poll` (tallies, with the question, options and whether it is open, so a poll started
//! live can be shown from its first message), `questions` and `rituals` (the pinned drop and the demo
//! window). Every message carries a whole current state, never a delta, so updates are coalesced per
//! key (a drop, an episode's status, stage, queue or rituals, one poll) to at most one message per
//! `LIVE_FLUSH_MS`, the newest. A subscriber that lags behind the room's buffer gets a fresh snapshot
//! instead of an ever-growing queue.

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiPath;
use crate::listener::ConnectionPlace;
use crate::openapi::RateLimited;
use crate::routes::catalogue::{read_room, room_body};
use crate::routes::path_id;
use crate::routes::polls::wire::PollBody;
use crate::routes::questions::questions_body;
use crate::routes::rituals::wire::RitualsBody;
use crate::routes::rooms::wire::EpisodeBody;
use crate::routes::stage::wire::StageBody;
use crate::wire::rfc3339;
use axum::Extension;
use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use domain::{DropId, EpisodeId, RoomId};
use engine::{DropCounters, EpisodeChange, EpisodeUpdate, RoomUpdate};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use utoipa::OpenApi;
use wire::{LiveEpisodeBody, LiveMessage};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/rooms/{id}/live", get(live))
}

#[derive(OpenApi)]
#[openapi(paths(live), components(schemas(LiveMessage, LiveEpisodeBody)))]
pub(crate) struct LiveApi;

/// Updates per key (a drop, a poll, an episode's status, stage, queue or rituals) are sent at most this often.
pub const LIVE_FLUSH_MS: u64 = 100;
/// Live connections served at once; more get 503.
pub const LIVE_CONNECTIONS_MAX: usize = 10_000;
/// Clients only send pings and closes; anything bigger is refused by the WebSocket layer.
const LIVE_CLIENT_FRAME_BYTES_MAX: usize = 4_096;

#[utoipa::path(get, path = "/v1/rooms/{id}/live", tag = "live", params(("id" = String, Path, description = "room id")),
    responses((status = 101, description = "WebSocket: a `snapshot` message, then `drop`, `episode`, `stage`, `poll`, `questions` and `rituals` messages with non-decreasing `seq` (each a `LiveMessage`)"),
        (status = 400, description = "websocket_required: not a WebSocket upgrade request", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 429, description = "too_many_connections: this address holds its share of live sockets; retry after Retry-After", body = ErrorBody),
        (status = 503, description = "too_many_connections, overloaded, shutting_down or unavailable; retry after Retry-After", body = ErrorBody),
        RateLimited))]
pub(crate) async fn live(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    connection: Option<Extension<ConnectionPlace>>,
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
    // A request made in process (no socket, no address) has no share to take.
    let place = match peer {
        Some(Extension(ConnectInfo(peer))) => match app.live_per_ip.take(peer.ip()) {
            Some(place) => Some(place),
            None => {
                metrics::counter!("livedrop_live_refused_total", "limit" => "per_ip").increment(1);
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_connections",
                    "too many live connections from this address",
                )
                .retry_after(5));
            }
        },
        None => None,
    };
    let Ok(slot) = app.live_slots.clone().try_acquire_owned() else {
        metrics::counter!("livedrop_live_refused_total", "limit" => "total").increment(1);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "too many live connections",
        )
        .retry_after(5));
    };
    // A frame is refused by its declared length, before its payload is read: the default frame
    // cap (16 MiB) let a client park megabytes per socket while sending a frame slowly.
    let upgrade = upgrade.max_message_size(LIVE_CLIENT_FRAME_BYTES_MAX).max_frame_size(LIVE_CLIENT_FRAME_BYTES_MAX);
    Ok(upgrade.on_upgrade(move |socket| async move {
        // The upgraded socket keeps its connection's places (per IP and in all) until it ends.
        let _places = (slot, place, connection);
        if let Err(error) = serve_room(app, room_id, socket).await {
            tracing::debug!(%room_id, %error, "live connection ended");
        }
    }))
}

/// A client that does not read for this long is disconnected rather than allowed to hold its slot.
const LIVE_SEND_TIMEOUT_MS: u64 = 10_000;
/// The server pings every this often; a client that has sent nothing (not even a pong) for
/// `LIVE_SILENCE_MS_MAX` is gone (a dead peer, a half-open connection) and loses its slot.
const LIVE_PING_MS: u64 = 20_000;
const LIVE_SILENCE_MS_MAX: u64 = 60_000;

async fn send_message(socket: &mut WebSocket, message: &LiveMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).expect("live messages serialise");
    let send = socket.send(Message::Text(text.into()));
    match tokio::time::timeout(Duration::from_millis(LIVE_SEND_TIMEOUT_MS), send).await {
        Ok(result) => result,
        Err(_) => Err(axum::Error::new("live client stopped reading")),
    }
}

/// Sends a snapshot and returns the journal position it reflects. The room and its live episode are
/// read together from the room's shard (episodes live in their room's partition), so they agree.
async fn send_snapshot(app: &AppState, room_id: RoomId, socket: &mut WebSocket) -> Result<u64, axum::Error> {
    let read = app.engine.read(room_id.partition(), move |state| {
        let room = room_body(state, room_id);
        let live_episode = state.live_episode(room_id).map(|episode| {
            let polls = state.poll_tallies(episode.id).unwrap_or_default();
            Box::new(LiveEpisodeBody {
                episode: EpisodeBody::from(episode),
                stage: StageBody::from(episode),
                polls: polls.iter().map(PollBody::from).collect(),
                questions: questions_body(state.questions(episode.id)).questions,
                rituals: RitualsBody::from(episode),
            })
        });
        (room.map(Box::new), live_episode)
    });
    let ((room, live_episode), seq) = read.await.map_err(|error| axum::Error::new(error.to_string()))?;
    let message = LiveMessage::Snapshot { seq, server_time: rfc3339(app.engine.now()), room, live_episode };
    send_message(socket, &message).await?;
    Ok(seq)
}

/// What a pending update replaces: only the newest state per key is worth sending.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Drop(DropId),
    Status(EpisodeId),
    Stage(EpisodeId),
    Poll(EpisodeId, u32),
    Questions(EpisodeId),
    Rituals(EpisodeId),
}

fn key(update: &RoomUpdate) -> Key {
    match update {
        RoomUpdate::Drop(counters) => Key::Drop(counters.drop_id),
        RoomUpdate::Episode(EpisodeUpdate { episode_id, change, .. }) => match change {
            EpisodeChange::Status(_) => Key::Status(*episode_id),
            EpisodeChange::Stage(_) => Key::Stage(*episode_id),
            EpisodeChange::Poll(tally) => Key::Poll(*episode_id, tally.slot),
            EpisodeChange::Questions(_) => Key::Questions(*episode_id),
            EpisodeChange::Rituals(_) => Key::Rituals(*episode_id),
        },
    }
}

fn message(update: &RoomUpdate) -> LiveMessage {
    let seq = update.seq();
    match update {
        RoomUpdate::Drop(counters) => drop_message(counters),
        RoomUpdate::Episode(EpisodeUpdate { episode_id, change, .. }) => match change {
            EpisodeChange::Status(episode) => LiveMessage::Episode {
                seq,
                episode_id: episode_id.to_string(),
                state: episode.status.as_str().to_owned(),
            },
            EpisodeChange::Stage(episode) => LiveMessage::Stage { seq, stage: StageBody::from(&**episode) },
            // The tally is the episode's own (`tally.episode_id == episode_id`).
            EpisodeChange::Poll(tally) => LiveMessage::Poll { seq, poll: PollBody::from(&**tally) },
            EpisodeChange::Questions(questions) => LiveMessage::Questions {
                seq,
                episode_id: episode_id.to_string(),
                questions: questions_body(questions).questions,
            },
            EpisodeChange::Rituals(rituals) => {
                LiveMessage::Rituals { seq, rituals: RitualsBody::of(*episode_id, rituals) }
            }
        },
    }
}

fn drop_message(counters: &DropCounters) -> LiveMessage {
    LiveMessage::Drop {
        seq: counters.seq,
        drop_id: counters.drop_id.to_string(),
        state: counters.status.as_str().to_owned(),
        quantity: counters.quantity,
        remaining: counters.remaining,
        held: counters.held,
        sold: counters.sold,
        released: counters.released,
    }
}

async fn serve_room(app: AppState, room_id: RoomId, mut socket: WebSocket) -> Result<(), axum::Error> {
    // Subscribe before the snapshot so no update between the two is missed; older ones are skipped.
    let mut updates = app.engine.subscribe(room_id);
    let mut shutdown = app.shutdown.clone();
    let mut seen_seq = send_snapshot(&app, room_id, &mut socket).await?;
    let mut pending: BTreeMap<Key, RoomUpdate> = BTreeMap::new();
    let mut flush = tokio::time::interval(Duration::from_millis(LIVE_FLUSH_MS));
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ping = tokio::time::interval(Duration::from_millis(LIVE_PING_MS));
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                // `>=`: a snapshot's watermark can cover updates decided after its read in the same
                // batch; resending an equal state is harmless, dropping a newer one is not.
                Ok(update) if update.seq() >= seen_seq => {
                    pending.insert(key(&update), update);
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
                // Every kind goes through this one buffer, sorted by `seq`, so the order across kinds
                // is the journal's even though each key keeps only its newest state.
                let mut due: Vec<RoomUpdate> = std::mem::take(&mut pending).into_values().collect();
                due.sort_by_key(RoomUpdate::seq);
                for update in due {
                    seen_seq = seen_seq.max(update.seq());
                    send_message(&mut socket, &message(&update)).await?;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                // Pings are answered by the WebSocket layer; other input is ignored.
                Some(Ok(_)) => last_heard = tokio::time::Instant::now(),
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > Duration::from_millis(LIVE_SILENCE_MS_MAX) {
                    metrics::counter!("livedrop_live_timed_out_total").increment(1);
                    return Ok(());
                }
                let send = socket.send(Message::Ping(Vec::new().into()));
                if tokio::time::timeout(Duration::from_millis(LIVE_SEND_TIMEOUT_MS), send).await.is_err() {
                    return Err(axum::Error::new("live client stopped reading"));
                }
            }
            _ = shutdown.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The web client and the tests read these fields by name: the typed messages must carry the
    /// same ones, with the same values, as the feed always has.
    #[test]
    fn drop_and_episode_messages_keep_their_fields() {
        let counters = DropCounters {
            seq: 7,
            drop_id: "drop_01000000002a".parse().unwrap(),
            room_id: "room_010000000001".parse().unwrap(),
            status: domain::DropStatus::Open,
            quantity: 20,
            remaining: 12,
            held: 5,
            sold: 2,
            released: 1,
        };
        let expected = json!({
            "type": "drop", "seq": 7, "drop_id": "drop_01000000002a", "state": "open",
            "quantity": 20, "remaining": 12, "held": 5, "sold": 2, "released": 1,
        });
        assert_eq!(serde_json::to_value(drop_message(&counters)).unwrap(), expected);

        let episode =
            LiveMessage::Episode { seq: 9, episode_id: "ep_010000000003".to_owned(), state: "live".to_owned() };
        let expected = json!({"type": "episode", "seq": 9, "episode_id": "ep_010000000003", "state": "live"});
        assert_eq!(serde_json::to_value(episode).unwrap(), expected);
    }

    /// A stage message is the stage's own body with `type` and `seq` beside its fields.
    #[test]
    fn a_stage_message_is_the_stage_body_with_type_and_seq() {
        let stage = StageBody {
            episode_id: "ep_010000000003".to_owned(),
            status: "live".to_owned(),
            members: Vec::new(),
            raised_hands: vec!["acct_010000000004".to_owned()],
            muted: Vec::new(),
            banned: Vec::new(),
        };
        let mut expected = serde_json::to_value(&stage).unwrap();
        expected["type"] = "stage".into();
        expected["seq"] = 11.into();
        assert_eq!(serde_json::to_value(LiveMessage::Stage { seq: 11, stage }).unwrap(), expected);
    }
}
