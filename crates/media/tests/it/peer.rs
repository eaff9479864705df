//! Synthetic WebRTC peers built on str0m: speakers that send Opus-shaped packets with RFC 6464
//! levels, listeners that record what arrives on each slot. Each owns a UDP socket on loopback and
//! is driven by `pump`, without threads, so a test decides exactly when everyone runs.

use media::{Media, Negotiated};
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

/// A packet as a listener got it.
#[derive(Clone, Debug)]
pub(crate) struct Heard {
    pub(crate) slot: usize,
    pub(crate) at: Instant,
    /// Which speaker sent it (the test payload's second byte).
    pub(crate) speaker: u8,
    pub(crate) rtp_time: u64,
}

pub(crate) struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    mids: Vec<Mid>,
    pub(crate) connected: bool,
    pub(crate) heard: Vec<Heard>,
    pub(crate) sent: u64,
    pending: Option<SdpPendingOffer>,
}

/// The payload of a 20 ms packet: a valid Opus TOC (hybrid full band, 20 ms, one frame), the
/// speaker's number, then filler, as long as a quiet voice frame.
pub(crate) fn payload(speaker: u8) -> Vec<u8> {
    let mut payload = vec![15 << 3, speaker];
    payload.resize(40, 0x55);
    payload
}

impl Peer {
    fn new(direction: Direction, n_tracks: usize) -> (Peer, String) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .clear_codecs()
            .enable_opus(true, false)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(socket.local_addr().unwrap(), "udp").unwrap());
        let mut change = rtc.sdp_api();
        let mids = (0..n_tracks).map(|_| change.add_media(MediaKind::Audio, direction, None, None, None)).collect();
        let (offer, pending) = change.apply().unwrap();
        let peer = Peer { rtc, socket, mids, connected: false, heard: Vec::new(), sent: 0, pending: Some(pending) };
        (peer, offer.to_sdp_string())
    }

    /// Offers one send-only audio track (WHIP).
    pub(crate) fn speaker() -> (Peer, String) {
        Peer::new(Direction::SendOnly, 1)
    }

    /// Offers `n_slots` receive-only audio tracks (WHEP).
    pub(crate) fn listener(n_slots: usize) -> (Peer, String) {
        Peer::new(Direction::RecvOnly, n_slots)
    }

    pub(crate) fn accept(&mut self, negotiated: &Negotiated) {
        let answer = SdpAnswer::from_sdp_string(&negotiated.answer).unwrap();
        self.rtc.sdp_api().accept_answer(self.pending.take().unwrap(), answer).unwrap();
        self.drain();
    }

    /// Reads every waiting datagram, fires due timers and sends what the `Rtc` wants sent.
    pub(crate) fn pump(&mut self) {
        let mut buffer = [0u8; 2_048];
        let local = self.socket.local_addr().unwrap();
        while let Ok((n_bytes, source)) = self.socket.recv_from(&mut buffer) {
            if let Ok(receive) = Receive::new(Protocol::Udp, source, local, &buffer[..n_bytes]) {
                self.rtc.handle_input(Input::Receive(Instant::now(), receive)).unwrap();
                self.drain();
            }
        }
        self.rtc.handle_input(Input::Timeout(Instant::now())).unwrap();
        self.drain();
    }

    fn drain(&mut self) {
        loop {
            match self.rtc.poll_output().unwrap() {
                Output::Timeout(_) => return,
                Output::Transmit(datagram) => {
                    // A full socket buffer drops the datagram, like a lossy network would.
                    let _ = self.socket.send_to(&datagram.contents, datagram.destination);
                }
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::MediaData(data)) => {
                    let slot = self.mids.iter().position(|mid| *mid == data.mid).expect("a negotiated mid");
                    self.heard.push(Heard {
                        slot,
                        at: Instant::now(),
                        speaker: data.data.get(1).copied().unwrap_or(u8::MAX),
                        rtp_time: data.time.numer(),
                    });
                }
                Output::Event(_) => {}
            }
        }
    }

    /// Sends one 20 ms packet stamped `rtp_time` (48 kHz) at the RFC 6464 level `level_dbov`
    /// (0 loudest, -127 silence).
    pub(crate) fn say(&mut self, speaker: u8, rtp_time: u64, level_dbov: i8) {
        let writer = self.rtc.writer(self.mids[0]).expect("a send track");
        let pt = writer.payload_params().next().expect("opus negotiated").pt();
        let writer = writer.audio_level(level_dbov, level_dbov > -127);
        writer
            .write(pt, Instant::now(), MediaTime::new(rtp_time, Frequency::FORTY_EIGHT_KHZ), payload(speaker))
            .unwrap();
        self.sent += 1;
        // Queued media is packetized on the next timeout.
        self.drain();
        self.rtc.handle_input(Input::Timeout(Instant::now())).unwrap();
        self.drain();
    }
}

/// Pumps every peer until `done` holds or `limit` passes; returns whether `done` held.
pub(crate) fn pump_until(peers: &mut [&mut Peer], limit: Duration, mut done: impl FnMut(&[&mut Peer]) -> bool) -> bool {
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
pub(crate) async fn connect_speaker(media: &Media, episode: domain::EpisodeId, account: domain::AccountId) -> Peer {
    let (mut peer, offer) = Peer::speaker();
    let negotiated = media.publish(episode, account, 0, &offer).await.unwrap();
    peer.accept(&negotiated);
    assert!(pump_until(&mut [&mut peer], Duration::from_secs(10), |peers| peers[0].connected), "speaker connects");
    peer
}

/// Connects a listener with `n_slots` slots through WHEP for `account`.
pub(crate) async fn connect_listener(
    media: &Media,
    episode: domain::EpisodeId,
    account: domain::AccountId,
    n_slots: usize,
) -> Peer {
    let (mut peer, offer) = Peer::listener(n_slots);
    let negotiated = media.listen(episode, account, 0, &offer).await.unwrap();
    peer.accept(&negotiated);
    assert!(pump_until(&mut [&mut peer], Duration::from_secs(10), |peers| peers[0].connected), "listener connects");
    peer
}
