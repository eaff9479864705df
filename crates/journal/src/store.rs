//! What both backends share: the public types, the chain, its verification at open, and the
//! writer thread's group-commit loop. `sqlite.rs` and `postgres.rs` only read and write rows.

use domain::Event;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Append requests queued for the writer thread; shards wait (back-pressure) beyond this.
const APPEND_QUEUE_MAX: usize = 1_024;
/// Events committed in one transaction at most; a larger backlog takes several commits.
const COMMIT_BATCH_EVENTS_MAX: usize = 8_192;
/// Verified events the writer thread may read ahead of the replay at open.
const REPLAY_QUEUE_MAX: usize = 1_024;
pub(crate) const HASH_BYTES: usize = 32;
const GENESIS_HASH: [u8; HASH_BYTES] = [0; HASH_BYTES];
/// The data directory is the owner's alone: it holds order and buyer data.
const DATA_DIR_MODE: u32 = 0o700;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal is in use by another process (only one livedrop may write a journal)")]
    Locked,
    #[error("journal storage failed: {0}")]
    Storage(rusqlite::Error),
    #[error("journal storage (PostgreSQL) failed: {}", Chain(.0))]
    Postgres(postgres::Error),
    #[error("could not reach the journal's PostgreSQL at {host}: {}", Chain(source))]
    Unreachable { host: String, source: postgres::Error },
    #[error("the journal's storage is version {found}, this build reads version {supported}")]
    StorageVersion { found: i64, supported: i64 },
    #[error("the journal location: {0}")]
    Location(String),
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("journal row {seq} is corrupt: {reason}")]
    Corrupt { seq: i64, reason: String },
    #[error("no event {0} in the journal")]
    Missing(u64),
    #[error("commit failed: {0}")]
    CommitFailed(String),
    #[error("the journal writer has stopped")]
    WriterStopped,
}

impl From<rusqlite::Error> for JournalError {
    fn from(error: rusqlite::Error) -> JournalError {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => JournalError::Locked,
            _ => JournalError::Storage(error),
        }
    }
}

/// A PostgreSQL error with its causes: the client's own text names only the kind ("db error").
pub(crate) struct Chain<'a>(pub(crate) &'a postgres::Error);

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl From<postgres::Error> for JournalError {
    fn from(error: postgres::Error) -> JournalError {
        JournalError::Postgres(error)
    }
}

/// Where the journal lives. Either way the rows, their bytes and their chain are the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalLocation {
    /// `journal.sqlite3` in this directory (the default: the data directory).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:port/db`); tables go to the first schema of its
    /// search path.
    Postgres(String),
}

impl std::fmt::Display for JournalLocation {
    /// Names the location without its password, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JournalLocation::Sqlite(dir) => write!(f, "SQLite at {}", dir.join(crate::sqlite::FILE_NAME).display()),
            JournalLocation::Postgres(url) => write!(f, "PostgreSQL at {}", crate::postgres::describe(url)),
        }
    }
}

/// An event read back from the log, with its global position, its stream and its stored bytes.
#[derive(Debug)]
pub struct RecoveredEvent {
    pub seq: u64,
    pub stream: String,
    /// The exact stored payload: what a transparency log hashes, never re-encoded.
    pub payload: String,
    pub event: Event,
}

/// An event in its stored form, encoded by the caller (so encoding runs on the caller's thread, not
/// on the single writer thread) and appended as is.
#[derive(Clone, Debug)]
pub struct EncodedEvent {
    stream: String,
    kind: &'static str,
    pub(crate) schema_version: i64,
    pub(crate) payload: String,
}

impl EncodedEvent {
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The bytes that will be stored and that a read returns.
    pub fn payload(&self) -> &str {
        &self.payload
    }
}

/// Encodes an event the way the journal stores it: the current schema's bytes (`codec`).
pub fn encode(event: &Event) -> EncodedEvent {
    encode_as(&codec::CURRENT, event)
}

pub(crate) fn encode_as(schema: &codec::Schema, event: &Event) -> EncodedEvent {
    EncodedEvent {
        stream: event.stream(),
        kind: event.kind(),
        schema_version: schema.version(),
        payload: schema.encode(event),
    }
}

/// Where one append request landed: global sequence numbers of its first and last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub first_seq: u64,
    pub last_seq: u64,
}

pub(crate) struct AppendRequest {
    events: Vec<EncodedEvent>,
    reply: oneshot::Sender<Result<Appended, String>>,
}

/// A row as stored, read back at open.
pub(crate) struct StoredRow {
    pub(crate) seq: i64,
    pub(crate) stream: String,
    pub(crate) stream_seq: i64,
    pub(crate) schema_version: i64,
    pub(crate) payload: String,
    pub(crate) prev_hash: Vec<u8>,
    pub(crate) hash: Vec<u8>,
}

/// A row about to be written, chained to its stream's head.
pub(crate) struct ChainedRow<'a> {
    pub(crate) seq: i64,
    pub(crate) stream: &'a str,
    pub(crate) stream_seq: i64,
    pub(crate) kind: &'a str,
    pub(crate) schema_version: i64,
    pub(crate) payload: &'a str,
    pub(crate) prev_hash: [u8; HASH_BYTES],
    pub(crate) hash: [u8; HASH_BYTES],
}

/// What a backend does; everything else (chain, verification, batching, acknowledgement) is shared.
pub(crate) trait Storage: Send + 'static {
    /// Hands every stored row to `each` in `seq` order, streaming, and stops at its first error.
    fn read_rows(&mut self, each: &mut dyn FnMut(StoredRow) -> Result<(), JournalError>) -> Result<(), JournalError>;

    /// Writes `rows` in one transaction and returns only once it is durably committed.
    fn commit(&mut self, rows: &[ChainedRow<'_>]) -> Result<(), String>;
}

/// Cheap to clone; all clones feed the same writer thread, which exits once every clone is gone.
#[derive(Clone)]
pub struct Journal {
    requests: mpsc::Sender<AppendRequest>,
    reader: JournalReader,
}

/// Reads committed events on a connection of its own, so reads never wait for the writer. Holding
/// one does not keep the writer alive.
#[derive(Clone)]
pub struct JournalReader {
    pub(crate) inner: ReaderInner,
}

#[derive(Clone)]
pub(crate) enum ReaderInner {
    Sqlite(crate::sqlite::Reader),
    Postgres(crate::postgres::Reader),
}

/// Owns the writer thread and the journal's lock (SQLite: a file lock; PostgreSQL: an advisory lock
/// of the writer's session, which the thread keeps open until this goes); dropping every `Journal`
/// clone lets the thread finish the queue. The lock is held until this is joined or dropped, so even
/// after a failed commit has stopped the writer, no second server can take the journal while this
/// one is still up.
pub struct JournalWriter {
    thread: std::thread::JoinHandle<()>,
    release: std::sync::mpsc::Sender<()>,
    _lock: Option<std::fs::File>,
}

impl JournalWriter {
    /// Waits until every queued append is committed and the thread has exited.
    pub fn join(self) {
        let JournalWriter { thread, release, _lock } = self;
        drop(release);
        if thread.join().is_err() {
            tracing::error!("journal writer thread panicked");
        }
    }
}

struct StreamHead {
    stream_seq: i64,
    hash: [u8; HASH_BYTES],
}

/// Each row is chained with the schema version it was written in, so rows of an older version
/// keep verifying after a bump.
fn chain_hash(
    prev: &[u8; HASH_BYTES],
    stream: &str,
    stream_seq: i64,
    schema_version: i64,
    payload: &str,
) -> [u8; HASH_BYTES] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update((stream.len() as u64).to_be_bytes());
    hasher.update(stream.as_bytes());
    hasher.update(stream_seq.to_be_bytes());
    hasher.update(schema_version.to_be_bytes());
    hasher.update(payload.as_bytes());
    hasher.finalize().into()
}

/// Creates the data directory, owner-only (it holds orders and buyers' data); an existing one is
/// left as the operator set it.
pub fn create_private_dir(data_dir: &Path) -> Result<(), JournalError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DATA_DIR_MODE)
        .create(data_dir)
        .map_err(|source| JournalError::DataDir { path: data_dir.to_owned(), source })
}

/// Checks each row read back at open against its stream's chain and decodes it.
struct Verifier {
    schema: codec::Schema,
    heads: HashMap<String, StreamHead>,
    n_events: u64,
    last_seq: i64,
}

impl Verifier {
    fn verify(&mut self, row: StoredRow) -> Result<RecoveredEvent, JournalError> {
        let StoredRow { seq, stream, stream_seq, schema_version, payload, prev_hash, hash } = row;
        let schema = &self.schema;
        let corrupt = |reason: String| JournalError::Corrupt { seq, reason };
        // Rows are written gapless from 1: a missing one is a deleted event, not a skipped number.
        if seq != self.last_seq + 1 {
            return Err(corrupt(format!("follows row {}: a row is missing", self.last_seq)));
        }
        if !(1..=schema.version()).contains(&schema_version) {
            return Err(corrupt(format!(
                "schema version {schema_version}, this build reads 1 to {}",
                schema.version()
            )));
        }
        let (expected_seq, expected_prev) = match self.heads.get(&stream) {
            Some(head) => (head.stream_seq + 1, head.hash),
            None => (1, GENESIS_HASH),
        };
        if stream_seq != expected_seq || prev_hash != expected_prev {
            return Err(corrupt(format!("breaks the chain of stream {stream}")));
        }
        let computed = chain_hash(&expected_prev, &stream, stream_seq, schema_version, &payload);
        if hash != computed {
            return Err(corrupt("hash does not match its content".into()));
        }
        let decoded = schema.decode(&payload).map_err(|error| corrupt(error.to_string()))?;
        if decoded.version != schema_version {
            return Err(corrupt(format!(
                "a payload of schema version {} in a row of {schema_version}",
                decoded.version
            )));
        }
        let event = decoded.event;
        if event.stream() != stream {
            return Err(corrupt(format!("event belongs to {} but is stored in {stream}", event.stream())));
        }
        self.heads.insert(stream.clone(), StreamHead { stream_seq, hash: computed });
        self.n_events += 1;
        self.last_seq = seq;
        Ok(RecoveredEvent { seq: seq as u64, stream, payload, event })
    }
}

impl Journal {
    /// Opens (or creates) the SQLite log in `data_dir`; `open_at` with `JournalLocation::Sqlite`.
    pub fn open(
        data_dir: &Path,
        replay: impl FnMut(RecoveredEvent),
    ) -> Result<(Journal, JournalWriter, u64), JournalError> {
        Journal::open_at(&JournalLocation::Sqlite(data_dir.to_owned()), replay)
    }

    /// Opens (or creates) the log at `location`, reads back and verifies every event, handing each to
    /// `replay` in commit order as it is read (so start-up memory does not grow with the log), and
    /// starts the writer thread. Returns the number of events replayed.
    pub fn open_at(
        location: &JournalLocation,
        replay: impl FnMut(RecoveredEvent),
    ) -> Result<(Journal, JournalWriter, u64), JournalError> {
        Journal::open_as(location, &codec::CURRENT, replay)
    }

    /// `open_at`, reading rows as `schema` does (tests exercise a schema bump with this).
    pub(crate) fn open_as(
        location: &JournalLocation,
        schema: &codec::Schema,
        replay: impl FnMut(RecoveredEvent),
    ) -> Result<(Journal, JournalWriter, u64), JournalError> {
        match location {
            JournalLocation::Sqlite(data_dir) => {
                let (connection, reader, lock) = crate::sqlite::open(data_dir)?;
                let (requests, thread, release, n_events) = spawn_writer(move || Ok(connection), *schema, replay)?;
                let reader = JournalReader { inner: ReaderInner::Sqlite(reader) };
                Ok((Journal { requests, reader }, JournalWriter { thread, release, _lock: Some(lock) }, n_events))
            }
            JournalLocation::Postgres(url) => {
                let config = crate::postgres::config(url)?;
                let writer_config = config.clone();
                let (requests, thread, release, n_events) =
                    spawn_writer(move || crate::postgres::open_writer(&writer_config), *schema, replay)?;
                let writer = JournalWriter { thread, release, _lock: None };
                // The writer keeps running if the reader cannot connect; dropping `requests` stops it.
                let reader = crate::postgres::Reader::open(config)?;
                let reader = JournalReader { inner: ReaderInner::Postgres(reader) };
                Ok((Journal { requests, reader }, writer, n_events))
            }
        }
    }

    /// Queues `events` for the next commit and returns at once (waiting only for queue space), so the
    /// caller can decide its next batch while this one is being written.
    pub async fn submit(&self, events: Vec<EncodedEvent>) -> Result<PendingAppend, JournalError> {
        assert!(!events.is_empty(), "empty appends are the caller's to skip");
        let (reply, answer) = oneshot::channel();
        self.requests.send(AppendRequest { events, reply }).await.map_err(|_| JournalError::WriterStopped)?;
        Ok(PendingAppend { answer })
    }

    /// Appends `events` durably. Resolves only after the transaction holding them has committed.
    pub async fn append(&self, events: &[Event]) -> Result<Appended, JournalError> {
        self.submit(events.iter().map(encode).collect()).await?.committed().await
    }

    pub fn reader(&self) -> JournalReader {
        self.reader.clone()
    }
}

impl JournalReader {
    /// The stored payloads of the committed events at `seqs`, in that order, read off the async
    /// threads.
    pub async fn read_payloads(&self, seqs: Vec<u64>) -> Result<Vec<String>, JournalError> {
        match &self.inner {
            ReaderInner::Sqlite(reader) => reader.read_payloads(seqs).await,
            ReaderInner::Postgres(reader) => reader.read_payloads(seqs).await,
        }
    }
}

/// An append on its way to disk.
pub struct PendingAppend {
    answer: oneshot::Receiver<Result<Appended, String>>,
}

impl PendingAppend {
    /// Resolves once the events are durable, or with the reason they never will be.
    pub async fn committed(self) -> Result<Appended, JournalError> {
        match self.answer.await {
            Ok(Ok(appended)) => Ok(appended),
            Ok(Err(reason)) => Err(JournalError::CommitFailed(reason)),
            Err(_) => Err(JournalError::WriterStopped),
        }
    }
}

/// What the writer thread reports while it opens the storage and reads it back. Nearly every message
/// is an event, so it is not boxed: that would be an allocation per replayed event.
#[allow(clippy::large_enum_variant)]
enum Opening {
    Event(RecoveredEvent),
    Ready(u64),
    Failed(JournalError),
}

type Spawned = (mpsc::Sender<AppendRequest>, std::thread::JoinHandle<()>, std::sync::mpsc::Sender<()>, u64);

/// Starts the writer thread, which opens the storage (`open` runs on it: a PostgreSQL client must
/// live and die on one thread outside the async runtime), reads every row back and verifies it,
/// then group-commits appends. Verified events come back here to `replay`, in order, while the
/// thread reads on.
fn spawn_writer<S: Storage>(
    open: impl FnOnce() -> Result<S, JournalError> + Send + 'static,
    schema: codec::Schema,
    mut replay: impl FnMut(RecoveredEvent),
) -> Result<Spawned, JournalError> {
    let (opening, progress) = std::sync::mpsc::sync_channel(REPLAY_QUEUE_MAX);
    let (requests, inbox) = mpsc::channel(APPEND_QUEUE_MAX);
    let (release, released) = std::sync::mpsc::channel::<()>();
    let run = move || {
        let mut storage = match open() {
            Ok(storage) => storage,
            Err(error) => {
                let _ = opening.send(Opening::Failed(error));
                return;
            }
        };
        let mut verifier = Verifier { schema, heads: HashMap::new(), n_events: 0, last_seq: 0 };
        let read = storage.read_rows(&mut |row| {
            let event = verifier.verify(row)?;
            opening.send(Opening::Event(event)).map_err(|_| JournalError::WriterStopped)
        });
        if let Err(error) = read {
            let _ = opening.send(Opening::Failed(error));
            return;
        }
        if opening.send(Opening::Ready(verifier.n_events)).is_err() {
            return;
        }
        drop(opening);
        write_loop(&mut storage, verifier.heads, verifier.last_seq + 1, inbox);
        // Keeps the storage (on PostgreSQL, the session holding the lock) until the JournalWriter
        // is joined or dropped.
        let _ = released.recv();
        drop(storage);
    };
    let thread = std::thread::Builder::new()
        .name("journal-writer".into())
        .spawn(run)
        .expect("spawning the journal writer thread");
    loop {
        match progress.recv() {
            Ok(Opening::Event(event)) => replay(event),
            Ok(Opening::Ready(n_events)) => return Ok((requests, thread, release, n_events)),
            Ok(Opening::Failed(error)) => {
                let _ = thread.join();
                return Err(error);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(JournalError::WriterStopped);
            }
        }
    }
}

fn write_loop<S: Storage>(
    storage: &mut S,
    mut heads: HashMap<String, StreamHead>,
    mut next_seq: i64,
    mut inbox: mpsc::Receiver<AppendRequest>,
) {
    let mut batch: Vec<AppendRequest> = Vec::new();
    // `blocking_recv` returns None once every sender is gone and the queue is drained: a clean stop.
    while let Some(first) = inbox.blocking_recv() {
        let mut n_events = first.events.len();
        batch.push(first);
        while n_events < COMMIT_BATCH_EVENTS_MAX {
            match inbox.try_recv() {
                Ok(request) => {
                    n_events += request.events.len();
                    batch.push(request);
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let result = commit(storage, &heads, next_seq, &batch);
        metrics::histogram!("livedrop_journal_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("livedrop_journal_commit_events").record(n_events as f64);
        metrics::histogram!("livedrop_journal_commit_requests").record(batch.len() as f64);
        match result {
            Ok(new_heads) => {
                let mut seq = next_seq;
                for request in batch.drain(..) {
                    let n = request.events.len() as i64;
                    let appended = Appended { first_seq: seq as u64, last_seq: (seq + n - 1) as u64 };
                    seq += n;
                    let _ = request.reply.send(Ok(appended));
                }
                next_seq = seq;
                heads.extend(new_heads);
            }
            Err(error) => {
                // The in-memory state of the shards already holds these events; continuing would let
                // memory and disk disagree. Refuse everything from here on; the supervisor restarts
                // the process, which recovers exactly what was committed.
                tracing::error!(%error, "journal commit failed; refusing further appends");
                // Closed before anyone hears of the failure: every later submit gets WriterStopped.
                inbox.close();
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(error.clone()));
                }
                while let Ok(request) = inbox.try_recv() {
                    let _ = request.reply.send(Err("journal writer stopped after a failed commit".into()));
                }
                return;
            }
        }
    }
    tracing::info!("journal writer stopped");
}

/// One transaction for the whole batch. Chain heads are staged and only adopted after the commit.
fn commit<S: Storage>(
    storage: &mut S,
    heads: &HashMap<String, StreamHead>,
    first_seq: i64,
    batch: &[AppendRequest],
) -> Result<HashMap<String, StreamHead>, String> {
    #[cfg(feature = "fault-injection")]
    if crate::fault::commit_should_fail() {
        return Err("disk I/O error: injected commit failure".into());
    }
    let mut staged: HashMap<String, StreamHead> = HashMap::new();
    let mut rows = Vec::with_capacity(batch.iter().map(|request| request.events.len()).sum());
    for (seq, event) in (first_seq..).zip(batch.iter().flat_map(|request| &request.events)) {
        let stream = event.stream.as_str();
        let (stream_seq, prev_hash) = match staged.get(stream).or_else(|| heads.get(stream)) {
            Some(head) => (head.stream_seq + 1, head.hash),
            None => (1, GENESIS_HASH),
        };
        let hash = chain_hash(&prev_hash, stream, stream_seq, event.schema_version, &event.payload);
        rows.push(ChainedRow {
            seq,
            stream,
            stream_seq,
            kind: event.kind,
            schema_version: event.schema_version,
            payload: &event.payload,
            prev_hash,
            hash,
        });
        staged.insert(stream.to_owned(), StreamHead { stream_seq, hash });
    }
    storage.commit(&rows)?;
    Ok(staged)
}
