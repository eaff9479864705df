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

/// A `Retry-After` header's wait in seconds from `now_secs`: delay-seconds, or an HTTP date
/// (RFC 9110, parsed by `httpdate`); a date already past is no wait, anything else is ignored.
pub fn retry_after_secs(value: &str, now_secs: i64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(at_secs.saturating_sub(u64::try_from(now_secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::retry_after_secs;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        // 1994-11-06T08:49:37Z, the RFC's example date.
        let now = 784_111_777;
        assert_eq!(retry_after_secs("120", now), Some(120));
        assert_eq!(retry_after_secs(" 7 ", now), Some(7));
        assert_eq!(retry_after_secs("Sun, 06 Nov 1994 08:51:37 GMT", now), Some(120));
        assert_eq!(retry_after_secs("Sun, 06 Nov 1994 08:40:00 GMT", now), Some(0), "a past date is no wait");
        assert_eq!(retry_after_secs("soon", now), None);
        assert_eq!(retry_after_secs("-5", now), None);
    }
}
