//! `baseline serve`: livedrop's HTTP front with claims and checkouts decided by PostgreSQL or Redis
//! instead of the engine. Accounts, catalogue and drops still live in an engine on a throwaway data
//! directory, so a load generator drives every inventory through the same API. `--store null`
//! decides nothing, to measure the front alone. For benchmarks only.

mod common;
mod null;
mod postgres;
mod redis;

use clap::{Parser, ValueEnum};
use engine::{Engine, EngineConfig, SystemClock, TestPaymentProvider};
use server::{Inventory, Server, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Parser)]
#[command(about = "Serves livedrop's API over a PostgreSQL or Redis inventory (benchmark baseline)")]
struct Args {
    #[arg(long, value_enum)]
    store: Store,
    /// postgres://… or redis://… (not used by `null`)
    #[arg(long, env = "BASELINE_STORE_URL", required_if_eq_any([("store", "postgres"), ("store", "redis")]))]
    url: Option<String>,
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// PostgreSQL connections (Redis uses one multiplexed connection). Few: claims on one drop queue for
    /// its row lock, and on 2 cores 8 connections sold 1.4× faster than 64 (BENCHMARKS.md).
    #[arg(long, default_value_t = 8)]
    pool: usize,
    /// Accept connections with the server's own loop (deadlines, per-IP and total caps) or with
    /// plain `axum::serve`, which has none: only to measure what the own loop costs.
    #[arg(long, value_enum, default_value = "own")]
    accept: Accept,
}

#[derive(Clone, Copy, ValueEnum)]
enum Accept {
    Own,
    Axum,
}

#[derive(Clone, Copy, ValueEnum)]
enum Store {
    Postgres,
    Redis,
    /// No inventory: every claim `sold_out`, every checkout `not_found`, nothing kept.
    Null,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let data_dir = tempfile::tempdir()?;
    let payments = Arc::new(TestPaymentProvider::default());
    let engine = Arc::new(
        Engine::start(EngineConfig {
            data_dir: data_dir.path().to_owned(),
            journal: None,
            n_shards: 2,
            admin_tokens: Vec::new(),
            clock: Arc::new(SystemClock),
            payments: payments.clone(),
            log_origin: "livedrop".to_owned(),
            refund_approval_threshold_minor: domain::REFUND_APPROVAL_THRESHOLD_MINOR_DEFAULT,
            money: Default::default(),
            payouts: std::sync::Arc::new(engine::SandboxPayouts::in_memory()),
            webhooks_allow_private: false,
        })
        .await?,
    );
    let catalogue = common::Catalogue::new(engine.clone());
    let url = args.url.unwrap_or_default();
    let inventory: Arc<dyn Inventory> = match args.store {
        Store::Null => Arc::new(null::NullInventory),
        Store::Postgres => {
            let store = Arc::new(postgres::PostgresInventory::connect(&url, args.pool, catalogue, payments).await?);
            let sweeper = store.clone();
            tokio::spawn(sweep_forever(move || {
                let sweeper = sweeper.clone();
                async move { sweeper.sweep().await }
            }));
            store
        }
        Store::Redis => {
            let store = Arc::new(redis::RedisInventory::connect(&url, catalogue, payments).await?);
            let sweeper = store.clone();
            tokio::spawn(sweep_forever(move || {
                let sweeper = sweeper.clone();
                async move { sweeper.sweep().await }
            }));
            store
        }
    };
    // Load generators open many connections from one address: no per-IP cap.
    let connections = server::ConnectionLimits { per_ip_max: 0, ..server::ConnectionLimits::default() };
    let config = ServerConfig {
        rate_limit_per_ip: 0,
        rate_limit_per_account: 0,
        signups_per_second: 0,
        media: None,
        connections,
    };
    let server = Server::with_inventory(engine.clone(), inventory, &config);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(listen = %args.listen, "baseline serving");
    // SIGTERM (what scripts/bench-drop sends) or Ctrl-C: drain, stop the engine, drop its data directory.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    };
    match args.accept {
        Accept::Own => server.serve(listener, stop).await?,
        Accept::Axum => {
            let service = server.router().into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service).with_graceful_shutdown(stop).await?;
        }
    }
    engine.shutdown().await;
    Ok(())
}

/// Returns expired holds' units, as the engine's timers do, every `postgres::SWEEP_INTERVAL`.
async fn sweep_forever<F, Fut>(sweep: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<u64>>,
{
    loop {
        tokio::time::sleep(postgres::SWEEP_INTERVAL).await;
        if let Err(error) = sweep().await {
            tracing::error!(%error, "sweep failed");
        }
    }
}
