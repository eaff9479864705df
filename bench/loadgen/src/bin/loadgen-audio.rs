//! `loadgen-audio`: many listeners and a few speakers in one live episode of a running livedrop,
//! all synthetic str0m peers (`media::peer`) on loopback. Speakers publish with WHIP and send a
//! 20 ms packet each at real time, stamped with a sequence number and the send time; listeners join
//! with WHEP and count what arrives: loss per speaker, end-to-end latency, and the time from the
//! WHEP offer to the first audio packet. The server's own forwarding latency comes from
//! `GET /v1/admin/media/stats`, its CPU and memory from /proc. Only ever points at a server the
//! caller names (loopback).

use anyhow::{Context, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use loadgen::api::Api;
use loadgen::procfs;
use media::peer::Peer;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use str0m::media::Direction;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Parser)]
#[command(about = "Listeners and speakers in one live episode of a running livedrop, over WHIP/WHEP on loopback")]
struct Args {
    /// Base URL of a server started with `--rate-limit-per-ip 0 --rate-limit-per-account 0 --admin-token …`.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    #[arg(long, env = "LOADGEN_ADMIN_TOKEN")]
    admin_token: String,
    #[arg(long, default_value_t = 500)]
    listeners: usize,
    /// The host and invited guests; each sends all the time.
    #[arg(long, default_value_t = 3)]
    speakers: usize,
    /// How long everyone stays connected and measured, once the last listener is in.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Listeners connecting at once.
    #[arg(long, default_value_t = 16)]
    connect_concurrency: usize,
    /// The server's process id, for its CPU time and resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// Speaker packets: a valid Opus TOC (hybrid full band, 20 ms), the speaker's index, its
/// sequence number and the send time in microseconds since the run's epoch, then filler to the
/// size of a quiet voice frame.
const PACKET_BYTES: usize = 60;
const FRAME_MS: u64 = 20;
/// A peer that is not connected by then counts as failed.
const CONNECT_TIMEOUT_S: u64 = 20;

fn packet(speaker: u8, seq: u32, sent_us: u64) -> Vec<u8> {
    let mut packet = vec![15 << 3, speaker];
    packet.extend_from_slice(&seq.to_le_bytes());
    packet.extend_from_slice(&sent_us.to_le_bytes());
    packet.resize(PACKET_BYTES, 0x55);
    packet
}

/// What one listener measured.
struct Heard {
    connected: bool,
    offer_to_first_packet: Option<Duration>,
    latency_us: Histogram<u64>,
    /// Per speaker: first and last sequence number and packets received inside the window.
    per_speaker: HashMap<u8, (u32, u32, u64)>,
}

/// Runs one peer on its own socket until `stop`; speakers send a packet every 20 ms.
async fn drive(
    mut peer: Peer,
    socket: UdpSocket,
    speaker: Option<u8>,
    epoch: Instant,
    offered_at: Instant,
    window: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) -> Heard {
    let mut heard = Heard {
        connected: false,
        offer_to_first_packet: None,
        latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
        per_speaker: HashMap::new(),
    };
    let mut buffer = vec![0u8; 2_048];
    let mut next_frame = Instant::now();
    let mut seq = 0u32;
    let connect_deadline = Instant::now() + Duration::from_secs(CONNECT_TIMEOUT_S);
    loop {
        let mut wake = Instant::from_std(peer.next_timeout()).max(Instant::now());
        if speaker.is_some() && peer.connected {
            wake = wake.min(next_frame);
        }
        let wake = wake.min(Instant::now() + Duration::from_millis(100));
        let outcome = tokio::select! {
            received = socket.recv_from(&mut buffer) => match received {
                Ok((n_bytes, source)) => peer.receive(std::time::Instant::now(), source, &buffer[..n_bytes]),
                Err(_) => Ok(()),
            },
            _ = tokio::time::sleep_until(wake) => {
                let now = Instant::now();
                if let (Some(number), true) = (speaker, peer.connected && now >= next_frame) {
                    let sent_us = now.duration_since(epoch).as_micros() as u64;
                    let rtp_time = u64::from(seq) * 960;
                    next_frame += Duration::from_millis(FRAME_MS);
                    seq += 1;
                    peer.say(now.into_std(), rtp_time, -30, &packet(number, seq, sent_us))
                } else {
                    peer.timeout(now.into_std())
                }
            }
            _ = stop.changed() => break,
        };
        if outcome.is_err() {
            break;
        }
        if !peer.connected && Instant::now() > connect_deadline {
            break;
        }
        heard.connected = peer.connected;
        for (destination, datagram) in peer.take_transmits() {
            let _ = socket.try_send_to(&datagram, destination);
        }
        let measuring = *window.borrow();
        for packet in peer.take_heard() {
            let arrived = Instant::from_std(packet.at);
            heard.offer_to_first_packet.get_or_insert(arrived.duration_since(offered_at));
            let (Some(&number), Some(seq), Some(sent_us)) = (
                packet.payload.get(1),
                packet.payload.get(2..6).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
                packet.payload.get(6..14).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
            ) else {
                continue;
            };
            if !measuring {
                continue;
            }
            let latency_us = arrived.duration_since(epoch).as_micros() as u64
                - sent_us.min(arrived.duration_since(epoch).as_micros() as u64);
            let _ = heard.latency_us.record(latency_us.max(1));
            let entry = heard.per_speaker.entry(number).or_insert((seq, seq, 0));
            entry.0 = entry.0.min(seq);
            entry.1 = entry.1.max(seq);
            entry.2 += 1;
        }
    }
    heard
}

async fn post_sdp(http: &reqwest::Client, url: &str, token: &str, offer: String) -> anyhow::Result<String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("Content-Type", "application/sdp")
        .body(offer)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    if status != 201 {
        bail!("POST {url} answered {status}: {text}");
    }
    Ok(text)
}

struct Connection {
    task: tokio::task::JoinHandle<Heard>,
}

#[allow(clippy::too_many_arguments)]
async fn connect(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    direction: Direction,
    speaker: Option<u8>,
    epoch: Instant,
    window: watch::Receiver<bool>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Connection> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let n_tracks = if direction == Direction::SendOnly { 1 } else { media::LISTENER_SLOTS };
    let (mut peer, offer) = Peer::new(socket.local_addr()?, direction, n_tracks);
    let offered_at = Instant::now();
    let answer = post_sdp(http, url, token, offer).await?;
    peer.accept(&answer).map_err(anyhow::Error::msg)?;
    let task = tokio::spawn(drive(peer, socket, speaker, epoch, offered_at, window, stop));
    Ok(Connection { task })
}

async fn stats(api: &Api, token: &str, reset: bool) -> anyhow::Result<Value> {
    let path = format!("/v1/admin/media/stats?reset={reset}");
    let (status, body) = api.send(reqwest::Method::GET, &path, Some(token), None, None, &Value::Null).await?;
    if status != 200 {
        bail!("GET {path} answered {status}: {body}");
    }
    Ok(body)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.speakers == 0 || args.speakers > 16 {
        bail!("--speakers must be 1 to 16");
    }
    let api = Api::new(&args.target, args.connect_concurrency.max(8), false)?;
    let http = reqwest::Client::new();
    let tag = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() % 1_000_000_000;

    // The episode: a creator's room, live, with speakers invited to the stage.
    let creator = api.account(&format!("audio_host_{tag}"), "creator").await?;
    let room = api.created("/v1/rooms", Some(&creator), json!({"title": "Audio load"})).await?;
    let room_id = room["id"].as_str().context("room id")?;
    let starts_at = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?;
    let episode = api
        .created(
            &format!("/v1/rooms/{room_id}/episodes"),
            Some(&creator),
            json!({"title": "Load", "starts_at": starts_at}),
        )
        .await?;
    let episode_id = episode["id"].as_str().context("episode id")?.to_owned();
    let (status, body) =
        api.post(&format!("/v1/episodes/{episode_id}/start"), Some(&creator), None, &json!({})).await?;
    if status != 200 {
        bail!("starting the episode answered {status}: {body}");
    }
    let join = |token: String| {
        let (api, episode_id) = (&api, &episode_id);
        async move {
            let (status, body) =
                api.post(&format!("/v1/episodes/{episode_id}/join"), Some(&token), None, &json!({})).await?;
            if status != 200 {
                bail!("join answered {status}: {body}");
            }
            anyhow::Ok(token)
        }
    };
    let mut speaker_tokens = vec![creator.clone()];
    for speaker_idx in 1..args.speakers {
        let account = api
            .created(
                "/v1/accounts",
                None,
                json!({"handle": format!("audio_guest_{tag}_{speaker_idx}"), "role": "buyer"}),
            )
            .await?;
        let token = join(account["token"].as_str().context("token")?.to_owned()).await?;
        let invite = json!({"account_id": account["id"]});
        let (status, body) =
            api.post(&format!("/v1/episodes/{episode_id}/invite"), Some(&creator), None, &invite).await?;
        if status != 200 {
            bail!("invite answered {status}: {body}");
        }
        speaker_tokens.push(token);
    }
    eprintln!("creating and joining {} listeners…", args.listeners);
    let mut listener_tokens = Vec::with_capacity(args.listeners);
    let (api_ref, join) = (&api, &join);
    for chunk in (0..args.listeners).collect::<Vec<_>>().chunks(64) {
        let accounts = chunk.iter().map(|&listener_idx| async move {
            let token = api_ref.account(&format!("audio_listener_{tag}_{listener_idx}"), "buyer").await?;
            join(token).await
        });
        for token in futures_util::future::join_all(accounts).await {
            listener_tokens.push(token?);
        }
    }

    let epoch = Instant::now();
    let (window_on, window) = watch::channel(false);
    let (stop_all, stop) = watch::channel(false);
    let whip = format!("{}/v1/episodes/{episode_id}/whip", args.target.trim_end_matches('/'));
    let whep = format!("{}/v1/episodes/{episode_id}/whep", args.target.trim_end_matches('/'));
    let mut speakers = Vec::new();
    for (speaker_idx, token) in speaker_tokens.iter().enumerate() {
        let number = u8::try_from(speaker_idx).expect("at most 16 speakers");
        speakers.push(
            connect(&http, &whip, token, Direction::SendOnly, Some(number), epoch, window.clone(), stop.clone())
                .await?,
        );
    }
    // Speakers alone: the server's CPU and memory before any listener.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = args.server_pid;
    let measure_cpu = |seconds: f64| async move {
        let Some(pid) = pid else { return Ok::<f64, anyhow::Error>(0.0) };
        let before = procfs::cpu_seconds(&[pid])?;
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        Ok((procfs::cpu_seconds(&[pid])? - before) / seconds)
    };
    let cpu_speakers_only = measure_cpu(3.0).await?;
    let rss_speakers_only = pid.map(procfs::rss_bytes).transpose()?.unwrap_or(0);

    let bar = indicatif::ProgressBar::new(args.listeners as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("listeners {pos}/{len} [{bar:40}] {per_sec}").expect("template"),
    );
    let mut listeners = Vec::with_capacity(args.listeners);
    for chunk in listener_tokens.chunks(args.connect_concurrency.max(1)) {
        let connecting = chunk
            .iter()
            .map(|token| connect(&http, &whep, token, Direction::RecvOnly, None, epoch, window.clone(), stop.clone()));
        for connection in futures_util::future::join_all(connecting).await {
            listeners.push(connection?);
            bar.inc(1);
        }
    }
    bar.finish();
    // Let the last ones finish DTLS, then measure a clean window.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stats(&api, &args.admin_token, true).await?;
    let _ = window_on.send(true);
    let cpu_listening = measure_cpu(args.seconds as f64).await?;
    if pid.is_none() {
        tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    }
    let _ = window_on.send(false);
    let rss_listening = pid.map(procfs::rss_bytes).transpose()?.unwrap_or(0);
    let server = stats(&api, &args.admin_token, false).await?;
    let _ = stop_all.send(true);
    for speaker in speakers {
        speaker.task.await?;
    }

    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let mut first_packet = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let (mut expected, mut received, mut failed) = (0u64, 0u64, 0usize);
    for listener in listeners {
        let heard = listener.task.await?;
        if !heard.connected || heard.offer_to_first_packet.is_none() {
            failed += 1;
            continue;
        }
        latency.add(&heard.latency_us)?;
        let _ = first_packet.record(heard.offer_to_first_packet.expect("checked").as_micros() as u64);
        for (first, last, count) in heard.per_speaker.values() {
            expected += u64::from(last - first) + 1;
            received += count;
        }
    }
    let loss_percent =
        if expected == 0 { 100.0 } else { 100.0 * (expected - received.min(expected)) as f64 / expected as f64 };
    let n = args.listeners.max(1) as f64;
    let summary = json!({
        "listeners": args.listeners,
        "speakers": args.speakers,
        "seconds": args.seconds,
        "listeners_failed": failed,
        "packets_expected": expected,
        "packets_received": received,
        "loss_percent": loss_percent,
        "end_to_end_latency_ms": {"p50": latency.value_at_quantile(0.5) as f64 / 1e3, "p99": latency.value_at_quantile(0.99) as f64 / 1e3, "max": latency.max() as f64 / 1e3},
        "offer_to_first_packet_ms": {"p50": first_packet.value_at_quantile(0.5) as f64 / 1e3, "p99": first_packet.value_at_quantile(0.99) as f64 / 1e3, "max": first_packet.max() as f64 / 1e3},
        "server": server,
        "server_cpu_cores": {"speakers_only": cpu_speakers_only, "listening": cpu_listening, "per_listener": (cpu_listening - cpu_speakers_only) / n},
        "server_rss_mib": {"speakers_only": rss_speakers_only as f64 / 1_048_576.0, "listening": rss_listening as f64 / 1_048_576.0, "per_listener_kib": (rss_listening.saturating_sub(rss_speakers_only)) as f64 / 1_024.0 / n},
    });
    println!(
        "| listeners × speakers | loss | forward p50 / p99 / max (server, per copy) | fan-out p99 (to the last listener) | end to end p50 / p99 | offer → first packet p50 / p99 | server CPU per listener | server memory per listener |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} × {} | {:.3} % ({received}/{expected}) | {} / {} / {} µs | {} µs | {:.2} / {:.2} ms | {:.0} / {:.0} ms | {:.2} % of a core | {:.0} KiB |",
        args.listeners,
        args.speakers,
        loss_percent,
        server["forward_latency_us_p50"],
        server["forward_latency_us_p99"],
        server["forward_latency_us_max"],
        server["fanout_latency_us_p99"],
        latency.value_at_quantile(0.5) as f64 / 1e3,
        latency.value_at_quantile(0.99) as f64 / 1e3,
        first_packet.value_at_quantile(0.5) as f64 / 1e3,
        first_packet.value_at_quantile(0.99) as f64 / 1e3,
        100.0 * (cpu_listening - cpu_speakers_only) / n,
        (rss_listening.saturating_sub(rss_speakers_only)) as f64 / 1_024.0 / n,
    );
    eprintln!("{}", serde_json::to_string_pretty(&summary)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&summary)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if failed > 0 {
        bail!("{failed} listeners never heard audio");
    }
    Ok(())
}
