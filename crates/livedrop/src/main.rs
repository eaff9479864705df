//! `livedrop`: the one binary. `livedrop serve` runs the whole platform on this machine with an
//! embedded journal (SQLite) and no other service, or with the journal in PostgreSQL (`--journal`).

mod audit;
mod config;
mod demo;
mod verify;

use anyhow::Context;
use clap::Parser;
use config::{Cli, Config, LogFormat, Subcommand};
use engine::{Engine, EngineConfig, SystemClock, TestPaymentProvider};
use server::{Server, ServerConfig};
use std::sync::Arc;
use tracing_subscriber::EnvFilter;

/// How long in-flight requests may take to finish once a shutdown was asked for.
const SHUTDOWN_GRACE_SECS: u64 = 30;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Subcommand::Serve(args) => {
            let config = Config::try_from(*args)?;
            init_tracing(config.log_format);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("livedrop")
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(serve(config))
        }
        Subcommand::Verify(args) => verify::run(&args),
        Subcommand::Audit(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(audit::run(&args))
        }
    }
}

fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Raises the soft limit of open files to the hard limit (where the system allows) and returns it:
/// every connection is a file, and the common default of 1 024 is a few hundred clients.
fn raise_open_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!(open_files_max = limit, "open file limit");
            limit
        }
        Err(error) => {
            let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap_or((1_024, 1_024));
            tracing::warn!(%error, open_files_max = soft, "could not raise the open file limit");
            soft
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(journal = %config.journal, "opening the journal");
    let engine_config = EngineConfig {
        data_dir: config.data_dir.clone(),
        journal: Some(config.journal.clone()),
        n_shards: config.n_shards,
        admin_tokens: config.admin_tokens.clone(),
        clock: Arc::new(SystemClock),
        payments: Arc::new(TestPaymentProvider::default()),
        log_origin: config.log_origin.clone(),
        refund_approval_threshold_minor: config.refund_approval_threshold_minor,
        money: config.money.clone(),
        // The sandbox keeps its record beside the journal: a real provider remembers its keys too.
        payouts: Arc::new(
            engine::SandboxPayouts::open(&engine::sandbox_payouts_path(&config.data_dir))
                .context("opening the sandbox payout provider's record")?,
        ),
        webhooks_allow_private: config.webhooks_allow_private,
    };
    let engine =
        Engine::start(engine_config).await.with_context(|| format!("starting on the journal ({})", config.journal))?;
    let engine = Arc::new(engine);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr().context("reading the listen address")?;
    tracing::info!(%address, data_dir = %config.data_dir.display(), journal = %config.journal, shards = config.n_shards, "livedrop serving");
    if config.demo {
        demo::seed(&engine, address).await.context("seeding the demo")?;
    }
    let media = Arc::new(media::Media::start(config.media.clone()).context("starting the media server")?);
    let server_config = ServerConfig {
        rate_limit_per_ip: config.rate_limit_per_ip,
        rate_limit_per_account: config.rate_limit_per_account,
        signups_per_second: config.signups_per_second,
        media: Some(media.clone()),
        connections: server::ConnectionLimits {
            header_read_timeout: config.idle_timeout,
            per_ip_max: config.connections_per_ip,
            total_max: raise_open_file_limit().saturating_sub(server::FILES_RESERVED),
            live_per_ip_max: config.live_connections_per_ip,
            // The body deadline matches the head's: both bound how long a client may hold a request.
            body_read_timeout: config.idle_timeout,
        },
    };
    let server = Server::new(engine.clone(), &server_config);
    let (signalled, mut signal_seen) = tokio::sync::watch::channel(false);
    let stop = async move {
        shutdown_signal().await;
        let _ = signalled.send(true);
    };
    let serving = server.serve(listener, stop);
    // In-flight requests get a grace period after the signal; a client trickling a body does not
    // get to hold the shutdown hostage.
    let grace_over = async {
        if signal_seen.wait_for(|signalled| *signalled).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(std::time::Duration::from_secs(SHUTDOWN_GRACE_SECS)).await;
    };
    tokio::select! {
        served = serving => served.context("serving HTTP")?,
        _ = grace_over => tracing::warn!(grace_secs = SHUTDOWN_GRACE_SECS, "requests still in flight; stopping anyway"),
    }
    tracing::info!("HTTP stopped; closing media sessions and draining the engine");
    // Closing the sessions finishes every recording's file.
    tokio::task::spawn_blocking(move || media.shutdown()).await.context("stopping the media server")?;
    engine.shutdown().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested");
}
