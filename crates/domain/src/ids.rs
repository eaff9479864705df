//! Entity ids. Every id carries the partition of the creator (or handle) it belongs to, so the engine
//! routes a request to the shard that owns it without a lookup table, whatever the shard count.
//! The serial is allocated from a per-partition counter that is part of the state, so ids are
//! deterministic under replay.

use std::fmt;
use std::str::FromStr;

pub type Partition = u8;
/// Partitions are the unit of ownership; shards own `partition % n_shards`.
pub const PARTITION_COUNT: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId {
    pub partition: Partition,
    pub serial: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdParseError;

impl fmt::Display for IdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed id")
    }
}

impl std::error::Error for IdParseError {}

fn parse_body(text: &str, prefix: &str) -> Result<EntityId, IdParseError> {
    let body = text.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('_')).ok_or(IdParseError)?;
    // Two hex digits of partition, then at least one hex digit of serial, lowercase only, so that
    // every id has exactly one spelling.
    if body.len() < 3 || body.len() > 18 || !body.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(IdParseError);
    }
    let partition = u8::from_str_radix(&body[..2], 16).map_err(|_| IdParseError)?;
    let serial = u64::from_str_radix(&body[2..], 16).map_err(|_| IdParseError)?;
    let id = EntityId { partition, serial };
    if format!("{:02x}{:010x}", id.partition, id.serial) != body {
        return Err(IdParseError);
    }
    Ok(id)
}

macro_rules! entity_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub EntityId);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub fn partition(self) -> Partition {
                self.0.partition
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{:02x}{:010x}", $prefix, self.0.partition, self.0.serial)
            }
        }
        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_body(text, $prefix).map($name)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

entity_id!(AccountId, "acct");
entity_id!(ProductId, "prod");
entity_id!(RoomId, "room");
entity_id!(DropId, "drop");
entity_id!(HoldId, "hold");
entity_id!(CartId, "cart");
entity_id!(OrderId, "ord");
entity_id!(RefundId, "rf");
entity_id!(TemplateId, "tpl");
entity_id!(EpisodeId, "ep");
// An account's bearer token; the sign-up token's id is the account's own entity id.
entity_id!(TokenId, "tok");
entity_id!(SplitContractId, "split");
entity_id!(SettlementId, "stl");
entity_id!(PayoutId, "po");
entity_id!(LedgerTxId, "ltx");
entity_id!(DisputeId, "dp");
entity_id!(WebhookEndpointId, "hook");
entity_id!(FulfilmentId, "ful");
entity_id!(ReconciliationId, "rec");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_spellings() {
        let id = DropId(EntityId { partition: 0xab, serial: 42 });
        assert_eq!(id.to_string(), "drop_ab000000002a");
        assert_eq!("drop_ab000000002a".parse::<DropId>().unwrap(), id);
        for bad in [
            "drop_AB000000002a",
            "room_ab000000002a",
            "drop_ab2a",
            "drop_",
            "drop_zz000000002a",
            "drop_ab00000000002a0",
        ] {
            assert!(bad.parse::<DropId>().is_err(), "{bad}");
        }
    }
}
