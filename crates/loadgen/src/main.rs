//! `loadgen`: buyers claiming one unit at a time from a large drop through the HTTP API, at several
//! concurrency levels in one run, reporting claims per second, latency percentiles, and the journal's
//! commit batch sizes read from `/metrics`. Only ever points at a server the caller names (loopback).

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Claims through HTTP at several concurrency levels against a running livedrop")]
struct Args {
    /// Base URL of a livedrop started with `--rate-limit-per-ip 0 --rate-limit-per-account 0`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Concurrent buyers per level, comma separated; each buyer has one request in flight.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    concurrency: Vec<usize>,
    /// How long each level runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

/// Per-buyer limit of the benchmark drop: the domain's maximum, so buyers rarely hit it.
const PER_BUYER_LIMIT: u32 = domain::PER_BUYER_LIMIT_MAX;
/// A buyer checks out after this many claims, as a real basket would, keeping carts small.
const CLAIMS_PER_CHECKOUT: u32 = 20;

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        key: Option<&str>,
        body: Value,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.with_context(|| format!("POST {path}"))?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    async fn created(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        let (status, body) = self.post(path, token, None, body).await?;
        if status != 201 {
            bail!("POST {path} answered {status}: {body}");
        }
        Ok(body)
    }

    async fn metric_sum_count(&self, name: &str) -> anyhow::Result<(f64, f64)> {
        let text = self.http.get(format!("{}/metrics", self.base)).send().await?.text().await?;
        let read = |suffix: &str| -> f64 {
            text.lines()
                .filter(|line| line.starts_with(&format!("{name}_{suffix}")))
                .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        Ok((read("sum"), read("count")))
    }
}

async fn new_buyer(api: &Api, handle: &str) -> anyhow::Result<String> {
    let account = api.created("/v1/accounts", None, json!({"handle": handle, "role": "buyer"})).await?;
    Ok(account["token"].as_str().context("token")?.to_owned())
}

/// One buyer at a time with one request in flight: claim, claim, …, check out; a fresh account once
/// the per-buyer limit is reached. Returns claim and checkout latencies in microseconds.
async fn worker(
    api: Arc<Api>,
    drop_id: String,
    handle_prefix: String,
    deadline: Instant,
    failures: Arc<AtomicU64>,
) -> anyhow::Result<(Vec<u64>, Vec<u64>)> {
    let (mut claim_us, mut checkout_us) = (Vec::new(), Vec::new());
    let claim_path = format!("/v1/drops/{drop_id}/claims");
    let mut n_accounts = 0;
    'accounts: while Instant::now() < deadline {
        let buyer = new_buyer(&api, &format!("{handle_prefix}_{n_accounts}")).await?;
        n_accounts += 1;
        for claim_idx in 0..PER_BUYER_LIMIT {
            if Instant::now() >= deadline {
                break 'accounts;
            }
            let sent = Instant::now();
            let cart_id =
                match api.post(&claim_path, Some(&buyer), Some(&format!("c{claim_idx}")), json!({"quantity": 1})).await
                {
                    Ok((201, claim)) => {
                        claim_us.push(sent.elapsed().as_micros() as u64);
                        claim["cart_id"].as_str().unwrap_or_default().to_owned()
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
            if (claim_idx + 1) % CLAIMS_PER_CHECKOUT == 0 {
                let path = format!("/v1/carts/{cart_id}/checkout");
                let sent = Instant::now();
                match api
                    .post(
                        &path,
                        Some(&buyer),
                        Some(&format!("p{claim_idx}")),
                        json!({"payment_method": "pm_card_visa"}),
                    )
                    .await
                {
                    Ok((201, _)) => checkout_us.push(sent.elapsed().as_micros() as u64),
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
    Ok((claim_us, checkout_us))
}

fn percentile(sorted_us: &[u64], fraction: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let idx = ((sorted_us.len() as f64 - 1.0) * fraction).round() as usize;
    sorted_us[idx] as f64 / 1_000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let api = Arc::new(Api {
        http: reqwest::Client::builder().pool_max_idle_per_host(1_024).build()?,
        base: args.target.clone(),
    });
    let run_id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() % 1_000_000_000;
    let creator =
        api.created("/v1/accounts", None, json!({"handle": format!("lg_{run_id}"), "role": "creator"})).await?;
    let creator = creator["token"].as_str().context("token")?.to_owned();
    let room = api.created("/v1/rooms", Some(&creator), json!({"title": "load"})).await?;
    // The largest drop the domain allows, so the benchmark drop never sells out within a run.
    let stock = domain::DROP_QUANTITY_MAX;
    let product =
        json!({"title": "load", "price_minor": 100, "currency": "EUR", "stock": stock, "fulfilment": "digital"});
    let product = api.created("/v1/products", Some(&creator), product).await?;
    let drop = json!({"product_id": product["id"], "quantity": stock, "per_buyer_limit": PER_BUYER_LIMIT, "hold_seconds": 3600});
    let drop = api.created(&format!("/v1/rooms/{}/drops", room["id"].as_str().unwrap()), Some(&creator), drop).await?;
    let drop_id = drop["id"].as_str().context("drop id")?.to_owned();

    println!(
        "| buyers | claims | claims/s | p50 ms | p90 ms | p99 ms | max ms | checkouts | checkout p50 ms | events/commit | requests/shard batch | commit ms (mean) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (level_idx, &n_buyers) in args.concurrency.iter().enumerate() {
        let commits_before = api.metric_sum_count("livedrop_journal_commit_events").await?;
        let batches_before = api.metric_sum_count("livedrop_shard_batch_requests").await?;
        let commit_time_before = api.metric_sum_count("livedrop_journal_commit_seconds").await?;
        let failures = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let mut workers = Vec::new();
        for buyer_idx in 0..n_buyers {
            let (api, drop_id, failures) = (api.clone(), drop_id.clone(), failures.clone());
            let handle_prefix = format!("lg_{run_id}_{level_idx}_{buyer_idx}");
            workers.push(tokio::spawn(worker(api, drop_id, handle_prefix, deadline, failures)));
        }
        let mut claim_us = Vec::new();
        let mut checkout_us = Vec::new();
        for worker in workers {
            let (claims, checkouts) = worker.await??;
            claim_us.extend(claims);
            checkout_us.extend(checkouts);
        }
        let elapsed = started.elapsed().as_secs_f64();
        claim_us.sort_unstable();
        checkout_us.sort_unstable();
        let commits_after = api.metric_sum_count("livedrop_journal_commit_events").await?;
        let batches_after = api.metric_sum_count("livedrop_shard_batch_requests").await?;
        let commit_time_after = api.metric_sum_count("livedrop_journal_commit_seconds").await?;
        let mean = |before: (f64, f64), after: (f64, f64)| (after.0 - before.0) / (after.1 - before.1).max(1.0);
        println!(
            "| {n_buyers} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.2} | {:.1} | {:.1} | {:.2} |",
            claim_us.len(),
            claim_us.len() as f64 / elapsed,
            percentile(&claim_us, 0.50),
            percentile(&claim_us, 0.90),
            percentile(&claim_us, 0.99),
            percentile(&claim_us, 1.0),
            checkout_us.len(),
            percentile(&checkout_us, 0.50),
            mean(commits_before, commits_after),
            mean(batches_before, batches_after),
            mean(commit_time_before, commit_time_after) * 1_000.0,
        );
        let n_failures = failures.load(Ordering::Relaxed);
        if n_failures > 0 {
            eprintln!("  {n_failures} requests failed at {n_buyers} buyers");
        }
    }
    Ok(())
}
