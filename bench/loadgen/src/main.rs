//! `loadgen`: an open-loop load generator for drops. Buyers arrive on a schedule fixed in advance (a
//! burst, or a steady rate), whatever the server's speed, so a slow server shows up as latency
//! (measured from when each request was due: coordinated omission corrected, in HdrHistogram) rather
//! than as a politely slower client. At the end it checks what the server acknowledged: no oversold
//! drop, no hold given twice, no buyer over the limit, identical replays, refused key reuse.
//! Only ever points at a server the caller names (loopback).

mod workload;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use futures_util::{StreamExt, stream};
use loadgen::api::Api;
use loadgen::procfs;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use workload::{Acknowledged, Arrivals, Recorder, Run};

#[derive(Parser)]
#[command(about = "Open-loop drop load against a running livedrop (or a baseline behind the same API)")]
struct Args {
    /// Base URL of a server started with `--rate-limit-per-ip 0 --rate-limit-per-account 0`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    #[arg(long, value_enum, default_value = "burst")]
    workload: Workload,
    /// Buyers (each a fresh account, created before the clock starts).
    #[arg(long, default_value_t = 200_000)]
    buyers: usize,
    /// Units across all drops (split evenly); `steady` uses the largest drop allowed instead.
    #[arg(long, default_value_t = 10_000)]
    units: u64,
    /// Drops for `skewed` (each of its own creator); `burst` and `steady` use one.
    #[arg(long, default_value_t = 100)]
    drops: usize,
    #[arg(long, default_value_t = 2)]
    per_buyer_limit: u32,
    /// Burst: percent of buyers arriving in the first second (the rest over the next four).
    #[arg(long, default_value_t = 80)]
    head_percent: u32,
    /// Steady: buyers arriving per second.
    #[arg(long, default_value_t = 1_000.0)]
    rate: f64,
    /// Requests in flight at most (the client's connections; with `--http2`, streams).
    #[arg(long, default_value_t = 256)]
    connections: usize,
    /// Speak HTTP/2 without TLS (prior knowledge): every request a stream of one connection, so
    /// answers share writes instead of one syscall each.
    #[arg(long)]
    http2: bool,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// A name for this run in the table and the JSON (e.g. engine, postgres, redis-always).
    #[arg(long, default_value = "livedrop")]
    label: String,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Skip reading the drops' counters back (baselines keep stock outside the engine's drops).
    #[arg(long)]
    no_server_counters: bool,
    /// Processes whose CPU time during the load counts as the server's (the server, and its database),
    /// comma separated; read from /proc, so Linux only.
    #[arg(long, value_delimiter = ',')]
    server_pids: Vec<u32>,
    /// Fraud rules to install before the run (`PUT /v1/admin/risk-rules`, needs `--admin-token`);
    /// claims and checkouts may then also answer 403 `blocked_by_risk_rules`.
    #[arg(long, requires = "admin_token")]
    risk_rules: Option<std::path::PathBuf>,
    /// An admin token the server was started with (`livedrop serve --admin-token`).
    #[arg(long, env = "LOADGEN_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Each drop's creator registers a webhook endpoint here for `order.paid` before the run, so
    /// every order is also a delivery (`webhook-sink` receives them; the server needs
    /// `--webhooks-allow-private` for a loopback URL).
    #[arg(long)]
    webhook_url: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    /// One drop, most buyers in the first second.
    Burst,
    /// Many drops of Zipf-like popularity, same arrivals as `burst`.
    Skewed,
    /// One large drop, buyers at a fixed rate (for latency below saturation).
    Steady,
}

/// Hold time of the benchmark drops: longer than any run, so every acknowledged hold is still counted
/// against stock when the run is checked.
const HOLD_SECONDS: u64 = 900;
/// Accounts created concurrently during setup.
const SETUP_CONCURRENCY: usize = 128;
/// Burst tail: buyers not in the first second arrive over this long.
const BURST_TAIL_MS: u64 = 4_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api = Api::new(&args.target, args.connections, args.http2)?;
    if let Some(path) = &args.risk_rules {
        let rules = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let token = args.admin_token.as_deref().context("--risk-rules needs --admin-token")?;
        let (status, answer) = api
            .send(reqwest::Method::PUT, "/v1/admin/risk-rules", Some(token), None, None, &json!({"rules": rules}))
            .await?;
        if status != 200 {
            bail!("PUT /v1/admin/risk-rules answered {status}: {answer}");
        }
        eprintln!(
            "{} risk rules installed (version {})",
            answer["parsed"].as_array().map_or(0, Vec::len),
            answer["version"]
        );
    }
    let run_tag = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() % 1_000_000_000;
    let n_drops = if args.workload == Workload::Skewed { args.drops.max(1) } else { 1 };
    let units_per_drop = match args.workload {
        Workload::Steady => domain::DROP_QUANTITY_MAX,
        _ => (args.units / n_drops as u64).max(1),
    };
    let mut drop_ids = Vec::with_capacity(n_drops);
    for drop_idx in 0..n_drops {
        drop_ids.push(create_drop(&api, &format!("lg{run_tag}c{drop_idx}"), units_per_drop, &args).await?);
    }
    let tokens = create_buyers(&api, args.buyers, run_tag).await?;
    let arrivals = match args.workload {
        Workload::Steady => Arrivals::Steady { buyers_per_second: args.rate },
        _ => Arrivals::Burst { head_ms: 1_000, share_percent: args.head_percent, tail_ms: BURST_TAIL_MS },
    };
    let buyers = Arc::new(workload::plan(tokens, n_drops, arrivals, args.seed));
    let run = Arc::new(Run {
        api,
        drop_ids,
        per_buyer_limit: args.per_buyer_limit,
        inflight: tokio::sync::Semaphore::new(args.connections),
        recorder: std::sync::Mutex::new(Recorder::new(args.risk_rules.is_some())),
        acknowledged: std::sync::Mutex::new(Acknowledged::default()),
    });

    eprintln!("{}: {} buyers, {} drop(s) of {units_per_drop} units", args.label, buyers.len(), n_drops);
    let done = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(buyers.len() as u64, done.clone());
    let cpu_before = procfs::cpu_seconds(&args.server_pids)?;
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(buyers.len());
    for buyer_idx in 0..buyers.len() {
        let due = start + Duration::from_micros(buyers[buyer_idx].arrival_us);
        tokio::time::sleep_until(due).await;
        let (run, buyers, done) = (run.clone(), buyers.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            run.buyer(buyer_idx, &buyers[buyer_idx], due).await;
            done.fetch_add(1, Ordering::Relaxed);
        }));
    }
    for task in tasks {
        task.await?;
    }
    progress.abort();
    let elapsed = start.elapsed();
    let server_cpu_s = procfs::cpu_seconds(&args.server_pids)? - cpu_before;
    if elapsed.as_secs() >= HOLD_SECONDS {
        bail!("the run outlasted the holds ({HOLD_SECONDS} s); the stock check would be meaningless");
    }

    let counters = if args.no_server_counters { None } else { Some(read_counters(&run).await?) };
    let mut summary = summarize(&args, &run, units_per_drop, counters)?;
    if !args.server_pids.is_empty() {
        let requests: u64 =
            summary["statuses"].as_object().context("statuses")?.values().filter_map(Value::as_u64).sum();
        summary["server_cpu_s"] = json!(server_cpu_s);
        summary["server_cpu_us_per_request"] = json!(server_cpu_s * 1e6 / requests.max(1) as f64);
    }
    print_table(&summary);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&summary)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let failed: Vec<&String> = summary["checks"]
        .as_object()
        .context("checks")?
        .iter()
        .filter(|(_, v)| v.as_u64() != Some(0))
        .map(|(k, _)| k)
        .collect();
    if !failed.is_empty() {
        bail!("checks failed: {failed:?}");
    }
    Ok(())
}

async fn create_drop(api: &Api, handle: &str, units: u64, args: &Args) -> anyhow::Result<String> {
    let per_buyer_limit = args.per_buyer_limit;
    let creator = api.account(handle, "creator").await?;
    if let Some(url) = &args.webhook_url {
        api.created("/v1/webhook-endpoints", Some(&creator), json!({"url": url, "events": ["order.paid"]})).await?;
    }
    let room = api.created("/v1/rooms", Some(&creator), json!({"title": "load"})).await?;
    let product =
        json!({"title": "load tee", "price_minor": 2_500, "currency": "EUR", "stock": units, "fulfilment": "ship"});
    let product = api.created("/v1/products", Some(&creator), product).await?;
    let drop = json!({"product_id": product["id"], "quantity": units, "per_buyer_limit": per_buyer_limit, "hold_seconds": HOLD_SECONDS});
    let path = format!("/v1/rooms/{}/drops", room["id"].as_str().context("room id")?);
    let drop = api.created(&path, Some(&creator), drop).await?;
    Ok(drop["id"].as_str().context("drop id")?.to_owned())
}

async fn create_buyers(api: &Api, n_buyers: usize, run_tag: u128) -> anyhow::Result<Vec<String>> {
    eprintln!("creating {n_buyers} buyer accounts");
    let created = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(n_buyers as u64, created.clone());
    let tokens: Vec<anyhow::Result<String>> = stream::iter(0..n_buyers)
        .map(|idx| {
            let created = created.clone();
            async move {
                let token = api.account(&format!("lg{run_tag}b{idx}"), "buyer").await;
                created.fetch_add(1, Ordering::Relaxed);
                token
            }
        })
        .buffered(SETUP_CONCURRENCY)
        .collect()
        .await;
    progress.abort();
    tokens.into_iter().collect()
}

/// A progress bar on stderr, fed by `done`, until the returned task is aborted.
fn progress_bar(total: u64, done: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} {per_sec}")
            .expect("template"),
    );
    tokio::spawn(async move {
        loop {
            bar.set_position(done.load(Ordering::Relaxed));
            if bar.position() >= total {
                bar.finish();
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Each drop's counters as the server reports them.
async fn read_counters(run: &Run) -> anyhow::Result<Vec<Value>> {
    let mut counters = Vec::new();
    for drop_id in &run.drop_ids {
        let (status, drop) = run.api.get(&format!("/v1/drops/{drop_id}")).await?;
        if status != 200 {
            bail!("GET drop {drop_id} answered {status}");
        }
        counters.push(drop);
    }
    Ok(counters)
}

fn latency(histogram: &hdrhistogram::Histogram<u64>) -> Value {
    let ms = |quantile: f64| histogram.value_at_quantile(quantile) as f64 / 1_000.0;
    json!({"count": histogram.len(), "p50_ms": ms(0.5), "p90_ms": ms(0.9), "p99_ms": ms(0.99), "p999_ms": ms(0.999), "max_ms": histogram.max() as f64 / 1_000.0})
}

fn summarize(args: &Args, run: &Run, units_per_drop: u64, counters: Option<Vec<Value>>) -> anyhow::Result<Value> {
    let recorder = run.recorder.lock().expect("recorder");
    let ledger = run.acknowledged.lock().expect("ledger");
    let units: Vec<u64> = vec![units_per_drop; run.drop_ids.len()];
    let verdict = workload::verdict(&ledger, &units, u64::from(args.per_buyer_limit));
    let first_due = recorder.first_due.context("no request was answered")?;
    let claim_window = recorder.last_claim_answer.map_or(0.0, |last| last.duration_since(first_due).as_secs_f64());
    let checkout_window =
        recorder.last_checkout_answer.map_or(0.0, |last| last.duration_since(first_due).as_secs_f64());
    let mut statuses: HashMap<String, u64> = HashMap::new();
    for ((kind, status), count) in &recorder.statuses {
        statuses.insert(format!("{kind}_{status}"), *count);
    }
    // The server's counters must add up, and its sold units cover every acknowledged order.
    let mut counter_mismatches = 0u64;
    if let Some(counters) = &counters {
        let mut ordered_per_drop = vec![0u64; run.drop_ids.len()];
        for (hold, _) in &ledger.ordered_holds {
            if let Some(&(drop_idx, _, quantity)) = ledger.holds.get(hold) {
                ordered_per_drop[drop_idx] += quantity;
            }
        }
        for (drop, ordered) in counters.iter().zip(ordered_per_drop) {
            let field = |name: &str| drop[name].as_u64().unwrap_or(u64::MAX / 4);
            if field("remaining") + field("held") + field("sold") != field("quantity") || field("sold") < ordered {
                counter_mismatches += 1;
            }
        }
    }
    Ok(json!({
        "label": args.label,
        "workload": match args.workload { Workload::Burst => "burst", Workload::Skewed => "skewed", Workload::Steady => "steady" },
        "buyers": args.buyers,
        "drops": run.drop_ids.len(),
        "units_per_drop": units_per_drop,
        "connections": args.connections,
        "seed": args.seed,
        "risk_rules": args.risk_rules.as_ref().map(|path| path.display().to_string()),
        "claims_answered": recorder.claims.len(),
        "claims_per_second": recorder.claims.len() as f64 / claim_window.max(1e-9),
        "claim_window_s": claim_window,
        // From the first request due to the last checkout answered: every answer counts (201, 402, 409).
        "checkouts_answered": recorder.checkouts.len(),
        "checkouts_per_second": recorder.checkouts.len() as f64 / checkout_window.max(1e-9),
        // When the last unit went: the last new hold, if every unit of every drop went.
        "sold_out_after_s": recorder
            .last_unit_acknowledged
            .filter(|_| verdict.units_acknowledged == units.iter().sum::<u64>())
            .map(|at| at.duration_since(first_due).as_secs_f64()),
        "claim_latency": latency(&recorder.claims),
        "checkout_latency": latency(&recorder.checkouts),
        "statuses": statuses,
        "units_acknowledged": verdict.units_acknowledged,
        "orders": ledger.orders,
        "declines": ledger.declines,
        "checks": {
            "oversold_drops": verdict.oversold_drops,
            "duplicate_holds": ledger.duplicate_holds,
            "buyers_over_limit": verdict.buyers_over_limit,
            "replay_mismatches": ledger.replay_mismatches,
            "key_reuse_not_refused": ledger.reuse_not_refused,
            "orders_of_unknown_holds": verdict.orders_of_unknown_holds,
            "holds_ordered_twice": verdict.holds_ordered_twice,
            "unexpected_statuses": recorder.unexpected_statuses,
            // A burst has more buyers than units: every unit must go.
            "units_unsold": if args.workload == Workload::Burst && args.buyers as u64 >= args.units {
                units.iter().sum::<u64>().saturating_sub(verdict.units_acknowledged)
            } else {
                0
            },
            "server_counter_mismatches": counter_mismatches,
            "transport_errors": recorder.transport_errors,
        },
    }))
}

fn print_table(summary: &Value) {
    let latency = &summary["claim_latency"];
    println!(
        "| run | workload | claims answered | claims/s | p50 ms | p99 ms | p99.9 ms | max ms | units sold out after s | orders | checks |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    let failed =
        summary["checks"].as_object().map_or(0, |checks| checks.values().filter(|v| v.as_u64() != Some(0)).count());
    println!(
        "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} |",
        summary["label"].as_str().unwrap_or_default(),
        summary["workload"].as_str().unwrap_or_default(),
        summary["claims_answered"],
        summary["claims_per_second"].as_f64().unwrap_or_default(),
        latency["p50_ms"].as_f64().unwrap_or_default(),
        latency["p99_ms"].as_f64().unwrap_or_default(),
        latency["p999_ms"].as_f64().unwrap_or_default(),
        latency["max_ms"].as_f64().unwrap_or_default(),
        summary["sold_out_after_s"].as_f64().map_or("-".into(), |s| format!("{s:.2}")),
        summary["orders"],
        if failed == 0 { "all pass".to_owned() } else { format!("{failed} FAILED") },
    );
}
