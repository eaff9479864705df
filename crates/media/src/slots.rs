//! Which speakers the listeners hear: every listener has the same few receive slots, and the
//! loudest speakers (by the RFC 6464 levels their packets carry) hold them. A speaker keeps a slot
//! while sending; a newcomer takes a free slot, or the quietest holder's when it is clearly louder.
//! Inviting a fifth speaker to the stage therefore changes nothing for listeners until they talk.
//! Pure: time is an argument, so tests drive it.

use std::time::{Duration, Instant};

/// Receive slots per listener: the loudest three speakers are heard at once.
pub const LISTENER_SLOTS: usize = 3;
/// A speaker whose last packet is older than this counts as gone and leaves its slot to others.
const SPEAKER_IDLE_MS: u64 = 1_000;
/// A candidate must be this much louder (dB) than the quietest holder to take its slot, so two
/// similar voices do not flap.
const SWITCH_MARGIN_DB: f32 = 6.0;
/// Slots are reassigned at most this often.
pub(crate) const REASSIGN_INTERVAL_MS: u64 = 100;
/// Weight of a new level in the moving average: with a packet every 20 ms, about 100 ms of memory.
const LEVEL_SMOOTHING: f32 = 0.2;
/// Used when a packet carries no level (the extension was not negotiated): loud enough to be
/// heard in a free slot, never loud enough to evict a measured speaker.
const LEVEL_UNKNOWN_DB: f32 = 30.0;

#[derive(Clone, Debug)]
struct Speaker<K> {
    key: K,
    /// Loudness in dB above silence (127 + the level in dBov), smoothed.
    loudness_db: f32,
    last_packet: Instant,
}

/// Slot holders and the loudness of every speaker of one episode.
#[derive(Clone, Debug)]
pub(crate) struct SlotTable<K> {
    speakers: Vec<Speaker<K>>,
    slots: [Option<K>; LISTENER_SLOTS],
    last_reassign: Option<Instant>,
}

impl<K: Copy + PartialEq> Default for SlotTable<K> {
    fn default() -> Self {
        SlotTable { speakers: Vec::new(), slots: [None; LISTENER_SLOTS], last_reassign: None }
    }
}

impl<K: Copy + PartialEq> SlotTable<K> {
    /// Records a packet of `key`'s with its RFC 6464 level, in dBov as str0m gives it (0 is the
    /// loudest, -127 silence).
    pub(crate) fn observe(&mut self, key: K, level_dbov: Option<i8>, now: Instant) {
        let loudness_db = level_dbov.map_or(LEVEL_UNKNOWN_DB, |level| 127.0 + f32::from(level.clamp(-127, 0)));
        match self.speakers.iter_mut().find(|speaker| speaker.key == key) {
            Some(speaker) => {
                speaker.loudness_db += LEVEL_SMOOTHING * (loudness_db - speaker.loudness_db);
                speaker.last_packet = now;
            }
            None => self.speakers.push(Speaker { key, loudness_db, last_packet: now }),
        }
    }

    pub(crate) fn remove(&mut self, key: K) {
        self.speakers.retain(|speaker| speaker.key != key);
        for slot in &mut self.slots {
            if *slot == Some(key) {
                *slot = None;
            }
        }
    }

    pub(crate) fn slot_of(&self, key: K) -> Option<usize> {
        self.slots.iter().position(|slot| *slot == Some(key))
    }

    #[cfg(test)]
    pub(crate) fn holders(&self) -> [Option<K>; LISTENER_SLOTS] {
        self.slots
    }

    /// Recomputes the holders if `REASSIGN_INTERVAL_MS` passed since the last time; returns
    /// whether any slot changed hands.
    pub(crate) fn reassign(&mut self, now: Instant) -> bool {
        if self.last_reassign.is_some_and(|last| now.duration_since(last) < Duration::from_millis(REASSIGN_INTERVAL_MS))
        {
            return false;
        }
        self.last_reassign = Some(now);
        let before = self.slots;
        let idle = Duration::from_millis(SPEAKER_IDLE_MS);
        let active = |speaker: &Speaker<K>| now.duration_since(speaker.last_packet) < idle;
        // Holders that went quiet for good free their slots.
        for slot in &mut self.slots {
            if let Some(holder) = *slot
                && !self.speakers.iter().any(|speaker| speaker.key == holder && active(speaker))
            {
                *slot = None;
            }
        }
        // Candidates loudest first; each takes a free slot or evicts a clearly quieter holder.
        let mut candidates: Vec<&Speaker<K>> = self
            .speakers
            .iter()
            .filter(|speaker| active(speaker) && !self.slots.contains(&Some(speaker.key)))
            .collect();
        candidates.sort_by(|a, b| b.loudness_db.total_cmp(&a.loudness_db));
        for candidate in candidates {
            if let Some(free) = self.slots.iter().position(Option::is_none) {
                self.slots[free] = Some(candidate.key);
                continue;
            }
            let loudness =
                |key: K| self.speakers.iter().find(|speaker| speaker.key == key).map_or(0.0, |s| s.loudness_db);
            let (quietest_idx, quietest_db) = self
                .slots
                .iter()
                .enumerate()
                .map(|(slot_idx, holder)| (slot_idx, loudness(holder.expect("every slot is taken"))))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("at least one slot");
            if candidate.loudness_db > quietest_db + SWITCH_MARGIN_DB {
                self.slots[quietest_idx] = Some(candidate.key);
            }
        }
        self.slots != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds 20 ms packets for `ms` at the given levels (None: that speaker is silent, no packets).
    fn talk(table: &mut SlotTable<u32>, start: Instant, from_ms: u64, ms: u64, levels: &[(u32, i8)]) -> Instant {
        let mut now = start;
        for tick in (from_ms..from_ms + ms).step_by(20) {
            now = start + Duration::from_millis(tick);
            for &(key, level) in levels {
                table.observe(key, Some(level), now);
            }
            table.reassign(now);
        }
        now
    }

    #[test]
    fn free_slots_fill_and_the_loudest_newcomer_takes_the_quietest_slot() {
        let start = Instant::now();
        let mut table = SlotTable::default();
        talk(&mut table, start, 0, 500, &[(1, -30), (2, -40), (3, -50)]);
        assert_eq!(table.holders().iter().flatten().count(), 3);
        // A fourth speaker at a similar level does not evict anyone.
        talk(&mut table, start, 500, 500, &[(1, -30), (2, -40), (3, -50), (4, -52)]);
        assert_eq!(table.slot_of(4), None);
        // Speaker 3 goes quiet (-127 dBov, silence) and 4 talks: 4 takes 3's slot within a second.
        let slot_of_3 = table.slot_of(3).unwrap();
        let switched_at = (1_000..2_000)
            .step_by(20)
            .find(|&tick| {
                talk(&mut table, start, tick, 20, &[(1, -30), (2, -40), (3, -127), (4, -20)]);
                table.slot_of(4).is_some()
            })
            .expect("the new speaker got a slot");
        assert!(switched_at - 1_000 < 1_000, "switched after {} ms", switched_at - 1_000);
        assert_eq!(table.slot_of(4), Some(slot_of_3));
        assert!(table.slot_of(1).is_some() && table.slot_of(2).is_some());
    }

    #[test]
    fn a_speaker_who_stops_sending_frees_the_slot() {
        let start = Instant::now();
        let mut table = SlotTable::default();
        talk(&mut table, start, 0, 200, &[(1, -30), (2, -40), (3, -50)]);
        // 1, 2 keep talking; 3 sends nothing; 4 whispers (no margin needed for a free slot).
        talk(&mut table, start, 200, 1_500, &[(1, -30), (2, -40), (4, -120)]);
        assert_eq!(table.slot_of(3), None);
        assert!(table.slot_of(4).is_some());
        table.remove(4);
        assert_eq!(table.slot_of(4), None);
    }
}
