//! The HTTP API and WebSocket of livedrop (axum). Authenticates, validates, maps JSON to domain
//! commands and back, and applies limits; all state lives in the engine.

mod error;
mod extract;
mod inventory;
mod limits;
mod listener;
mod openapi;
mod routes;
mod telemetry;
mod wire;

pub use error::ApiError;
pub use inventory::Inventory;
pub use limits::RateLimits;
pub use listener::{CONNECTIONS_PER_IP_DEFAULT, ConnectionLimits, FILES_RESERVED, HEADER_READ_TIMEOUT_DEFAULT};
pub use openapi::ApiDoc;
pub use routes::accounts::new_token;
pub use routes::live::{LIVE_CONNECTIONS_MAX, LIVE_FLUSH_MS};
pub use telemetry::metrics_handle;

use axum::Router;
use axum::routing::{delete, get, post, put};
use engine::Engine;
use metrics_exporter_prometheus::PrometheusHandle;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower_http::trace::TraceLayer;

/// Request bodies are small JSON objects; anything larger is refused with 413 before it is parsed.
pub const BODY_BYTES_MAX: usize = 16 * 1_024;
/// An oversized body is read and dropped up to this size so the client gets its 413 (see `ApiJson`).
pub const BODY_DRAIN_BYTES_MAX: usize = 1_024 * 1_024;

/// What every handler shares. Behind one `Arc`: axum clones the state for each request, and a
/// clone of the fields one by one cost eight atomic reference counts taken and dropped per request
/// (2 % of the server's CPU in a burst, BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub(crate) engine: Arc<Engine>,
    pub(crate) inventory: Arc<dyn Inventory>,
    pub(crate) rate_limits: Arc<RateLimits>,
    pub(crate) metrics: PrometheusHandle,
    pub(crate) live_slots: Arc<Semaphore>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The audio SFU; `None` serves no WHIP/WHEP (the benchmark baselines).
    pub(crate) media: Option<Arc<media::Media>>,
    /// Episodes whose stage a task feeds to the SFU (`routes/media.rs`), at most one task each.
    pub(crate) media_watched: Arc<std::sync::Mutex<std::collections::HashSet<domain::EpisodeId>>>,
}

pub struct ServerConfig {
    /// Requests per second per client IP; 0 turns the limit off.
    pub rate_limit_per_ip: u32,
    /// Requests per second per account; 0 turns the limit off.
    pub rate_limit_per_account: u32,
    /// The audio SFU behind WHIP/WHEP; `None` answers them 503 `media_unavailable`.
    pub media: Option<Arc<media::Media>>,
    /// Timeouts and caps of HTTP connections.
    pub connections: ConnectionLimits,
}

/// A running HTTP front of an engine.
pub struct Server {
    router: Router,
    shutdown: watch::Sender<bool>,
    connections: ConnectionLimits,
}

impl Server {
    pub fn new(engine: Arc<Engine>, config: &ServerConfig) -> Server {
        let inventory = Arc::new(inventory::EngineInventory(engine.clone()));
        Server::with_inventory(engine, inventory, config)
    }

    /// The same front with claims and checkouts decided by `inventory`; everything else (accounts,
    /// catalogue, drops, reads) still goes to `engine`. For benchmark baselines.
    pub fn with_inventory(engine: Arc<Engine>, inventory: Arc<dyn Inventory>, config: &ServerConfig) -> Server {
        let (shutdown, shutdown_signal) = watch::channel(false);
        let app = AppState(Arc::new(Shared {
            engine,
            inventory,
            rate_limits: RateLimits::new(config.rate_limit_per_ip, config.rate_limit_per_account),
            metrics: metrics_handle(),
            live_slots: Arc::new(Semaphore::new(LIVE_CONNECTIONS_MAX)),
            shutdown: shutdown_signal,
            media: config.media.clone(),
            media_watched: Default::default(),
        }));
        Server { router: router(app), shutdown, connections: config.connections }
    }

    /// Serves until `stop` resolves, then stops accepting, closes live connections and waits for
    /// in-flight requests to finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = self.shutdown;
        let stop = async move {
            stop.await;
            let _ = shutdown.send(true);
        };
        listener::serve(listener, self.router, self.connections, stop).await
    }
}

fn router(app: AppState) -> Router {
    use routes::*;
    Router::new()
        .route("/v1/accounts", post(accounts::create_account))
        .route("/v1/accounts/me", get(accounts::me))
        .route("/v1/products", post(catalogue::create_product))
        .route("/v1/products/{id}", get(catalogue::get_product))
        .route("/v1/rooms", post(catalogue::create_room))
        .route("/v1/rooms/{id}", get(catalogue::get_room))
        .route("/v1/rooms/{id}/drops", post(drops::create_drop))
        .route("/v1/rooms/{id}/live", get(live::live))
        .route("/v1/rooms/{id}/episodes", post(rooms::create_episode))
        .route("/v1/templates", post(rooms::create_template))
        .route("/v1/templates/{id}", get(rooms::get_template))
        .route("/v1/episodes/{id}", get(rooms::get_episode))
        .route("/v1/episodes/{id}/stage", get(rooms::get_stage))
        .route("/v1/episodes/{id}/start", post(rooms::start_episode))
        .route("/v1/episodes/{id}/end", post(rooms::end_episode))
        .route("/v1/episodes/{id}/join", post(rooms::join))
        .route("/v1/episodes/{id}/raise-hand", post(rooms::raise_hand))
        .route("/v1/episodes/{id}/invite", post(rooms::invite))
        .route("/v1/episodes/{id}/move-to-audience", post(rooms::move_to_audience))
        .route("/v1/episodes/{id}/mute", post(rooms::mute))
        .route("/v1/episodes/{id}/unmute", post(rooms::unmute))
        .route("/v1/episodes/{id}/remove", post(rooms::remove))
        .route("/v1/episodes/{id}/moderators", post(rooms::appoint_moderator))
        .route("/v1/episodes/{id}/polls", get(rooms::get_polls))
        .route("/v1/episodes/{id}/polls/{slot}/votes", post(rooms::vote))
        .route("/v1/episodes/{id}/polls", post(rooms::start_poll))
        .route("/v1/episodes/{id}/polls/{slot}/close", post(rooms::close_poll))
        .route("/v1/episodes/{id}/rituals", get(rooms::get_rituals))
        .route("/v1/episodes/{id}/pin", post(rooms::pin))
        .route("/v1/episodes/{id}/unpin", post(rooms::unpin))
        .route("/v1/episodes/{id}/demo", post(rooms::start_demo))
        .route("/v1/episodes/{id}/demo/stop", post(rooms::stop_demo))
        .route("/v1/episodes/{id}/questions", get(rooms::get_questions).post(rooms::ask))
        .route("/v1/episodes/{id}/whip", post(media::whip))
        .route("/v1/episodes/{id}/whep", post(media::whep))
        .route("/v1/episodes/{id}/recordings", get(media::recordings))
        .route("/v1/episodes/{id}/recordings/{file}", get(media::recording_file))
        .route("/v1/media/sessions/{id}", delete(media::end_session).patch(media::patch_session))
        .route("/v1/admin/media/stats", get(media::stats))
        .route("/v1/episodes/{id}/questions/{number}/upvote", post(rooms::upvote))
        .route("/v1/episodes/{id}/questions/{number}/answer", post(rooms::answer))
        .route("/v1/episodes/{id}/questions/{number}/dismiss", post(rooms::dismiss))
        .route("/v1/drops/{id}", get(drops::get_drop))
        .route("/v1/drops/{id}/close", post(drops::close_drop))
        .route("/v1/drops/{id}/claims", post(drops::create_claim))
        .route("/v1/drops/{id}/checkpoint", get(transparency::checkpoint))
        .route("/v1/drops/{id}/checkpoints", get(transparency::checkpoints))
        .route("/v1/drops/{id}/log", get(transparency::log))
        .route("/v1/drops/{id}/proofs/inclusion", get(transparency::inclusion))
        .route("/v1/drops/{id}/proofs/consistency", get(transparency::consistency))
        .route("/v1/transparency/keys", get(transparency::keys))
        .route("/v1/carts/{id}", get(checkout::get_cart))
        .route("/v1/carts/{id}/checkout", post(checkout::checkout))
        .route("/v1/orders/{id}", get(checkout::get_order))
        .route("/v1/orders/{id}/refunds", post(refunds::create_refund).get(refunds::list_order_refunds))
        .route("/v1/refunds/{id}", get(refunds::get_refund))
        .route("/v1/refunds/{id}/approve", post(refunds::approve_refund))
        .route("/v1/refunds/{id}/reject", post(refunds::reject_refund))
        .route("/v1/orders/{id}/review", post(checkout::review_order))
        .route("/v1/admin/risk-rules", get(risk::get_risk_rules).merge(put(risk::put_risk_rules)))
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/", get(web::index))
        .route("/rooms/{id}", get(web::room))
        .route("/rooms/{id}/host", get(web::host))
        .route("/web/{*file}", get(web::file))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app.clone(), limits::enforce))
        .layer(axum::middleware::from_fn(telemetry::record_request))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}
