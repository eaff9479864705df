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
