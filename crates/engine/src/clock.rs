//! Where `now` comes from. The domain never reads a clock; the engine reads this one once per batch.

use domain::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970");
        Timestamp(i64::try_from(since_epoch.as_millis()).expect("milliseconds fit in i64"))
    }
}

/// A clock that moves only when told to: deterministic tests of expiry and scheduling.
pub struct ManualClock {
    now_ms: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock { now_ms: std::sync::atomic::AtomicI64::new(start.0) }
    }

    pub fn advance_ms(&self, duration_ms: i64) {
        self.now_ms.fetch_add(duration_ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.now_ms.load(std::sync::atomic::Ordering::SeqCst))
    }
}
