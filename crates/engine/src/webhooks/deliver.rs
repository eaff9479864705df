//! Delivering: a task takes the attempts due, posts each signed body to its endpoint (a bounded
//! number at once), and journals what it came to through the endpoint's shard, whose commit then
//! tells the outbox (`observe`) to retry, finish or disable.

use super::{Job, Outbox};
use crate::{Clock, execute_on};
use domain::{AttemptOutcome, Command, Envelope, Timestamp, WebhookAttempt};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Semaphore, mpsc, watch};

/// Deliveries under way at once, over every endpoint.
const IN_FLIGHT_MAX: usize = 64;
/// A receiver has this long to answer (the Standard Webhooks guidance is "a few seconds"; Svix 15 s).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Even with nothing due, look again this often: a manual clock in tests moves without waking us.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// A record that could not be journaled (the shard overloaded) is tried again after this.
const RECORD_RETRY_MS: u64 = 5_000;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DeliveryConfig {
    /// Deliver to loopback, private and link-local addresses too (`--webhooks-allow-private`).
    pub(crate) allow_private: bool,
}

/// Resolves a target's name and keeps only the addresses deliveries may reach, so a name that
/// resolves inward (or is made to, later) is refused on every attempt, not only when the endpoint
/// was created.
struct AllowedAddresses {
    allow_private: bool,
}

impl Resolve for AllowedAddresses {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> =
                resolved.filter(|address| webhooks::check_address(address.ip(), allow_private).is_ok()).collect();
            if allowed.is_empty() {
                return Err(format!("{} resolves only to private or loopback addresses", name.as_str()).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn client(config: DeliveryConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(Arc::new(AllowedAddresses { allow_private: config.allow_private }))
        // A redirect could lead anywhere, inward too; receivers answer where they are asked.
        .redirect(reqwest::redirect::Policy::none())
        // A proxy would resolve the name itself, past the filter above.
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(ATTEMPT_TIMEOUT)
        .user_agent(concat!("livedrop-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook client's settings are valid")
}

pub(crate) async fn run_deliveries(
    outbox: Arc<Outbox>,
    shards: Vec<mpsc::Sender<crate::shard::Request>>,
    clock: Arc<dyn Clock>,
    config: DeliveryConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = client(config);
    let slots = Arc::new(Semaphore::new(IN_FLIGHT_MAX));
    loop {
        let now = clock.now();
        for job in outbox.take_due(now, slots.available_permits()) {
            let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (outbox, shards, clock, client) = (outbox.clone(), shards.clone(), clock.clone(), client.clone());
            tokio::spawn(async move {
                let attempt = attempt(&client, &job, clock.as_ref(), config).await;
                let (endpoint_id, message_id) = (attempt.endpoint_id, attempt.message_id.clone());
                let recorded = execute_on(&shards, Envelope::plain(Command::RecordWebhookAttempt { attempt })).await;
                let refused = match recorded {
                    Ok(Ok(_)) => None,
                    Ok(Err(rejection)) => Some(rejection.to_string()),
                    Err(error) => Some(error.to_string()),
                };
                drop(slot);
                match refused {
                    // The commit told the outbox what comes next; the slot it freed may start another.
                    None => outbox.wake.notify_one(),
                    Some(error) => {
                        tracing::warn!(%endpoint_id, %message_id, %error, "a webhook attempt could not be recorded");
                        outbox.release(endpoint_id, &message_id, clock.now().plus_ms(RECORD_RETRY_MS));
                    }
                }
            });
        }
        // With every slot taken, a finished attempt wakes the loop; else the earliest due one does.
        let wait = match outbox.next_due() {
            Some(due) if slots.available_permits() > 0 => {
                Duration::from_millis(u64::try_from(due.0 - clock.now().0).unwrap_or(0)).min(IDLE_POLL)
            }
            _ => IDLE_POLL,
        };
        tokio::select! {
            _ = outbox.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// One attempt: sign, post, and read what came of it.
async fn attempt(client: &reqwest::Client, job: &Job, clock: &dyn Clock, config: DeliveryConfig) -> WebhookAttempt {
    let started = Instant::now();
    let now = clock.now();
    let (status, error, retry_after) = match post(client, job, now, config).await {
        Ok((status, retry_after)) => (Some(status), None, retry_after),
        Err(error) => (None, Some(error), None),
    };
    let outcome = match status {
        Some(status) if (200..300).contains(&status) => AttemptOutcome::Delivered,
        Some(410) => AttemptOutcome::Gone,
        _ => match webhooks::next_attempt(job.attempt as usize, retry_after) {
            webhooks::Retry::After(secs) => AttemptOutcome::Retry { next_at: now.plus_ms(secs * 1_000) },
            webhooks::Retry::GiveUp => AttemptOutcome::Failed,
        },
    };
    let outcome_label = match outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::Retry { .. } => "retry",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::Gone => "gone",
    };
    metrics::counter!("livedrop_webhook_attempts_total", "outcome" => outcome_label).increment(1);
    WebhookAttempt {
        endpoint_id: job.endpoint.id,
        message_id: job.message.id.clone(),
        attempt: job.attempt,
        status,
        error,
        duration_ms: started.elapsed().as_millis() as u64,
        outcome,
        at: now,
    }
}

/// Posts the message; answers the status and a `Retry-After` in seconds, or why no answer came.
async fn post(
    client: &reqwest::Client,
    job: &Job,
    now: Timestamp,
    config: DeliveryConfig,
) -> Result<(u16, Option<u64>), String> {
    // Checked again on every attempt: the operator may have stopped allowing private targets.
    webhooks::check_url(&job.endpoint.url, config.allow_private).map_err(|error| error.to_string())?;
    let secrets: Vec<webhooks::Secret> =
        job.endpoint.signing_secrets(now).filter_map(|secret| secret.parse().ok()).collect();
    // The receiver checks the timestamp against its own clock, so it is the wall clock's, whatever
    // clock schedules the attempts.
    let wall_secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let headers = webhooks::sign(&secrets, &job.message.id, wall_secs, &job.message.body);
    let response = client
        .post(&job.endpoint.url)
        .header(webhooks::HEADER_ID, &headers.id)
        .header(webhooks::HEADER_TIMESTAMP, headers.timestamp.to_string())
        .header(webhooks::HEADER_SIGNATURE, &headers.signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(job.message.body.clone())
        .send()
        .await
        .map_err(describe)?;
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| webhooks::retry_after_secs(value, wall_secs));
    Ok((response.status().as_u16(), retry_after))
}

/// A short reason without the URL (the log shows it beside).
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(&error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() { kind.to_owned() } else { format!("{kind}: {detail}") }
}
