//! The journal gives back exactly what it acknowledged, in order, and refuses a tampered log: on
//! SQLite always, and on PostgreSQL when `PG_URL` is set (CI sets it), each test in a schema of its
//! own that is dropped at the end.

use domain::{AccountId, EntityId, Event, RoomId, Timestamp};
use journal::{Journal, JournalError, JournalLocation};
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

fn cart_event(serial: u64) -> Event {
    Event::CartOpened {
        cart_id: domain::CartId(EntityId { partition: 1, serial }),
        room_id: RoomId(EntityId { partition: 1, serial: 1 }),
        buyer_id: AccountId(EntityId { partition: 2, serial: 1 }),
        at: Timestamp(1_700_000_000_000 + serial as i64),
    }
}

/// Runs `statement`s on the database at `url`, on a thread of their own: the sync client must not
/// run on the async runtime's threads.
fn sql(url: &str, statements: &str) -> Result<(), String> {
    let (url, statements) = (url.to_owned(), statements.to_owned());
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(|error| error.to_string())?;
        client.batch_execute(&statements).map_err(|error| error.to_string())
    })
    .join()
    .expect("the SQL thread")
}

/// The rows as stored, every column but `kind`, in `seq` order.
type Rows = Vec<(i64, String, i64, i64, String, Vec<u8>, Vec<u8>)>;

/// A journal location for one test: a temporary directory, or a PostgreSQL schema of its own that
/// is dropped when this is (a test that fails drops it too).
struct Store {
    location: JournalLocation,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Store {
    fn sqlite() -> Store {
        let dir = tempfile::tempdir().unwrap();
        Store { location: JournalLocation::Sqlite(dir.path().to_owned()), _dir: dir, pg: None }
    }

    /// None, after saying so, when PG_URL is not set.
    fn postgres(test: &str) -> Option<Store> {
        let Ok(url) = std::env::var("PG_URL") else {
            // Straight to stderr, past the test harness's capture, so that a run without PostgreSQL says so.
            let _ = writeln!(std::io::stderr(), "{test} on PostgreSQL: skipped: PG_URL not set");
            return None;
        };
        static SCHEMAS: AtomicU32 = AtomicU32::new(0);
        let schema = format!("ld_test_{}_{}", std::process::id(), SCHEMAS.fetch_add(1, Ordering::SeqCst));
        sql(&url, &format!("CREATE SCHEMA {schema}")).unwrap();
        let separator = if url.contains('?') { '&' } else { '?' };
        let location = JournalLocation::Postgres(format!("{url}{separator}options=-c%20search_path%3D{schema}"));
        Some(Store { location, _dir: tempfile::tempdir().unwrap(), pg: Some((url, schema)) })
    }

    fn sql(&self, statements: &str) {
        let (url, schema) = self.pg.as_ref().expect("a PostgreSQL store");
        sql(url, &format!("SET search_path = {schema}; {statements}")).unwrap();
    }

    /// Edits row `seq`'s payload behind the journal's back.
    fn tamper(&self, seq: i64) {
        let edit = "SET payload = replace(payload, '1700000000', '1600000000') WHERE seq =";
        match &self.location {
            JournalLocation::Sqlite(dir) => {
                let connection = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
                connection.execute(&format!("UPDATE events {edit} {seq}"), []).unwrap();
            }
            JournalLocation::Postgres(_) => self.sql(&format!("UPDATE livedrop_events {edit} {seq}")),
        }
    }

    /// Deletes row `seq` behind the journal's back.
    fn delete(&self, seq: i64) {
        match &self.location {
            JournalLocation::Sqlite(dir) => {
                let connection = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
                connection.execute(&format!("DELETE FROM events WHERE seq = {seq}"), []).unwrap();
            }
            JournalLocation::Postgres(_) => self.sql(&format!("DELETE FROM livedrop_events WHERE seq = {seq}")),
        }
    }

    /// Makes every later insert fail (`on`) or succeed again, as a full disk or a revoked grant would.
    fn refuse_inserts(&self, on: bool) {
        match (&self.location, on) {
            (JournalLocation::Sqlite(dir), _) => {
                let connection = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
                let statement = if on {
                    "CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END"
                } else {
                    "DROP TRIGGER refuse"
                };
                connection.execute(statement, []).unwrap();
            }
            (JournalLocation::Postgres(_), true) => {
                self.sql("ALTER TABLE livedrop_events ADD CONSTRAINT refuse CHECK (seq < 0) NOT VALID")
            }
            (JournalLocation::Postgres(_), false) => self.sql("ALTER TABLE livedrop_events DROP CONSTRAINT refuse"),
        }
    }

    fn rows(&self) -> Rows {
        let query = "SELECT seq, stream, stream_seq, schema_version, payload, prev_hash, hash FROM";
        match &self.location {
            JournalLocation::Sqlite(dir) => {
                let connection = rusqlite::Connection::open(dir.join("journal.sqlite3")).unwrap();
                let mut statement = connection.prepare(&format!("{query} events ORDER BY seq")).unwrap();
                let rows = statement.query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?))
                });
                rows.unwrap().map(Result::unwrap).collect()
            }
            JournalLocation::Postgres(url) => {
                let (url, query) = (url.clone(), format!("{query} livedrop_events ORDER BY seq"));
                std::thread::spawn(move || {
                    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    let rows = client.query(&query, &[]).unwrap();
                    let row = |row: postgres::Row| {
                        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6))
                    };
                    rows.into_iter().map(row).collect()
                })
                .join()
                .unwrap()
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.pg
            && let Err(error) = sql(url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        {
            eprintln!("could not drop the test schema {schema}: {error}");
        }
    }
}

/// Each test once on SQLite and once on PostgreSQL (when PG_URL is set).
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test(super::Store::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = super::Store::postgres(stringify!($test)) {
                    super::$test(store).await;
                }
            }
        }
    )*};
}

on_both!(
    concurrent_appends_are_durable_ordered_and_chained,
    a_second_writer_is_refused,
    a_failed_commit_stops_the_writer_and_keeps_the_lock,
);

async fn concurrent_appends_are_durable_ordered_and_chained(store: Store) {
    let (journal, writer, n_events) = Journal::open_at(&store.location, |_| panic!("a new journal is empty")).unwrap();
    assert_eq!(n_events, 0);
    let mut tasks = Vec::new();
    for task_idx in 0..8u64 {
        let journal = journal.clone();
        tasks.push(tokio::spawn(async move {
            let mut appended = Vec::new();
            for event_idx in 0..25u64 {
                let serial = task_idx * 100 + event_idx;
                let events = vec![cart_event(serial), cart_event(serial + 10_000)];
                appended.push((serial, journal.append(&events).await.unwrap()));
            }
            appended
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    // The reader gives back the stored bytes, in the order asked.
    let payloads = journal.reader().read_payloads(vec![3, 1, 3]).await.unwrap();
    assert_eq!(payloads.len(), 3);
    assert_eq!(payloads[0], payloads[2]);
    assert_ne!(payloads[0], payloads[1]);
    drop(journal);
    writer.join();

    let mut recovered = Vec::new();
    let (journal, writer, n_events) = Journal::open_at(&store.location, |event| recovered.push(event)).unwrap();
    assert_eq!((n_events, recovered.len()), (8 * 25 * 2, 8 * 25 * 2));
    for (serial, appended) in acknowledged {
        assert_eq!(appended.last_seq, appended.first_seq + 1);
        let first = &recovered[(appended.first_seq - 1) as usize];
        assert_eq!(first.seq, appended.first_seq);
        assert_eq!(first.event, cart_event(serial));
    }
    assert_eq!(recovered[0].payload, payloads[1]);
    // Appends after a reopen continue the sequence and the chains.
    let appended = journal.append(&[cart_event(1)]).await.unwrap();
    assert_eq!(appended.first_seq, 8 * 25 * 2 + 1);
    drop(journal);
    writer.join();
    assert_eq!(Journal::open_at(&store.location, |_| {}).map(|(_, _, n_events)| n_events).unwrap(), 401);

    // A deleted event is a gap in the sequence, whichever stream it was of.
    store.delete(300);
    match Journal::open_at(&store.location, |_| {}) {
        Err(JournalError::Corrupt { seq: 301, reason }) if reason.contains("missing") => {}
        Err(other) => panic!("expected a gap before row 301, got {other}"),
        Ok(_) => panic!("a journal missing a row must be refused"),
    }
    store.tamper(7);
    match Journal::open_at(&store.location, |_| {}) {
        Err(JournalError::Corrupt { seq: 7, .. }) => {}
        Err(other) => panic!("expected corruption at row 7, got {other}"),
        Ok(_) => panic!("a tampered journal must be refused"),
    }
}

async fn a_second_writer_is_refused(store: Store) {
    let (journal, writer, _) = Journal::open_at(&store.location, |_| {}).unwrap();
    journal.append(&[cart_event(1)]).await.unwrap();
    match Journal::open_at(&store.location, |_| {}) {
        Err(JournalError::Locked) => {}
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("two writers on one journal"),
    }
    // Held while the writer lives, even with no `Journal` left; released when it goes.
    drop(journal);
    assert!(matches!(Journal::open_at(&store.location, |_| {}), Err(JournalError::Locked)));
    writer.join();
    let (journal, writer, n_events) = Journal::open_at(&store.location, |_| {}).unwrap();
    assert_eq!(n_events, 1);
    drop(journal);
    writer.join();
}

async fn a_failed_commit_stops_the_writer_and_keeps_the_lock(store: Store) {
    let (journal, writer, _) = Journal::open_at(&store.location, |_| {}).unwrap();
    journal.append(&[cart_event(1)]).await.unwrap();
    store.refuse_inserts(true);
    match journal.append(&[cart_event(2)]).await {
        Err(JournalError::CommitFailed(reason)) => assert!(reason.contains("refuse"), "{reason}"),
        other => panic!("expected a failed commit, got {other:?}"),
    }
    // Nothing after a failed commit is taken, and the journal stays locked while this writer lives.
    assert!(matches!(journal.append(&[cart_event(3)]).await, Err(JournalError::WriterStopped)));
    assert!(matches!(Journal::open_at(&store.location, |_| {}), Err(JournalError::Locked)));
    drop(journal);
    writer.join();
    store.refuse_inserts(false);
    let mut recovered = Vec::new();
    let (journal, writer, n_events) = Journal::open_at(&store.location, |event| recovered.push(event.event)).unwrap();
    assert_eq!((n_events, recovered), (1, vec![cart_event(1)]));
    assert_eq!(journal.append(&[cart_event(4)]).await.unwrap().first_seq, 2);
    drop(journal);
    writer.join();
}

#[tokio::test]
async fn both_backends_store_the_same_rows() {
    let Some(postgres) = Store::postgres("both_backends_store_the_same_rows") else { return };
    let sqlite = Store::sqlite();
    for store in [&sqlite, &postgres] {
        let (journal, writer, _) = Journal::open_at(&store.location, |_| {}).unwrap();
        for serial in 0..5 {
            journal.append(&[cart_event(serial), cart_event(serial + 100), cart_event(serial)]).await.unwrap();
        }
        drop(journal);
        writer.join();
    }
    let rows = sqlite.rows();
    assert_eq!(rows.len(), 15);
    assert_eq!(rows, postgres.rows());
}

#[tokio::test]
async fn a_journal_of_another_storage_version_is_refused() {
    let Some(store) = Store::postgres("a_journal_of_another_storage_version_is_refused") else { return };
    let (journal, writer, _) = Journal::open_at(&store.location, |_| {}).unwrap();
    drop(journal);
    writer.join();
    store.sql("UPDATE livedrop_meta SET value = 99 WHERE key = 'storage_version'");
    match Journal::open_at(&store.location, |_| {}) {
        Err(error @ JournalError::StorageVersion { found: 99, supported: 1 }) => {
            assert_eq!(error.to_string(), "the journal's storage is version 99, this build reads version 1");
        }
        Err(other) => panic!("expected a storage version error, got {other}"),
        Ok(_) => panic!("a journal of another storage version must be refused"),
    }
}

#[tokio::test]
async fn an_unreachable_database_is_named_in_the_error() {
    // Nothing listens on port 1; this needs no PostgreSQL at all.
    let location = JournalLocation::Postgres("postgres://livedrop:secret@127.0.0.1:1/journal".into());
    assert_eq!(location.to_string(), "PostgreSQL at livedrop@127.0.0.1:1/journal");
    match Journal::open_at(&location, |_| {}) {
        Err(error @ JournalError::Unreachable { .. }) => {
            let text = error.to_string();
            assert!(text.contains("127.0.0.1:1") && !text.contains("secret"), "{text}");
        }
        Err(other) => panic!("expected Unreachable, got {other}"),
        Ok(_) => panic!("nothing listens there"),
    }
    let garbage = JournalLocation::Postgres("postgres://[::1".into());
    assert!(matches!(Journal::open_at(&garbage, |_| {}), Err(JournalError::Location(_))));
}

#[tokio::test]
async fn the_data_directory_and_the_journal_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let (journal, writer, _) = Journal::open(&data_dir, |_| {}).unwrap();
    journal.append(&[cart_event(1)]).await.unwrap();
    let mode = |name: &str| std::fs::metadata(data_dir.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777, 0o700);
    for name in ["journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm", "journal.lock"] {
        assert_eq!(mode(name), 0o600, "{name}");
    }
    drop(journal);
    writer.join();

    // A journal an older build left readable by others is narrowed at the next open.
    std::fs::set_permissions(data_dir.join("journal.sqlite3"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (journal, writer, n_events) = Journal::open(&data_dir, |_| {}).unwrap();
    assert_eq!((n_events, mode("journal.sqlite3")), (1, 0o600));
    drop(journal);
    writer.join();
}
