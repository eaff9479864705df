//! `livedrop audit DROP_URL [--pubkey KEY]`: downloads a drop's whole transparency log and every
//! checkpoint, rebuilds the tree, and checks that each checkpoint signs the log's head at its size
//! (so each is consistent with the one before, which the server's own consistency proofs must also
//! show), and that the leaves tell a fair drop: no unit sold twice, no buyer over the limit, every
//! unit accounted for. Exits 1 on any violation.

use crate::config::AuditArgs;
use anyhow::{Context, bail};
use domain::DropId;
use serde_json::Value;
use std::time::{Duration, Instant};
use transparency::audit::{DropAudit, check_checkpoints};
use transparency::merkle::{self, MerkleTree};
use transparency::{PublicKey, SignedCheckpoint};

/// Progress goes to stderr at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A rate-limited request is tried again at most this many times.
const RATE_LIMITED_RETRIES_MAX: usize = 10;

struct Api {
    client: reqwest::Client,
}

impl Api {
    /// GETs JSON, waiting out the server's rate limit (429 with `Retry-After`) a few times.
    async fn get(&self, url: &str) -> anyhow::Result<Value> {
        let mut response = self.client.get(url).send().await.with_context(|| format!("GET {url}"))?;
        for _ in 0..RATE_LIMITED_RETRIES_MAX {
            if response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
                break;
            }
            let retry_after = response.headers().get(reqwest::header::RETRY_AFTER);
            let secs = retry_after.and_then(|value| value.to_str().ok()?.parse().ok()).unwrap_or(1u64);
            tokio::time::sleep(Duration::from_secs(secs.clamp(1, 60))).await;
            response = self.client.get(url).send().await.with_context(|| format!("GET {url}"))?;
        }
        let status = response.status();
        let body: Value = response.json().await.with_context(|| format!("GET {url}: reading the answer"))?;
        if !status.is_success() {
            bail!("GET {url}: {status}: {}", body["error"]["message"].as_str().unwrap_or("no message"));
        }
        Ok(body)
    }
}

fn split_drop_url(url: &str) -> anyhow::Result<(String, DropId)> {
    let url = url.trim_end_matches('/');
    let (base, drop) = url.rsplit_once("/v1/drops/").context("DROP_URL must look like http://HOST/v1/drops/DROP_ID")?;
    let drop_id = drop.parse().with_context(|| format!("{drop:?} is not a drop id"))?;
    Ok((base.to_owned(), drop_id))
}

pub(crate) async fn run(args: &AuditArgs) -> anyhow::Result<()> {
    let (base, drop_id) = split_drop_url(&args.drop_url)?;
    let drop_url = format!("{base}/v1/drops/{drop_id}");
    let api = Api { client: reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build()? };

    let key = match &args.pubkey {
        Some(key) => PublicKey::from_base64(key.trim()).context("--pubkey")?,
        None => {
            let keys = api.get(&format!("{base}/v1/transparency/keys")).await?;
            let listed = keys["keys"][0]["public_key"].as_str().context("the server lists no key")?;
            let key = PublicKey::from_base64(listed).context("the server's key")?;
            eprintln!(
                "using key {} as the server lists it; pin it with --pubkey to audit against a known key",
                key.key_id()
            );
            key
        }
    };
    // Asking for the latest checkpoint has the server sign one over everything committed so far.
    let latest: SignedCheckpoint = serde_json::from_value(api.get(&format!("{drop_url}/checkpoint")).await?)?;
    let mut checkpoints: Vec<SignedCheckpoint> = Vec::new();
    let mut start = 0u64;
    loop {
        let page = api.get(&format!("{drop_url}/checkpoints?start={start}")).await?;
        checkpoints.extend(serde_json::from_value::<Vec<SignedCheckpoint>>(page["checkpoints"].clone())?);
        match page["next_start"].as_u64() {
            Some(next) if next > start => start = next,
            Some(next) => bail!("the server's checkpoint pages do not advance (next_start {next} after {start})"),
            None => break,
        }
    }
    // Only what the latest checkpoint signed is audited; later leaves wait for a later audit.
    let target = latest.tree_size;
    checkpoints.retain(|checkpoint| checkpoint.tree_size <= target);
    if checkpoints.last() != Some(&latest) {
        checkpoints.push(latest);
    }
    eprintln!("auditing drop {drop_id}: {target} leaves, {} checkpoints", checkpoints.len());

    let mut tree = MerkleTree::default();
    let mut audit = DropAudit::new(drop_id);
    let mut last_progress = Instant::now();
    while tree.len() < target {
        let page = api.get(&format!("{drop_url}/log?start={}", tree.len())).await?;
        let entries = page["entries"].as_array().context("a log page without entries")?;
        if entries.is_empty() {
            bail!("the log ended at {} leaves, but a checkpoint signed {target}", tree.len());
        }
        for entry in entries {
            if tree.len() == target {
                break;
            }
            let leaf = entry["leaf"].as_str().context("a log entry without its leaf")?;
            tree.push(merkle::leaf_hash(leaf.as_bytes()));
            audit.leaf(leaf.as_bytes());
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            eprintln!("  {} / {target} leaves", tree.len());
            last_progress = Instant::now();
        }
    }

    let mut violations = check_checkpoints(drop_id, &checkpoints, &tree, &key);
    // The server's own consistency proofs between successive checkpoints must agree.
    let mut sizes: Vec<u64> = checkpoints.iter().map(|checkpoint| checkpoint.tree_size).collect();
    sizes.dedup();
    for pair in sizes.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        let answer = api.get(&format!("{drop_url}/proofs/consistency?first={first}&second={second}")).await?;
        let proof: Option<Vec<merkle::Hash>> = answer["consistency_proof"]
            .as_array()
            .map(|hashes| hashes.iter().map(|hash| hash.as_str().and_then(transparency::parse_hash)).collect())
            .unwrap_or_default();
        let (old, new) = (tree.root(first), tree.root(second));
        let consistent = match (proof, old, new) {
            (Some(proof), Some(old), Some(new)) => {
                merkle::verify_consistency(first, second, &proof, &old, &new).is_ok()
            }
            _ => false,
        };
        if !consistent {
            violations.push(format!("the server's consistency proof from {first} to {second} leaves does not verify"));
        }
    }

    let report = audit.report();
    println!("drop {drop_id}: {} leaves, {} checkpoints checked", report.leaves, checkpoints.len());
    println!(
        "  quantity {}: {} sold, {} held, {} remaining; {} holds by {} buyers; {} sales{}",
        report.quantity,
        report.sold,
        report.held,
        report.remaining,
        report.holds,
        report.buyers,
        report.orders,
        if report.closed { "; closed" } else { "" }
    );
    let n_violations = report.n_violations + violations.len() as u64;
    for violation in violations.iter().chain(&report.violations) {
        println!("  VIOLATION {violation}");
    }
    if n_violations > 0 {
        bail!("the audit found {n_violations} violation(s)");
    }
    println!(
        "  no unit sold twice, no buyer over the limit of the drop, every checkpoint consistent: the log is sound"
    );
    Ok(())
}
