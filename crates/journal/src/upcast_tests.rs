//! A schema bump, exercised end to end through the journal: rows of the old version keep their
//! bytes and their chains, and are read through the upcaster; rows of the new version open with
//! it; a build that only knows the old version refuses the new rows instead of misreading them.

use crate::store::{Journal, JournalLocation, encode_as};
use codec::{Schema, Upcaster};
use domain::{DropId, EntityId, Event, Timestamp};

const DROP_ID: DropId = DropId(EntityId { partition: 3, serial: 9 });

fn closed(at: i64) -> Event {
    Event::DropClosed { drop_id: DROP_ID, at: Timestamp(at), by_creator: true }
}

/// The made-up version 1 called `by_creator` `manually`; today's types play version 2.
fn rename_manually(tree: &mut serde_json::Value) -> Result<(), String> {
    let object = tree.as_object_mut().ok_or("not an object")?;
    if object.get("type").and_then(|kind| kind.as_str()) == Some("drop_closed") {
        let manually = object.remove("manually").ok_or("drop_closed without manually")?;
        object.insert("by_creator".to_owned(), manually);
    }
    Ok(())
}

const HISTORY: &[Upcaster] = &[Upcaster { from: 1, upcast: rename_manually }];

fn read_back(dir: &std::path::Path, schema: &Schema) -> Result<Vec<(String, Event)>, crate::JournalError> {
    let mut recovered = Vec::new();
    let (journal, writer, _) = Journal::open_as(&JournalLocation::Sqlite(dir.to_owned()), schema, |event| {
        recovered.push((event.payload, event.event))
    })?;
    drop(journal);
    writer.join();
    Ok(recovered)
}

#[tokio::test]
async fn old_rows_are_upcast_and_new_rows_carry_their_version() {
    let dir = tempfile::tempdir().unwrap();
    let version_one = codec::CURRENT;
    let version_two = Schema::new(2, HISTORY);

    // Written by the old build: today's bytes with the old field name, as version 1 rows.
    let mut old_row = encode_as(&version_one, &closed(1_000));
    old_row.payload = old_row.payload.replace("\"by_creator\"", "\"manually\"");
    let old_payload = old_row.payload.clone();
    {
        let (journal, writer, _) =
            Journal::open_as(&JournalLocation::Sqlite(dir.path().to_owned()), &version_one, |_| {}).unwrap();
        journal.submit(vec![old_row]).await.unwrap().committed().await.unwrap();
        drop(journal);
        writer.join();
    }

    // The new build reads it through the upcaster and appends in its own version, same stream.
    {
        let mut recovered = Vec::new();
        let (journal, writer, n_events) =
            Journal::open_as(&JournalLocation::Sqlite(dir.path().to_owned()), &version_two, |event| {
                recovered.push(event.event)
            })
            .unwrap();
        assert_eq!((n_events, recovered), (1, vec![closed(1_000)]));
        let new_row = encode_as(&version_two, &closed(2_000));
        journal.submit(vec![new_row]).await.unwrap().committed().await.unwrap();
        drop(journal);
        writer.join();
    }

    // Both rows verify in one chain; the old one keeps its stored bytes (a transparency leaf).
    let rows = read_back(dir.path(), &version_two).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0], (old_payload, closed(1_000)));
    assert!(rows[1].0.starts_with("{\"v\":2,"), "{}", rows[1].0);
    assert_eq!(rows[1].1, closed(2_000));
}

#[tokio::test]
async fn an_older_build_refuses_rows_of_a_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let version_two = Schema::new(2, HISTORY);
    {
        let (journal, writer, _) =
            Journal::open_as(&JournalLocation::Sqlite(dir.path().to_owned()), &version_two, |_| {}).unwrap();
        journal.submit(vec![encode_as(&version_two, &closed(1_000))]).await.unwrap().committed().await.unwrap();
        drop(journal);
        writer.join();
    }
    // Refused at the row's version, never misread.
    let error = read_back(dir.path(), &codec::CURRENT).unwrap_err().to_string();
    assert!(error.contains("schema version 2, this build reads 1 to 1"), "{error}");
}

#[tokio::test]
async fn a_row_whose_payload_names_another_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // A version 2 payload stored in a row marked version 1: the row lies about its bytes.
    let mut row = encode_as(&Schema::new(2, HISTORY), &closed(1_000));
    row.schema_version = 1;
    {
        let (journal, writer, _) =
            Journal::open_as(&JournalLocation::Sqlite(dir.path().to_owned()), &Schema::new(2, HISTORY), |_| {})
                .unwrap();
        journal.submit(vec![row]).await.unwrap().committed().await.unwrap();
        drop(journal);
        writer.join();
    }
    let error = read_back(dir.path(), &Schema::new(2, HISTORY)).unwrap_err().to_string();
    assert!(error.contains("a payload of schema version 2 in a row of 1"), "{error}");
}
