//! Standard Webhooks (<https://www.standardwebhooks.com/>), the parts that need no I/O: `whsec_`
//! secrets, the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (several
//! signatures while a secret rotates), verifying them on inbound webhooks with a timestamp
//! tolerance, the specification's retry schedule, and which delivery targets may be called.
//!
//! Architecture invariant: no I/O and no clock (every call takes `now`); delivery, the outbox and
//! its journal live with the engine.

mod schedule;
mod secret;
mod sign;
mod target;

pub use schedule::{RETRY_SCHEDULE_SECS, Retry, next_attempt, retry_after_secs};
pub use secret::{Secret, SecretError};
pub use sign::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SIGNATURES_MAX, SignedHeaders, TOLERANCE_SECS, VerifyError, sign,
    signature, verify,
};
pub use target::{TargetError, check_address, check_url};
