//! The I/O around the SFU: one UDP socket for every session, one OS thread (with its own
//! single-threaded runtime) that owns the `Sfu`, and the bounded command queue the HTTP handlers
//! talk to it through. The forwarding loop never shares a core's runtime with request handling.

use crate::sfu::{MediaStats, NewSession, SessionId, Sfu};
use domain::{AccountId, EpisodeId};
use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

/// Datagrams read per wake-up before timers and commands get their turn.
const RECEIVE_BATCH_MAX: usize = 256;
/// The loop wakes at least this often even when no session asks for time.
const IDLE_WAKE_MS: u64 = 100;
/// Largest datagram read; WebRTC keeps packets under the 1 200-byte MTU target.
const DATAGRAM_BYTES_MAX: usize = 2_048;

pub(crate) enum Command {
    Add(Box<NewSession>, oneshot::Sender<Result<(), crate::MediaError>>),
    Close { id: SessionId, account_id: AccountId, done: oneshot::Sender<bool> },
    Permissions { episode_id: EpisodeId, seq: u64, publishers: BTreeSet<AccountId>, members: BTreeSet<AccountId> },
    EndEpisode(EpisodeId),
    Stats { reset: bool, reply: oneshot::Sender<MediaStats> },
}

pub(crate) struct Limits {
    pub(crate) sessions_max: usize,
    /// Of `sessions_max`, places only publishers may take.
    pub(crate) publishers_reserved: usize,
    /// Listening and publishing sessions per client address; 0 is no cap.
    pub(crate) listeners_per_ip_max: usize,
    pub(crate) publishers_per_ip_max: usize,
    pub(crate) account_sessions_max: usize,
    pub(crate) episode_publishers_max: usize,
}

pub(crate) async fn run(mut sfu: Sfu, socket: UdpSocket, mut commands: mpsc::Receiver<Command>, limits: Limits) {
    let local = socket.local_addr().expect("a bound socket");
    let mut buffer = vec![0u8; DATAGRAM_BYTES_MAX];
    let dropped = std::cell::Cell::new(0u64);
    let mut transmit = |destination: SocketAddr, datagram: &[u8]| {
        // A full send buffer drops the datagram, as a congested network would; audio does not
        // wait, and blocking here would stall every other session.
        if socket.try_send_to(datagram, destination).is_err() {
            dropped.set(dropped.get() + 1);
        }
    };
    loop {
        let wake = sfu.next_timeout().unwrap_or_else(Instant::now).max(Instant::now());
        let wake = wake.min(Instant::now() + Duration::from_millis(IDLE_WAKE_MS));
        // Not biased: a burst of commands (a thousand listeners joining) must not starve the socket.
        tokio::select! {
            command = commands.recv() => match command {
                Some(command) => handle(&mut sfu, command, &limits, &mut transmit),
                // The handle dropped its sender: stop.
                None => break,
            },
            readable = socket.readable() => {
                if readable.is_err() {
                    break;
                }
                for _ in 0..RECEIVE_BATCH_MAX {
                    match socket.try_recv_from(&mut buffer) {
                        Ok((n_bytes, source)) => sfu.receive(Instant::now(), source, local, &buffer[..n_bytes], &mut transmit),
                        Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                        // ICMP errors from a peer that went away surface here; the session's own
                        // timeouts deal with it.
                        Err(error) => tracing::debug!(%error, "udp receive"),
                    }
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {}
        }
        sfu.handle_timeouts(Instant::now(), &mut transmit);
        sfu.sends_dropped += dropped.replace(0);
    }
    sfu.shutdown();
}

fn handle(sfu: &mut Sfu, command: Command, limits: &Limits, transmit: &mut dyn FnMut(SocketAddr, &[u8])) {
    match command {
        Command::Add(new, reply) => {
            // Listeners stop short of the publishers' reserve, so a full house never silences the
            // stage; one address holds at most its share of the listening places.
            let places = match new.role {
                crate::Role::Publisher => limits.sessions_max,
                crate::Role::Listener => limits.sessions_max.saturating_sub(limits.publishers_reserved),
            };
            // Publishers have a share of their own: any creator may go live in their own room, so
            // the reserve must not be theirs to take from one address.
            let share = match new.role {
                crate::Role::Publisher => limits.publishers_per_ip_max,
                crate::Role::Listener => limits.listeners_per_ip_max,
            };
            let from_one_address =
                new.client_ip.is_some_and(|ip| share != 0 && sfu.sessions_from(ip, new.role) >= share);
            let refusal = if sfu.session_count() >= places {
                Some(crate::MediaError::Full)
            } else if from_one_address {
                Some(crate::MediaError::TooManyFromAddress)
            } else if sfu.sessions_of(new.episode_id, new.account_id) >= limits.account_sessions_max {
                Some(crate::MediaError::TooManySessions)
            } else if new.role == crate::Role::Publisher
                && sfu.publishers_of(new.episode_id, new.account_id) >= limits.episode_publishers_max
            {
                Some(crate::MediaError::TooManyPublishers)
            } else {
                None
            };
            let _ = reply.send(match refusal {
                Some(error) => Err(error),
                None => sfu.add(*new, transmit),
            });
        }
        Command::Close { id, account_id, done } => {
            let _ = done.send(sfu.close(id, account_id));
        }
        Command::Permissions { episode_id, seq, publishers, members } => {
            sfu.set_permissions(episode_id, seq, publishers, members)
        }
        Command::EndEpisode(episode_id) => sfu.end_episode(episode_id, Instant::now()),
        Command::Stats { reset, reply } => {
            let _ = reply.send(sfu.stats(reset));
        }
    }
}
