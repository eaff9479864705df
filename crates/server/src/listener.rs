//! The accept loop. `axum::serve` runs hyper without a timer, so no header-read timeout ever fires
//! and an idle connection is kept forever: a client holding a thousand idle sockets used up the
//! process's files and every new client timed out. Here every connection has a deadline for each
//! request head (which on a kept-alive connection is also its idle timeout), each client IP has a
//! bounded share of the connections, and the total stays under the open-file limit.

use crate::per_ip::{PerIp, Place};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

/// The HTTP/2 connection preface; a connection whose first bytes are not a prefix of it is HTTP/1.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// After a failed `accept` (out of files, most often), wait this long before the next.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);
/// Pings on an idle HTTP/2 connection, and how long a ping may go unanswered before it is closed.
const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Files the process keeps for itself beyond client connections: the journal, recordings, the
/// media socket, outgoing connections.
pub const FILES_RESERVED: u64 = 256;

/// The default `header_read_timeout`: time enough for any real client on a slow network.
pub const HEADER_READ_TIMEOUT_DEFAULT: Duration = Duration::from_secs(20);
/// The default `per_ip_max`: far more than a browser opens (six per host over HTTP/1.1), few
/// enough that one address cannot take the server's files.
pub const CONNECTIONS_PER_IP_DEFAULT: u32 = 256;

/// The default `live_per_ip_max`: a household's tabs, not a client's ten thousand sockets.
pub const LIVE_CONNECTIONS_PER_IP_DEFAULT: u32 = 32;

/// How connections are bounded.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// From a connection's start, or the end of its last response, to a whole request head; then
    /// the connection is closed. Also how long an idle kept-alive connection stays open.
    pub header_read_timeout: Duration,
    /// Open connections per client IP; 0 turns the cap off (load tests from one address).
    pub per_ip_max: u32,
    /// Open connections in all; beyond it a new one is closed at once.
    pub total_max: u64,
    /// Live-feed WebSockets per client IP; 0 turns the cap off.
    pub live_per_ip_max: u32,
    /// From a request's head to the end of its body (JSON and SDP bodies), then 408.
    pub body_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// The defaults, with no total beyond the per-IP cap (the binary sets it from its file limit).
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: HEADER_READ_TIMEOUT_DEFAULT,
            per_ip_max: CONNECTIONS_PER_IP_DEFAULT,
            total_max: u64::MAX,
            live_per_ip_max: LIVE_CONNECTIONS_PER_IP_DEFAULT,
            // The same deadline as a head's, as the binary sets them (`--idle-timeout-secs`).
            body_read_timeout: HEADER_READ_TIMEOUT_DEFAULT,
        }
    }
}

/// Open connections, in all and per client IP.
struct OpenConnections {
    per_ip: Arc<PerIp>,
    n_total: Arc<AtomicU64>,
    total_max: u64,
}

/// A connection's places, given back when it ends, or when the WebSocket it was upgraded to ends:
/// the live feed keeps a clone (`ConnectionPlace`), so upgraded sockets count against both caps.
struct ConnectionGuard {
    _place: Place,
    n_total: Arc<AtomicU64>,
}

/// The place of the connection a request came on, in the request's extensions.
#[derive(Clone)]
pub(crate) struct ConnectionPlace {
    /// Held, never read: dropping the last clone gives the places back.
    _guard: Arc<ConnectionGuard>,
}

impl OpenConnections {
    /// The places of a new connection from `ip`, or the name of the limit that refuses it.
    fn admit(&self, ip: IpAddr) -> Result<ConnectionGuard, &'static str> {
        // Only the accept loop adds connections, so the count cannot pass the cap in between.
        if self.n_total.load(Ordering::Relaxed) >= self.total_max {
            return Err("total");
        }
        let place = self.per_ip.take(ip).ok_or("per_ip")?;
        self.n_total.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("livedrop_http_connections_open").increment(1.0);
        Ok(ConnectionGuard { _place: place, n_total: self.n_total.clone() })
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.n_total.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("livedrop_http_connections_open").decrement(1.0);
    }
}

/// Serves `router` on `listener` until `stop` resolves; then stops accepting, asks every
/// connection to finish its in-flight requests and close, and waits for them.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open =
        OpenConnections { per_ip: PerIp::new(limits.per_ip_max), n_total: Arc::default(), total_max: limits.total_max };
    // Every connection task holds a receiver; `closed()` resolves once all of them are gone.
    let (stopping, stop_signal) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    let builder = Arc::new(builder);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    metrics::counter!("livedrop_http_accept_errors_total").increment(1);
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        let guard = match open.admit(peer.ip()) {
            Ok(guard) => guard,
            Err(reason) => {
                metrics::counter!("livedrop_http_connections_refused_total", "limit" => reason).increment(1);
                drop(stream);
                continue;
            }
        };
        let task_stop = stop_signal.clone();
        let builder = builder.clone();
        let router = router.clone();
        let guard = Arc::new(guard);
        tokio::spawn(async move {
            serve_connection(stream, peer, router, &builder, limits.header_read_timeout, guard, task_stop).await;
        });
    }
    let _ = stopping.send(true);
    drop(stop_signal);
    stopping.closed().await;
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    builder: &auto::Builder<TokioExecutor>,
    idle_timeout: Duration,
    guard: Arc<ConnectionGuard>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    // hyper reads the first bytes to tell HTTP/1 from HTTP/2 with no deadline of its own, so a
    // client that sends part of the HTTP/2 preface and stops would hold the connection forever.
    let sniffed = tokio::select! {
        known = tokio::time::timeout(idle_timeout, protocol_known(&stream)) => known.is_ok(),
        () = stopped(&mut stop) => false,
    };
    if !sniffed {
        metrics::counter!("livedrop_http_connections_timed_out_total").increment(1);
        return;
    }
    // Requests in flight on this connection and when the last one ended: hyper's header-read
    // timeout closes an idle HTTP/1 connection, but HTTP/2 has none (its pings keep a quiet client
    // alive), so an idle connection of either kind is closed here after `idle_timeout`.
    let activity = Arc::new(Activity::default());
    let place = ConnectionPlace { _guard: guard };
    let service_activity = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(place.clone());
        let in_flight = service_activity.start();
        let response = router.clone().oneshot(request);
        async move {
            let response = response.await;
            drop(in_flight);
            response
        }
    });
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut idle_check = tokio::time::interval(idle_timeout / 2);
    idle_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            served = connection.as_mut() => return log_end(served),
            () = stopped(&mut stop) => break,
            _ = idle_check.tick() => {
                if activity.idle_for() >= idle_timeout {
                    metrics::counter!("livedrop_http_connections_timed_out_total").increment(1);
                    break;
                }
            }
        }
    }
    connection.as_mut().graceful_shutdown();
    log_end(connection.await);
}

/// What the idle check of a connection reads: requests in flight, and when the last one ended.
struct Activity {
    in_flight: AtomicU64,
    last_ended: std::sync::Mutex<tokio::time::Instant>,
}

impl Default for Activity {
    fn default() -> Activity {
        Activity { in_flight: AtomicU64::new(0), last_ended: std::sync::Mutex::new(tokio::time::Instant::now()) }
    }
}

/// One request in flight; its end is recorded when dropped, whichever way the handler finishes.
struct InFlight(Arc<Activity>);

impl Activity {
    fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// How long the connection has had no request in flight (zero while one is).
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        self.last_ended.lock().expect("activity lock").elapsed()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        *self.0.last_ended.lock().expect("activity lock") = tokio::time::Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`; it is dropped here, before the caller awaits.
    let _ = stop.wait_for(|stopping| *stopping).await;
}

fn log_end(served: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(error) = served {
        // Timeouts, resets and malformed requests end here; they are the client's, not ours.
        tracing::debug!(%error, "connection ended with an error");
    }
}

/// Waits until the first bytes tell the protocol: a byte off the HTTP/2 preface, the whole
/// preface, or the end of the stream.
async fn protocol_known(stream: &TcpStream) {
    let mut first = [0u8; H2_PREFACE.len()];
    // `peek` leaves the bytes readable, so waiting for readiness returns at once: poll with a
    // growing pause instead (only a client that sent a strict prefix of the preface gets here).
    let mut pause = Duration::from_millis(5);
    loop {
        match stream.peek(&mut first).await {
            Ok(0) | Err(_) => return,
            Ok(n_read) if n_read == first.len() || first[..n_read] != H2_PREFACE[..n_read] => return,
            // A prefix of the preface so far: wait for more.
            Ok(_) => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
        }
    }
}
