//! `webhook-sink`: a webhook receiver for benchmarks. Answers every `POST` 204 at once, counts the
//! messages and distinct `webhook-id`s, and measures each `order.paid` message's lag from its
//! `paid_at` to its arrival; `GET /stats` answers the figures as JSON.

use anyhow::Context;
use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Parser)]
#[command(about = "A webhook receiver that counts deliveries and their lag, for benchmarks")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9099")]
    listen: std::net::SocketAddr,
}

struct Seen {
    received: u64,
    ids: HashSet<String>,
    lag_ms: Histogram<u64>,
    first: Option<Instant>,
    last: Option<Instant>,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn receive(seen: &Mutex<Seen>, headers: &HeaderMap, body: &[u8]) -> StatusCode {
    let id = headers.get("webhook-id").and_then(|id| id.to_str().ok()).unwrap_or_default().to_owned();
    let paid_at = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|message| message["data"]["paid_at"].as_str().map(str::to_owned))
        .and_then(|text| OffsetDateTime::parse(&text, &Rfc3339).ok())
        .map(|at| (at.unix_timestamp_nanos() / 1_000_000) as i64);
    let mut seen = seen.lock().expect("sink lock");
    seen.received += 1;
    seen.ids.insert(id);
    if let Some(paid_at) = paid_at {
        let _ = seen.lag_ms.record(u64::try_from(now_ms() - paid_at).unwrap_or(0));
    }
    let now = Instant::now();
    seen.first.get_or_insert(now);
    seen.last = Some(now);
    StatusCode::NO_CONTENT
}

fn stats(seen: &Seen) -> Value {
    let window = match (seen.first, seen.last) {
        (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
        _ => 0.0,
    };
    json!({
        "received": seen.received,
        "distinct": seen.ids.len(),
        "window_s": window,
        "per_second": seen.received as f64 / window.max(1e-9),
        "lag_ms": {
            "p50": seen.lag_ms.value_at_quantile(0.5),
            "p99": seen.lag_ms.value_at_quantile(0.99),
            "max": seen.lag_ms.max(),
        },
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let seen = Arc::new(Mutex::new(Seen {
        received: 0,
        ids: HashSet::new(),
        lag_ms: Histogram::new(3).context("histogram")?,
        first: None,
        last: None,
    }));
    let (on_post, on_stats) = (seen.clone(), seen);
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let seen = on_post.clone();
                async move { receive(&seen, &headers, &body) }
            }),
        )
        .route(
            "/stats",
            axum::routing::get(move || {
                let seen = on_stats.clone();
                async move { Json(stats(&seen.lock().expect("sink lock"))) }
            }),
        );
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    eprintln!("webhook-sink on http://{}/hook", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
