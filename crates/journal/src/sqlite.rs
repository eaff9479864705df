//! The journal in SQLite: WAL mode, `synchronous = FULL`, one file in the data directory, a lock
//! file beside it.

use crate::store::{ChainedRow, JournalError, Storage, StoredRow};
use rusqlite::{Connection, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub(crate) const FILE_NAME: &str = "journal.sqlite3";
const READER_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The journal's files are the owner's alone: they hold order and buyer data.
const DATA_FILE_MODE: u32 = 0o600;

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

/// Locks the data directory and opens the writer's and the reader's connections.
pub(crate) fn open(data_dir: &Path) -> Result<(Connection, Reader, std::fs::File), JournalError> {
    crate::create_private_dir(data_dir)?;
    let lock = lock_data_dir(data_dir)?;
    let path = data_dir.join(FILE_NAME);
    create_private_file(&path).map_err(|source| JournalError::DataDir { path: path.clone(), source })?;
    let connection = open_connection(&path)?;
    let reader = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // WAL readers wait only on a checkpoint's brief lock, never on the writer's transactions.
    reader.busy_timeout(READER_BUSY_TIMEOUT)?;
    Ok((connection, Reader { connection: Arc::new(Mutex::new(reader)) }, lock))
}

impl Storage for Connection {
    fn read_rows(&mut self, each: &mut dyn FnMut(StoredRow) -> Result<(), JournalError>) -> Result<(), JournalError> {
        let mut statement = self.prepare(
            "SELECT seq, stream, stream_seq, schema_version, payload, prev_hash, hash FROM events ORDER BY seq",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            each(StoredRow {
                seq: row.get(0)?,
                stream: row.get(1)?,
                stream_seq: row.get(2)?,
                schema_version: row.get(3)?,
                payload: row.get(4)?,
                prev_hash: row.get(5)?,
                hash: row.get(6)?,
            })?;
        }
        Ok(())
    }

    fn commit(&mut self, rows: &[ChainedRow<'_>]) -> Result<(), String> {
        let write = |connection: &mut Connection| -> Result<(), rusqlite::Error> {
            let transaction = connection.transaction()?;
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO events (seq, stream, stream_seq, kind, schema_version, payload, prev_hash, hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for row in rows {
                    insert.execute(params![
                        row.seq,
                        row.stream,
                        row.stream_seq,
                        row.kind,
                        row.schema_version,
                        row.payload,
                        &row.prev_hash[..],
                        &row.hash[..]
                    ])?;
                }
            }
            transaction.commit()
        };
        write(self).map_err(|error| error.to_string())
    }
}

/// A read-only connection of its own: WAL readers never block the writer.
#[derive(Clone)]
pub(crate) struct Reader {
    connection: Arc<Mutex<Connection>>,
}

impl Reader {
    pub(crate) async fn read_payloads(&self, seqs: Vec<u64>) -> Result<Vec<String>, JournalError> {
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
