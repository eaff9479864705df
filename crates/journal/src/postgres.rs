//! The journal in PostgreSQL: the same rows, bytes and chain as in SQLite, in `livedrop_events` of
//! the first schema on the URL's search path. The sync client (rust-postgres) runs on the journal's
//! own threads, never on the async runtime: the writer thread holds one session (and the advisory
//! lock) for its whole life, a reader thread another.

use crate::store::{Chain, ChainedRow, JournalError, Storage, StoredRow};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::config::Host;
use postgres::types::Type;
use postgres::{Client, Config, NoTls};
use std::collections::HashMap;
use tokio::sync::oneshot;

/// The layout of the tables below; a build refuses a journal of another version.
pub(crate) const STORAGE_VERSION: i64 = 1;
/// First key of the writer's advisory lock ("ldjl"); the second is a hash of the schema's name.
const LOCK_CLASS: i32 = 0x6c64_6a6c;
/// Rows fetched per round trip while reading the log back at open.
const READ_CHUNK_ROWS: i32 = 4_096;
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long the lock is tried before `Locked`: the session of a process that was just killed ends a
/// moment after it, once its server process reads the closed socket.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
const LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

const CREATE_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS livedrop_meta (
        key   TEXT   PRIMARY KEY,
        value BIGINT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS livedrop_events (
        seq            BIGINT PRIMARY KEY,
        stream         TEXT   NOT NULL,
        stream_seq     BIGINT NOT NULL,
        kind           TEXT   NOT NULL,
        schema_version BIGINT NOT NULL,
        payload        TEXT   NOT NULL,
        prev_hash      BYTEA  NOT NULL,
        hash           BYTEA  NOT NULL
    );";

/// A dead peer is noticed by TCP keepalives after about this long idle plus three probes, and an
/// unanswered write fails after `TCP_USER_TIMEOUT`: a partitioned database fails a commit within
/// a minute rather than hanging for the kernel's default quarter of an hour.
const KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);
const KEEPALIVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);
const TCP_USER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Parses the URL (or `key=value` string) and sets a connect timeout and keepalives unless it
/// names them.
pub(crate) fn config(url: &str) -> Result<Config, JournalError> {
    let mut config: Config =
        url.parse().map_err(|error| JournalError::Location(format!("not a PostgreSQL URL ({})", Chain(&error))))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.keepalives(true);
    if config.get_keepalives_idle() == std::time::Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(KEEPALIVE_IDLE);
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(KEEPALIVE_INTERVAL);
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(3);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("livedrop");
    }
    Ok(config)
}

/// `host:port`, for errors and logs.
fn hosts(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(idx, host)| {
            let port = ports.get(idx).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    if hosts.is_empty() { "localhost:5432".to_owned() } else { hosts.join(",") }
}

/// The URL without its password: `user@host:port/database` and the options, if any.
pub(crate) fn describe(url: &str) -> String {
    let Ok(config) = url.parse::<Config>() else { return "an invalid URL".to_owned() };
    let mut text = String::new();
    if let Some(user) = config.get_user() {
        text.push_str(user);
        text.push('@');
    }
    text.push_str(&hosts(&config));
    if let Some(dbname) = config.get_dbname() {
        text.push('/');
        text.push_str(dbname);
    }
    if let Some(options) = config.get_options() {
        text.push_str(&format!(" (options {options:?})"));
    }
    text
}

fn connect(config: &Config) -> Result<Client, JournalError> {
    config.connect(NoTls).map_err(|source| JournalError::Unreachable { host: hosts(config), source })
}

/// Connects the writer's session, takes the journal's lock on it, creates the tables on first
/// open and checks their version. Runs on the writer thread, which keeps the session.
pub(crate) fn open_writer(config: &Config) -> Result<Client, JournalError> {
    let mut client = connect(config)?;
    let schema: Option<String> = client.query_one("SELECT current_schema()", &[])?.get(0);
    let schema = schema.ok_or_else(|| {
        JournalError::Location("no schema of the search path exists to keep the journal in".to_owned())
    })?;
    // Session-level: held until this session ends (the process stops or dies, or the server drops it).
    let started = std::time::Instant::now();
    loop {
        let locked: bool =
            client.query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&LOCK_CLASS, &schema])?.get(0);
        if locked {
            break;
        }
        if started.elapsed() >= LOCK_WAIT {
            return Err(JournalError::Locked);
        }
        std::thread::sleep(LOCK_RETRY);
    }
    // The journal's sessions are never closed for idling (the lock lives on the writer's), and the
    // server's keepalives find a dead client within a minute and a half, so that a restart
    // elsewhere takes the lock soon after a host dies.
    client.batch_execute(
        "SET idle_session_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
         SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3",
    )?;
    // Created only when missing: a role that may not create tables in the schema still opens an
    // existing journal.
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('livedrop_events') IS NOT NULL AND to_regclass('livedrop_meta') IS NOT NULL",
            &[],
        )?
        .get(0);
    if !exists {
        client.batch_execute(CREATE_TABLES)?;
    }
    client.execute(
        "INSERT INTO livedrop_meta (key, value) VALUES ('storage_version', $1) ON CONFLICT (key) DO NOTHING",
        &[&STORAGE_VERSION],
    )?;
    let found: i64 = client.query_one("SELECT value FROM livedrop_meta WHERE key = 'storage_version'", &[])?.get(0);
    if found != STORAGE_VERSION {
        return Err(JournalError::StorageVersion { found, supported: STORAGE_VERSION });
    }
    // An acknowledged event must survive a crash of the database server: the session's own setting,
    // so a server default changed later (`off`, `local`) does not reach the journal.
    client.batch_execute("SET synchronous_commit = on")?;
    let fsync: String = client.query_one("SHOW fsync", &[])?.get(0);
    if fsync == "off" {
        tracing::warn!("PostgreSQL runs with fsync off: a crash of its host can lose acknowledged events");
    }
    tracing::info!(schema, "journal opened on PostgreSQL");
    Ok(client)
}

impl Storage for Client {
    fn read_rows(&mut self, each: &mut dyn FnMut(StoredRow) -> Result<(), JournalError>) -> Result<(), JournalError> {
        // A portal fetched a chunk at a time: memory does not grow with the log.
        let mut transaction = self.build_transaction().read_only(true).start()?;
        let portal = transaction.bind(
            "SELECT seq, stream, stream_seq, schema_version, payload, prev_hash, hash FROM livedrop_events ORDER BY seq",
            &[],
        )?;
        loop {
            let rows = transaction.query_portal(&portal, READ_CHUNK_ROWS)?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                each(StoredRow {
                    seq: row.try_get(0)?,
                    stream: row.try_get(1)?,
                    stream_seq: row.try_get(2)?,
                    schema_version: row.try_get(3)?,
                    payload: row.try_get(4)?,
                    prev_hash: row.try_get(5)?,
                    hash: row.try_get(6)?,
                })?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// One binary COPY in one transaction; `COMMIT` returns once the WAL is flushed.
    fn commit(&mut self, rows: &[ChainedRow<'_>]) -> Result<(), String> {
        let write = |client: &mut Client| -> Result<(), postgres::Error> {
            let mut transaction = client.transaction()?;
            let sink = transaction.copy_in(
                "COPY livedrop_events (seq, stream, stream_seq, kind, schema_version, payload, prev_hash, hash) \
                 FROM STDIN (FORMAT binary)",
            )?;
            let types =
                [Type::INT8, Type::TEXT, Type::INT8, Type::TEXT, Type::INT8, Type::TEXT, Type::BYTEA, Type::BYTEA];
            let mut writer = BinaryCopyInWriter::new(sink, &types);
            for row in rows {
                writer.write(&[
                    &row.seq,
                    &row.stream,
                    &row.stream_seq,
                    &row.kind,
                    &row.schema_version,
                    &row.payload,
                    &&row.prev_hash[..],
                    &&row.hash[..],
                ])?;
            }
            writer.finish()?;
            transaction.commit()
        };
        write(self).map_err(|error| format!("PostgreSQL: {}", Chain(&error)))
    }
}

struct ReadRequest {
    seqs: Vec<u64>,
    reply: oneshot::Sender<Result<Vec<String>, JournalError>>,
}

/// A thread of its own with a session of its own; requests reach it over a channel, so the sync
/// client never blocks an async thread. The thread exits when the last clone is dropped.
#[derive(Clone)]
pub(crate) struct Reader {
    requests: std::sync::mpsc::Sender<ReadRequest>,
}

impl Reader {
    pub(crate) fn open(config: Config) -> Result<Reader, JournalError> {
        let (requests, inbox) = std::sync::mpsc::channel::<ReadRequest>();
        let (ready, connected) = std::sync::mpsc::sync_channel(1);
        let run = move || {
            let mut client = match connect(&config) {
                Ok(client) => client,
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            while let Ok(request) = inbox.recv() {
                let mut answer = read_payloads(&mut client, &request.seqs);
                // A lost session (the database restarted, a proxy cut it) shows as the read's
                // failure: opened again and read once more (reads are idempotent; they need no lock).
                if answer.is_err() && client.is_closed() {
                    answer = connect(&config).and_then(|new_client| {
                        client = new_client;
                        read_payloads(&mut client, &request.seqs)
                    });
                }
                let _ = request.reply.send(answer);
            }
        };
        std::thread::Builder::new().name("journal-reader".into()).spawn(run).expect("spawning the journal reader");
        connected.recv().map_err(|_| JournalError::WriterStopped)??;
        Ok(Reader { requests })
    }

    pub(crate) async fn read_payloads(&self, seqs: Vec<u64>) -> Result<Vec<String>, JournalError> {
        let (reply, answer) = oneshot::channel();
        self.requests.send(ReadRequest { seqs, reply }).map_err(|_| JournalError::WriterStopped)?;
        answer.await.map_err(|_| JournalError::WriterStopped)?
    }
}

fn read_payloads(client: &mut Client, seqs: &[u64]) -> Result<Vec<String>, JournalError> {
    let wanted: Vec<i64> = seqs.iter().map(|seq| *seq as i64).collect();
    let statement = client.prepare("SELECT seq, payload FROM livedrop_events WHERE seq = ANY($1)")?;
    let mut found: HashMap<i64, String> = HashMap::with_capacity(wanted.len());
    for row in client.query(&statement, &[&wanted])? {
        found.insert(row.try_get(0)?, row.try_get(1)?);
    }
    wanted
        .iter()
        .map(|seq| {
            // Several requests for one seq each get the payload.
            found.get(seq).cloned().ok_or(JournalError::Missing(*seq as u64))
        })
        .collect()
}
