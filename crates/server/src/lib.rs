//! The HTTP API and WebSocket of livedrop (axum). Authenticates, validates, maps JSON to domain
//! commands and back, and applies limits; all state lives in the engine.

mod error;
mod extract;
mod inventory;
mod limits;
mod listener;
mod openapi;
mod per_ip;
mod routes;
mod stage_watcher;
mod telemetry;
mod wire;

pub use error::ApiError;
pub use inventory::Inventory;
pub use limits::{RateLimits, SIGNUPS_PER_SECOND_DEFAULT};
pub use listener::{
    CONNECTIONS_PER_IP_DEFAULT, ConnectionLimits, FILES_RESERVED, HEADER_READ_TIMEOUT_DEFAULT,
    LIVE_CONNECTIONS_PER_IP_DEFAULT,
};
pub use openapi::ApiDoc;
pub use routes::accounts::new_token;
pub use routes::live::{LIVE_CONNECTIONS_MAX, LIVE_FLUSH_MS};
pub use telemetry::metrics_handle;

use axum::Router;
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
    /// Timeouts and caps of connections (the body deadline is applied by the extractors).
    pub(crate) connections: ConnectionLimits,
    /// Each client IP's share of `live_slots`.
    pub(crate) live_per_ip: Arc<per_ip::PerIp>,
    pub(crate) shutdown: watch::Receiver<bool>,
    /// The audio SFU; `None` serves no WHIP/WHEP (the benchmark baselines).
    pub(crate) media: Option<Arc<media::Media>>,
    /// Episodes whose stage a task feeds to the SFU (`stage_watcher.rs`), at most one task each.
    pub(crate) media_watched: Arc<std::sync::Mutex<std::collections::HashSet<domain::EpisodeId>>>,
}

pub struct ServerConfig {
    /// Requests per second per client IP; 0 turns the limit off.
    pub rate_limit_per_ip: u32,
    /// Requests per second per account; 0 turns the limit off.
    pub rate_limit_per_account: u32,
    /// Accounts created per second by all callers together; 0 turns the limit off.
    pub signups_per_second: u32,
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
            rate_limits: RateLimits::new(
                config.rate_limit_per_ip,
                config.rate_limit_per_account,
                config.signups_per_second,
            ),
            metrics: metrics_handle(),
            live_slots: Arc::new(Semaphore::new(LIVE_CONNECTIONS_MAX)),
            live_per_ip: per_ip::PerIp::new(config.connections.live_per_ip_max),
            connections: config.connections,
            shutdown: shutdown_signal,
            media: config.media.clone(),
            media_watched: Default::default(),
        }));
        Server { router: router(app), shutdown, connections: config.connections }
    }

    /// The whole HTTP front as a tower service, for in-process tests (`router.oneshot(request)`).
    /// Its requests carry no peer address, so the per-IP limit and the fraud rules' `ip` do not
    /// apply to them.
    pub fn router(&self) -> Router {
        self.router.clone()
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

/// The routes of every module, behind the limits, metrics and tracing layers.
fn router(app: AppState) -> Router {
    routes::all()
        .layer(axum::middleware::from_fn_with_state(app.clone(), limits::enforce))
        .layer(axum::middleware::from_fn(telemetry::record_request))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}
