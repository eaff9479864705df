//! The SFU end to end over loopback UDP with synthetic str0m peers: DTLS, SRTP and ICE are real,
//! only the audio is made up (Opus-shaped packets with RFC 6464 levels).

mod peer;

use domain::{AccountId, EntityId, EpisodeId};
use media::{Media, MediaConfig};
use peer::{TestPeer, connect_listener, connect_speaker, pump_until};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn account(serial: u64) -> AccountId {
    AccountId(EntityId { partition: 1, serial })
}

fn episode(serial: u64) -> EpisodeId {
    EpisodeId(EntityId { partition: 1, serial })
}

const LOCALHOST: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

fn start(recordings: Option<&std::path::Path>) -> Media {
    Media::start(MediaConfig::new("127.0.0.1:0".parse().unwrap(), None, recordings.map(|dir| dir.to_path_buf())))
        .unwrap()
}

/// Sends 20 ms packets from each (speaker, number, level) for `duration`, at real time, pumping
/// every peer in between. `rtp` holds each speaker's next RTP time.
fn talk(
    speakers: &mut [(&mut TestPeer, u8, i8)],
    listeners: &mut [&mut TestPeer],
    rtp: &mut [u64],
    duration: Duration,
) {
    let start = Instant::now();
    let mut next_frame = start;
    while Instant::now() < start + duration {
        if Instant::now() >= next_frame {
            for (idx, (peer, number, level)) in speakers.iter_mut().enumerate() {
                peer.say(*number, rtp[idx], *level);
                rtp[idx] += 960;
            }
            next_frame += Duration::from_millis(20);
        }
        for (peer, _, _) in speakers.iter_mut() {
            peer.pump();
        }
        for peer in listeners.iter_mut() {
            peer.pump();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The str0m trap: a stream whose SRTP index starts past the first 65 536 packets is sealed with a
/// rollover counter the new receiver cannot know, so it hears nothing. The SFU writes each
/// listener's slots through str0m's media API, which numbers packets per outgoing stream from
/// the start, so a listener who joins after the speaker's 70 000th packet hears them.
#[tokio::test(flavor = "multi_thread")]
async fn a_listener_joining_after_65536_packets_hears_the_speaker() {
    let media = start(None);
    let (ep, host, early, late) = (episode(1), account(1), account(2), account(3));
    let mut speaker = connect_speaker(&media, ep, host).await;
    let mut first = connect_listener(&media, ep, early, 3).await;
    // 70 000 packets, well past the 16-bit sequence space, as fast as loopback takes them.
    let mut rtp = 0u64;
    while speaker.sent() < 70_000 {
        for _ in 0..100 {
            speaker.say(7, rtp, -30);
            rtp += 960;
        }
        speaker.pump();
        first.pump();
        std::thread::sleep(Duration::from_micros(500));
    }
    let heard_early = first.heard.len();
    assert!(heard_early > 1_000, "the early listener heard {heard_early} packets during the burst");

    let mut second = connect_listener(&media, ep, late, 3).await;
    let mut rtp = [rtp];
    talk(&mut [(&mut speaker, 7, -30)], &mut [&mut first, &mut second], &mut rtp, Duration::from_secs(1));
    let heard_late = second.heard.iter().filter(|heard| heard.speaker == 7).count();
    assert!(heard_late >= 40, "the late listener heard {heard_late} of ~50 packets");
    assert!(first.heard.len() > heard_early + 40, "the early listener still hears");
    let stats = media.stats(false).await.unwrap();
    assert_eq!((stats.publishers, stats.listeners), (1, 2));
    media.shutdown();
}

/// Four speakers, three slots: when a slot holder falls silent and the fourth starts talking, the
/// listener hears the fourth within a second, on the freed slot, and never its own voice.
#[tokio::test(flavor = "multi_thread")]
async fn switching_the_active_speaker_is_heard_within_a_second() {
    let media = start(None);
    let ep = episode(2);
    let mut a = connect_speaker(&media, ep, account(11)).await;
    let mut b = connect_speaker(&media, ep, account(12)).await;
    let mut c = connect_speaker(&media, ep, account(13)).await;
    let mut d = connect_speaker(&media, ep, account(14)).await;
    // The listener is also speaker a's account: a's audio must never come back to it.
    let mut listener = connect_listener(&media, ep, account(11), 3).await;
    let mut rtp = [0u64; 4];
    // a, b, c talk; d sends silence (a muted microphone still sends packets at -127 dBov).
    talk(
        &mut [(&mut a, 1, -30), (&mut b, 2, -35), (&mut c, 3, -40), (&mut d, 4, -127)],
        &mut [&mut listener],
        &mut rtp,
        Duration::from_millis(1_500),
    );
    let speakers_heard: BTreeSet<u8> = listener.heard.iter().map(|heard| heard.speaker).collect();
    assert_eq!(speakers_heard, BTreeSet::from([2, 3]), "b and c on slots, a is the listener's own voice, d silent");
    let c_slot = listener.heard.iter().rev().find(|heard| heard.speaker == 3).unwrap().slot;

    let switched_at = Instant::now();
    talk(
        &mut [(&mut a, 1, -30), (&mut b, 2, -35), (&mut c, 3, -127), (&mut d, 4, -25)],
        &mut [&mut listener],
        &mut rtp,
        Duration::from_millis(1_500),
    );
    let first_d = listener.heard.iter().find(|heard| heard.speaker == 4).expect("d is heard");
    let delay = first_d.at.duration_since(switched_at);
    assert!(delay < Duration::from_secs(1), "d was heard {delay:?} after the switch");
    assert_eq!(first_d.slot, c_slot, "d took the slot c left");
    // The slot's clock never goes back across the change of speaker.
    let on_slot: Vec<u64> =
        listener.heard.iter().filter(|heard| heard.slot == c_slot).map(|heard| heard.rtp_time).collect();
    assert!(on_slot.windows(2).all(|pair| pair[0] < pair[1]), "rtp time rises on the slot");
    media.shutdown();
}

/// A muted speaker is not forwarded and a member who left the stage loses the session; the
/// recording of a speaker who paused lasts as long as the talk, pause included.
#[tokio::test(flavor = "multi_thread")]
async fn permissions_gate_forwarding_and_recordings_keep_time() {
    let recordings = tempfile::tempdir().unwrap();
    let media = start(Some(recordings.path()));
    let (ep, host, guest) = (episode(3), account(21), account(22));
    let mut speaker = connect_speaker(&media, ep, host).await;
    let mut listener = connect_listener(&media, ep, guest, 1).await;
    let members = BTreeSet::from([host, guest]);
    let mut rtp = [48_000 * 7u64];
    let talk_started = Instant::now();
    talk(&mut [(&mut speaker, 9, -30)], &mut [&mut listener], &mut rtp, Duration::from_millis(1_000));
    assert!(listener.heard.len() >= 40);

    // Muted at seq 10: nothing more is forwarded. An older update (seq 5) changes nothing.
    media.set_permissions(ep, 10, BTreeSet::new(), members.clone()).await.unwrap();
    media.set_permissions(ep, 5, BTreeSet::from([host]), members.clone()).await.unwrap();
    pump_until(&mut [&mut speaker, &mut listener], Duration::from_millis(100), |_| false);
    let heard_before_mute = listener.heard.len();
    talk(&mut [(&mut speaker, 9, -30)], &mut [&mut listener], &mut rtp, Duration::from_millis(1_000));
    assert!(listener.heard.len() <= heard_before_mute + 2, "a muted speaker is not forwarded");

    // Unmuted: heard again, and the recording fills the muted second with silence.
    media.set_permissions(ep, 11, BTreeSet::from([host]), members.clone()).await.unwrap();
    talk(&mut [(&mut speaker, 9, -30)], &mut [&mut listener], &mut rtp, Duration::from_millis(1_000));
    assert!(listener.heard.len() >= heard_before_mute + 40, "heard again after unmute");
    let talk_time = talk_started.elapsed();
    // The speaker's clock: 20 ms per packet sent, mute included (a muted browser keeps sending).
    let on_air_ms = speaker.sent() as i64 * 20;

    // The guest leaves the stage: its session is closed by the next permissions update.
    media.set_permissions(ep, 12, BTreeSet::from([host]), BTreeSet::from([host])).await.unwrap();
    assert_eq!(media.stats(false).await.unwrap().listeners, 0);
    media.end_episode(ep).await.unwrap();
    assert_eq!(media.stats(false).await.unwrap().publishers, 0);

    // The recording is finished on a helper thread; wait for its end-of-stream page.
    let deadline = Instant::now() + Duration::from_secs(5);
    let info = loop {
        let infos = media.recordings(ep).unwrap();
        if let Some(info) = infos.iter().find(|info| info.complete) {
            break info.clone();
        }
        assert!(Instant::now() < deadline, "the recording was not finished: {infos:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(info.tags.account_id, host.to_string());
    assert_eq!(info.tags.episode_id, ep.to_string());
    let drift_ms = info.duration_ms as i64 - on_air_ms;
    assert!(drift_ms.abs() <= 60, "recorded {} ms of {on_air_ms} ms on air", info.duration_ms);
    let wall_ms = talk_time.as_millis() as i64;
    assert!((info.duration_ms as i64 - wall_ms).abs() <= 250, "recorded {} ms in {wall_ms} ms", info.duration_ms);
    assert!(media.recording_path(ep, &info.file_name).is_some());
    assert!(media.recording_path(ep, "../secret.opus").is_none());
    media.shutdown();
}

/// The server's check and the stage's updates race: whichever is newer (by journal `seq`) wins.
/// A session checked before an update that took the account off the stage is refused; one
/// checked after it is kept by that (older) update and closed by the next. An ended episode takes
/// no new session, and shutting down finishes every recording before it returns.
#[tokio::test(flavor = "multi_thread")]
async fn the_newer_of_check_and_stage_update_wins_and_shutdown_finishes_recordings() {
    let recordings = tempfile::tempdir().unwrap();
    let media = start(Some(recordings.path()));
    let (ep, host, guest) = (episode(4), account(31), account(32));
    let (_, offer) = TestPeer::offer_for_listener(3);
    media.set_permissions(ep, 10, BTreeSet::from([host]), BTreeSet::from([host])).await.unwrap();
    let stale = media.listen(ep, guest, Some(LOCALHOST), 5, &offer).await.unwrap_err();
    assert_eq!(stale, media::MediaError::NotOnStage, "checked at 5, off the stage at 10");
    media.listen(ep, guest, Some(LOCALHOST), 12, &offer).await.unwrap();
    media.set_permissions(ep, 11, BTreeSet::from([host]), BTreeSet::from([host])).await.unwrap();
    assert_eq!(media.stats(false).await.unwrap().listeners, 1, "the update at 11 predates the check at 12");
    media.set_permissions(ep, 13, BTreeSet::from([host]), BTreeSet::from([host])).await.unwrap();
    assert_eq!(media.stats(false).await.unwrap().listeners, 0, "the update at 13 is newer");

    // A speaker talks, then the server stops: the recording is complete when shutdown returns.
    let mut speaker = connect_speaker(&media, ep, host).await;
    let mut rtp = [0u64];
    talk(&mut [(&mut speaker, 1, -30)], &mut [], &mut rtp, Duration::from_millis(400));
    media.end_episode(ep).await.unwrap();
    let late = media.listen(ep, host, Some(LOCALHOST), 100, &offer).await.unwrap_err();
    assert_eq!(late, media::MediaError::EpisodeEnded);
    media.shutdown();
    let infos = media.recordings(ep).unwrap();
    assert_eq!(infos.len(), 1);
    assert!(infos[0].complete, "finished before shutdown returned: {infos:?}");
    assert!(infos[0].duration_ms >= 300, "{infos:?}");
    assert_eq!(media.stats(false).await.unwrap_err(), media::MediaError::Stopped);
}

/// Listeners stop short of the places reserved for publishers, and one address holds at most its
/// share of listening sessions, while other addresses and the stage still get in.
#[tokio::test(flavor = "multi_thread")]
async fn listeners_leave_the_publishers_reserve_and_share_places_by_address() {
    let media = Media::start(MediaConfig {
        sessions_max: 4,
        publishers_reserved: 2,
        listeners_per_ip_max: 1,
        publishers_per_ip_max: 1,
        ..MediaConfig::new("127.0.0.1:0".parse().unwrap(), None, None)
    })
    .unwrap();
    let (ep, host) = (episode(9), account(90));
    let (one, two, three) =
        (Some("127.0.0.1".parse().unwrap()), Some("127.0.0.2".parse().unwrap()), Some("127.0.0.3".parse().unwrap()));
    let (_, listen) = TestPeer::offer_for_listener(3);
    media.listen(ep, account(91), one, 0, &listen).await.unwrap();
    let crowded = media.listen(ep, account(92), one, 0, &listen).await.unwrap_err();
    assert_eq!(crowded, media::MediaError::TooManyFromAddress, "one address, one listening place");
    media.listen(ep, account(93), two, 0, &listen).await.unwrap();
    let full = media.listen(ep, account(94), three, 0, &listen).await.unwrap_err();
    assert_eq!(full, media::MediaError::Full, "the last place is the publishers'");
    let (_, publish) = TestPeer::offer_for_speaker();
    media.publish(ep, host, one, 0, &publish).await.expect("the host is never starved of a publishing place");
    // Publishers have their own share per address: a second stage from the same place waits.
    let second = media.publish(episode(10), account(95), one, 0, &publish).await.unwrap_err();
    assert_eq!(second, media::MediaError::TooManyFromAddress);
    media.publish(episode(10), account(95), two, 0, &publish).await.expect("another address publishes");
    media.shutdown();
}
