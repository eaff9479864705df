//! Audio: WHIP (RFC 9725) for speakers, WHEP for listeners, the sessions they create, and the
//! episode's recordings. The SFU (`crates/media`) forwards; who may publish is the stage's answer
//! (`domain::may_publish`), checked here before a WHIP session is made and then kept current by the
//! episode's stage watcher (`stage_watcher.rs`).

pub(crate) mod wire;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiPathPair, ApiQuery, Authenticated, SdpBody};
use crate::routes::path_id;
use crate::stage_watcher;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use domain::{AccountId, Episode, EpisodeId, EpisodeStatus};
use media::{Media, MediaError, Role, SessionId};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use utoipa::OpenApi;
use wire::{MediaStatsBody, RecordingBody, RecordingsBody, StatsQuery};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/episodes/{id}/whip", post(whip))
        .route("/v1/episodes/{id}/whep", post(whep))
        .route("/v1/episodes/{id}/recordings", get(recordings))
        .route("/v1/episodes/{id}/recordings/{file}", get(recording_file))
        .route("/v1/media/sessions/{id}", delete(end_session).patch(patch_session))
        .route("/v1/admin/media/stats", get(stats))
}

#[derive(OpenApi)]
#[openapi(
    paths(whip, whep, end_session, recordings, recording_file, stats),
    components(schemas(RecordingBody, RecordingsBody, MediaStatsBody))
)]
pub(crate) struct MediaApi;

fn media_of(app: &AppState) -> Result<&Arc<Media>, ApiError> {
    app.media.as_ref().ok_or_else(|| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "media_unavailable", "this server runs no media server")
    })
}

impl From<MediaError> for ApiError {
    fn from(error: MediaError) -> ApiError {
        match error {
            MediaError::InvalidSdp(_) => ApiError::bad_request("invalid_sdp", error.to_string()),
            // The stage changed between the handler's read and the session: the newer state wins.
            MediaError::EpisodeEnded => ApiError::new(StatusCode::CONFLICT, "episode_not_live", error.to_string()),
            MediaError::NotOnStage => ApiError::new(StatusCode::FORBIDDEN, "not_in_episode", error.to_string()),
            MediaError::TooManySessions | MediaError::TooManyPublishers => {
                ApiError::new(StatusCode::CONFLICT, "too_many_media_sessions", error.to_string())
            }
            MediaError::TooManyFromAddress => {
                // The client's own share is used up: its limit, not the server's.
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_media_sessions", error.to_string())
                    .retry_after(5)
            }
            MediaError::Full | MediaError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "media_busy", error.to_string()).retry_after(2)
            }
            MediaError::Stopped | MediaError::Start(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "media_unavailable", error.to_string())
            }
        }
    }
}

/// Reads the episode with the journal position the read reflects.
async fn read_episode(app: &AppState, episode_id: EpisodeId) -> Result<(Episode, u64), ApiError> {
    let read = app.engine.read(episode_id.partition(), move |state| state.episode(episode_id).cloned());
    let (episode, seq) = read.await?;
    Ok((episode.ok_or_else(ApiError::not_found)?, seq))
}

/// WHIP and WHEP alike: the episode must be live and the caller may publish (WHIP) or is on the
/// stage in any role (WHEP), as of a read whose journal position goes with the session.
/// What a WHIP or WHEP request asks for: to publish, or to listen from a client address (whose
/// share of listening sessions the media server counts).
/// The address is `None` for a request made in process, which has none.
enum Session {
    Publisher(Option<IpAddr>),
    Listener(Option<IpAddr>),
}

fn client_ip(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<IpAddr> {
    peer.map(|Extension(ConnectInfo(peer))| crate::per_ip::client_key(peer.ip()))
}

async fn open_session(
    app: &AppState,
    account_id: AccountId,
    episode_id: &str,
    offer: &str,
    session: Session,
) -> Result<Response, ApiError> {
    let media = media_of(app)?;
    let episode_id: EpisodeId = path_id(episode_id)?;
    let (episode, seq) = read_episode(app, episode_id).await?;
    if episode.status != EpisodeStatus::Live {
        return Err(ApiError::new(StatusCode::CONFLICT, "episode_not_live", "the episode is not live"));
    }
    match session {
        Session::Publisher(_) if !domain::may_publish(&episode, account_id) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_allowed_to_publish",
                "only the host, moderators and unmuted speakers may publish audio",
            ));
        }
        Session::Listener(_) if !episode.stage.members.contains_key(&account_id) => {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "not_in_episode", "join the episode before listening"));
        }
        _ => {}
    }
    stage_watcher::watch(app, media, &episode);
    let (negotiated, role) = match session {
        Session::Publisher(client_ip) => {
            (media.publish(episode_id, account_id, client_ip, seq, offer).await?, Role::Publisher)
        }
        Session::Listener(client_ip) => {
            (media.listen(episode_id, account_id, client_ip, seq, offer).await?, Role::Listener)
        }
    };
    tracing::info!(%episode_id, %account_id, session = %negotiated.session_id, ?role, "media session opened");
    let location = format!("/v1/media/sessions/{}", negotiated.session_id);
    let headers = [(header::CONTENT_TYPE, "application/sdp".to_owned()), (header::LOCATION, location)];
    Ok((StatusCode::CREATED, headers, negotiated.answer).into_response())
}

#[utoipa::path(post, path = "/v1/episodes/{id}/whip", tag = "media", params(("id" = String, Path, description = "episode id")),
    request_body(content = String, content_type = "application/sdp", description = "SDP offer with a send-only Opus audio section"),
    security(("bearer" = [])),
    responses((status = 201, description = "SDP answer (application/sdp); `Location` names the session", content_type = "application/sdp", body = String),
        (status = 400, description = "invalid_sdp", body = ErrorBody),
        (status = 403, description = "not_allowed_to_publish: only the host, moderators and unmuted speakers of the live episode", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live or too_many_media_sessions", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type: send application/sdp", body = ErrorBody),
        (status = 503, description = "media_busy or media_unavailable", body = ErrorBody)))]
pub(crate) async fn whip(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    SdpBody(offer): SdpBody,
) -> Result<Response, ApiError> {
    open_session(&app, actor.id, &episode_id, &offer, Session::Publisher(client_ip(peer))).await
}

#[utoipa::path(post, path = "/v1/episodes/{id}/whep", tag = "media", params(("id" = String, Path, description = "episode id")),
    request_body(content = String, content_type = "application/sdp", description = "SDP offer with up to three receive-only Opus audio sections: the listener's slots"),
    security(("bearer" = [])),
    responses((status = 201, description = "SDP answer (application/sdp); `Location` names the session", content_type = "application/sdp", body = String),
        (status = 400, description = "invalid_sdp", body = ErrorBody), (status = 403, description = "not_in_episode: join the episode first", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "episode_not_live or too_many_media_sessions", body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 415, description = "unsupported_media_type: send application/sdp", body = ErrorBody),
        (status = 503, description = "media_busy or media_unavailable", body = ErrorBody)))]
pub(crate) async fn whep(
    State(app): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Authenticated(actor): Authenticated,
    ApiPath(episode_id): ApiPath,
    SdpBody(offer): SdpBody,
) -> Result<Response, ApiError> {
    open_session(&app, actor.id, &episode_id, &offer, Session::Listener(client_ip(peer))).await
}

#[utoipa::path(delete, path = "/v1/media/sessions/{id}", tag = "media", params(("id" = String, Path, description = "session id, from the WHIP/WHEP `Location`")),
    security(("bearer" = [])),
    responses((status = 200, description = "the session ended"), (status = 404, description = "no such session of the caller's", body = ErrorBody),
        (status = 503, description = "media_busy or media_unavailable", body = ErrorBody)))]
pub(crate) async fn end_session(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiPath(session_id): ApiPath,
) -> Result<Response, ApiError> {
    let media = media_of(&app)?;
    let session_id: SessionId = session_id.parse().map_err(|_| ApiError::not_found())?;
    if !media.close(session_id, actor.id).await? {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::OK.into_response())
}

/// Trickle ICE and ICE restarts are not supported (the server is ICE-lite with one host
/// candidate, which the answer already carries); RFC 9725 §4.3.1 asks for 405 then.
pub(crate) async fn patch_session() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "trickle_ice_not_supported", "this server does not take trickle ICE")
}

#[utoipa::path(get, path = "/v1/episodes/{id}/recordings", tag = "media", params(("id" = String, Path, description = "episode id")),
    responses((status = 200, description = "each speaker's recordings, oldest first", body = RecordingsBody),
        (status = 404, body = ErrorBody), (status = 503, description = "media_unavailable", body = ErrorBody)))]
pub(crate) async fn recordings(
    State(app): State<AppState>,
    ApiPath(episode_id): ApiPath,
) -> Result<Response, ApiError> {
    let media = media_of(&app)?.clone();
    let episode_id: EpisodeId = path_id(&episode_id)?;
    read_episode(&app, episode_id).await?;
    let infos = tokio::task::spawn_blocking(move || media.recordings(episode_id))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "listing recordings failed"))?
        .map_err(|error| {
            tracing::error!(%error, "listing recordings");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "listing recordings failed")
        })?;
    let recordings = infos
        .into_iter()
        .map(|info| RecordingBody {
            url: format!("/v1/episodes/{episode_id}/recordings/{}", info.file_name),
            file: info.file_name,
            account_id: info.tags.account_id,
            started_at: info.tags.started_at,
            duration_ms: info.duration_ms,
            bytes: info.bytes,
            complete: info.complete,
        })
        .collect();
    Ok(Json(RecordingsBody { episode_id: episode_id.to_string(), recordings }).into_response())
}

#[utoipa::path(get, path = "/v1/episodes/{id}/recordings/{file}", tag = "media",
    params(("id" = String, Path, description = "episode id"), ("file" = String, Path, description = "file name from the list")),
    responses((status = 200, description = "Ogg Opus", content_type = "audio/ogg"), (status = 404, body = ErrorBody), (status = 503, description = "media_unavailable", body = ErrorBody)))]
pub(crate) async fn recording_file(
    State(app): State<AppState>,
    ApiPathPair(episode_id, file): ApiPathPair,
) -> Result<Response, ApiError> {
    let media = media_of(&app)?;
    let episode_id: EpisodeId = path_id(&episode_id)?;
    let path = media.recording_path(episode_id, &file).ok_or_else(ApiError::not_found)?;
    // Recordings are a few MB an hour; read whole rather than streamed.
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "reading the recording failed"))?
        .map_err(|_| ApiError::not_found())?;
    Ok(([(header::CONTENT_TYPE, "audio/ogg")], bytes).into_response())
}

#[utoipa::path(get, path = "/v1/admin/media/stats", tag = "media", params(StatsQuery), security(("bearer" = [])),
    responses((status = 200, body = MediaStatsBody), (status = 403, description = "forbidden: admins only", body = ErrorBody),
        (status = 503, description = "media_busy or media_unavailable", body = ErrorBody)))]
pub(crate) async fn stats(
    State(app): State<AppState>,
    Authenticated(actor): Authenticated,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Response, ApiError> {
    if actor.role != domain::Role::Admin {
        return Err(domain::Rejection::Forbidden.into());
    }
    let stats = media_of(&app)?.stats(query.reset).await?;
    Ok(Json(MediaStatsBody {
        publishers: stats.publishers,
        listeners: stats.listeners,
        packets_in: stats.packets_in,
        packets_forwarded: stats.packets_forwarded,
        sends_dropped: stats.sends_dropped,
        forward_latency_us_p50: stats.forward_latency_us_p50,
        forward_latency_us_p99: stats.forward_latency_us_p99,
        forward_latency_us_max: stats.forward_latency_us_max,
        forward_latency_samples: stats.forward_latency_samples,
        fanout_latency_us_p50: stats.fanout_latency_us_p50,
        fanout_latency_us_p99: stats.fanout_latency_us_p99,
        fanout_latency_us_max: stats.fanout_latency_us_max,
    })
    .into_response())
}
