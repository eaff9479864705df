//! A partnership's service terms: what a venue or logistics partner agrees to when it accepts a
//! split contract that names it with terms (the creator proposes, the partner signs by accepting,
//! and a change is a new version of the contract). The terms make the delivery promise a buyer is
//! shown before buying and the ETA a fulfilment order opens with, and the SLA figures are read
//! against them.

use crate::limits::{DAY_MS, SERVICE_AREAS_MAX, SERVICE_HOURS_MAX, TITLE_CHARS_MAX};
use crate::{Fulfilment, PartnerKind, Rejection, Timestamp};

const HOUR_MS: u64 = 3_600_000;
const MINUTE_MS: u64 = 60_000;
const MINUTES_PER_DAY: u32 = 24 * 60;

/// A daily window, in minutes after midnight UTC, `from` inclusive and `to` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DailyWindow {
    pub from_minute: u32,
    pub to_minute: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceTerms {
    /// Minutes within which the partner accepts a new fulfilment order.
    pub accept_within_minutes: u32,
    /// Hours from the sale to ready for pickup (a venue) or dispatched (a logistics partner).
    pub ready_within_hours: u32,
    /// Hours from dispatch to delivery; logistics partners only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_within_hours: Option<u32>,
    /// When buyers may collect; venues only. Without it, any time once ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_window: Option<DailyWindow>,
    /// Where buyers collect (a venue's name and address), as the room shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Postcode prefixes the partner serves; empty: everywhere it is asked to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_area: Vec<String>,
}

impl ServiceTerms {
    /// Refuses terms that do not fit a partner of `kind`, naming the field as `field` says.
    pub fn check(&self, kind: PartnerKind, field: &str) -> Result<(), Rejection> {
        let invalid = |name: &str, message: &str| Err(Rejection::invalid(&format!("{field}.{name}"), message));
        if kind == PartnerKind::Curator {
            return invalid("kind", "curators fulfil nothing: service terms are for venues and logistics partners");
        }
        if self.accept_within_minutes == 0 || self.accept_within_minutes > SERVICE_HOURS_MAX * 60 {
            return invalid("accept_within_minutes", "must be 1 to 10080");
        }
        if self.ready_within_hours == 0 || self.ready_within_hours > SERVICE_HOURS_MAX {
            return invalid("ready_within_hours", "must be 1 to 168");
        }
        match (kind, self.deliver_within_hours) {
            (PartnerKind::Logistics, Some(1..=SERVICE_HOURS_MAX)) | (PartnerKind::Venue, None) => {}
            (PartnerKind::Logistics, _) => {
                return invalid("deliver_within_hours", "a logistics partner needs 1 to 168");
            }
            _ => return invalid("deliver_within_hours", "only logistics partners deliver"),
        }
        if let Some(window) = self.pickup_window {
            if kind != PartnerKind::Venue {
                return invalid("pickup_window", "only venues have pickup windows");
            }
            if window.from_minute >= window.to_minute || window.to_minute > MINUTES_PER_DAY {
                return invalid("pickup_window", "must start before it ends, within one UTC day");
            }
        }
        if let Some(location) = &self.location {
            if kind != PartnerKind::Venue {
                return invalid("location", "only venues have a pickup location");
            }
            let n_chars = location.chars().count();
            if location.trim().is_empty() || n_chars > TITLE_CHARS_MAX || location.chars().any(char::is_control) {
                return invalid("location", "must be 1 to 200 printable characters");
            }
        }
        if self.service_area.len() > SERVICE_AREAS_MAX
            || self.service_area.iter().any(|prefix| {
                prefix.is_empty() || prefix.len() > 10 || !prefix.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        {
            return invalid("service_area", "up to 64 postcode prefixes of 1 to 10 letters or digits");
        }
        Ok(())
    }

    /// What a sale at `now` is promised: the start of the first pickup window after it is ready
    /// (a pickup), or its delivery (shipping).
    pub fn promised_by(&self, now: Timestamp, method: Fulfilment) -> Timestamp {
        let ready = now.plus_ms(u64::from(self.ready_within_hours) * HOUR_MS);
        match method {
            Fulfilment::Ship => ready.plus_ms(u64::from(self.deliver_within_hours.unwrap_or(0)) * HOUR_MS),
            Fulfilment::Pickup | Fulfilment::Digital => match self.pickup_window {
                Some(window) => window.first_open_at_or_after(ready),
                None => ready,
            },
        }
    }
}

impl DailyWindow {
    /// The first moment at or after `at` inside the window.
    pub fn first_open_at_or_after(self, at: Timestamp) -> Timestamp {
        let day_ms = DAY_MS as i64;
        let day_start = at.0.div_euclid(day_ms) * day_ms;
        let minute = (at.0 - day_start) as u64 / MINUTE_MS;
        let (from, to) = (u64::from(self.from_minute), u64::from(self.to_minute));
        if minute < from {
            Timestamp(day_start + (from * MINUTE_MS) as i64)
        } else if minute < to {
            at
        } else {
            Timestamp(day_start + day_ms + (from * MINUTE_MS) as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_796_083_200_000; // 2026-12-02T00:00:00Z
    const H: i64 = 3_600_000;

    fn venue(window: Option<(u32, u32)>) -> ServiceTerms {
        ServiceTerms {
            accept_within_minutes: 30,
            ready_within_hours: 4,
            deliver_within_hours: None,
            pickup_window: window.map(|(from_minute, to_minute)| DailyWindow { from_minute, to_minute }),
            location: Some("Corner Café, 12 High St".into()),
            service_area: Vec::new(),
        }
    }

    #[test]
    fn a_pickup_is_promised_at_the_first_window_once_ready() {
        let evening = venue(Some((18 * 60, 20 * 60)));
        // Bought at 10:00, ready at 14:00: the window opens at 18:00 the same day.
        assert_eq!(evening.promised_by(Timestamp(DAY + 10 * H), Fulfilment::Pickup), Timestamp(DAY + 18 * H));
        // Bought at 15:00, ready at 19:00: inside the window, so at once.
        assert_eq!(evening.promised_by(Timestamp(DAY + 15 * H), Fulfilment::Pickup), Timestamp(DAY + 19 * H));
        // Bought at 17:00, ready at 21:00: the window has closed; tomorrow at 18:00.
        assert_eq!(evening.promised_by(Timestamp(DAY + 17 * H), Fulfilment::Pickup), Timestamp(DAY + 42 * H));
        assert_eq!(venue(None).promised_by(Timestamp(DAY + 17 * H), Fulfilment::Pickup), Timestamp(DAY + 21 * H));
    }

    #[test]
    fn shipping_is_promised_after_dispatch_and_delivery() {
        let courier =
            ServiceTerms { deliver_within_hours: Some(24), pickup_window: None, location: None, ..venue(None) };
        assert_eq!(courier.promised_by(Timestamp(DAY), Fulfilment::Ship), Timestamp(DAY + 28 * H));
        assert!(courier.check(PartnerKind::Logistics, "terms").is_ok());
        assert!(courier.check(PartnerKind::Venue, "terms").is_err(), "venues do not deliver");
    }

    #[test]
    fn terms_that_do_not_fit_the_partner_are_refused() {
        assert!(venue(Some((18 * 60, 20 * 60))).check(PartnerKind::Venue, "t").is_ok());
        for bad in [
            venue(Some((20 * 60, 18 * 60))),
            venue(Some((0, 24 * 60 + 1))),
            ServiceTerms { accept_within_minutes: 0, ..venue(None) },
            ServiceTerms { ready_within_hours: 169, ..venue(None) },
            ServiceTerms { location: Some(" ".into()), ..venue(None) },
            ServiceTerms { service_area: vec!["SW-1".into()], ..venue(None) },
        ] {
            assert!(bad.check(PartnerKind::Venue, "t").is_err(), "{bad:?}");
        }
        assert!(venue(None).check(PartnerKind::Curator, "t").is_err());
        assert!(venue(None).check(PartnerKind::Logistics, "t").is_err(), "a courier delivers within some hours");
    }
}
