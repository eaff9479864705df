//! Just enough of an Opus packet (RFC 6716 §3.1, the TOC byte) to know how long it plays. The SFU
//! never decodes audio; the recorder needs durations to stamp Ogg granule positions and to fill the
//! gaps a silent or muted speaker leaves.

/// Opus always runs at 48 kHz in WebRTC and in Ogg Opus granule positions.
pub(crate) const SAMPLES_PER_SECOND: u64 = 48_000;
/// RFC 6716 §3.2.5: a packet holds at most 120 ms of audio.
const PACKET_SAMPLES_MAX: u64 = 5_760;

/// Samples (at 48 kHz) one frame of the TOC's configuration lasts.
fn frame_samples(config: u8) -> u64 {
    match config {
        // SILK: narrow, medium and wide band, each 10, 20, 40 and 60 ms.
        0..=11 => [480, 960, 1_920, 2_880][usize::from(config % 4)],
        // Hybrid: super-wide and full band, each 10 and 20 ms.
        12..=15 => [480, 960][usize::from(config % 2)],
        // CELT: four bands, each 2.5, 5, 10 and 20 ms.
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    }
}

/// How many samples (48 kHz) the packet decodes to; `None` for a packet that is not valid Opus
/// (empty, a code-3 packet without its frame count, or more than 120 ms).
pub(crate) fn packet_samples(packet: &[u8]) -> Option<u64> {
    let toc = *packet.first()?;
    let n_frames = match toc & 0b11 {
        0 => 1,
        1 | 2 => 2,
        _ => u64::from(*packet.get(1)? & 0b0011_1111),
    };
    let samples = n_frames * frame_samples(toc >> 3);
    (n_frames > 0 && samples <= PACKET_SAMPLES_MAX).then_some(samples)
}

/// Whether the packet was coded in stereo (the TOC's `s` bit).
pub(crate) fn is_stereo(packet: &[u8]) -> bool {
    packet.first().is_some_and(|toc| toc & 0b100 != 0)
}

/// Packets that play `samples` of nothing: packets whose frames are all of length zero, which RFC
/// 6716 §3.2.1 defines as DTX or lost frames, so the decoder conceals or stays silent. CELT full-band
/// configurations: 120 ms packets (code 3, six 20 ms frames) while they fit, then single 20, 10, 5
/// and 2.5 ms frames; a remainder below 2.5 ms is dropped.
pub(crate) fn silence(samples: u64, stereo: bool) -> impl Iterator<Item = Vec<u8>> {
    let stereo_bit = if stereo { 0b100 } else { 0 };
    let mut left = samples;
    std::iter::from_fn(move || {
        if left >= PACKET_SAMPLES_MAX {
            left -= PACKET_SAMPLES_MAX;
            // Config 31 (20 ms), code 3, a frame count byte of 6 (constant bit rate, no padding).
            return Some(vec![31 << 3 | stereo_bit | 0b11, 6]);
        }
        // Configs 31, 30, 29, 28: CELT full band at 20, 10, 5 and 2.5 ms.
        let (config, frame) =
            [(31u8, 960u64), (30, 480), (29, 240), (28, 120)].into_iter().find(|(_, frame)| left >= *frame)?;
        left -= frame;
        Some(vec![config << 3 | stereo_bit])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_the_toc() {
        // Config 15 (hybrid FB 20 ms), code 0: what browsers send by default.
        assert_eq!(packet_samples(&[15 << 3, 0xAA]), Some(960));
        // SILK WB 60 ms, two frames (code 1).
        assert_eq!(packet_samples(&[11 << 3 | 1]), Some(5_760));
        // CELT 2.5 ms, code 3 with 48 frames = 120 ms: the maximum.
        assert_eq!(packet_samples(&[28 << 3 | 3, 48]), Some(5_760));
        assert_eq!(packet_samples(&[28 << 3 | 3, 49]), None);
        assert_eq!(packet_samples(&[28 << 3 | 3]), None);
        assert_eq!(packet_samples(&[28 << 3 | 3, 0]), None);
        assert_eq!(packet_samples(&[]), None);
        assert!(is_stereo(&[15 << 3 | 0b100]));
    }

    #[test]
    fn silence_fills_exactly() {
        let packets: Vec<_> = silence(5_760 * 2 + 960 * 3 + 480 + 120 + 7, true).collect();
        let total: u64 = packets.iter().map(|packet| packet_samples(packet).unwrap()).sum();
        assert_eq!(total, 5_760 * 2 + 960 * 3 + 480 + 120);
        assert_eq!(packets.len(), 2 + 3 + 1 + 1, "120 ms packets first");
        assert!(packets.iter().all(|packet| is_stereo(packet)));
        assert_eq!(silence(0, false).count(), 0);
    }
}
