//! What every resource's JSON shapes share: times as RFC 3339 text and role names. Each resource's
//! own shapes live beside its handlers (`routes/<resource>/wire.rs`). Only this crate (and the
//! journal) knows a serialization format; the domain stays format-free.

use crate::error::ApiError;
use domain::{Role, Timestamp};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A time as the API writes it: RFC 3339, in UTC.
pub(crate) fn rfc3339(at: Timestamp) -> String {
    let nanos = i128::from(at.0) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|moment| moment.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// A time a client sent; anything but RFC 3339 is a 400 naming `field`.
pub(crate) fn parse_rfc3339(field: &str, text: &str) -> Result<Timestamp, ApiError> {
    let moment = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time such as 2026-11-25T18:00:00Z"))?;
    let millis = moment.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).map(Timestamp).map_err(|_| ApiError::invalid(field, "out of range"))
}

pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Buyer => "buyer",
        Role::Creator => "creator",
        Role::Admin => "admin",
        Role::Partner => "partner",
    }
}
