//! Room templates, episodes and the stage over HTTP: versioning, validation that changes nothing,
//! who may do what, one live episode per room, stage transitions, `may_publish`, and a restart.

use crate::harness::{Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Room {
    creator: String,
    creator_id: String,
    product_id: String,
    room_id: String,
}

async fn room(server: &TestServer) -> Room {
    let creator = server.account("creator", "creator").await;
    let (_, me) = server.get("/v1/accounts/me", Some(&creator)).await;
    let product =
        json!({"title": "Tour tee", "price_minor": 1250, "currency": "EUR", "stock": 10, "fulfilment": "ship"});
    let (status, product) = server.post("/v1/products", Some(&creator), None, product).await;
    assert_eq!(status, StatusCode::CREATED, "{product}");
    let (status, room) = server.post("/v1/rooms", Some(&creator), None, json!({"title": "Studio"})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    Room {
        creator,
        creator_id: me["id"].as_str().unwrap().to_owned(),
        product_id: product["id"].as_str().unwrap().to_owned(),
        room_id: room["id"].as_str().unwrap().to_owned(),
    }
}

async fn account_id(server: &TestServer, token: &str) -> String {
    let (_, me) = server.get("/v1/accounts/me", Some(token)).await;
    me["id"].as_str().unwrap().to_owned()
}

/// RFC 3339, `hours` from now, to the second.
fn hours_from_now(hours: i64) -> String {
    let moment = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + time::Duration::hours(hours);
    moment.format(&time::format_description::well_known::Rfc3339).unwrap()
}

async fn schedule(server: &TestServer, room: &Room, title: &str) -> String {
    let body = json!({"title": title, "starts_at": hours_from_now(24), "ends_at": hours_from_now(25)});
    let (status, episode) =
        server.post(&format!("/v1/rooms/{}/episodes", room.room_id), Some(&room.creator), None, body).await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    assert_eq!(episode["status"], "scheduled");
    episode["id"].as_str().unwrap().to_owned()
}

/// A stage call: POST `/v1/episodes/{id}/{action}` with an optional target.
async fn stage(
    server: &TestServer,
    episode: &str,
    action: &str,
    token: &str,
    target: Option<&str>,
) -> (StatusCode, Value) {
    let path = format!("/v1/episodes/{episode}/{action}");
    match target {
        Some(account_id) => server.post(&path, Some(token), None, json!({"account_id": account_id})).await,
        None => server.send("POST", &path, Some(token), None, None).await,
    }
}

fn member<'a>(stage: &'a Value, account_id: &str) -> &'a Value {
    let members = stage["members"].as_array().unwrap();
    members.iter().find(|member| member["account_id"] == account_id).unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_versioned_validated_and_build_rooms() {
    let server = TestServer::start(Options::default()).await;
    let room = room(&server).await;
    let other = server.account("other", "creator").await;
    let buyer = server.account("buyer", "buyer").await;
    let product = room.product_id.as_str();
    let slots = json!([
        {"kind": "buy", "product_id": product},
        {"kind": "demo", "product_id": product, "seconds": 90},
        {"kind": "poll", "question": "Which colour next?", "options": ["red", "blue"]},
        {"kind": "qa"},
        {"kind": "drop", "product_id": product},
    ]);
    let (status, v1) =
        server.post("/v1/templates", Some(&room.creator), None, json!({"name": "Launch", "slots": slots})).await;
    assert_eq!(status, StatusCode::CREATED, "{v1}");
    assert_eq!((v1["version"].as_u64(), v1["latest_version"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v1["slots"], slots, "slots answer as they were sent");
    let v1_path = format!("/v1/templates/{}", v1["id"].as_str().unwrap());

    // Bad input: a 4xx naming the problem, and nothing saved (the next save is still version 2).
    let bad: Vec<(Option<&str>, Value, StatusCode, &str)> = vec![
        (Some(&buyer), json!({"name": "x", "slots": [{"kind": "qa"}]}), StatusCode::FORBIDDEN, "forbidden"),
        (None, json!({"name": "x", "slots": [{"kind": "qa"}]}), StatusCode::UNAUTHORIZED, "unauthorized"),
        (Some(&room.creator), json!({"name": "Launch", "slots": []}), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            Some(&room.creator),
            json!({"name": " ", "slots": [{"kind": "qa"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "n".repeat(101), "slots": [{"kind": "qa"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": vec![json!({"kind": "qa"}); 13]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "demo", "product_id": product, "seconds": 45}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "demo", "product_id": product}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "qa", "seconds": 60}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "stage"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "buy", "product_id": "prod_zz"}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "poll", "question": "q", "options": ["one"]}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&room.creator),
            json!({"name": "Launch", "slots": [{"kind": "poll", "question": "q", "options": ["a", "a"]}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            Some(&other),
            json!({"name": "Mine", "slots": [{"kind": "buy", "product_id": product}]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (token, body, expected_status, expected_code) in bad {
        let (status, answer) = server.post("/v1/templates", token, None, body.clone()).await;
        assert_eq!((status, error_code(&answer)), (expected_status, expected_code), "{body}: {answer}");
    }

    let (status, v2) = server
        .post("/v1/templates", Some(&room.creator), None, json!({"name": "Launch", "slots": [{"kind": "qa"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["version"], 2, "saving a name again makes its next version");
    assert_ne!(v2["id"], v1["id"]);
    let (status, v1_again) = server.get(&v1_path, Some(&room.creator)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&v1_again["slots"], v1_again["version"].as_u64()), (&slots, Some(1)), "versions never change");
    assert_eq!(v1_again["latest_version"], 2);
    for token in [Some(&other), Some(&buyer)] {
        let (status, _) = server.get(&v1_path, token.map(String::as_str)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a template is its creator's");
    }
    assert_eq!(server.get(&v1_path, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(server.get("/v1/templates/tpl_zz", Some(&room.creator)).await.0, StatusCode::NOT_FOUND);

    // A room built from a template records the version and copies its slots.
    let body = json!({"title": "From v1", "template_id": v1["id"]});
    let (status, built) = server.post("/v1/rooms", Some(&room.creator), None, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{built}");
    assert_eq!(built["template"], json!({"id": v1["id"], "version": 1}));
    assert_eq!(built["slots"], slots);
    let (_, read) = server.get(&format!("/v1/rooms/{}", built["id"].as_str().unwrap()), None).await;
    assert_eq!((&read["template"], &read["slots"]), (&built["template"], &built["slots"]));
    let (status, answer) = server.post("/v1/rooms", Some(&other), None, body).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "not from another's template");
    let unknown = format!("tpl_{}ff0000", &v1["id"].as_str().unwrap()[4..10]);
    let (status, answer) =
        server.post("/v1/rooms", Some(&room.creator), None, json!({"title": "x", "template_id": unknown})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::NOT_FOUND, "not_found"), "{unknown}");
    let (status, answer) =
        server.post("/v1/rooms", Some(&room.creator), None, json!({"title": "x", "template_id": "tpl_zz"})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::BAD_REQUEST, "invalid_request"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_has_one_live_episode_at_a_time() {
    let server = TestServer::start(Options::default()).await;
    let room = room(&server).await;
    let other = server.account("other", "creator").await;
    let buyer = server.account("buyer", "buyer").await;
    let episodes = format!("/v1/rooms/{}/episodes", room.room_id);
    let friday = schedule(&server, &room, "Friday").await;
    let saturday = schedule(&server, &room, "Saturday").await;

    let (tomorrow, before_tomorrow, two_days_later) = (hours_from_now(24), hours_from_now(23), hours_from_now(72));
    let good = json!({"title": "t", "starts_at": tomorrow});
    for (token, body, expected_status, expected_code) in [
        (&other, good.clone(), StatusCode::FORBIDDEN, "forbidden"),
        (&buyer, good.clone(), StatusCode::FORBIDDEN, "forbidden"),
        (&room.creator, json!({"title": "t", "starts_at": "tomorrow"}), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            &room.creator,
            json!({"title": "t", "starts_at": tomorrow, "ends_at": before_tomorrow}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &room.creator,
            json!({"title": "t", "starts_at": tomorrow, "ends_at": two_days_later}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            &room.creator,
            json!({"title": "t", "starts_at": "2099-01-01T18:00:00Z"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (&room.creator, json!({"title": "", "starts_at": tomorrow}), StatusCode::BAD_REQUEST, "invalid_request"),
    ] {
        let (status, answer) = server.post(&episodes, Some(token), None, body.clone()).await;
        assert_eq!((status, error_code(&answer)), (expected_status, expected_code), "{body}: {answer}");
    }
    let (status, _) = server.post("/v1/rooms/room_ff0000000999/episodes", Some(&room.creator), None, good).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not the caller's partition, so not the caller's room");

    let start = |episode: &str| format!("/v1/episodes/{episode}/start");
    let (status, answer) = server.send("POST", &start(&friday), Some(&other), None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"));
    let (status, live) = server.send("POST", &start(&friday), Some(&room.creator), Some("go"), None).await;
    assert_eq!((status, live["status"].as_str()), (StatusCode::OK, Some("live")), "{live}");
    assert!(live["started_at"].is_string());
    let (status, answer) = server.send("POST", &start(&saturday), Some(&room.creator), None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_already_live"));
    let (status, again) = server.send("POST", &start(&friday), Some(&room.creator), None, None).await;
    assert_eq!((status, &again["started_at"]), (StatusCode::OK, &live["started_at"]), "starting again changes nothing");

    let (_, read) = server.get(&format!("/v1/rooms/{}", room.room_id), None).await;
    let statuses: Vec<&str> =
        read["episodes"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["live", "scheduled"], "{read}");
    assert_eq!(read["episodes"][0]["id"], friday);
    assert!(read["episodes"][0]["ends_at"].is_string());

    let (status, ended) =
        server.send("POST", &format!("/v1/episodes/{friday}/end"), Some(&room.creator), None, None).await;
    assert_eq!((status, ended["status"].as_str()), (StatusCode::OK, Some("ended")));
    let (status, answer) = server.send("POST", &start(&friday), Some(&room.creator), None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_ended"));
    let (status, answer) = stage(&server, &friday, "join", &buyer, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_ended"));
    let (status, answer) = stage(&server, &saturday, "join", &buyer, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_not_live"));
    let (status, live) = server.send("POST", &start(&saturday), Some(&room.creator), None, None).await;
    assert_eq!((status, live["status"].as_str()), (StatusCode::OK, Some("live")), "the room is free again");
    assert_eq!(server.get("/v1/episodes/ep_ff0000000999", None).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stage_moves_members_and_decides_who_may_publish_across_a_restart() {
    let server = TestServer::start(Options::default()).await;
    let room = room(&server).await;
    let [ana, bob, cat] = [
        server.account("ana", "buyer").await,
        server.account("bob", "buyer").await,
        server.account("cat", "buyer").await,
    ];
    let [ana_id, bob_id, cat_id] =
        [account_id(&server, &ana).await, account_id(&server, &bob).await, account_id(&server, &cat).await];
    let (status, template) = server
        .post("/v1/templates", Some(&room.creator), None, json!({"name": "Talk", "slots": [{"kind": "qa"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let episode = schedule(&server, &room, "Friday").await;
    server.send("POST", &format!("/v1/episodes/{episode}/start"), Some(&room.creator), None, None).await;

    for token in [&ana, &bob, &cat] {
        let (status, body) = stage(&server, &episode, "join", token, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = stage(&server, &episode, "raise-hand", &ana, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["raised_hands"], json!([ana_id]));
    assert_eq!(member(&body, &room.creator_id)["role"], "host");
    assert_eq!(member(&body, &room.creator_id)["may_publish"], true);
    assert_eq!(member(&body, &ana_id)["may_publish"], false, "listeners do not publish");

    // Refusals change nothing.
    let before = server.get(&format!("/v1/episodes/{episode}/stage"), None).await;
    for (action, token, target, expected_status, expected_code) in [
        ("invite", &bob, Some(ana_id.as_str()), StatusCode::FORBIDDEN, "forbidden"),
        ("mute", &ana, Some(room.creator_id.as_str()), StatusCode::FORBIDDEN, "forbidden"),
        ("remove", &room.creator, Some(room.creator_id.as_str()), StatusCode::FORBIDDEN, "forbidden"),
        ("moderators", &bob, Some(cat_id.as_str()), StatusCode::FORBIDDEN, "forbidden"),
        ("invite", &room.creator, Some(room.product_id.as_str()), StatusCode::BAD_REQUEST, "invalid_request"),
        ("invite", &room.creator, Some("acct_ff0000000999"), StatusCode::CONFLICT, "not_in_episode"),
    ] {
        let (status, answer) = stage(&server, &episode, action, token, target).await;
        assert_eq!((status, error_code(&answer)), (expected_status, expected_code), "{action}: {answer}");
    }
    let (status, answer) = server.send("POST", &format!("/v1/episodes/{episode}/join"), None, None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert_eq!(server.get(&format!("/v1/episodes/{episode}/stage"), None).await, before);

    let (_, body) = stage(&server, &episode, "invite", &room.creator, Some(&ana_id)).await;
    assert_eq!(
        (member(&body, &ana_id)["role"].as_str(), member(&body, &ana_id)["may_publish"].as_bool()),
        (Some("speaker"), Some(true))
    );
    assert_eq!(body["raised_hands"], json!([]), "the invitation lowers the hand");
    let (_, body) = stage(&server, &episode, "mute", &room.creator, Some(&ana_id)).await;
    assert_eq!((&body["muted"], &member(&body, &ana_id)["may_publish"]), (&json!([ana_id]), &json!(false)));
    let (_, body) = stage(&server, &episode, "moderators", &room.creator, Some(&bob_id)).await;
    assert_eq!(member(&body, &bob_id)["role"], "moderator");
    // The moderator brings cat on stage, then removes (bans) her.
    let (status, body) = stage(&server, &episode, "invite", &bob, Some(&cat_id)).await;
    assert_eq!((status, &member(&body, &cat_id)["may_publish"]), (StatusCode::OK, &json!(true)));
    let (status, body) = stage(&server, &episode, "remove", &bob, Some(&cat_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((member(&body, &cat_id), &body["banned"]), (&Value::Null, &json!([cat_id])));
    let (status, answer) = stage(&server, &episode, "join", &cat, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "banned_from_episode"), "no way back in");
    let (status, answer) = stage(&server, &episode, "move-to-audience", &bob, Some(&room.creator_id)).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "nobody moves the host");

    // A restart replays templates, episodes and the stage exactly.
    let template_path = format!("/v1/templates/{}", template["id"].as_str().unwrap());
    let stage_path = format!("/v1/episodes/{episode}/stage");
    let room_path = format!("/v1/rooms/{}", room.room_id);
    let before = (
        server.get(&stage_path, None).await,
        server.get(&room_path, None).await,
        server.get(&template_path, Some(&room.creator)).await,
    );
    let server = server.restart().await;
    let after = (
        server.get(&stage_path, None).await,
        server.get(&room_path, None).await,
        server.get(&template_path, Some(&room.creator)).await,
    );
    assert_eq!(before, after);
    assert_eq!(after.0.1["members"].as_array().unwrap().len(), 3, "host, ana, bob: {}", after.0.1);
    let (status, answer) = stage(&server, &episode, "join", &cat, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "banned_from_episode"), "the ban survives");
    let (_, body) = stage(&server, &episode, "unmute", &bob, Some(&ana_id)).await;
    assert_eq!(member(&body, &ana_id)["may_publish"], true);
    let (_, body) = stage(&server, &episode, "move-to-audience", &ana, Some(&ana_id)).await;
    assert_eq!(
        (member(&body, &ana_id)["role"].as_str(), member(&body, &ana_id)["may_publish"].as_bool()),
        (Some("listener"), Some(false))
    );
    let (_, ended) = server.send("POST", &format!("/v1/episodes/{episode}/end"), Some(&room.creator), None, None).await;
    assert_eq!(ended["status"], "ended");
    let (_, body) = server.get(&stage_path, None).await;
    let publishing: Vec<&Value> =
        body["members"].as_array().unwrap().iter().filter(|m| m["may_publish"] == true).collect();
    assert!(publishing.is_empty(), "nobody publishes once the episode ended: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_count_one_vote_per_member_and_the_qa_queue_orders_by_upvotes() {
    let server = TestServer::start(Options::default()).await;
    let room = room(&server).await;
    let [ana, bob, cat] = [
        server.account("ana", "buyer").await,
        server.account("bob", "buyer").await,
        server.account("cat", "buyer").await,
    ];
    let bob_id = account_id(&server, &bob).await;
    let slots =
        json!([{"kind": "qa"}, {"kind": "poll", "question": "Next drop?", "options": ["hoodie", "cap", "tee"]}]);
    let (_, template) =
        server.post("/v1/templates", Some(&room.creator), None, json!({"name": "Talk", "slots": slots})).await;
    let (_, built) = server
        .post("/v1/rooms", Some(&room.creator), None, json!({"title": "Q&A night", "template_id": template["id"]}))
        .await;
    let built = Room { room_id: built["id"].as_str().unwrap().to_owned(), ..room };
    let episode = schedule(&server, &built, "Friday").await;
    let (votes, questions) =
        (format!("/v1/episodes/{episode}/polls/1/votes"), format!("/v1/episodes/{episode}/questions"));
    let (status, answer) = server.post(&votes, Some(&ana), None, json!({"option": 0})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_not_live"));
    server.send("POST", &format!("/v1/episodes/{episode}/start"), Some(&built.creator), None, None).await;
    let (status, answer) = server.post(&votes, Some(&ana), None, json!({"option": 0})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "not_in_episode"), "join first");
    for token in [&ana, &bob, &cat] {
        stage(&server, &episode, "join", token, None).await;
    }

    let (status, poll) = server.post(&votes, Some(&ana), None, json!({"option": 2})).await;
    assert_eq!((status, &poll["tallies"]), (StatusCode::CREATED, &json!([0, 0, 1])), "{poll}");
    for (token, path, body, expected_status, expected_code) in [
        (&ana, votes.clone(), json!({"option": 1}), StatusCode::CONFLICT, "already_voted"),
        (&bob, votes.clone(), json!({"option": 3}), StatusCode::BAD_REQUEST, "invalid_request"),
        (&bob, votes.clone(), json!({"option": -1}), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            &bob,
            format!("/v1/episodes/{episode}/polls/0/votes"),
            json!({"option": 0}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            &bob,
            format!("/v1/episodes/{episode}/polls/x/votes"),
            json!({"option": 0}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (&bob, questions.clone(), json!({"text": ""}), StatusCode::BAD_REQUEST, "invalid_request"),
        (&bob, questions.clone(), json!({"text": "q".repeat(281)}), StatusCode::BAD_REQUEST, "invalid_request"),
    ] {
        let (status, answer) = server.post(&path, Some(token), None, body.clone()).await;
        assert_eq!((status, error_code(&answer)), (expected_status, expected_code), "{path} {body}: {answer}");
    }
    server.post(&votes, Some(&bob), None, json!({"option": 2})).await;
    let (status, poll) = server.post(&votes, Some(&built.creator), None, json!({"option": 0})).await;
    assert_eq!((status, &poll["tallies"]), (StatusCode::CREATED, &json!([1, 0, 2])));

    for (token, text) in [(&ana, "Sizes?"), (&bob, "Shipping to Canada?"), (&cat, "Colours?")] {
        let (status, question) = server.post(&questions, Some(token), None, json!({"text": text})).await;
        assert_eq!((status, question["status"].as_str()), (StatusCode::CREATED, Some("open")), "{question}");
    }
    let upvote = |number: u32| format!("/v1/episodes/{episode}/questions/{number}/upvote");
    for token in [&ana, &cat] {
        let (status, _) = server.send("POST", &upvote(2), Some(token), None, None).await;
        assert_eq!(status, StatusCode::OK);
    }
    server.send("POST", &upvote(3), Some(&ana), None, None).await;
    let (status, answer) = server.send("POST", &upvote(2), Some(&ana), None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "already_voted"), "one upvote per account");
    let (status, _) = server.send("POST", &upvote(9), Some(&ana), None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, queue) = server.get(&questions, None).await;
    let numbers: Vec<u64> =
        queue["questions"].as_array().unwrap().iter().map(|q| q["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [2, 3, 1], "most upvoted first: {queue}");

    let answer_path = format!("/v1/episodes/{episode}/questions/2/answer");
    let (status, answer) = server.send("POST", &answer_path, Some(&bob), None, None).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::FORBIDDEN, "forbidden"), "listeners do not moderate");
    stage(&server, &episode, "moderators", &built.creator, Some(&bob_id)).await;
    let (status, answered) = server.send("POST", &answer_path, Some(&bob), None, None).await;
    assert_eq!((status, answered["status"].as_str()), (StatusCode::OK, Some("answered")));
    let (status, answer) = server
        .send("POST", &format!("/v1/episodes/{episode}/questions/2/dismiss"), Some(&built.creator), None, None)
        .await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "question_closed"));
    let (status, dismissed) = server
        .send("POST", &format!("/v1/episodes/{episode}/questions/1/dismiss"), Some(&built.creator), None, None)
        .await;
    assert_eq!((status, dismissed["status"].as_str()), (StatusCode::OK, Some("dismissed")));

    let polls = format!("/v1/episodes/{episode}/polls");
    let before = (server.get(&polls, None).await, server.get(&questions, None).await);
    assert_eq!(before.0.1["polls"][0]["tallies"], json!([1, 0, 2]));
    let numbers: Vec<u64> =
        before.1.1["questions"].as_array().unwrap().iter().map(|q| q["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [3, 1, 2], "open first, then the closed in the order asked");
    let server = server.restart().await;
    assert_eq!((server.get(&polls, None).await, server.get(&questions, None).await), before, "a restart keeps them");
    let (status, answer) = server.post(&votes, Some(&ana), None, json!({"option": 0})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "already_voted"), "and the votes cast");

    // A room without a `qa` slot has no queue.
    let plain =
        schedule(&server, &Room { room_id: room_id_of_plain(&server, &built.creator).await, ..built }, "Plain").await;
    let (status, _) =
        server.post(&format!("/v1/episodes/{plain}/questions"), Some(&ana), None, json!({"text": "hi"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn room_id_of_plain(server: &TestServer, creator: &str) -> String {
    let (_, room) = server.post("/v1/rooms", Some(creator), None, json!({"title": "Plain"})).await;
    room["id"].as_str().unwrap().to_owned()
}

/// A request that must be refused: the path after `/v1/episodes/{id}/`, the token, the body, and
/// the status and code expected.
type Refusal<'a> = (&'a str, Option<&'a str>, Option<Value>, StatusCode, &'a str);

fn millis(rfc3339: &Value) -> i128 {
    let text = rfc3339.as_str().unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    let moment = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
    moment.unix_timestamp_nanos() / 1_000_000
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_pins_demos_and_runs_live_polls_across_a_restart() {
    let server = TestServer::start(Options { manual_clock: true, ..Options::default() }).await;
    let clock = server.manual_clock.clone().unwrap();
    let room = room(&server).await;
    let other = server.account("other", "creator").await;
    let [ana, bob] = [server.account("ana", "buyer").await, server.account("bob", "buyer").await];
    let [ana_id, bob_id] = [account_id(&server, &ana).await, account_id(&server, &bob).await];
    let (_, foreign_product) = server
        .post(
            "/v1/products",
            Some(&other),
            None,
            json!({"title": "Cap", "price_minor": 900, "currency": "EUR", "stock": 5, "fulfilment": "ship"}),
        )
        .await;
    let slots = json!([{"kind": "qa"}, {"kind": "poll", "question": "Next drop?", "options": ["hoodie", "cap"]}]);
    let (_, template) =
        server.post("/v1/templates", Some(&room.creator), None, json!({"name": "Show", "slots": slots})).await;
    let (_, built) = server
        .post("/v1/rooms", Some(&room.creator), None, json!({"title": "Show", "template_id": template["id"]}))
        .await;
    let built = Room { room_id: built["id"].as_str().unwrap().to_owned(), ..room };
    let drop_in = |room_id: String| {
        let (server, creator, product_id) = (&server, built.creator.clone(), built.product_id.clone());
        async move {
            let body = json!({"product_id": product_id, "quantity": 2, "per_buyer_limit": 1, "hold_seconds": 60});
            let (status, drop) = server.post(&format!("/v1/rooms/{room_id}/drops"), Some(&creator), None, body).await;
            assert_eq!(status, StatusCode::CREATED, "{drop}");
            drop["id"].as_str().unwrap().to_owned()
        }
    };
    let (tee, hoodie) = (drop_in(built.room_id.clone()).await, drop_in(built.room_id.clone()).await);
    let foreign_drop = drop_in(room_id_of_plain(&server, &built.creator).await).await;
    let episode = schedule(&server, &built, "Friday").await;
    let path = |tail: &str| format!("/v1/episodes/{episode}/{tail}");
    let rituals = path("rituals");
    let (status, answer) = server.post(&path("pin"), Some(&built.creator), None, json!({"drop_id": tee})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_not_live"));
    let (status, empty) = server.get(&rituals, None).await;
    assert_eq!((status, empty), (StatusCode::OK, json!({"episode_id": episode, "pinned": null, "demo": null})));
    server.send("POST", &path("start"), Some(&built.creator), None, None).await;
    for token in [&ana, &bob] {
        stage(&server, &episode, "join", token, None).await;
    }
    stage(&server, &episode, "invite", &built.creator, Some(&bob_id)).await;

    // Refusals: a 4xx naming the problem, and no pin, demo or poll comes of them.
    let before = (server.get(&rituals, None).await, server.get(&path("polls"), None).await);
    let product = built.product_id.as_str();
    let poll = |question: &str, options: Value| json!({"question": question, "options": options});
    let bad: Vec<Refusal> = vec![
        ("pin", Some(&ana), Some(json!({"drop_id": tee})), StatusCode::FORBIDDEN, "forbidden"),
        ("pin", Some(&bob), Some(json!({"drop_id": tee})), StatusCode::FORBIDDEN, "forbidden"),
        ("pin", Some(&other), Some(json!({"drop_id": tee})), StatusCode::FORBIDDEN, "forbidden"),
        ("pin", None, Some(json!({"drop_id": tee})), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("pin", Some(&built.creator), Some(json!({"drop_id": "drop_zz"})), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "pin",
            Some(&built.creator),
            Some(json!({"drop_id": foreign_drop})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "pin",
            Some(&built.creator),
            Some(json!({"drop_id": tee, "at": 1})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("pin", Some(&built.creator), Some(json!({})), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "pin",
            Some(&built.creator),
            Some(json!({"drop_id": format!("drop_{}ff0999", &tee[5..11])})),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("unpin", Some(&ana), None, StatusCode::FORBIDDEN, "forbidden"),
        ("demo", Some(&ana), Some(json!({"product_id": product, "seconds": 60})), StatusCode::FORBIDDEN, "forbidden"),
        ("demo", Some(&bob), Some(json!({"product_id": product, "seconds": 60})), StatusCode::FORBIDDEN, "forbidden"),
        (
            "demo",
            Some(&built.creator),
            Some(json!({"product_id": product, "seconds": 45})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "demo",
            Some(&built.creator),
            Some(json!({"product_id": product, "seconds": -60})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "demo",
            Some(&built.creator),
            Some(json!({"product_id": product})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "demo",
            Some(&built.creator),
            Some(json!({"product_id": foreign_product["id"], "seconds": 60})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "demo",
            Some(&built.creator),
            Some(json!({"product_id": "prod_zz", "seconds": 60})),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("demo/stop", Some(&bob), None, StatusCode::FORBIDDEN, "forbidden"),
        ("polls", Some(&ana), Some(poll("Size?", json!(["S", "M"]))), StatusCode::FORBIDDEN, "forbidden"),
        ("polls", Some(&bob), Some(poll("Size?", json!(["S", "M"]))), StatusCode::FORBIDDEN, "forbidden"),
        ("polls", Some(&built.creator), Some(poll("Size?", json!(["S"]))), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "polls",
            Some(&built.creator),
            Some(poll("Size?", json!(["a", "b", "c", "d", "e", "f", "g"]))),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "polls",
            Some(&built.creator),
            Some(poll("Size?", json!(["S", "S"]))),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("polls", Some(&built.creator), Some(poll(" ", json!(["S", "M"]))), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            "polls",
            Some(&built.creator),
            Some(poll(&"q".repeat(201), json!(["S", "M"]))),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "polls",
            Some(&built.creator),
            Some(poll("Size?", json!(["S", "o".repeat(101)]))),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        ("polls/1/close", Some(&ana), None, StatusCode::FORBIDDEN, "forbidden"),
        ("polls/0/close", Some(&built.creator), None, StatusCode::NOT_FOUND, "not_found"),
        ("polls/1000/close", Some(&built.creator), None, StatusCode::NOT_FOUND, "not_found"),
        ("polls/x/close", Some(&built.creator), None, StatusCode::NOT_FOUND, "not_found"),
    ];
    for (tail, token, body, expected_status, expected_code) in bad {
        let (status, answer) = server.send("POST", &path(tail), token, None, body.clone()).await;
        assert_eq!((status, error_code(&answer)), (expected_status, expected_code), "{tail} {body:?}: {answer}");
    }
    let (status, answer) =
        server.post("/v1/episodes/ep_ff0000000999/pin", Some(&built.creator), None, json!({"drop_id": tee})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(server.get("/v1/episodes/ep_ff0000000999/rituals", None).await.0, StatusCode::NOT_FOUND);
    assert_eq!((server.get(&rituals, None).await, server.get(&path("polls"), None).await), before);

    // The pinned buy slot: pinned, replaced, unpinned, pinned again.
    let (status, body) = server.post(&path("pin"), Some(&built.creator), None, json!({"drop_id": tee})).await;
    assert_eq!((status, &body["pinned"]["drop_id"]), (StatusCode::OK, &json!(tee)), "{body}");
    assert_eq!((&body["episode_id"], &body["demo"]), (&json!(episode), &Value::Null));
    stage(&server, &episode, "moderators", &built.creator, Some(&ana_id)).await;
    clock.advance_ms(1_000);
    let (status, body) = server.post(&path("pin"), Some(&ana), None, json!({"drop_id": hoodie})).await;
    assert_eq!((status, &body["pinned"]["drop_id"]), (StatusCode::OK, &json!(hoodie)), "a moderator replaces it");
    let (status, body) = server.send("POST", &path("unpin"), Some(&built.creator), None, None).await;
    assert_eq!((status, &body["pinned"]), (StatusCode::OK, &Value::Null));
    let (_, pinned) = server.post(&path("pin"), Some(&built.creator), None, json!({"drop_id": tee})).await;
    assert_eq!(millis(&pinned["pinned"]["pinned_at"]), i128::from(server.engine.now().0));

    // The demo window: from now for its seconds, one at a time, stopped early.
    let demo = json!({"product_id": product, "seconds": 90});
    let (status, body) = server.post(&path("demo"), Some(&ana), Some("demo-1"), demo.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let started_at = millis(&body["demo"]["started_at"]);
    assert_eq!(started_at, i128::from(server.engine.now().0));
    assert_eq!(millis(&body["demo"]["ends_at"]) - started_at, 90_000);
    assert_eq!((&body["demo"]["product_id"], &body["demo"]["seconds"]), (&json!(product), &json!(90)));
    assert_eq!(body["pinned"], pinned["pinned"], "the pin stays");
    let (status, replay) = server.post(&path("demo"), Some(&ana), Some("demo-1"), demo.clone()).await;
    assert_eq!((status, &replay), (StatusCode::OK, &body), "a keyed retry answers the first response");
    clock.advance_ms(10_000);
    let (status, answer) = server.post(&path("demo"), Some(&built.creator), None, demo.clone()).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "demo_running"));
    let (status, stopped) = server.send("POST", &path("demo/stop"), Some(&built.creator), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(millis(&stopped["demo"]["ends_at"]), started_at + 10_000, "ended now");
    let (_, again) = server.send("POST", &path("demo/stop"), Some(&built.creator), None, None).await;
    assert_eq!(again, stopped, "stopping again changes nothing");

    // A live poll beside the template's: its own slot range, votes, then closed.
    let (status, size) = server.post(&path("polls"), Some(&ana), None, poll("Size?", json!(["S", "M", "L"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{size}");
    assert_eq!(
        size,
        json!({"episode_id": episode, "slot": 1000, "question": "Size?", "options": ["S", "M", "L"], "tallies": [0, 0, 0], "open": true})
    );
    let (status, voted) = server.post(&path("polls/1000/votes"), Some(&bob), None, json!({"option": 2})).await;
    assert_eq!((status, &voted["tallies"]), (StatusCode::CREATED, &json!([0, 0, 1])));
    server.post(&path("polls/1/votes"), Some(&bob), None, json!({"option": 0})).await;
    let (status, closed) = server.send("POST", &path("polls/1000/close"), Some(&built.creator), None, None).await;
    assert_eq!((status, &closed["open"], &closed["tallies"]), (StatusCode::OK, &json!(false), &json!([0, 0, 1])));
    let (status, answer) = server.post(&path("polls/1000/votes"), Some(&ana), None, json!({"option": 0})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "poll_closed"));
    let (status, _) = server.send("POST", &path("polls/1/close"), Some(&ana), None, None).await;
    assert_eq!(status, StatusCode::OK, "template polls close too");
    let (status, answer) = server.post(&path("polls/1/votes"), Some(&ana), None, json!({"option": 1})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "poll_closed"));
    let (_, fit) =
        server.post(&path("polls"), Some(&built.creator), None, poll("Fit?", json!(["slim", "loose"]))).await;
    assert_eq!(fit["slot"], 1001);
    let (_, polls) = server.get(&path("polls"), None).await;
    let listed: Vec<(u64, bool)> = polls["polls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|poll| (poll["slot"].as_u64().unwrap(), poll["open"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed, [(1, false), (1000, false), (1001, true)], "template polls, then live ones: {polls}");

    // A restart keeps the pin, the demo and the live polls with their votes and closes.
    let before = (server.get(&rituals, None).await, server.get(&path("polls"), None).await);
    let server = server.restart().await;
    assert_eq!((server.get(&rituals, None).await, server.get(&path("polls"), None).await), before);
    let (status, answer) = server.post(&path("polls/1000/votes"), Some(&ana), None, json!({"option": 0})).await;
    assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "poll_closed"), "still closed");
    let (status, voted) = server.post(&path("polls/1001/votes"), Some(&ana), None, json!({"option": 1})).await;
    assert_eq!((status, &voted["tallies"]), (StatusCode::CREATED, &json!([0, 1])));

    // An ended episode's rituals are read-only, and kept.
    server.send("POST", &path("end"), Some(&built.creator), None, None).await;
    let kept = server.get(&rituals, None).await;
    assert_eq!(kept, before.0);
    for (tail, body) in [
        ("pin", Some(json!({"drop_id": hoodie}))),
        ("unpin", None),
        ("demo", Some(json!({"product_id": product, "seconds": 60}))),
        ("demo/stop", None),
        ("polls", Some(poll("Late?", json!(["yes", "no"])))),
        ("polls/1001/close", None),
    ] {
        let (status, answer) = server.send("POST", &path(tail), Some(&built.creator), None, body).await;
        assert_eq!((status, error_code(&answer)), (StatusCode::CONFLICT, "episode_not_live"), "{tail}: {answer}");
    }
    assert_eq!(server.get(&rituals, None).await, kept);
}
