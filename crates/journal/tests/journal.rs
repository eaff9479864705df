//! The journal gives back exactly what it acknowledged, in order, and refuses a tampered log.

use domain::{AccountId, EntityId, Event, RoomId, Timestamp};
use journal::{Journal, JournalError};

fn cart_event(serial: u64) -> Event {
    Event::CartOpened {
        cart_id: domain::CartId(EntityId { partition: 1, serial }),
        room_id: RoomId(EntityId { partition: 1, serial: 1 }),
        buyer_id: AccountId(EntityId { partition: 2, serial: 1 }),
        at: Timestamp(1_700_000_000_000 + serial as i64),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_are_durable_ordered_and_chained() {
    let data_dir = tempfile::tempdir().unwrap();
    let (journal, writer, n_events) = Journal::open(data_dir.path(), |_| panic!("a new journal is empty")).unwrap();
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
    drop(journal);
    writer.join();

    let mut recovered = Vec::new();
    let (_journal, writer, n_events) = Journal::open(data_dir.path(), |event| recovered.push(event)).unwrap();
    assert_eq!((n_events, recovered.len()), (8 * 25 * 2, 8 * 25 * 2));
    for (serial, appended) in acknowledged {
        assert_eq!(appended.last_seq, appended.first_seq + 1);
        let first = &recovered[(appended.first_seq - 1) as usize];
        assert_eq!(first.seq, appended.first_seq);
        assert_eq!(first.event, cart_event(serial));
    }
    drop(_journal);
    writer.join();

    let connection = rusqlite::Connection::open(data_dir.path().join("journal.sqlite3")).unwrap();
    connection
        .execute("UPDATE events SET payload = replace(payload, '1700000000', '1600000000') WHERE seq = 7", [])
        .unwrap();
    drop(connection);
    match Journal::open(data_dir.path(), |_| {}) {
        Err(JournalError::Corrupt { seq: 7, .. }) => {}
        Err(other) => panic!("expected corruption at row 7, got {other}"),
        Ok(_) => panic!("a tampered journal must be refused"),
    }
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
