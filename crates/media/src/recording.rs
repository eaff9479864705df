//! Per-speaker recordings as Ogg Opus files (RFC 7845), kept with the episode for replays. The
//! forwarded Opus packets are stored as they arrived, never re-encoded. Granule positions follow
//! the sender's RTP clock, and a gap in it (DTX silence, a mute, lost packets) is filled with
//! zero-length frames, so a file plays exactly as long as the speaker was on air.

use crate::opus;
use ogg::writing::{PacketWriteEndInfo, PacketWriter};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A page is closed (and handed to the OS) every this many packets, about a second of audio, so a
/// crash loses at most that much of a recording.
const PACKETS_PER_PAGE_MAX: u32 = 50;
/// A gap longer than this (10 minutes) is not filled: the sender's clock jumped, which is no pause.
const GAP_SAMPLES_MAX: u64 = 10 * 60 * opus::SAMPLES_PER_SECOND;
/// A gap is filled only as far as wall-clock time passed since the previous packet, plus this much
/// jitter: a sender whose RTP clock races ahead cannot make the recorder write hours of filler.
const GAP_SLACK_SAMPLES: u64 = opus::SAMPLES_PER_SECOND;
/// Recordings waiting for their closer thread; beyond this, closing blocks the SFU thread briefly.
const CLOSES_QUEUED_MAX: usize = 256;
/// The tail of a file searched for its last page when listing recordings.
const TAIL_BYTES_MAX: u64 = 70_000;

/// Who and when, written into the file's OpusTags so a recording describes itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingTags {
    pub episode_id: String,
    pub account_id: String,
    /// RFC 3339, when the first packet arrived.
    pub started_at: String,
}

pub(crate) struct Recorder {
    path: PathBuf,
    writer: PacketWriter<'static, BufWriter<File>>,
    serial: u32,
    stereo: bool,
    /// Samples written so far: the granule position after the last written packet.
    granule: u64,
    /// The RTP time (48 kHz, extended) at which the next packet is expected.
    next_time: u64,
    packets_on_page: u32,
    /// Held back by one packet so that the last one can be written with the end-of-stream flag.
    pending: Option<(Vec<u8>, u64)>,
    last_write: Option<std::time::Instant>,
}

impl Recorder {
    /// Starts a file with the first packet's channel layout. Pre-skip is 0: the recording starts
    /// in the middle of the sender's stream, so there is no encoder delay of ours to trim.
    pub(crate) fn create(path: PathBuf, tags: &RecordingTags, serial: u32, first_packet: &[u8]) -> io::Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = File::create_new(&path)?;
        let stereo = opus::is_stereo(first_packet);
        let mut writer = PacketWriter::new(BufWriter::new(file));
        let mut head = Vec::with_capacity(19);
        head.extend_from_slice(b"OpusHead");
        head.push(1); // version
        head.push(if stereo { 2 } else { 1 });
        head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip
        head.extend_from_slice(&48_000u32.to_le_bytes()); // input sample rate, informational
        head.extend_from_slice(&0i16.to_le_bytes()); // output gain
        head.push(0); // channel mapping family 0: mono or stereo
        writer.write_packet(head, serial, PacketWriteEndInfo::EndPage, 0)?;
        let mut comments = Vec::new();
        let vendor = b"livedrop";
        comments.extend_from_slice(b"OpusTags");
        comments.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        comments.extend_from_slice(vendor);
        let fields = [
            format!("LIVEDROP_EPISODE={}", tags.episode_id),
            format!("LIVEDROP_ACCOUNT={}", tags.account_id),
            format!("LIVEDROP_STARTED_AT={}", tags.started_at),
        ];
        comments.extend_from_slice(&(fields.len() as u32).to_le_bytes());
        for field in &fields {
            comments.extend_from_slice(&(field.len() as u32).to_le_bytes());
            comments.extend_from_slice(field.as_bytes());
        }
        writer.write_packet(comments, serial, PacketWriteEndInfo::EndPage, 0)?;
        writer.inner_mut().flush()?;
        Ok(Recorder {
            path,
            writer,
            serial,
            stereo,
            granule: 0,
            next_time: 0,
            packets_on_page: 0,
            pending: None,
            last_write: None,
        })
    }

    /// Appends one packet sent at `rtp_time` (48 kHz) and received at `now`. Packets from the
    /// past (reordered or duplicated) are skipped: an Ogg stream only moves forward.
    pub(crate) fn write(&mut self, rtp_time: u64, packet: &[u8], now: std::time::Instant) -> io::Result<()> {
        let Some(samples) = opus::packet_samples(packet) else {
            return Ok(()); // not Opus: nothing a player could use
        };
        if let Some(last_write) = self.last_write {
            if rtp_time < self.next_time {
                return Ok(());
            }
            let gap = rtp_time - self.next_time;
            let elapsed =
                now.saturating_duration_since(last_write).as_micros() as u64 * opus::SAMPLES_PER_SECOND / 1_000_000;
            if gap <= GAP_SAMPLES_MAX.min(elapsed + GAP_SLACK_SAMPLES) {
                for filler in opus::silence(gap, self.stereo) {
                    self.push(filler)?;
                }
            }
        }
        self.last_write = Some(now);
        self.push(packet.to_vec())?;
        self.next_time = rtp_time + samples;
        Ok(())
    }

    fn push(&mut self, packet: Vec<u8>) -> io::Result<()> {
        let samples = opus::packet_samples(&packet).expect("only valid packets are pushed");
        if let Some((previous, granule)) = self.pending.take() {
            self.packets_on_page += 1;
            let end = if self.packets_on_page >= PACKETS_PER_PAGE_MAX {
                self.packets_on_page = 0;
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            self.writer.write_packet(previous, self.serial, end, granule)?;
            if end == PacketWriteEndInfo::EndPage {
                self.writer.inner_mut().flush()?;
            }
        }
        self.granule += samples;
        self.pending = Some((packet, self.granule));
        Ok(())
    }

    /// Ends the stream (the last packet carries the end-of-stream flag) and syncs the file.
    pub(crate) fn finish(mut self) -> io::Result<PathBuf> {
        if let Some((packet, granule)) = self.pending.take() {
            self.writer.write_packet(packet, self.serial, PacketWriteEndInfo::EndStream, granule)?;
        }
        let mut file = self.writer.into_inner().into_inner().map_err(|error| error.into_error())?;
        file.flush()?;
        file.sync_all()?;
        Ok(self.path)
    }
}

/// Finishes recordings on a thread of its own: finishing syncs the file, which must not stall the
/// forwarding of everyone else's audio. `finish_all` waits for every one handed over.
pub(crate) struct RecordingCloser {
    queue: Option<std::sync::mpsc::SyncSender<Recorder>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RecordingCloser {
    pub(crate) fn start() -> RecordingCloser {
        let (queue, recorders) = std::sync::mpsc::sync_channel::<Recorder>(CLOSES_QUEUED_MAX);
        let thread = std::thread::Builder::new()
            .name("livedrop-recordings".into())
            .spawn(move || {
                for recorder in recorders {
                    match recorder.finish() {
                        Ok(path) => tracing::info!(path = %path.display(), "recording finished"),
                        Err(error) => tracing::error!(%error, "could not finish a recording"),
                    }
                }
            })
            .map_err(|error| tracing::error!(%error, "no recordings thread: recordings finish inline"))
            .ok();
        RecordingCloser { queue: thread.is_some().then_some(queue), thread }
    }

    pub(crate) fn close(&self, recorder: Recorder) {
        let unsent = match &self.queue {
            Some(queue) => queue.send(recorder).err().map(|error| error.0),
            None => Some(recorder),
        };
        if let Some(recorder) = unsent
            && let Err(error) = recorder.finish()
        {
            tracing::error!(%error, "could not finish a recording");
        }
    }

    pub(crate) fn finish_all(mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What a recording file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingInfo {
    pub file_name: String,
    pub tags: RecordingTags,
    /// The last page's granule position: samples at 48 kHz, as milliseconds.
    pub duration_ms: u64,
    pub bytes: u64,
    /// The end-of-stream page is there; a recording cut by a crash plays up to its last page.
    pub complete: bool,
}

/// Reads the tags from the head of the file and the duration from its last page.
pub fn read_info(path: &Path) -> io::Result<RecordingInfo> {
    let mut file = File::open(path)?;
    let bytes = file.metadata()?.len();
    let mut reader = ogg::PacketReader::new(&mut file);
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
    let head = reader.read_packet().map_err(|_| invalid("unreadable Ogg page"))?.ok_or_else(|| invalid("empty"))?;
    if !head.data.starts_with(b"OpusHead") {
        return Err(invalid("not Ogg Opus"));
    }
    let comments =
        reader.read_packet().map_err(|_| invalid("unreadable Ogg page"))?.ok_or_else(|| invalid("no tags"))?;
    let tags = parse_tags(&comments.data).ok_or_else(|| invalid("malformed OpusTags"))?;
    let (granule, complete) = last_page(&mut file, bytes)?.ok_or_else(|| invalid("no audio page"))?;
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(RecordingInfo { file_name, tags, duration_ms: granule * 1_000 / opus::SAMPLES_PER_SECOND, bytes, complete })
}

fn parse_tags(packet: &[u8]) -> Option<RecordingTags> {
    let mut rest = packet.strip_prefix(b"OpusTags")?;
    let take_u32 = |rest: &mut &[u8]| -> Option<usize> {
        let (number, tail) = rest.split_first_chunk::<4>()?;
        *rest = tail;
        Some(u32::from_le_bytes(*number) as usize)
    };
    let vendor_len = take_u32(&mut rest)?;
    rest = rest.get(vendor_len..)?;
    let n_fields = take_u32(&mut rest)?;
    let mut tags = RecordingTags { episode_id: String::new(), account_id: String::new(), started_at: String::new() };
    for _ in 0..n_fields.min(64) {
        let len = take_u32(&mut rest)?;
        let field = std::str::from_utf8(rest.get(..len)?).ok()?;
        rest = &rest[len..];
        if let Some((key, value)) = field.split_once('=') {
            match key {
                "LIVEDROP_EPISODE" => tags.episode_id = value.into(),
                "LIVEDROP_ACCOUNT" => tags.account_id = value.into(),
                "LIVEDROP_STARTED_AT" => tags.started_at = value.into(),
                _ => {}
            }
        }
    }
    Some(tags)
}

/// The granule position and end-of-stream flag of the last whole page with a granule, found by
/// scanning the file's tail for the "OggS" capture pattern (pages are at most 65 KB).
fn last_page(file: &mut File, bytes: u64) -> io::Result<Option<(u64, bool)>> {
    let start = bytes.saturating_sub(TAIL_BYTES_MAX);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(TAIL_BYTES_MAX).read_to_end(&mut tail)?;
    let mut found = None;
    for offset in memchr_all(&tail) {
        let Some(header) = tail.get(offset..offset + 27) else { continue };
        let n_segments = usize::from(header[26]);
        let Some(table) = tail.get(offset + 27..offset + 27 + n_segments) else { continue };
        let body: usize = table.iter().map(|len| usize::from(*len)).sum();
        if offset + 27 + n_segments + body > tail.len() {
            continue; // a page cut short by a crash
        }
        let granule = u64::from_le_bytes(header[6..14].try_into().expect("8 bytes"));
        if granule != u64::MAX {
            found = Some((granule, header[5] & 0x04 != 0));
        }
    }
    Ok(found)
}

fn memchr_all(haystack: &[u8]) -> impl Iterator<Item = usize> + '_ {
    haystack.windows(4).enumerate().filter(|(_, window)| *window == b"OggS").map(|(offset, _)| offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> RecordingTags {
        RecordingTags {
            episode_id: "ep_1".into(),
            account_id: "acct_2".into(),
            started_at: "2026-12-01T00:00:00Z".into(),
        }
    }

    /// One second of 20 ms packets, a 2.5 s pause in the RTP clock, then another second: the file
    /// lasts 4.5 s and every packet (real or filler) decodes to its declared length.
    #[test]
    fn gaps_are_filled_so_the_duration_is_the_time_on_air() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ep_1/a.opus");
        let packet = [15u8 << 3, 1, 2, 3];
        let mut recorder = Recorder::create(path.clone(), &tags(), 7, &packet).unwrap();
        let (base, start) = (1_000_000u64, std::time::Instant::now());
        let at = |rtp: u64| start + std::time::Duration::from_micros((rtp - base) * 1_000_000 / 48_000);
        for n in 0..50 {
            recorder.write(base + n * 960, &packet, at(base + n * 960)).unwrap();
        }
        recorder.write(base + 10 * 960, &packet, at(base + 50 * 960)).unwrap(); // a late duplicate is skipped
        for n in 0..50 {
            let rtp = base + 48_000 + 120_000 + n * 960;
            recorder.write(rtp, &packet, at(rtp)).unwrap();
        }
        let path = recorder.finish().unwrap();
        let info = read_info(&path).unwrap();
        assert_eq!(info.duration_ms, 4_500);
        assert!(info.complete);
        assert_eq!(info.tags, tags());

        let mut reader = ogg::PacketReader::new(File::open(&path).unwrap());
        let mut samples = 0;
        let mut n_packets = 0;
        let mut last_granule = 0;
        while let Some(packet) = reader.read_packet().unwrap() {
            n_packets += 1;
            if n_packets <= 2 {
                continue;
            }
            samples += opus::packet_samples(&packet.data).unwrap();
            if packet.last_in_page() {
                assert_eq!(packet.absgp_page(), samples, "a page's granule counts the samples up to it");
                last_granule = packet.absgp_page();
            }
        }
        assert_eq!(last_granule, 4_500 * 48);
    }

    #[test]
    fn a_crash_leaves_a_readable_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.opus");
        let packet = [15u8 << 3, 9];
        let mut recorder = Recorder::create(path.clone(), &tags(), 1, &packet).unwrap();
        let start = std::time::Instant::now();
        for n in 0..120 {
            recorder.write(n * 960, &packet, start + std::time::Duration::from_millis(n * 20)).unwrap();
        }
        drop(recorder); // no finish: as if the process died (the buffer holds the open page)
        let info = read_info(&path).unwrap();
        assert!(!info.complete);
        assert_eq!(info.duration_ms, 2_000, "the two closed pages of 50 packets");
    }

    /// A sender whose RTP clock runs far ahead of real time gets no filler for the jump.
    #[test]
    fn a_clock_racing_ahead_of_real_time_is_not_filled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("racing.opus");
        let packet = [15u8 << 3, 9];
        let mut recorder = Recorder::create(path.clone(), &tags(), 1, &packet).unwrap();
        let now = std::time::Instant::now();
        recorder.write(0, &packet, now).unwrap();
        recorder.write(9 * 60 * 48_000, &packet, now + std::time::Duration::from_millis(20)).unwrap();
        let path = recorder.finish().unwrap();
        assert_eq!(read_info(&path).unwrap().duration_ms, 40, "two packets, the jump left out");
    }
}
