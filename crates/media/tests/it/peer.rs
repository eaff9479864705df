//! `media::peer::Peer` on a loopback socket of its own, driven by `pump` without threads, so a
//! test decides exactly when everyone runs. A test packet is a valid Opus TOC (hybrid full band,
//! 20 ms, one frame), the speaker's number, then filler.

use media::Media;
use media::peer::Peer;
use std::net::UdpSocket;
use std::time::{Duration, Instant};
use str0m::media::Direction;

/// A packet as a listener got it, with the speaker's number read from the payload.
#[derive(Clone, Debug)]
pub(crate) struct Heard {
    pub(crate) slot: usize,
    pub(crate) at: Instant,
    pub(crate) speaker: u8,
    pub(crate) rtp_time: u64,
}

pub(crate) struct TestPeer {
    peer: Peer,
    socket: UdpSocket,
    pub(crate) heard: Vec<Heard>,
}

fn payload(speaker: u8) -> Vec<u8> {
    let mut payload = vec![15 << 3, speaker];
    payload.resize(40, 0x55);
    payload
}

impl TestPeer {
    fn new(direction: Direction, n_tracks: usize) -> (TestPeer, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let (peer, offer) = Peer::new(socket.local_addr().unwrap(), direction, n_tracks);
        (TestPeer { peer, socket, heard: Vec::new() }, offer)
    }

    /// A listener's offer of `n_slots` slots, for tests that only negotiate.
    pub(crate) fn offer_for_listener(n_slots: usize) -> (TestPeer, String) {
        TestPeer::new(Direction::RecvOnly, n_slots)
    }

    /// A speaker's offer, for tests that only negotiate.
    pub(crate) fn offer_for_speaker() -> (TestPeer, String) {
        TestPeer::new(Direction::SendOnly, 1)
    }

    pub(crate) fn connected(&self) -> bool {
        self.peer.connected
    }

    pub(crate) fn sent(&self) -> u64 {
        self.peer.sent
    }

    /// Reads every waiting datagram, fires due timers and sends what the peer wants sent.
    pub(crate) fn pump(&mut self) {
        let mut buffer = [0u8; 2_048];
        while let Ok((n_bytes, source)) = self.socket.recv_from(&mut buffer) {
            self.peer.receive(Instant::now(), source, &buffer[..n_bytes]).unwrap();
        }
        self.peer.timeout(Instant::now()).unwrap();
        self.flush();
    }

    fn flush(&mut self) {
        for (destination, datagram) in self.peer.take_transmits() {
            // A full socket buffer drops the datagram, like a lossy network would.
            let _ = self.socket.send_to(&datagram, destination);
        }
        for heard in self.peer.take_heard() {
            let speaker = heard.payload.get(1).copied().unwrap_or(u8::MAX);
            self.heard.push(Heard { slot: heard.slot, at: heard.at, speaker, rtp_time: heard.rtp_time });
        }
    }

    /// Sends one 20 ms packet of speaker `speaker` stamped `rtp_time` at `level_dbov`.
    pub(crate) fn say(&mut self, speaker: u8, rtp_time: u64, level_dbov: i8) {
        self.peer.say(Instant::now(), rtp_time, level_dbov, &payload(speaker)).unwrap();
        self.flush();
    }
}

/// Pumps every peer until `done` holds or `limit` passes; returns whether `done` held.
pub(crate) fn pump_until(
    peers: &mut [&mut TestPeer],
    limit: Duration,
    mut done: impl FnMut(&[&mut TestPeer]) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        for peer in peers.iter_mut() {
            peer.pump();
        }
        if done(peers) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

/// Connects a speaker through WHIP for `account`.
pub(crate) async fn connect_speaker(media: &Media, episode: domain::EpisodeId, account: domain::AccountId) -> TestPeer {
    let (mut peer, offer) = TestPeer::new(Direction::SendOnly, 1);
    let negotiated =
        media.publish(episode, account, Some(std::net::Ipv4Addr::LOCALHOST.into()), 0, &offer).await.unwrap();
    peer.peer.accept(&negotiated.answer).unwrap();
    assert!(pump_until(&mut [&mut peer], Duration::from_secs(10), |peers| peers[0].connected()), "speaker connects");
    peer
}

/// Connects a listener with `n_slots` slots through WHEP for `account`.
pub(crate) async fn connect_listener(
    media: &Media,
    episode: domain::EpisodeId,
    account: domain::AccountId,
    n_slots: usize,
) -> TestPeer {
    let (mut peer, offer) = TestPeer::new(Direction::RecvOnly, n_slots);
    let negotiated =
        media.listen(episode, account, Some(std::net::Ipv4Addr::LOCALHOST.into()), 0, &offer).await.unwrap();
    peer.peer.accept(&negotiated.answer).unwrap();
    assert!(pump_until(&mut [&mut peer], Duration::from_secs(10), |peers| peers[0].connected()), "listener connects");
    peer
}
