//! The durable event log, the source of truth of livedrop.
//!
//! SQLite in WAL mode with `synchronous = FULL` in the data directory (`sqlite.rs`), or PostgreSQL
//! (`postgres.rs`), written by one dedicated thread: every append request waiting when the thread
//! wakes goes into one transaction (group commit), and each request is answered only after that
//! commit. Every event is hash-chained to its predecessor in its stream (`hash = SHA-256(prev_hash ‖
//! u64be(len(stream)) ‖ stream ‖ i64be(stream_seq) ‖ i64be(schema_version) ‖ payload)`), and the
//! chain is verified again when the log is read back at start-up. Both backends store the same rows
//! and bytes; everything but reading and writing rows is shared (`store.rs`).
//!
//! Architecture invariant: nothing outside this crate touches the event table. The bytes of each
//! event are `codec`'s; each row keeps the schema version they were written in.

#[cfg(feature = "fault-injection")]
pub mod fault;
mod postgres;
mod sqlite;
mod store;
#[cfg(test)]
mod upcast_tests;

pub use store::{
    Appended, EncodedEvent, Journal, JournalError, JournalLocation, JournalReader, JournalWriter, PendingAppend,
    RecoveredEvent, create_private_dir, encode,
};
