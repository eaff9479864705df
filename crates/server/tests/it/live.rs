//! The live feed: a snapshot with server time, then ordered, coalesced drop counters.

use crate::harness::{Options, TestServer};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn next_json(
    socket: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a live message")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_a_snapshot_then_ordered_counters() {
    let server = TestServer::start(Options::default()).await;
    let fixture = server.open_drop(20, 10, 300).await;
    let buyer = server.account("buyer", "buyer").await;
    let url = format!("{}/v1/rooms/{}/live", server.base.replace("http://", "ws://"), fixture.room_id);
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();

    let snapshot = next_json(&mut socket).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert!(snapshot["server_time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(snapshot["room"]["drops"][0]["remaining"], 20);
    let mut last_seq = snapshot["seq"].as_u64().unwrap();

    for claim_idx in 0..6 {
        let (status, _) = server.claim(&buyer, &fixture.drop_id, &format!("live-{claim_idx}"), 1).await;
        assert_eq!(status, reqwest::StatusCode::CREATED);
    }
    let mut n_messages = 0;
    loop {
        let update = next_json(&mut socket).await;
        n_messages += 1;
        assert_eq!(update["type"], "drop");
        assert_eq!(update["drop_id"].as_str().unwrap(), fixture.drop_id);
        let seq = update["seq"].as_u64().unwrap();
        assert!(seq >= last_seq, "seq never decreases: {seq} after {last_seq}");
        last_seq = seq;
        let (remaining, held, sold) =
            (update["remaining"].as_u64().unwrap(), update["held"].as_u64().unwrap(), update["sold"].as_u64().unwrap());
        assert_eq!(remaining + held + sold, 20);
        if held == 6 {
            break;
        }
    }
    assert!(n_messages <= 6, "at most one message per committed change");

    let missing = format!("{}/v1/rooms/room_ff0000000999/live", server.base.replace("http://", "ws://"));
    assert!(tokio_tungstenite::connect_async(missing).await.is_err(), "an unknown room is a 404, not an upgrade");
}
