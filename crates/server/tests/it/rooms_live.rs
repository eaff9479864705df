//! The room's live feed with a live episode: the snapshot carries its stage, polls, questions and
//! rituals, then ordered `stage`, `poll` (coalesced; live polls and closes too), `questions`,
//! `rituals` and `episode` messages; a reconnect's snapshot matches the GET endpoints.

use crate::harness::{Options, TestServer};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connected listener that checks, message by message, that `seq` never decreases.
struct Listener {
    socket: Socket,
    last_seq: u64,
}

impl Listener {
    async fn connect(server: &TestServer, room_id: &str) -> (Listener, Value) {
        let url = format!("{}/v1/rooms/{room_id}/live", server.base.replace("http://", "ws://"));
        let (socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let mut listener = Listener { socket, last_seq: 0 };
        let snapshot = listener.next().await;
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        (listener, snapshot)
    }

    async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.socket.next())
                .await
                .expect("a live message")
                .unwrap()
                .unwrap();
            if let Message::Text(text) = message {
                let value: Value = serde_json::from_str(&text).unwrap();
                let seq = value["seq"].as_u64().expect("every message has a seq");
                assert!(seq >= self.last_seq, "seq never decreases: {seq} after {}", self.last_seq);
                self.last_seq = seq;
                return value;
            }
        }
    }

    /// Messages up to and including the first of `kind` that `done` accepts.
    async fn until(&mut self, kind: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let message = self.next().await;
            let found = message["type"] == kind && done(&message);
            seen.push(message);
            if found {
                return seen;
            }
        }
    }
}

async fn account_id(server: &TestServer, token: &str) -> String {
    let (_, me) = server.get("/v1/accounts/me", Some(token)).await;
    me["id"].as_str().unwrap().to_owned()
}

/// What the GET endpoints answer for an episode: stage, polls, questions.
async fn rendered(server: &TestServer, episode: &str) -> (Value, Value, Value) {
    let (_, stage) = server.get(&format!("/v1/episodes/{episode}/stage"), None).await;
    let (_, polls) = server.get(&format!("/v1/episodes/{episode}/polls"), None).await;
    let (_, questions) = server.get(&format!("/v1/episodes/{episode}/questions"), None).await;
    (stage, polls["polls"].clone(), questions["questions"].clone())
}

fn assert_snapshot_matches(snapshot: &Value, episode: &str, expected: &(Value, Value, Value)) {
    let live = &snapshot["live_episode"];
    assert_eq!(live["episode"]["id"], episode, "{snapshot}");
    assert_eq!(live["episode"]["status"], "live");
    assert_eq!((&live["stage"], &live["polls"], &live["questions"]), (&expected.0, &expected.1, &expected.2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_follow_the_live_episode_stage_polls_and_questions() {
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("creator", "creator").await;
    let slots =
        json!([{"kind": "qa"}, {"kind": "poll", "question": "Next drop?", "options": ["hoodie", "cap", "tee"]}]);
    let (_, template) =
        server.post("/v1/templates", Some(&creator), None, json!({"name": "Talk", "slots": slots})).await;
    let (status, room) =
        server.post("/v1/rooms", Some(&creator), None, json!({"title": "Live", "template_id": template["id"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room_id = room["id"].as_str().unwrap().to_owned();

    // Before any episode is live the snapshot says so.
    let (mut early, snapshot) = Listener::connect(&server, &room_id).await;
    assert_eq!(snapshot["live_episode"], Value::Null, "{snapshot}");

    let starts_at = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::hours(1);
    let starts_at = starts_at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (status, episode) = server
        .post(
            &format!("/v1/rooms/{room_id}/episodes"),
            Some(&creator),
            None,
            json!({"title": "Friday", "starts_at": starts_at}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    let episode = episode["id"].as_str().unwrap().to_owned();
    let (status, _) = server.send("POST", &format!("/v1/episodes/{episode}/start"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let started = early.until("episode", |message| message["state"] == "live").await;
    assert_eq!(started.last().unwrap()["episode_id"], episode.as_str());

    const N_VOTERS: usize = 16;
    let mut voters = Vec::new();
    for voter_idx in 0..N_VOTERS {
        let token = server.account(&format!("voter{voter_idx}"), "buyer").await;
        let (status, _) = server.send("POST", &format!("/v1/episodes/{episode}/join"), Some(&token), None, None).await;
        assert_eq!(status, StatusCode::OK);
        voters.push(token);
    }
    let ana_id = account_id(&server, &voters[0]).await;

    // A new listener's snapshot holds the live episode exactly as the GET endpoints render it.
    let (mut listener, snapshot) = Listener::connect(&server, &room_id).await;
    assert_snapshot_matches(&snapshot, &episode, &rendered(&server, &episode).await);
    assert_eq!(snapshot["live_episode"]["stage"]["members"].as_array().unwrap().len(), N_VOTERS + 1);
    listener.last_seq = snapshot["seq"].as_u64().unwrap();

    // An invite: a `stage` message with the whole stage, ana now a speaker.
    let (status, _) = server
        .post(&format!("/v1/episodes/{episode}/invite"), Some(&creator), None, json!({"account_id": ana_id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let is_speaker = |message: &Value| {
        let members = message["members"].as_array().unwrap();
        members.iter().any(|member| member["account_id"] == ana_id.as_str() && member["role"] == "speaker")
    };
    let seen = listener.until("stage", is_speaker).await;
    let stage = seen.last().unwrap();
    assert_eq!(stage["episode_id"], episode.as_str());
    assert!(stage["members"].as_array().unwrap().iter().any(|member| member["may_publish"] == true));

    // A burst of votes: few `poll` messages, the last with the final tally.
    let votes = format!("/v1/episodes/{episode}/polls/1/votes");
    // One after another, so each vote is a commit (a shard batch) of its own: only the feed's
    // coalescing can fold them into few messages.
    for (voter_idx, token) in voters.iter().enumerate() {
        let (status, _) = server.post(&votes, Some(token), None, json!({"option": voter_idx % 3})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let total =
        |message: &Value| message["tallies"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).sum::<u64>();
    let seen = listener.until("poll", |message| total(message) == N_VOTERS as u64).await;
    let polls: Vec<&Value> = seen.iter().filter(|message| message["type"] == "poll").collect();
    assert!(polls.len() < N_VOTERS / 2, "{} poll messages for {N_VOTERS} votes: coalesced", polls.len());
    assert!(polls.iter().all(|poll| poll["episode_id"] == episode.as_str() && poll["slot"] == 1));
    assert_eq!(polls.last().unwrap()["tallies"], json!([6, 5, 5]));

    // The Q&A queue: asked, then upvoted, each a `questions` message with the whole queue.
    let questions = format!("/v1/episodes/{episode}/questions");
    let (status, _) = server.post(&questions, Some(&voters[1]), None, json!({"text": "When is the restock?"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let seen = listener.until("questions", |message| message["questions"].as_array().unwrap().len() == 1).await;
    assert_eq!(seen.last().unwrap()["questions"][0]["text"], "When is the restock?");
    let (status, _) =
        server.send("POST", &format!("/v1/episodes/{episode}/questions/1/upvote"), Some(&voters[2]), None, None).await;
    assert_eq!(status, StatusCode::OK);
    listener.until("questions", |message| message["questions"][0]["upvotes"] == 1).await;

    // A reconnect's snapshot is what the GET endpoints answer now.
    let (_, snapshot) = Listener::connect(&server, &room_id).await;
    let now = rendered(&server, &episode).await;
    assert_snapshot_matches(&snapshot, &episode, &now);
    assert_eq!(now.1[0]["tallies"], json!([6, 5, 5]));
    let (_, room) = server.get(&format!("/v1/rooms/{room_id}"), None).await;
    assert_eq!(snapshot["room"], room);

    // The end of the episode.
    let (status, _) = server.send("POST", &format!("/v1/episodes/{episode}/end"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let seen = listener.until("episode", |message| message["state"] == "ended").await;
    assert_eq!(seen.last().unwrap()["episode_id"], episode.as_str());
    let stage = listener.until("stage", |message| message["status"] == "ended").await;
    assert!(stage.last().unwrap()["members"].as_array().unwrap().iter().all(|member| member["may_publish"] == false));
    let (_, snapshot) = Listener::connect(&server, &room_id).await;
    assert_eq!(snapshot["live_episode"], Value::Null, "no live episode once it ended");
}

/// RFC 3339, to the second, `seconds` after `base`.
fn rfc3339_after(base: time::OffsetDateTime, seconds: i64) -> String {
    (base + time::Duration::seconds(seconds)).format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// A live episode ends by itself at its `ends_at` (the engine's clock, here a manual one): GET
/// answers it ended, listeners get `episode` `ended` and a stage where nobody may publish, as after
/// `/end`; it stays ended across a restart, and an episode whose `ends_at` passed cannot start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_episode_ends_at_its_ends_at() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let creator = server.account("creator", "creator").await;
    let buyer = server.account("buyer", "buyer").await;
    let (_, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Timed"})).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let base = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let schedule = |title: &'static str, ends_in_seconds: i64| {
        let (server, creator, room_id) = (&server, creator.clone(), room_id.clone());
        async move {
            let body = json!({"title": title, "starts_at": rfc3339_after(base, 0), "ends_at": rfc3339_after(base, ends_in_seconds)});
            let (status, episode) =
                server.post(&format!("/v1/rooms/{room_id}/episodes"), Some(&creator), None, body).await;
            assert_eq!(status, StatusCode::CREATED, "{episode}");
            episode["id"].as_str().unwrap().to_owned()
        }
    };
    let (episode, missed) = (schedule("Hour", 3_600).await, schedule("Half hour", 1_800).await);
    let path = |episode: &str, tail: &str| format!("/v1/episodes/{episode}/{tail}");
    let (status, _) = server.send("POST", &path(&episode, "start"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.send("POST", &path(&episode, "join"), Some(&buyer), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (mut listener, snapshot) = Listener::connect(&server, &room_id).await;
    assert_eq!(snapshot["live_episode"]["episode"]["status"], "live", "{snapshot}");
    listener.last_seq = snapshot["seq"].as_u64().unwrap();

    clock.advance_ms(3_599_000);
    let (_, read) = server.get(&format!("/v1/episodes/{episode}"), None).await;
    assert_eq!(read["status"], "live", "not before its ends_at: {read}");

    clock.advance_ms(2_000);
    let (status, read) = server.get(&format!("/v1/episodes/{episode}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["status"], "ended", "{read}");
    assert_eq!(read["ended_at"], read["ends_at"], "it ended at its ends_at: {read}");
    let seen = listener.until("episode", |message| message["state"] == "ended").await;
    assert_eq!(seen.last().unwrap()["episode_id"], episode.as_str());
    let stage = listener.until("stage", |message| message["status"] == "ended").await;
    assert!(stage.last().unwrap()["members"].as_array().unwrap().iter().all(|member| member["may_publish"] == false));
    let (status, answer) = server.send("POST", &path(&episode, "raise-hand"), Some(&buyer), None, None).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("episode_ended")));
    let (status, answer) = server.send("POST", &path(&missed, "start"), Some(&creator), None, None).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("episode_over")));

    let server = server.restart().await;
    let (_, again) = server.get(&format!("/v1/episodes/{episode}"), None).await;
    assert_eq!(again, read, "the journal rebuilds the timed end");
    let (_, snapshot) = Listener::connect(&server, &room_id).await;
    assert_eq!(snapshot["live_episode"], Value::Null, "no live episode once it ended");
}

/// An idle shard fires the timer itself: no request arrives after the start, yet listeners see the
/// episode end (the system clock, a three-second episode).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_ends_an_episode_at_its_ends_at() {
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("creator", "creator").await;
    let (_, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Short"})).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let base = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let body = json!({"title": "Short", "starts_at": rfc3339_after(base, 0), "ends_at": rfc3339_after(base, 4)});
    let (status, episode) = server.post(&format!("/v1/rooms/{room_id}/episodes"), Some(&creator), None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    let episode = episode["id"].as_str().unwrap().to_owned();
    let (mut listener, _) = Listener::connect(&server, &room_id).await;
    let (status, _) = server.send("POST", &format!("/v1/episodes/{episode}/start"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    listener.until("episode", |message| message["state"] == "live").await;
    let seen = listener.until("episode", |message| message["state"] == "ended").await;
    assert_eq!(seen.last().unwrap()["episode_id"], episode.as_str());
}

/// A message without its `type` and `seq`: the body of the GET endpoint it mirrors.
fn body_of(message: &Value) -> Value {
    let mut body = message.clone();
    let fields = body.as_object_mut().unwrap();
    fields.remove("type");
    fields.remove("seq");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listeners_follow_the_pin_the_demo_and_live_polls() {
    let server = TestServer::start(Options::default()).await;
    let creator = server.account("creator", "creator").await;
    let buyer = server.account("buyer", "buyer").await;
    let product =
        json!({"title": "Tour tee", "price_minor": 1250, "currency": "EUR", "stock": 10, "fulfilment": "ship"});
    let (_, product) = server.post("/v1/products", Some(&creator), None, product).await;
    let product_id = product["id"].as_str().unwrap().to_owned();
    let slots = json!([{"kind": "poll", "question": "Next drop?", "options": ["hoodie", "cap"]}]);
    let (_, template) =
        server.post("/v1/templates", Some(&creator), None, json!({"name": "Show", "slots": slots})).await;
    let (_, room) =
        server.post("/v1/rooms", Some(&creator), None, json!({"title": "Live", "template_id": template["id"]})).await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    let drop = json!({"product_id": product_id, "quantity": 5, "per_buyer_limit": 1, "hold_seconds": 60});
    let (status, drop) = server.post(&format!("/v1/rooms/{room_id}/drops"), Some(&creator), None, drop).await;
    assert_eq!(status, StatusCode::CREATED, "{drop}");
    let drop_id = drop["id"].as_str().unwrap().to_owned();
    let starts_at = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::hours(1);
    let starts_at = starts_at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let (_, episode) = server
        .post(
            &format!("/v1/rooms/{room_id}/episodes"),
            Some(&creator),
            None,
            json!({"title": "Friday", "starts_at": starts_at}),
        )
        .await;
    let episode = episode["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/v1/episodes/{episode}/{tail}");
    server.send("POST", &path("start"), Some(&creator), None, None).await;
    server.send("POST", &path("join"), Some(&buyer), None, None).await;

    // The snapshot holds the rituals as `GET …/rituals` renders them: nothing yet.
    let (mut listener, snapshot) = Listener::connect(&server, &room_id).await;
    let (_, rituals) = server.get(&path("rituals"), None).await;
    assert_eq!(snapshot["live_episode"]["rituals"], rituals, "{snapshot}");
    assert_eq!(rituals, json!({"episode_id": episode, "pinned": null, "demo": null}));
    listener.last_seq = snapshot["seq"].as_u64().unwrap();

    // A pin, then a demo: each a `rituals` message with the whole rituals body.
    let (status, pinned) = server.post(&path("pin"), Some(&creator), None, json!({"drop_id": drop_id})).await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    let seen = listener.until("rituals", |message| message["pinned"]["drop_id"] == drop_id.as_str()).await;
    assert_eq!(body_of(seen.last().unwrap()), pinned);
    let demo = json!({"product_id": product_id, "seconds": 60});
    let (status, demoing) = server.post(&path("demo"), Some(&creator), None, demo).await;
    assert_eq!(status, StatusCode::OK, "{demoing}");
    let seen = listener.until("rituals", |message| message["demo"].is_object()).await;
    assert_eq!(body_of(seen.last().unwrap()), demoing, "the pin and the demo together");

    // A live poll arrives as a `poll` message a client that never saw it can render; so do its
    // votes and its close.
    let (status, poll) = server
        .post(&path("polls"), Some(&creator), None, json!({"question": "Size?", "options": ["S", "M", "L"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{poll}");
    let seen = listener.until("poll", |message| message["slot"] == 1000).await;
    assert_eq!(body_of(seen.last().unwrap()), poll, "question, options, tallies and open");
    server.post(&path("polls/1000/votes"), Some(&buyer), None, json!({"option": 1})).await;
    listener.until("poll", |message| message["slot"] == 1000 && message["tallies"] == json!([0, 1, 0])).await;
    let (status, closed) = server.send("POST", &path("polls/1000/close"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let seen = listener.until("poll", |message| message["slot"] == 1000 && message["open"] == false).await;
    assert_eq!(body_of(seen.last().unwrap()), closed);
    let (status, _) = server.send("POST", &path("polls/0/close"), Some(&creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let seen = listener.until("poll", |message| message["slot"] == 0).await;
    let template_poll = seen.last().unwrap();
    assert_eq!((&template_poll["open"], &template_poll["question"]), (&json!(false), &json!("Next drop?")));

    // Stopping the demo moves its end to now.
    let (_, stopped) = server.send("POST", &path("demo/stop"), Some(&creator), None, None).await;
    let seen = listener.until("rituals", |message| message["demo"]["ends_at"] == stopped["demo"]["ends_at"]).await;
    assert_eq!(body_of(seen.last().unwrap()), stopped);
    assert_ne!(stopped["demo"]["ends_at"], demoing["demo"]["ends_at"]);

    // A reconnect's snapshot: the rituals and every poll (template and live) as the GET endpoints answer.
    let (_, snapshot) = Listener::connect(&server, &room_id).await;
    let (_, rituals) = server.get(&path("rituals"), None).await;
    let (_, polls) = server.get(&path("polls"), None).await;
    assert_eq!((&snapshot["live_episode"]["rituals"], &snapshot["live_episode"]["polls"]), (&rituals, &polls["polls"]));
    assert_eq!(polls["polls"].as_array().unwrap().len(), 2, "{polls}");
}
