//! The selective forwarding unit: every WebRTC session of the server (one `str0m::Rtc` each), the
//! episodes they belong to, and the forwarding of Opus packets from publishers to listeners'
//! slots. Sans-IO like the `Rtc`s it drives: time and datagrams come in as arguments, datagrams
//! go out through the `Transmit` callback, so tests and the UDP driver share one code path.

use crate::MediaError;
use crate::recording::{Recorder, RecordingCloser, RecordingTags};
use crate::slots::{LISTENER_SLOTS, SlotTable};
use domain::{AccountId, EpisodeId};
use hdrhistogram::Histogram;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use str0m::media::{Frequency, MediaData, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output, Rtc};

/// Sends one datagram; the driver's is a non-blocking `send_to` on the shared UDP socket.
pub(crate) type Transmit<'a> = &'a mut dyn FnMut(SocketAddr, &[u8]);

/// A session that has not completed ICE and DTLS within this long is dropped.
const CONNECT_TIMEOUT_MS: u64 = 20_000;
/// ICE may report a disconnect and recover (a network handover); a session still disconnected
/// after this long is dropped.
const DISCONNECTED_GRACE_MS: u64 = 10_000;
/// An ended episode is remembered this long, so a session negotiated just before the end is
/// refused rather than bringing the episode back.
const ENDED_EPISODE_KEPT_MS: u64 = 60_000;
/// Source addresses one session may use (ICE may switch paths; each is matched once).
const SESSION_ADDRESSES_MAX: usize = 8;
/// Audio is 48 kHz in RTP and in the slots' rebased timestamps.
const RTP_HZ: u64 = 48_000;
/// The step a slot's timestamps advance at least when it changes speaker (one 20 ms frame).
const SLOT_SWITCH_MIN_SAMPLES: u64 = 960;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ms_{:016x}", self.0)
    }
}

impl std::str::FromStr for SessionId {
    type Err = ();
    fn from_str(text: &str) -> Result<Self, ()> {
        let hex = text.strip_prefix("ms_").filter(|hex| hex.len() == 16).ok_or(())?;
        u64::from_str_radix(hex, 16).map(SessionId).map_err(|_| ())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// WHIP: sends audio.
    Publisher,
    /// WHEP: receives the loudest speakers on its slots.
    Listener,
}

/// A negotiated `Rtc`, ready to be driven.
pub(crate) struct NewSession {
    pub(crate) id: SessionId,
    pub(crate) episode_id: EpisodeId,
    pub(crate) account_id: AccountId,
    pub(crate) role: Role,
    /// The client's address as the HTTP server saw it, for its per-address share.
    pub(crate) client_ip: Option<IpAddr>,
    pub(crate) rtc: Rtc,
    /// A listener's send-only audio media, one per slot, in offer order.
    pub(crate) slot_mids: Vec<Mid>,
    /// The journal position at which the server checked that this account may publish/listen.
    pub(crate) checked_seq: u64,
    pub(crate) now: Instant,
}

struct Session {
    episode_id: EpisodeId,
    account_id: AccountId,
    role: Role,
    client_ip: Option<IpAddr>,
    rtc: Rtc,
    slot_mids: Vec<Mid>,
    /// The server checked this session's right to publish or listen at this journal position;
    /// until the episode's permissions are newer, that check is what counts.
    checked_seq: u64,
    next_timeout: Instant,
    connected: bool,
    disconnected_since: Option<Instant>,
    created: Instant,
    addresses: Vec<SocketAddr>,
    recording: Recording,
}

enum Recording {
    NotStarted,
    On(Recorder),
    /// Creating or writing the file failed once; it is not retried every packet.
    Failed,
}

/// One slot's outgoing timeline: every listener's slot stream carries a single, steadily rising
/// RTP clock however often its speaker changes, so players never see time jump back.
#[derive(Default)]
struct SlotStream {
    source: Option<SessionId>,
    in_anchor: u64,
    out_anchor: u64,
    last_out: u64,
    last_sent: Option<Instant>,
}

impl SlotStream {
    fn out_time(&mut self, source: SessionId, in_time: u64, now: Instant) -> u64 {
        if self.source != Some(source) {
            let elapsed =
                self.last_sent.map_or(0, |last| now.duration_since(last).as_micros() as u64 * RTP_HZ / 1_000_000);
            self.out_anchor = self.last_out + elapsed.max(SLOT_SWITCH_MIN_SAMPLES);
            self.in_anchor = in_time;
            self.source = Some(source);
        }
        let out = self.out_anchor + in_time.saturating_sub(self.in_anchor);
        self.last_out = self.last_out.max(out);
        self.last_sent = Some(now);
        out
    }
}

#[derive(Default)]
struct EpisodeMedia {
    /// Accounts whose audio may be forwarded, as of `permissions_seq` (`domain::may_publish`).
    publishers_allowed: BTreeSet<AccountId>,
    /// Accounts on the episode's stage in any role, as of `permissions_seq`; `None` until the
    /// server first says.
    members: Option<BTreeSet<AccountId>>,
    permissions_seq: u64,
    /// When the episode ended; it takes no more sessions.
    ended_at: Option<Instant>,
    publishers: Vec<SessionId>,
    listeners: Vec<SessionId>,
    slots: SlotTable<SessionId>,
    streams: [SlotStream; LISTENER_SLOTS],
}

/// Counters since start, and forwarding latency since the last `stats(reset = true)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MediaStats {
    pub publishers: u64,
    pub listeners: u64,
    pub packets_in: u64,
    pub packets_forwarded: u64,
    pub sends_dropped: u64,
    /// Microseconds from a packet's arrival to each listener's copy handed to the socket.
    pub forward_latency_us_p50: u64,
    pub forward_latency_us_p99: u64,
    pub forward_latency_us_max: u64,
    pub forward_latency_samples: u64,
    /// Microseconds from a packet's arrival to its last listener's copy: the whole fan-out.
    pub fanout_latency_us_p50: u64,
    pub fanout_latency_us_p99: u64,
    pub fanout_latency_us_max: u64,
}

pub(crate) struct Sfu {
    sessions: HashMap<SessionId, Session>,
    by_address: HashMap<SocketAddr, SessionId>,
    episodes: HashMap<EpisodeId, EpisodeMedia>,
    recordings_dir: Option<PathBuf>,
    closer: RecordingCloser,
    latency_us: Histogram<u64>,
    fanout_us: Histogram<u64>,
    packets_in: u64,
    packets_forwarded: u64,
    pub(crate) sends_dropped: u64,
    /// Reused between calls so the hot path does not allocate.
    media_scratch: Vec<MediaData>,
    due_scratch: Vec<SessionId>,
}

impl Sfu {
    pub(crate) fn new(recordings_dir: Option<PathBuf>) -> Sfu {
        Sfu {
            sessions: HashMap::new(),
            by_address: HashMap::new(),
            episodes: HashMap::new(),
            recordings_dir,
            closer: RecordingCloser::start(),
            latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            fanout_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            packets_in: 0,
            packets_forwarded: 0,
            sends_dropped: 0,
            media_scratch: Vec::new(),
            due_scratch: Vec::new(),
        }
    }

    pub(crate) fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Sessions of `role` opened from `ip`, in every episode.
    pub(crate) fn sessions_from(&self, ip: IpAddr, role: Role) -> usize {
        self.sessions.values().filter(|s| s.role == role && s.client_ip == Some(ip)).count()
    }

    pub(crate) fn sessions_of(&self, episode_id: EpisodeId, account_id: AccountId) -> usize {
        self.sessions.values().filter(|s| s.episode_id == episode_id && s.account_id == account_id).count()
    }

    /// Publishing sessions of the episode other than `account_id`'s (which a new one replaces).
    pub(crate) fn publishers_of(&self, episode_id: EpisodeId, account_id: AccountId) -> usize {
        let Some(episode) = self.episodes.get(&episode_id) else { return 0 };
        let others = |id: &&SessionId| self.sessions.get(id).is_some_and(|session| session.account_id != account_id);
        episode.publishers.iter().filter(others).count()
    }

    /// Takes a negotiated session, unless the episode ended or a permissions update newer than
    /// the server's check says the account is no longer on the stage. A publisher replaces the
    /// account's earlier publishing session in the episode (a reloaded page).
    pub(crate) fn add(&mut self, new: NewSession, transmit: Transmit<'_>) -> Result<(), MediaError> {
        let episode = self.episodes.entry(new.episode_id).or_default();
        if episode.ended_at.is_some() {
            return Err(MediaError::EpisodeEnded);
        }
        if new.checked_seq < episode.permissions_seq
            && episode.members.as_ref().is_some_and(|members| !members.contains(&new.account_id))
        {
            return Err(MediaError::NotOnStage);
        }
        let replaced: Vec<SessionId> = match new.role {
            Role::Publisher => episode
                .publishers
                .iter()
                .copied()
                .filter(|id| self.sessions.get(id).is_some_and(|session| session.account_id == new.account_id))
                .collect(),
            Role::Listener => Vec::new(),
        };
        for id in replaced {
            self.remove(id);
        }
        let episode = self.episodes.get_mut(&new.episode_id).expect("inserted above");
        match new.role {
            Role::Publisher => episode.publishers.push(new.id),
            Role::Listener => episode.listeners.push(new.id),
        }
        let mut session = Session {
            client_ip: new.client_ip,
            episode_id: new.episode_id,
            account_id: new.account_id,
            role: new.role,
            rtc: new.rtc,
            slot_mids: new.slot_mids,
            checked_seq: new.checked_seq,
            next_timeout: new.now,
            connected: false,
            disconnected_since: None,
            created: new.now,
            addresses: Vec::new(),
            recording: Recording::NotStarted,
        };
        drain(&mut session, transmit, &mut self.media_scratch);
        self.media_scratch.clear();
        self.sessions.insert(new.id, session);
        Ok(())
    }

    /// Ends a session if `account_id` owns it.
    pub(crate) fn close(&mut self, id: SessionId, account_id: AccountId) -> bool {
        if self.sessions.get(&id).is_none_or(|session| session.account_id != account_id) {
            return false;
        }
        self.remove(id);
        true
    }

    /// The episode's stage as of `seq`: who may publish, who is a member. Publishers no longer
    /// allowed stay connected but are not forwarded (a mute is undone without renegotiating);
    /// sessions of accounts no longer on the stage at all are closed.
    pub(crate) fn set_permissions(
        &mut self,
        episode_id: EpisodeId,
        seq: u64,
        publishers_allowed: BTreeSet<AccountId>,
        members: BTreeSet<AccountId>,
    ) {
        let episode = self.episodes.entry(episode_id).or_default();
        if seq < episode.permissions_seq || episode.ended_at.is_some() {
            return;
        }
        episode.permissions_seq = seq;
        episode.publishers_allowed = publishers_allowed;
        // A session the server checked after `seq` was on the stage then: this update is older.
        let gone: Vec<SessionId> = episode
            .publishers
            .iter()
            .chain(&episode.listeners)
            .copied()
            .filter(|id| {
                self.sessions
                    .get(id)
                    .is_some_and(|session| session.checked_seq <= seq && !members.contains(&session.account_id))
            })
            .collect();
        episode.members = Some(members);
        for id in gone {
            self.remove(id);
        }
    }

    /// The episode ended: every session of it closes, its recordings are finished, and it takes
    /// no new session (it is forgotten `ENDED_EPISODE_KEPT_MS` later).
    pub(crate) fn end_episode(&mut self, episode_id: EpisodeId, now: Instant) {
        let ids: Vec<SessionId> =
            self.sessions.iter().filter(|(_, session)| session.episode_id == episode_id).map(|(id, _)| *id).collect();
        for id in ids {
            self.remove(id);
        }
        let episode = self.episodes.entry(episode_id).or_default();
        episode.ended_at = Some(now);
        episode.slots = SlotTable::default();
    }

    pub(crate) fn receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        datagram: &[u8],
        transmit: Transmit<'_>,
    ) {
        let Ok(receive) = Receive::new(Protocol::Udp, source, destination, datagram) else {
            return; // neither STUN, DTLS nor (S)RTP
        };
        let input = Input::Receive(now, receive);
        let known = self.by_address.get(&source).copied().filter(|id| self.sessions[id].rtc.accepts(&input));
        // A new address is matched by its STUN username (`accepts`) and then remembered, so only a
        // session's first packets cost a scan. Only STUN can open a path (RFC 7983: a first byte
        // below 4), so other datagrams from unknown addresses are dropped without one.
        let is_stun = datagram.first().is_some_and(|first| *first < 4);
        let scanned = || self.sessions.iter().find(|(_, s)| s.rtc.accepts(&input)).map(|(id, _)| *id);
        let Some(id) = known.or_else(|| if is_stun { scanned() } else { None }) else {
            return;
        };
        let session = self.sessions.get_mut(&id).expect("found above");
        if known.is_none() && session.addresses.len() < SESSION_ADDRESSES_MAX {
            self.by_address.insert(source, id);
            session.addresses.push(source);
        }
        if let Err(error) = session.rtc.handle_input(input) {
            tracing::debug!(session = %id, %error, "rejected input");
            session.rtc.disconnect();
        }
        drain(session, transmit, &mut self.media_scratch);
        self.forward_scratch(id, now, transmit);
    }

    /// Drives every session whose timer is due, then drops the dead and the never-connected.
    /// Two passes over all sessions per wake-up: at `SESSIONS_MAX` some tens of microseconds, well
    /// under one packet's fan-out (BENCHMARKS.md); a timer heap is the step if it ever shows up.
    pub(crate) fn handle_timeouts(&mut self, now: Instant, transmit: Transmit<'_>) {
        let mut due = std::mem::take(&mut self.due_scratch);
        due.extend(self.sessions.iter().filter(|(_, session)| session.next_timeout <= now).map(|(id, _)| *id));
        for id in due.drain(..) {
            let session = self.sessions.get_mut(&id).expect("collected above");
            if let Err(error) = session.rtc.handle_input(Input::Timeout(now)) {
                tracing::debug!(session = %id, %error, "timeout failed");
                session.rtc.disconnect();
            }
            drain(session, transmit, &mut self.media_scratch);
            self.forward_scratch(id, now, transmit);
        }
        let connect_timeout = Duration::from_millis(CONNECT_TIMEOUT_MS);
        let grace = Duration::from_millis(DISCONNECTED_GRACE_MS);
        due.extend(
            self.sessions
                .iter()
                .filter(|(_, s)| {
                    !s.rtc.is_alive()
                        || (!s.connected && now.duration_since(s.created) > connect_timeout)
                        || s.disconnected_since.is_some_and(|since| now.duration_since(since) > grace)
                })
                .map(|(id, _)| *id),
        );
        for id in due.drain(..) {
            tracing::info!(session = %id, "media session ended");
            self.remove(id);
        }
        self.due_scratch = due;
        let kept = Duration::from_millis(ENDED_EPISODE_KEPT_MS);
        self.episodes.retain(|_, episode| episode.ended_at.is_none_or(|ended| now.duration_since(ended) < kept));
    }

    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        self.sessions.values().map(|session| session.next_timeout).min()
    }

    pub(crate) fn stats(&mut self, reset: bool) -> MediaStats {
        let count = |role| self.sessions.values().filter(|session| session.role == role).count() as u64;
        let stats = MediaStats {
            publishers: count(Role::Publisher),
            listeners: count(Role::Listener),
            packets_in: self.packets_in,
            packets_forwarded: self.packets_forwarded,
            sends_dropped: self.sends_dropped,
            forward_latency_us_p50: self.latency_us.value_at_quantile(0.5),
            forward_latency_us_p99: self.latency_us.value_at_quantile(0.99),
            forward_latency_us_max: self.latency_us.max(),
            forward_latency_samples: self.latency_us.len(),
            fanout_latency_us_p50: self.fanout_us.value_at_quantile(0.5),
            fanout_latency_us_p99: self.fanout_us.value_at_quantile(0.99),
            fanout_latency_us_max: self.fanout_us.max(),
        };
        if reset {
            self.latency_us.reset();
            self.fanout_us.reset();
        }
        stats
    }

    /// Closes every session and waits until every recording is finished: the server is stopping.
    pub(crate) fn shutdown(mut self) {
        let ids: Vec<SessionId> = self.sessions.keys().copied().collect();
        for id in ids {
            self.remove(id);
        }
        self.closer.finish_all();
    }

    /// Forgets a session; its recording is finished on the closer's thread.
    fn remove(&mut self, id: SessionId) {
        let Some(mut session) = self.sessions.remove(&id) else { return };
        session.rtc.disconnect();
        for address in &session.addresses {
            self.by_address.remove(address);
        }
        if let Some(episode) = self.episodes.get_mut(&session.episode_id) {
            episode.publishers.retain(|other| *other != id);
            episode.listeners.retain(|other| *other != id);
            episode.slots.remove(id);
        }
        if let Recording::On(recorder) = std::mem::replace(&mut session.recording, Recording::NotStarted) {
            self.closer.close(recorder);
        }
    }

    fn forward_scratch(&mut self, id: SessionId, now: Instant, transmit: Transmit<'_>) {
        if self.media_scratch.is_empty() {
            return;
        }
        let mut media = std::mem::take(&mut self.media_scratch);
        for data in media.drain(..) {
            self.forward(id, data, now, transmit);
        }
        self.media_scratch = media;
    }

    /// One Opus packet of a publisher: gate it on the stage, record it, and send it on its
    /// speaker's slot to every listener of the episode but the speaker.
    fn forward(&mut self, speaker_id: SessionId, data: MediaData, now: Instant, transmit: Transmit<'_>) {
        let Sfu { sessions, episodes, recordings_dir, latency_us, fanout_us, packets_in, packets_forwarded, .. } = self;
        let speaker = sessions.get_mut(&speaker_id).expect("the session that produced the data");
        let Some(episode) = episodes.get_mut(&speaker.episode_id) else { return };
        // The server's check at `checked_seq` stands until a newer permissions update (at the
        // same position both describe the same stage).
        let allowed =
            speaker.checked_seq >= episode.permissions_seq || episode.publishers_allowed.contains(&speaker.account_id);
        if speaker.role != Role::Publisher || !allowed {
            return; // muted, moved off the stage, or a listener sending audio
        }
        *packets_in += 1;
        let speaker_account = speaker.account_id;
        let in_time = data.time.rebase(Frequency::FORTY_EIGHT_KHZ).numer();
        if let Some(dir) = recordings_dir.as_ref() {
            record(speaker, speaker_id, dir, in_time, &data.data, now);
        }
        episode.slots.observe(speaker_id, data.ext_vals.audio_level, now);
        episode.slots.reassign(now);
        let Some(slot) = episode.slots.slot_of(speaker_id) else { return };
        let out_time =
            MediaTime::new(episode.streams[slot].out_time(speaker_id, in_time, now), Frequency::FORTY_EIGHT_KHZ);
        let mut forwarded = false;
        for listener_id in &episode.listeners {
            let Some(listener) = sessions.get_mut(listener_id) else { continue };
            if !listener.connected || listener.account_id == speaker_account {
                continue;
            }
            let Some(&mid) = listener.slot_mids.get(slot) else { continue };
            let Some(writer) = listener.rtc.writer(mid) else { continue };
            let Some(pt) = writer.match_params(data.params) else { continue };
            let writer = match (data.ext_vals.audio_level, data.ext_vals.voice_activity) {
                (Some(level), voice) => writer.audio_level(level, voice.unwrap_or(false)),
                _ => writer,
            };
            if let Err(error) = writer.write(pt, data.network_time, out_time, data.data.clone()) {
                tracing::debug!(session = %listener_id, %error, "write failed");
                listener.rtc.disconnect();
                continue;
            }
            // str0m packetizes queued media on its next timeout; feed it at once rather than on
            // the loop's next turn, so the packet leaves now.
            drain(listener, transmit, &mut Vec::new());
            if let Err(error) = listener.rtc.handle_input(Input::Timeout(now)) {
                tracing::debug!(session = %listener_id, %error, "timeout failed");
                listener.rtc.disconnect();
            }
            drain(listener, transmit, &mut Vec::new());
            *packets_forwarded += 1;
            let latency = Instant::now().saturating_duration_since(data.network_time);
            let _ = latency_us.record((latency.as_micros() as u64).max(1));
            forwarded = true;
        }
        if forwarded {
            let latency = Instant::now().saturating_duration_since(data.network_time);
            let _ = fanout_us.record((latency.as_micros() as u64).max(1));
        }
    }
}

/// Appends a forwarded packet to the speaker's recording, starting the file on the first one.
fn record(session: &mut Session, id: SessionId, dir: &std::path::Path, in_time: u64, packet: &[u8], now: Instant) {
    if matches!(session.recording, Recording::NotStarted) {
        let started_at =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let path = dir.join(session.episode_id.to_string()).join(format!("{}-{id}.opus", session.account_id));
        let tags = RecordingTags {
            episode_id: session.episode_id.to_string(),
            account_id: session.account_id.to_string(),
            started_at,
        };
        match Recorder::create(path, &tags, id.0 as u32, packet) {
            Ok(recorder) => session.recording = Recording::On(recorder),
            Err(error) => {
                tracing::error!(session = %id, %error, "could not start a recording");
                session.recording = Recording::Failed;
                return;
            }
        }
    }
    if let Recording::On(recorder) = &mut session.recording
        && let Err(error) = recorder.write(in_time, packet, now)
    {
        tracing::error!(session = %id, %error, "recording stopped");
        session.recording = Recording::Failed;
    }
}

/// Polls an `Rtc` until it asks for time (str0m's contract after every mutation), sending its
/// datagrams and keeping a publisher's media for forwarding.
fn drain(session: &mut Session, transmit: Transmit<'_>, media: &mut Vec<MediaData>) {
    loop {
        match session.rtc.poll_output() {
            Ok(Output::Timeout(at)) => {
                session.next_timeout = at;
                return;
            }
            Ok(Output::Transmit(datagram)) => transmit(datagram.destination, &datagram.contents),
            Ok(Output::Event(event)) => match event {
                Event::Connected => session.connected = true,
                // ICE may recover (a network handover); the sweep drops it if it does not.
                Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                    session.disconnected_since.get_or_insert_with(Instant::now);
                }
                Event::IceConnectionStateChange(_) => session.disconnected_since = None,
                Event::MediaData(data) if session.role == Role::Publisher => media.push(data),
                _ => {}
            },
            Err(error) => {
                tracing::debug!(%error, "session failed");
                session.rtc.disconnect();
                session.next_timeout = Instant::now();
                return;
            }
        }
        if !session.rtc.is_alive() {
            session.next_timeout = Instant::now();
            return;
        }
    }
}
