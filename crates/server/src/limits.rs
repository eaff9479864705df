//! Per-IP and per-account request rate limits (GCRA, from `governor`): a steady rate per second with
//! a burst of twice that, and one for sign-ups from everywhere together (an unauthenticated
//! request is otherwise limited per IP only, and addresses are cheap). A limited request gets 429
//! `rate_limited` with `Retry-After`.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, bearer_token};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::AccountId;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How often idle keys are forgotten, so the limiter's memory follows active clients only.
const LIMITER_SWEEP_SECS: u64 = 60;

pub struct RateLimits {
    per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_account: Option<DefaultKeyedRateLimiter<AccountId>>,
    signups: Option<DefaultDirectRateLimiter>,
    /// Sign-ups per address too, so that one client cannot use up everyone's sign-ups.
    signups_per_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(per_second.saturating_mul(2)).expect("non-zero");
    Some(governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
}

impl RateLimits {
    /// `0` turns a limit off.
    pub fn new(per_ip_per_second: u32, per_account_per_second: u32, signups_per_second: u32) -> Arc<RateLimits> {
        let signups = NonZeroU32::new(signups_per_second).map(|rate| {
            let burst = NonZeroU32::new(signups_per_second.saturating_mul(2)).expect("non-zero");
            governor::RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        });
        let signups_per_ip = (signups_per_second != 0).then(|| {
            let quota = Quota::per_minute(SIGNUPS_PER_IP_PER_MINUTE).allow_burst(SIGNUPS_PER_IP_PER_MINUTE);
            governor::RateLimiter::keyed(quota)
        });
        let limits = Arc::new(RateLimits {
            per_ip: limiter(per_ip_per_second),
            per_account: limiter(per_account_per_second),
            signups,
            signups_per_ip,
        });
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut sweep = tokio::time::interval(Duration::from_secs(LIMITER_SWEEP_SECS));
            loop {
                sweep.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                if let Some(per_ip) = &limits.per_ip {
                    per_ip.retain_recent();
                    per_ip.shrink_to_fit();
                }
                if let Some(per_account) = &limits.per_account {
                    per_account.retain_recent();
                    per_account.shrink_to_fit();
                }
                if let Some(signups_per_ip) = &limits.signups_per_ip {
                    signups_per_ip.retain_recent();
                    signups_per_ip.shrink_to_fit();
                }
            }
        });
        limits
    }
}

fn limited(wait: Duration) -> Response {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down")
        .retry_after(wait.as_secs_f64().ceil() as u64)
        .into_response()
}

/// The default sign-up rate: a busy launch, not a script making throwaway accounts by the thousand.
pub const SIGNUPS_PER_SECOND_DEFAULT: u32 = 20;

/// Sign-ups one address may make per minute (a household at a launch, not a script).
const SIGNUPS_PER_IP_PER_MINUTE: NonZeroU32 = NonZeroU32::new(10).expect("non-zero");

/// Creating an account: the one request that needs no account, limited for all callers together.
const SIGNUP_PATH: &str = "/v1/accounts";

/// Probes and scrapers must not be told to slow down by the limits they are watching.
pub(crate) const UNLIMITED_PATHS: [&str; 2] = ["/healthz", "/metrics"];

/// Resolves the caller once per request (handlers read it through `Authenticated`), then applies
/// the limits.
pub(crate) async fn enforce(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = Caller(bearer_token(&parts).and_then(|token| app.engine.authenticate_with_created_at(token)));
    parts.extensions.insert(caller);
    let request = Request::from_parts(parts, body);
    if UNLIMITED_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let limits = &app.rate_limits;
    if let (Some(per_ip), Some(ConnectInfo(peer))) =
        (&limits.per_ip, request.extensions().get::<ConnectInfo<SocketAddr>>())
        && let Err(not_until) = per_ip.check_key(&crate::per_ip::client_key(peer.ip()))
    {
        return limited(not_until.wait_time_from(DefaultClock::default().now()));
    }
    if let (Some(per_account), Caller(Some((actor, _)))) = (&limits.per_account, caller)
        && let Err(not_until) = per_account.check_key(&actor.id)
    {
        return limited(not_until.wait_time_from(DefaultClock::default().now()));
    }
    if request.method() == axum::http::Method::POST && request.uri().path() == SIGNUP_PATH {
        // The address's own share first, so one client cannot drain the shared bucket.
        if let (Some(signups_per_ip), Some(ConnectInfo(peer))) =
            (&limits.signups_per_ip, request.extensions().get::<ConnectInfo<SocketAddr>>())
            && let Err(not_until) = signups_per_ip.check_key(&crate::per_ip::client_key(peer.ip()))
        {
            metrics::counter!("livedrop_signups_limited_total", "limit" => "per_ip").increment(1);
            return limited(not_until.wait_time_from(DefaultClock::default().now()));
        }
        if let Some(signups) = &limits.signups
            && let Err(not_until) = signups.check()
        {
            metrics::counter!("livedrop_signups_limited_total", "limit" => "total").increment(1);
            return limited(not_until.wait_time_from(DefaultClock::default().now()));
        }
    }
    next.run(request).await
}
