//! A synthetic WebRTC client on str0m, for tests and the audio load generator: a speaker that
//! sends Opus-shaped packets with RFC 6464 levels, or a listener that keeps what arrives on each
//! slot. Sans-IO like the SFU: datagrams and time come in as arguments and go out through
//! `take_transmits`, so the caller owns the sockets (a loop in a test, tasks in the load generator).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcError};

/// A packet as a listener got it.
#[derive(Clone, Debug)]
pub struct Heard {
    /// Which of the listener's slots carried it.
    pub slot: usize,
    pub at: Instant,
    pub rtp_time: u64,
    pub payload: Arc<[u8]>,
}

pub struct Peer {
    rtc: Rtc,
    local: SocketAddr,
    mids: Vec<Mid>,
    pending: Option<SdpPendingOffer>,
    transmits: Vec<(SocketAddr, Vec<u8>)>,
    next_timeout: Instant,
    pub connected: bool,
    /// What arrived since the last `take_heard`.
    heard: Vec<Heard>,
    /// Packets written so far.
    pub sent: u64,
}

impl Peer {
    /// A client on `local` offering `n_tracks` audio sections in `direction` (send-only for WHIP,
    /// receive-only for WHEP); returns it with the SDP offer to post.
    pub fn new(local: SocketAddr, direction: Direction, n_tracks: usize) -> (Peer, String) {
        let now = Instant::now();
        let mut rtc = Rtc::builder()
            .set_crypto_provider(Arc::new(str0m::crypto::from_feature_flags()))
            .clear_codecs()
            .enable_opus(true, false)
            .set_extension_map(crate::audio_extensions())
            .build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").expect("a loopback or host address"));
        let mut change = rtc.sdp_api();
        let mids = (0..n_tracks).map(|_| change.add_media(MediaKind::Audio, direction, None, None, None)).collect();
        let (offer, pending) = change.apply().expect("an offer with media");
        let peer = Peer {
            rtc,
            local,
            mids,
            pending: Some(pending),
            transmits: Vec::new(),
            next_timeout: now,
            connected: false,
            heard: Vec::new(),
            sent: 0,
        };
        (peer, offer.to_sdp_string())
    }

    /// Applies the server's SDP answer; ICE starts on the next `timeout`.
    pub fn accept(&mut self, answer: &str) -> Result<(), String> {
        let answer = SdpAnswer::from_sdp_string(answer).map_err(|error| error.to_string())?;
        let pending = self.pending.take().ok_or("the offer was answered already")?;
        self.rtc.sdp_api().accept_answer(pending, answer).map_err(|error| error.to_string())?;
        self.drain().map_err(|error| error.to_string())
    }

    pub fn receive(&mut self, now: Instant, source: SocketAddr, datagram: &[u8]) -> Result<(), RtcError> {
        let Ok(receive) = Receive::new(Protocol::Udp, source, self.local, datagram) else {
            return Ok(());
        };
        self.rtc.handle_input(Input::Receive(now, receive))?;
        self.drain()
    }

    pub fn timeout(&mut self, now: Instant) -> Result<(), RtcError> {
        self.rtc.handle_input(Input::Timeout(now))?;
        self.drain()
    }

    /// When `timeout` wants to be called next.
    pub fn next_timeout(&self) -> Instant {
        self.next_timeout
    }

    /// Sends one packet stamped `rtp_time` (48 kHz) at the RFC 6464 level `level_dbov` (0 is the
    /// loudest, -127 silence) on the first track.
    pub fn say(&mut self, now: Instant, rtp_time: u64, level_dbov: i8, payload: &[u8]) -> Result<(), RtcError> {
        let Some(writer) = self.rtc.writer(self.mids[0]) else {
            return Ok(()); // not negotiated yet
        };
        let Some(pt) = writer.payload_params().next().map(|params| params.pt()) else {
            return Ok(());
        };
        let writer = writer.audio_level(level_dbov, level_dbov > -127);
        writer.write(pt, now, MediaTime::new(rtp_time, Frequency::FORTY_EIGHT_KHZ), payload.to_vec())?;
        self.sent += 1;
        self.drain()?;
        // Queued media is packetized on the next timeout: feed it now so the packet leaves now.
        self.timeout(now)
    }

    /// Datagrams to send, with their destinations.
    pub fn take_transmits(&mut self) -> std::vec::Drain<'_, (SocketAddr, Vec<u8>)> {
        self.transmits.drain(..)
    }

    pub fn take_heard(&mut self) -> Vec<Heard> {
        std::mem::take(&mut self.heard)
    }

    fn drain(&mut self) -> Result<(), RtcError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(at) => {
                    self.next_timeout = at;
                    return Ok(());
                }
                Output::Transmit(datagram) => self.transmits.push((datagram.destination, datagram.contents.to_vec())),
                Output::Event(Event::Connected) => self.connected = true,
                Output::Event(Event::MediaData(data)) => {
                    let Some(slot) = self.mids.iter().position(|mid| *mid == data.mid) else { continue };
                    let rtp_time = data.time.numer();
                    self.heard.push(Heard { slot, at: Instant::now(), rtp_time, payload: data.data });
                }
                Output::Event(_) => {}
            }
        }
    }
}
