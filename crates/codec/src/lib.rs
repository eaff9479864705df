//! The stored format of livedrop's events, a public format: the journal stores these bytes, each
//! drop's transparency log hashes them as its leaves, and receipts and `livedrop audit` parse them
//! again, years later. So this crate alone encodes and decodes events, and every change to the
//! shape of an event is a new schema version with an upcaster, never a silent edit.
//!
//! The encoding is the JSON of `domain::Event` (serde's derive, internally tagged by `type`).
//! Payloads of version 1 carry no version; from version 2 on, a payload opens with it (`{"v":2,…`),
//! so a leaf read back from a receipt says which shape it has without the journal row beside it.
//! Decoding a payload older than this build's version runs it through the upcasters in order
//! (1 → 2 → … → current) on its JSON tree before it becomes an `Event`; the stored bytes
//! themselves never change (they are hashed into chains and signed trees).
//!
//! Architecture invariant: nothing outside this crate turns an `Event` into bytes or bytes into an
//! `Event`.

use domain::Event;

/// The version this build writes. Bumping it needs an [`Upcaster`] from the previous version in
/// [`UPCASTERS`], new snapshots (`tests/snapshots/`) and a fixture journal of the old version kept
/// (`crates/engine/tests/fixtures/`); see docs/decisions on the event format.
pub const SCHEMA_VERSION: i64 = 1;

/// The format's history: `UPCASTERS[i]` rewrites version `i + 1` into version `i + 2`. Empty while
/// version 1 is the only one.
const UPCASTERS: &[Upcaster] = &[];

/// The format this build reads and writes.
pub const CURRENT: Schema = Schema { version: SCHEMA_VERSION, upcasters: UPCASTERS };

/// The opening of every payload from version 2 on; a payload without it is version 1.
const VERSION_PREFIX: &str = "{\"v\":";

/// One step of the format's history: rewrites the JSON tree of a payload of version `from` into
/// the shape of version `from + 1` (rename a field, fill a new one with what its absence meant).
#[derive(Clone, Copy)]
pub struct Upcaster {
    pub from: i64,
    pub upcast: fn(&mut serde_json::Value) -> Result<(), String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("schema version {found} is newer than this build's {current}")]
    Newer { found: i64, current: i64 },
    #[error("schema version {0} never existed")]
    Unknown(i64),
    #[error("the payload's version prefix is malformed")]
    MalformedVersion,
    #[error("upcasting from schema version {from}: {reason}")]
    Upcast { from: i64, reason: String },
    #[error("not an event of schema version {version}: {source}")]
    Json { version: i64, source: serde_json::Error },
}

/// A version of the format and the upcasters that lead to it from version 1.
#[derive(Clone, Copy)]
pub struct Schema {
    version: i64,
    upcasters: &'static [Upcaster],
}

/// An event read back, with the version its payload was stored in.
#[derive(Debug)]
pub struct Decoded {
    pub event: Event,
    pub version: i64,
}

impl Schema {
    /// A format of `version` reached from version 1 by `upcasters` (one per step, in order). The
    /// current build uses [`CURRENT`]; tests build others to exercise a version bump.
    pub fn new(version: i64, upcasters: &'static [Upcaster]) -> Schema {
        assert!(version >= 1, "schema versions count from 1");
        assert_eq!(upcasters.len() as i64, version - 1, "one upcaster per version step");
        for (step_idx, upcaster) in upcasters.iter().enumerate() {
            assert_eq!(upcaster.from, step_idx as i64 + 1, "upcasters in version order");
        }
        Schema { version, upcasters }
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    /// The stored bytes of `event` in this version.
    pub fn encode(&self, event: &Event) -> String {
        let json = serde_json::to_string(event).expect("events always serialize");
        if self.version == 1 {
            return json;
        }
        // An event is always a JSON object (`{"type":…`); the version goes first so that
        // `version_of` reads it without parsing the payload.
        debug_assert!(json.starts_with('{'));
        format!("{VERSION_PREFIX}{},{}", self.version, &json[1..])
    }

    /// Decodes stored bytes of any version up to this one.
    pub fn decode(&self, payload: &str) -> Result<Decoded, DecodeError> {
        let version = version_of(payload)?;
        if version > self.version {
            return Err(DecodeError::Newer { found: version, current: self.version });
        }
        if version == self.version {
            let event = serde_json::from_str(payload).map_err(|source| DecodeError::Json { version, source })?;
            return Ok(Decoded { event, version });
        }
        let mut tree: serde_json::Value =
            serde_json::from_str(payload).map_err(|source| DecodeError::Json { version, source })?;
        for upcaster in &self.upcasters[(version - 1) as usize..] {
            (upcaster.upcast)(&mut tree).map_err(|reason| DecodeError::Upcast { from: upcaster.from, reason })?;
        }
        let event = serde_json::from_value(tree).map_err(|source| DecodeError::Json { version, source })?;
        Ok(Decoded { event, version })
    }
}

/// The schema version a payload was stored in, read from its opening bytes.
pub fn version_of(payload: &str) -> Result<i64, DecodeError> {
    let Some(rest) = payload.strip_prefix(VERSION_PREFIX) else {
        return Ok(1);
    };
    let digits = rest.split(',').next().ok_or(DecodeError::MalformedVersion)?;
    // One spelling per version (no sign, no leading zero), as `encode` writes it.
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) || digits.starts_with('0') {
        return Err(DecodeError::MalformedVersion);
    }
    let version: i64 = digits.parse().map_err(|_| DecodeError::MalformedVersion)?;
    // Version 1 never carries a prefix: an explicit 1 (or 0, or less) was never written.
    if version < 2 {
        return Err(DecodeError::Unknown(version));
    }
    Ok(version)
}

/// The stored bytes of `event` in this build's version.
pub fn encode(event: &Event) -> String {
    CURRENT.encode(event)
}

/// Decodes stored bytes (a journal payload, a transparency leaf) of this build's version or older.
pub fn decode(payload: &str) -> Result<Event, DecodeError> {
    CURRENT.decode(payload).map(|decoded| decoded.event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{DropId, EntityId, Timestamp};

    fn drop_closed() -> Event {
        Event::DropClosed {
            drop_id: DropId(EntityId { partition: 7, serial: 3 }),
            at: Timestamp(1_000),
            by_creator: true,
        }
    }

    /// A made-up version 1 in which `drop_closed` called `by_creator` `manually`; today's types
    /// play version 2. This is the path a real bump takes: v1 payloads are read through the
    /// upcaster, v2 ones directly.
    fn rename_manually(tree: &mut serde_json::Value) -> Result<(), String> {
        let object = tree.as_object_mut().ok_or("not an object")?;
        if object.get("type").and_then(|kind| kind.as_str()) == Some("drop_closed") {
            let manually = object.remove("manually").ok_or("drop_closed without manually")?;
            object.insert("by_creator".to_owned(), manually);
        }
        Ok(())
    }

    #[test]
    fn version_one_payloads_carry_no_version() {
        let payload = encode(&drop_closed());
        assert!(payload.starts_with("{\"type\":\"drop_closed\""), "{payload}");
        assert_eq!(version_of(&payload).unwrap(), 1);
        assert_eq!(decode(&payload).unwrap(), drop_closed());
    }

    #[test]
    fn a_newer_version_opens_with_it_and_older_builds_refuse_it() {
        const IDENTITY: &[Upcaster] = &[Upcaster { from: 1, upcast: |_| Ok(()) }];
        let version_two = Schema::new(2, IDENTITY);
        let payload = version_two.encode(&drop_closed());
        assert!(payload.starts_with("{\"v\":2,\"type\":\"drop_closed\""), "{payload}");
        assert_eq!(version_two.decode(&payload).unwrap().version, 2);
        assert!(matches!(CURRENT.decode(&payload), Err(DecodeError::Newer { found: 2, current: 1 })));
        assert!(matches!(version_of("{\"v\":1,\"type\":\"x\"}"), Err(DecodeError::Unknown(1))));
        for malformed in ["x", "+2", "02", ""] {
            let payload = format!("{{\"v\":{malformed},\"type\":\"x\"}}");
            assert!(matches!(version_of(&payload), Err(DecodeError::MalformedVersion)), "{payload}");
        }
    }

    #[test]
    fn an_upcaster_brings_an_old_payload_to_the_current_shape() {
        let old_payload = encode(&drop_closed()).replace("\"by_creator\"", "\"manually\"");
        const HISTORY: &[Upcaster] = &[Upcaster { from: 1, upcast: rename_manually }];
        let version_two = Schema::new(2, HISTORY);
        let decoded = version_two.decode(&old_payload).unwrap();
        assert_eq!((decoded.event, decoded.version), (drop_closed(), 1));
        // Without the upcaster the old shape is refused, never misread.
        assert!(CURRENT.decode(&old_payload).is_err());
    }
}
