//! The audio of live rooms: an SFU on str0m (sans-IO WebRTC). Speakers publish with WHIP
//! (RFC 9725), listeners play with WHEP; Opus is forwarded as it arrives, never decoded. Each
//! listener has `LISTENER_SLOTS` receive slots carried by the loudest speakers (RFC 6464 levels),
//! every session shares one UDP port, and each speaker is recorded to Ogg Opus (RFC 7845) beside
//! the episode. Who may publish is not decided here: the server feeds the stage's
//! `domain::may_publish` answers in (`Media::set_permissions`) and the SFU only forwards those.
//!
//! `sfu.rs` is the forwarding core (sessions, episodes, slots' timelines), `slots.rs` the
//! loudest-speaker choice, `recording.rs` the Ogg Opus files, `opus.rs` packet durations, and
//! `driver.rs` the socket and the thread around them. `peer.rs` (feature `peer`) is a synthetic client
//! for the tests and the audio load generator, kept out of the server's build.

mod driver;
mod opus;
#[cfg(feature = "peer")]
pub mod peer;
mod recording;
mod sfu;
mod slots;

pub use recording::{RecordingInfo, RecordingTags, read_info};
pub use sfu::{MediaStats, Role, SessionId};
pub use slots::LISTENER_SLOTS;

use domain::{AccountId, EpisodeId};
use driver::Command;
use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use str0m::change::SdpOffer;
use str0m::config::{CryptoProvider, DtlsCert};
use str0m::media::{Direction, MediaKind};
use str0m::rtp::{Extension, ExtensionMap};
use str0m::{Candidate, Rtc};
use tokio::sync::{mpsc, oneshot};

/// WebRTC sessions (publishers and listeners together) one server drives.
pub const SESSIONS_MAX: usize = 2_000;
/// Of `SESSIONS_MAX`, places only publishers (host, moderators, speakers) may take: listeners
/// filling the server never leave the stage without audio.
pub const PUBLISHER_SESSIONS_RESERVED: usize = 64;
/// Listening sessions one client address may hold (throwaway accounts from one place cannot take
/// every listening place).
pub const LISTENERS_PER_IP_DEFAULT: usize = 32;
/// Publishing sessions one client address may hold, in every episode: a studio's few speakers, not
/// a script's self-made stages eating the publishers' reserve.
pub const PUBLISHERS_PER_IP_DEFAULT: usize = 8;
/// Sessions one account may hold in one episode (a reloaded page leaves its listening session
/// behind until ICE notices it is gone; a new publishing session replaces the account's last).
pub const ACCOUNT_SESSIONS_MAX: usize = 4;
/// Publishing accounts per episode: the stage may be large, but only this many may send at once.
pub const EPISODE_PUBLISHERS_MAX: usize = 16;
/// An SDP offer is a few kilobytes; anything beyond this is refused before parsing. (Over HTTP the
/// server's 16 KiB body limit comes first.)
pub const SDP_BYTES_MAX: usize = 32 * 1_024;
/// Commands queued for the SFU thread; a full queue answers 503.
const COMMANDS_MAX: usize = 1_024;

#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// UDP address every session shares.
    pub listen: SocketAddr,
    /// The address put in the ICE candidate, when `listen` is a wildcard or behind 1:1 NAT.
    pub public_ip: Option<IpAddr>,
    /// Where per-speaker recordings go (`<dir>/<episode_id>/<account>-<session>.opus`); `None`
    /// records nothing.
    pub recordings_dir: Option<PathBuf>,
    /// Sessions in all (`SESSIONS_MAX`), of which `PUBLISHER_SESSIONS_RESERVED` only for publishers.
    pub sessions_max: usize,
    pub publishers_reserved: usize,
    /// Listening sessions per client address; 0 turns the cap off (load tests from one address).
    pub listeners_per_ip_max: usize,
    /// Publishing sessions per client address; 0 turns the cap off.
    pub publishers_per_ip_max: usize,
}

impl MediaConfig {
    /// The default limits on `listen`, with `public_ip` and `recordings_dir` as given.
    pub fn new(listen: SocketAddr, public_ip: Option<IpAddr>, recordings_dir: Option<PathBuf>) -> MediaConfig {
        MediaConfig {
            listen,
            public_ip,
            recordings_dir,
            sessions_max: SESSIONS_MAX,
            publishers_reserved: PUBLISHER_SESSIONS_RESERVED,
            listeners_per_ip_max: LISTENERS_PER_IP_DEFAULT,
            publishers_per_ip_max: PUBLISHERS_PER_IP_DEFAULT,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the sdp offer could not be used: {0}")]
    InvalidSdp(String),
    #[error("the media server has no room for another session")]
    Full,
    #[error("this account already has {ACCOUNT_SESSIONS_MAX} media sessions in this episode")]
    TooManySessions,
    #[error("this episode already has {EPISODE_PUBLISHERS_MAX} publishers")]
    TooManyPublishers,
    #[error("too many media sessions from this address")]
    TooManyFromAddress,
    #[error("the media server is busy")]
    Busy,
    #[error("the episode has ended")]
    EpisodeEnded,
    #[error("the account is no longer on the episode's stage")]
    NotOnStage,
    #[error("the media server is not running")]
    Stopped,
    #[error("cannot start the media server: {0}")]
    Start(String),
}

/// A negotiated session: the SDP answer and the id its WHIP/WHEP resource is named by.
#[derive(Clone, Debug)]
pub struct Negotiated {
    pub session_id: SessionId,
    pub answer: String,
}

/// The RTP header extensions an audio room needs: the RFC 6464 level (which speaker is loudest)
/// and the MID (which section a stream belongs to). Leaving out transport-wide congestion control
/// spares every listener's feedback and its processing: audio at a few dozen kbit/s is not
/// bandwidth-estimated.
pub fn audio_extensions() -> ExtensionMap {
    let mut extensions = ExtensionMap::empty();
    extensions.set(1, Extension::AudioLevel);
    extensions.set(4, Extension::RtpMid);
    extensions
}

/// The handle the HTTP layer holds; the SFU itself runs on its own thread.
pub struct Media {
    /// Taken (and so the queue closed) by `shutdown`.
    commands: std::sync::Mutex<Option<mpsc::Sender<Command>>>,
    candidate: SocketAddr,
    recordings_dir: Option<PathBuf>,
    crypto: Arc<CryptoProvider>,
    /// One DTLS certificate for every session: generating a key pair per session would cost
    /// more than the rest of the negotiation.
    certificate: DtlsCert,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Media {
    /// Binds the UDP socket and starts the SFU thread.
    pub fn start(config: MediaConfig) -> Result<Media, MediaError> {
        let start_error = |what: &str, error: &dyn std::fmt::Display| MediaError::Start(format!("{what}: {error}"));
        let socket = std::net::UdpSocket::bind(config.listen).map_err(|error| start_error("binding udp", &error))?;
        socket.set_nonblocking(true).map_err(|error| start_error("udp socket", &error))?;
        let local = socket.local_addr().map_err(|error| start_error("udp socket", &error))?;
        let ip = config.public_ip.unwrap_or(local.ip());
        if ip.is_unspecified() {
            return Err(MediaError::Start(format!(
                "{local} is a wildcard address; give the address clients reach (--media-public-ip)"
            )));
        }
        let candidate = SocketAddr::new(ip, local.port());
        Candidate::host(candidate, "udp").map_err(|error| start_error("ice candidate", &error))?;
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let certificate = crypto
            .dtls_provider
            .generate_certificate()
            .ok_or_else(|| MediaError::Start("could not generate a dtls certificate".into()))?;
        let (commands, inbox) = mpsc::channel(COMMANDS_MAX);
        let recordings_dir = config.recordings_dir.clone();
        let limits = driver::Limits {
            sessions_max: config.sessions_max,
            publishers_reserved: config.publishers_reserved,
            listeners_per_ip_max: config.listeners_per_ip_max,
            publishers_per_ip_max: config.publishers_per_ip_max,
            account_sessions_max: ACCOUNT_SESSIONS_MAX,
            episode_publishers_max: EPISODE_PUBLISHERS_MAX,
        };
        let thread = std::thread::Builder::new()
            .name("livedrop-sfu".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async move {
                    let socket = tokio::net::UdpSocket::from_std(socket).expect("a non-blocking socket");
                    driver::run(sfu::Sfu::new(recordings_dir), socket, inbox, limits).await;
                });
            })
            .map_err(|error| start_error("spawning the sfu thread", &error))?;
        tracing::info!(udp = %local, candidate = %candidate, "media server started");
        Ok(Media {
            commands: std::sync::Mutex::new(Some(commands)),
            candidate,
            recordings_dir: config.recordings_dir,
            crypto,
            certificate,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// The address in every session's ICE candidate.
    pub fn candidate(&self) -> SocketAddr {
        self.candidate
    }

    /// WHIP: accepts a speaker's offer from `client_ip` (`None` counts against no address). The
    /// caller has checked, as of journal position `checked_seq`, that `account_id` may publish.
    pub async fn publish(
        &self,
        episode_id: EpisodeId,
        account_id: AccountId,
        client_ip: Option<IpAddr>,
        checked_seq: u64,
        offer: &str,
    ) -> Result<Negotiated, MediaError> {
        self.open(Role::Publisher, episode_id, account_id, client_ip, checked_seq, offer).await
    }

    /// WHEP: accepts a listener's offer from `client_ip` (whose share of listening sessions is
    /// counted; `None` counts against no address); its first `LISTENER_SLOTS` receive-only audio
    /// sections become its slots.
    pub async fn listen(
        &self,
        episode_id: EpisodeId,
        account_id: AccountId,
        client_ip: Option<IpAddr>,
        checked_seq: u64,
        offer: &str,
    ) -> Result<Negotiated, MediaError> {
        self.open(Role::Listener, episode_id, account_id, client_ip, checked_seq, offer).await
    }

    async fn open(
        &self,
        role: Role,
        episode_id: EpisodeId,
        account_id: AccountId,
        client_ip: Option<IpAddr>,
        checked_seq: u64,
        offer: &str,
    ) -> Result<Negotiated, MediaError> {
        let (rtc, answer, slot_mids) = self.negotiate(role, offer)?;
        // Random: a session id names a WHIP/WHEP resource, and one must not guess another's.
        let session_id = SessionId(rand::random());
        let new = sfu::NewSession {
            id: session_id,
            episode_id,
            account_id,
            role,
            client_ip,
            rtc,
            slot_mids,
            checked_seq,
            now: Instant::now(),
        };
        let (reply, added) = oneshot::channel();
        self.send(Command::Add(Box::new(new), reply))?;
        added.await.map_err(|_| MediaError::Stopped)??;
        Ok(Negotiated { session_id, answer })
    }

    fn negotiate(&self, role: Role, offer: &str) -> Result<(Rtc, String, Vec<str0m::media::Mid>), MediaError> {
        if offer.len() > SDP_BYTES_MAX {
            return Err(MediaError::InvalidSdp(format!("longer than {SDP_BYTES_MAX} bytes")));
        }
        let offer = SdpOffer::from_sdp_string(offer).map_err(|error| MediaError::InvalidSdp(error.to_string()))?;
        let mut rtc = Rtc::builder()
            .set_crypto_provider(self.crypto.clone())
            .set_dtls_cert(self.certificate.clone())
            .set_ice_lite(true)
            .clear_codecs()
            .enable_opus(true, false)
            .set_extension_map(audio_extensions())
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(self.candidate, "udp").expect("checked at start"));
        // str0m's contract: drain the output after every mutation before the next one.
        while !matches!(rtc.poll_output(), Ok(str0m::Output::Timeout(_)) | Err(_)) {}
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|error| MediaError::InvalidSdp(error.to_string()))?;
        // `MediaAdded` events only come once DTLS is up; the answer's sections, in offer order,
        // say now what this session carries.
        let mut slot_mids = Vec::new();
        let mut receives_audio = false;
        for section in answer.media_lines.iter().filter(|section| !section.disabled) {
            let Some(media) = rtc.media(section.mid()) else { continue };
            if media.kind() != MediaKind::Audio {
                continue;
            }
            match (role, media.direction()) {
                (Role::Publisher, Direction::RecvOnly | Direction::SendRecv) => receives_audio = true,
                (Role::Listener, Direction::SendOnly | Direction::SendRecv) if slot_mids.len() < LISTENER_SLOTS => {
                    slot_mids.push(media.mid())
                }
                _ => {}
            }
        }
        match role {
            Role::Publisher if !receives_audio => {
                Err(MediaError::InvalidSdp("no audio to send (a sendonly Opus section)".into()))
            }
            Role::Listener if slot_mids.is_empty() => {
                Err(MediaError::InvalidSdp("no audio to receive (recvonly Opus sections)".into()))
            }
            _ => Ok((rtc, answer.to_sdp_string(), slot_mids)),
        }
    }

    /// Ends a session; `false` if there is none of `account_id`'s by that id.
    pub async fn close(&self, session_id: SessionId, account_id: AccountId) -> Result<bool, MediaError> {
        let (done, closed) = oneshot::channel();
        self.send(Command::Close { id: session_id, account_id, done })?;
        closed.await.map_err(|_| MediaError::Stopped)
    }

    /// The episode's stage as of journal position `seq`: who may publish (`domain::may_publish`)
    /// and who is a member at all. Older positions than one already applied are ignored.
    pub async fn set_permissions(
        &self,
        episode_id: EpisodeId,
        seq: u64,
        publishers: BTreeSet<AccountId>,
        members: BTreeSet<AccountId>,
    ) -> Result<(), MediaError> {
        // Waits for queue space: a permission change must never be dropped.
        let command = Command::Permissions { episode_id, seq, publishers, members };
        self.sender()?.send(command).await.map_err(|_| MediaError::Stopped)
    }

    /// The episode ended: its sessions close, its recordings are finished, and it takes no more.
    pub async fn end_episode(&self, episode_id: EpisodeId) -> Result<(), MediaError> {
        self.sender()?.send(Command::EndEpisode(episode_id)).await.map_err(|_| MediaError::Stopped)
    }

    /// Session counts, packet counters and the forwarding latency since the last reset.
    pub async fn stats(&self, reset: bool) -> Result<MediaStats, MediaError> {
        let (reply, stats) = oneshot::channel();
        self.send(Command::Stats { reset, reply })?;
        stats.await.map_err(|_| MediaError::Stopped)
    }

    /// The episode's recordings, oldest first; files that cannot be read are skipped (and logged).
    pub fn recordings(&self, episode_id: EpisodeId) -> std::io::Result<Vec<RecordingInfo>> {
        let Some(dir) = self.recordings_dir.as_ref().map(|dir| dir.join(episode_id.to_string())) else {
            return Ok(Vec::new());
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut infos = Vec::new();
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|extension| extension == "opus") {
                match read_info(&path) {
                    Ok(info) => infos.push(info),
                    Err(error) => tracing::warn!(%error, "unreadable recording"),
                }
            }
        }
        infos.sort_by(|a, b| (&a.tags.started_at, &a.file_name).cmp(&(&b.tags.started_at, &b.file_name)));
        Ok(infos)
    }

    /// The path of one of the episode's recordings, if `file_name` names one (and nothing else:
    /// no separators, no dot files).
    pub fn recording_path(&self, episode_id: EpisodeId, file_name: &str) -> Option<PathBuf> {
        let plain = file_name.ends_with(".opus")
            && !file_name.starts_with('.')
            && file_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        let path = self.recordings_dir.as_ref()?.join(episode_id.to_string()).join(file_name);
        (plain && path.is_file()).then_some(path)
    }

    /// Stops the SFU thread once it has handled what is queued, closing every session; returns
    /// when every recording is finished (the file synced).
    pub fn shutdown(&self) {
        drop(self.commands.lock().expect("media commands lock").take());
        if let Some(thread) = self.thread.lock().expect("media thread lock").take() {
            let _ = thread.join();
        }
    }

    fn sender(&self) -> Result<mpsc::Sender<Command>, MediaError> {
        self.commands.lock().expect("media commands lock").clone().ok_or(MediaError::Stopped)
    }

    fn send(&self, command: Command) -> Result<(), MediaError> {
        self.sender()?.try_send(command).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => MediaError::Busy,
            mpsc::error::TrySendError::Closed(_) => MediaError::Stopped,
        })
    }
}
