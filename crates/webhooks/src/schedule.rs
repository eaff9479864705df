//! When a failed delivery is tried again: the specification's schedule, a receiver's `Retry-After`
//! honoured within it, and the end of the attempts.

/// Seconds after each failed attempt before the next: the specification's suggested schedule
/// (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). After the last, the delivery fails.
pub const RETRY_SCHEDULE_SECS: [u64; 7] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];
/// A receiver may ask for a longer wait, but not for more than a day.
const RETRY_AFTER_MAX_SECS: u64 = 86_400;

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again this many seconds after the failed attempt.
    After(u64),
    /// Every attempt failed: the delivery has failed.
    GiveUp,
}

/// After the `failed`-th failed attempt (from 1), with the receiver's `Retry-After` if it sent one
/// (honoured when longer than the schedule's wait, up to a day).
pub fn next_attempt(failed: usize, retry_after_secs: Option<u64>) -> Retry {
    match RETRY_SCHEDULE_SECS.get(failed.saturating_sub(1)) {
        Some(wait) => Retry::After((*wait).max(retry_after_secs.unwrap_or(0).min(RETRY_AFTER_MAX_SECS))),
        None => Retry::GiveUp,
    }
}
