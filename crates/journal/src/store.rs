use domain::Event;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Append requests queued for the writer thread; shards wait (back-pressure) beyond this.
const APPEND_QUEUE_MAX: usize = 1_024;
/// Events committed in one transaction at most; a larger backlog takes several commits.
const COMMIT_BATCH_EVENTS_MAX: usize = 8_192;
const HASH_BYTES: usize = 32;
const READER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const GENESIS_HASH: [u8; HASH_BYTES] = [0; HASH_BYTES];
/// The data directory and the journal's files are the owner's alone: they hold order and buyer data.
const DATA_DIR_MODE: u32 = 0o700;
const DATA_FILE_MODE: u32 = 0o600;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal is in use by another process (only one livedrop may serve a data directory)")]
    Locked,
    #[error("journal storage failed: {0}")]
    Storage(rusqlite::Error),
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("journal row {seq} is corrupt: {reason}")]
    Corrupt { seq: i64, reason: String },
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

struct AppendRequest {
    events: Vec<EncodedEvent>,
    reply: oneshot::Sender<Result<Appended, String>>,
}

/// Cheap to clone; all clones feed the same writer thread, which exits once every clone is gone.
#[derive(Clone)]
pub struct Journal {
    requests: mpsc::Sender<AppendRequest>,
    reader: JournalReader,
}

/// Reads committed events on a connection of its own: WAL readers never block the writer. Holding
/// one does not keep the writer alive.
#[derive(Clone)]
pub struct JournalReader {
    connection: Arc<Mutex<Connection>>,
}

/// Owns the writer thread and the data directory's lock; dropping every `Journal` clone lets the
/// thread finish the queue and exit. The lock is held until this is joined or dropped, so even after
/// a failed commit has stopped the writer, no second server can take the directory while this one
/// is still up.
pub struct JournalWriter {
    thread: std::thread::JoinHandle<()>,
    _lock: std::fs::File,
}

impl JournalWriter {
    /// Waits until every queued append is committed and the thread has exited.
    pub fn join(self) {
        if self.thread.join().is_err() {
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

/// Makes the journal file owner-only before SQLite opens it: SQLite gives the `-wal` and `-shm`
/// files it creates the main file's permissions. A journal made by an older build readable by
/// others is narrowed too.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new().create(true).append(true).mode(DATA_FILE_MODE).open(path)?;
    drop(file);
    // The WAL and shared-memory files an older build left (after a crash) hold recent pages too.
    let wal = path.with_extension("sqlite3-wal");
    let shm = path.with_extension("sqlite3-shm");
    for path in [path, wal.as_path(), shm.as_path()] {
        let Ok(metadata) = std::fs::metadata(path) else { continue };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & !DATA_FILE_MODE != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "journal file readable by others; made owner-only");
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(DATA_FILE_MODE))?;
        }
    }
    Ok(())
}

/// One writer per data directory: two would fork the hash chains. An advisory lock on a file beside
/// the database, held for the life of the process (the OS drops it when the process dies, even by
/// SIGKILL), rather than SQLite's exclusive locking mode, which would also shut out this process's
/// own reader connection.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, JournalError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join("journal.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(DATA_FILE_MODE)
        .open(&path)
        .map_err(|source| JournalError::DataDir { path: path.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::Locked),
        Err(std::fs::TryLockError::Error(source)) => Err(JournalError::DataDir { path, source }),
    }
}

fn open_connection(path: &Path) -> Result<Connection, JournalError> {
    if !path.exists() {
        tracing::info!(path = %path.display(), "creating a new journal");
    }
    let connection = Connection::open(path)?;
    let mode: String = connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    assert_eq!(mode.to_lowercase(), "wal", "SQLite refused WAL mode");
    // FULL: the WAL is fsynced at every commit, so an acknowledged event survives power loss.
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS events (
            seq            INTEGER PRIMARY KEY,
            stream         TEXT    NOT NULL,
            stream_seq     INTEGER NOT NULL,
            kind           TEXT    NOT NULL,
            schema_version INTEGER NOT NULL,
            payload        TEXT    NOT NULL,
            prev_hash      BLOB    NOT NULL,
            hash           BLOB    NOT NULL
        ) STRICT;",
    )?;
    Ok(connection)
}

impl Journal {
    /// Opens (or creates) the log in `data_dir`, reads back and verifies every event, handing each to
    /// `replay` in commit order as it is read (so start-up memory does not grow with the log), and
    /// starts the writer thread. Returns the number of events replayed.
    pub fn open(
        data_dir: &Path,
        replay: impl FnMut(RecoveredEvent),
    ) -> Result<(Journal, JournalWriter, u64), JournalError> {
        Journal::open_as(data_dir, &codec::CURRENT, replay)
    }

    /// `open`, reading rows as `schema` does (tests exercise a schema bump with this).
    pub(crate) fn open_as(
        data_dir: &Path,
        schema: &codec::Schema,
        replay: impl FnMut(RecoveredEvent),
    ) -> Result<(Journal, JournalWriter, u64), JournalError> {
        create_private_dir(data_dir)?;
        let lock = lock_data_dir(data_dir)?;
        let path = data_dir.join("journal.sqlite3");
        create_private_file(&path).map_err(|source| JournalError::DataDir { path: path.clone(), source })?;
        let connection = open_connection(&path)?;
        let (n_events, last_seq, heads) = read_all(&connection, schema, replay)?;
        let reader = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        // WAL readers wait only on a checkpoint's brief lock, never on the writer's transactions.
        reader.busy_timeout(READER_BUSY_TIMEOUT)?;
        let (requests, inbox) = mpsc::channel(APPEND_QUEUE_MAX);
        let thread = std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || write_loop(connection, heads, last_seq + 1, inbox))
            .expect("spawning the journal writer thread");
        let reader = JournalReader { connection: Arc::new(Mutex::new(reader)) };
        Ok((Journal { requests, reader }, JournalWriter { thread, _lock: lock }, n_events))
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
        let connection = self.connection.clone();
        let read = move || -> Result<Vec<String>, rusqlite::Error> {
            let connection = connection.lock().expect("journal reader lock");
            let mut statement = connection.prepare_cached("SELECT payload FROM events WHERE seq = ?1")?;
            seqs.iter().map(|seq| statement.query_row([*seq as i64], |row| row.get::<_, String>(0))).collect()
        };
        // A read error is a storage error, never "locked by another process" as at open.
        let read = tokio::task::spawn_blocking(read).await.map_err(|_| JournalError::WriterStopped)?;
        read.map_err(JournalError::Storage)
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

fn read_all(
    connection: &Connection,
    schema: &codec::Schema,
    mut replay: impl FnMut(RecoveredEvent),
) -> Result<(u64, i64, HashMap<String, StreamHead>), JournalError> {
    let mut heads: HashMap<String, StreamHead> = HashMap::new();
    let mut n_events = 0;
    let mut last_seq = 0;
    let mut statement = connection
        .prepare("SELECT seq, stream, stream_seq, schema_version, payload, prev_hash, hash FROM events ORDER BY seq")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let stream: String = row.get(1)?;
        let stream_seq: i64 = row.get(2)?;
        let schema_version: i64 = row.get(3)?;
        let payload: String = row.get(4)?;
        let prev_hash: Vec<u8> = row.get(5)?;
        let hash: Vec<u8> = row.get(6)?;
        let corrupt = |reason: String| JournalError::Corrupt { seq, reason };
        if !(1..=schema.version()).contains(&schema_version) {
            return Err(corrupt(format!(
                "schema version {schema_version}, this build reads 1 to {}",
                schema.version()
            )));
        }
        let (expected_seq, expected_prev) = match heads.get(&stream) {
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
        heads.insert(stream.clone(), StreamHead { stream_seq, hash: computed });
        replay(RecoveredEvent { seq: seq as u64, stream, payload, event });
        n_events += 1;
        last_seq = seq;
    }
    Ok((n_events, last_seq, heads))
}

fn write_loop(
    mut connection: Connection,
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
        let result = commit(&mut connection, &heads, next_seq, &batch);
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
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(error.to_string()));
                }
                inbox.close();
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
fn commit(
    connection: &mut Connection,
    heads: &HashMap<String, StreamHead>,
    first_seq: i64,
    batch: &[AppendRequest],
) -> Result<HashMap<String, StreamHead>, rusqlite::Error> {
    #[cfg(feature = "fault-injection")]
    if crate::fault::commit_should_fail() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            Some("injected commit failure".into()),
        ));
    }
    let transaction = connection.transaction()?;
    let mut staged: HashMap<String, StreamHead> = HashMap::new();
    {
        let mut insert = transaction.prepare_cached(
            "INSERT INTO events (seq, stream, stream_seq, kind, schema_version, payload, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (seq, event) in (first_seq..).zip(batch.iter().flat_map(|request| &request.events)) {
            let stream = &event.stream;
            let (stream_seq, prev_hash) = match staged.get(stream).or_else(|| heads.get(stream)) {
                Some(head) => (head.stream_seq + 1, head.hash),
                None => (1, GENESIS_HASH),
            };
            let hash = chain_hash(&prev_hash, stream, stream_seq, event.schema_version, &event.payload);
            insert.execute(params![
                seq,
                stream,
                stream_seq,
                event.kind,
                event.schema_version,
                event.payload,
                &prev_hash[..],
                &hash[..]
            ])?;
            staged.insert(stream.clone(), StreamHead { stream_seq, hash });
        }
    }
    transaction.commit()?;
    Ok(staged)
}
