//! WHIP and WHEP over HTTP: who may publish and listen, every refusal as a JSON 4xx, the session
//! resources, and the stage watcher closing sessions when a member is removed or the episode ends.
//! (The media path itself, DTLS to recordings, is tested with synthetic peers in `crates/media`.)

use crate::harness::{ADMIN_TOKEN, Options, TestServer, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Instant;
use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, Rtc};

/// An SDP offer as a browser would make it: `n` audio sections in `direction`.
fn offer(direction: Direction, n: usize) -> String {
    let mut rtc = Rtc::builder().build(Instant::now());
    rtc.add_local_candidate(Candidate::host("127.0.0.1:40000".parse().unwrap(), "udp").unwrap());
    let mut change = rtc.sdp_api();
    for _ in 0..n {
        change.add_media(MediaKind::Audio, direction, None, None, None);
    }
    change.apply().unwrap().0.to_sdp_string()
}

struct Sdp {
    status: StatusCode,
    content_type: String,
    location: Option<String>,
    text: String,
}

async fn post_sdp(server: &TestServer, path: &str, token: Option<&str>, content_type: &str, body: String) -> Sdp {
    let mut request =
        server.client.post(format!("{}{path}", server.base)).header("Content-Type", content_type).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let header = |name| {
        response.headers().get(name).map(|value: &reqwest::header::HeaderValue| value.to_str().unwrap().to_owned())
    };
    let (content_type, location) = (header("content-type").unwrap_or_default(), header("location"));
    Sdp { status: response.status(), content_type, location, text: response.text().await.unwrap() }
}

fn json_error(sdp: &Sdp) -> String {
    let body: Value = serde_json::from_str(&sdp.text).unwrap_or_else(|_| panic!("not JSON: {}", sdp.text));
    error_code(&body).to_owned()
}

async fn stats(server: &TestServer) -> Value {
    let (status, body) = server.get("/v1/admin/media/stats", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn wait_for_stats(server: &TestServer, publishers: u64, listeners: u64) {
    for _ in 0..100 {
        let body = stats(server).await;
        if body["publishers"] == publishers && body["listeners"] == listeners {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("expected {publishers} publishers and {listeners} listeners, got {}", stats(server).await);
}

#[tokio::test]
async fn whip_and_whep_admit_the_stage_and_refuse_everyone_else() {
    let server = TestServer::start(Options::default()).await;
    let room = server.open_drop(5, 1, 60).await;
    let creator = room.creator.as_str();
    let buyer = server.account("listener_ana", "buyer").await;
    let (_, me) = server.get("/v1/accounts/me", Some(&buyer)).await;
    let buyer_id = me["id"].as_str().unwrap().to_owned();
    let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let starts_at = tomorrow.format(&time::format_description::well_known::Rfc3339).unwrap();
    let schedule = json!({"title": "Friday", "starts_at": starts_at});
    let (status, episode) =
        server.post(&format!("/v1/rooms/{}/episodes", room.room_id), Some(creator), None, schedule.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{episode}");
    let episode = episode["id"].as_str().unwrap().to_owned();
    let whip = format!("/v1/episodes/{episode}/whip");
    let whep = format!("/v1/episodes/{episode}/whep");
    let publish = offer(Direction::SendOnly, 1);
    let listen = offer(Direction::RecvOnly, 3);
    let without = |attribute: &str| {
        let lines = publish.split("\r\n").filter(|line| !line.starts_with(attribute));
        lines.collect::<Vec<_>>().join("\r\n")
    };

    // Not live yet.
    let answer = post_sdp(&server, &whip, Some(creator), "application/sdp", publish.clone()).await;
    assert_eq!((answer.status, json_error(&answer).as_str()), (StatusCode::CONFLICT, "episode_not_live"));
    let (status, _) = server.post(&format!("/v1/episodes/{episode}/start"), Some(creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // Refusals, each a JSON error, none creating a session.
    let refusals = [
        (whip.clone(), None, "application/sdp", publish.clone(), StatusCode::UNAUTHORIZED, "unauthorized"),
        (
            whip.clone(),
            Some(creator),
            "application/json",
            publish.clone(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            whip.clone(),
            Some(creator),
            "application/sdp",
            "v=0\r\nnot sdp".into(),
            StatusCode::BAD_REQUEST,
            "invalid_sdp",
        ),
        (
            whip.clone(),
            Some(creator),
            "application/sdp",
            "x".repeat(20_000),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (whip.clone(), Some(creator), "application/sdp", listen.clone(), StatusCode::BAD_REQUEST, "invalid_sdp"),
        // Without ICE credentials or a DTLS fingerprint no secure session can be set up.
        (
            whip.clone(),
            Some(creator),
            "application/sdp",
            without("a=ice-ufrag"),
            StatusCode::BAD_REQUEST,
            "invalid_sdp",
        ),
        (
            whip.clone(),
            Some(creator),
            "application/sdp",
            without("a=fingerprint"),
            StatusCode::BAD_REQUEST,
            "invalid_sdp",
        ),
        (
            whip.clone(),
            Some(&buyer),
            "application/sdp",
            publish.clone(),
            StatusCode::FORBIDDEN,
            "not_allowed_to_publish",
        ),
        (whep.clone(), Some(&buyer), "application/sdp", listen.clone(), StatusCode::FORBIDDEN, "not_in_episode"),
        (
            "/v1/episodes/ep_ff0000000999/whip".into(),
            Some(creator),
            "application/sdp",
            publish.clone(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/v1/episodes/nonsense/whep".into(),
            Some(creator),
            "application/sdp",
            listen.clone(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (path, token, content_type, body, status, code) in refusals {
        let answer = post_sdp(&server, &path, token, content_type, body).await;
        assert_eq!((answer.status, json_error(&answer).as_str()), (status, code), "{path} {content_type}");
    }
    wait_for_stats(&server, 0, 0).await;

    // The host publishes: 201, an SDP answer, and a session resource.
    let answer = post_sdp(&server, &whip, Some(creator), "application/sdp", publish.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.content_type, "application/sdp");
    assert!(
        answer.text.starts_with("v=0") && answer.text.contains("a=ice-lite") && answer.text.contains("opus/48000/2")
    );
    let host_session = answer.location.expect("a Location");
    assert!(host_session.starts_with("/v1/media/sessions/ms_"), "{host_session}");

    // A listener joins, then listens; an offer without receive sections is refused.
    let (status, _) = server.post(&format!("/v1/episodes/{episode}/join"), Some(&buyer), None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let wrong = post_sdp(&server, &whep, Some(&buyer), "application/sdp", publish.clone()).await;
    assert_eq!((wrong.status, json_error(&wrong).as_str()), (StatusCode::BAD_REQUEST, "invalid_sdp"));
    let answer = post_sdp(&server, &whep, Some(&buyer), "application/sdp", listen.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    assert_eq!(answer.text.matches("a=sendonly").count(), 3, "three slots: {}", answer.text);
    let listener_session = answer.location.unwrap();
    wait_for_stats(&server, 1, 1).await;

    // Sessions: only the owner ends one; PATCH (trickle ICE) is not supported.
    let delete = |path: String, token: String| {
        let request = server.client.delete(format!("{}{path}", server.base)).bearer_auth(token);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(delete(listener_session.clone(), creator.to_owned()).await, StatusCode::NOT_FOUND);
    assert_eq!(delete("/v1/media/sessions/ms_zz".into(), creator.to_owned()).await, StatusCode::NOT_FOUND);
    let patch =
        server.client.patch(format!("{}{host_session}", server.base)).bearer_auth(creator).send().await.unwrap();
    assert_eq!(patch.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete(listener_session.clone(), buyer.clone()).await, StatusCode::OK);
    assert_eq!(delete(listener_session, buyer.clone()).await, StatusCode::NOT_FOUND);
    wait_for_stats(&server, 1, 0).await;

    // Invited to the stage, the buyer may publish; removed, its sessions are closed by the watcher.
    let answer = post_sdp(&server, &whep, Some(&buyer), "application/sdp", listen.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let (status, _) = server
        .post(&format!("/v1/episodes/{episode}/invite"), Some(creator), None, json!({"account_id": buyer_id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = post_sdp(&server, &whip, Some(&buyer), "application/sdp", publish.clone()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text);
    wait_for_stats(&server, 2, 1).await;
    let (status, _) = server
        .post(&format!("/v1/episodes/{episode}/remove"), Some(creator), None, json!({"account_id": buyer_id}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait_for_stats(&server, 1, 0).await;

    // Admins only, for stats.
    let (status, body) = server.get("/v1/admin/media/stats", Some(&buyer)).await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, "forbidden"));

    // The episode ends: every session closes; its recordings list (nothing was said) answers.
    let (status, _) = server.post(&format!("/v1/episodes/{episode}/end"), Some(creator), None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    wait_for_stats(&server, 0, 0).await;
    let (status, body) = server.get(&format!("/v1/episodes/{episode}/recordings"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recordings"], json!([]));
    let (status, _) = server.get(&format!("/v1/episodes/{episode}/recordings/../../journal.db"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server.get("/v1/episodes/ep_ff0000000999/recordings", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
