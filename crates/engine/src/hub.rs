//! Fan-out of committed room updates (drop counters, the live episode's state) to the live
//! subscribers of each room.

use domain::{Drop, DropId, DropStatus, Episode, EpisodeId, PollTally, Question, Rituals, RoomId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Updates buffered per room for slow subscribers; one that falls further behind is told it lagged
/// and resynchronises from a fresh snapshot instead of growing a queue.
pub(crate) const ROOM_UPDATES_BUFFERED_MAX: usize = 512;

/// A drop's counters as of journal position `seq`: the last event of the shard batch that changed
/// them, so drops changed in one batch share it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropCounters {
    pub seq: u64,
    pub drop_id: DropId,
    pub room_id: RoomId,
    pub status: DropStatus,
    pub quantity: u64,
    pub remaining: u64,
    pub held: u64,
    pub sold: u64,
    /// Refunded units that went back to the product's stock rather than to this drop.
    pub released: u64,
}

impl DropCounters {
    pub fn of(drop: &Drop, seq: u64) -> DropCounters {
        DropCounters {
            seq,
            drop_id: drop.id,
            room_id: drop.room_id,
            status: drop.status(),
            quantity: drop.quantity,
            remaining: drop.remaining,
            held: drop.held,
            sold: drop.sold,
            released: drop.released,
        }
    }
}

/// What changed in an episode, as its whole current state (not a delta), so a subscriber may skip
/// all but the newest of each kind and still end up right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EpisodeChange {
    /// Started or ended; the status is `episode.status`.
    Status(Arc<Episode>),
    /// The stage after the batch (roles, raised hands, muted, banned).
    Stage(Arc<Episode>),
    /// One poll's tallies, question, options and whether it is open (a new live poll, a vote, a
    /// close), so a subscriber that never saw the poll can show it.
    Poll(Arc<PollTally>),
    /// The whole Q&A queue in the order asked.
    Questions(Arc<Vec<Question>>),
    /// The pinned drop and the demo window.
    Rituals(Arc<Rituals>),
}

/// An episode's state as of journal position `seq` (the batch's last event, as for drop counters).
/// Shared (`Arc`): the room's buffer holds one copy however many subscribers read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpisodeUpdate {
    pub seq: u64,
    pub room_id: RoomId,
    pub episode_id: EpisodeId,
    pub change: EpisodeChange,
}

/// One committed change of a room, in journal order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoomUpdate {
    Drop(DropCounters),
    Episode(EpisodeUpdate),
}

impl RoomUpdate {
    pub fn seq(&self) -> u64 {
        match self {
            RoomUpdate::Drop(counters) => counters.seq,
            RoomUpdate::Episode(update) => update.seq,
        }
    }

    pub(crate) fn set_seq(&mut self, seq: u64) {
        match self {
            RoomUpdate::Drop(counters) => counters.seq = seq,
            RoomUpdate::Episode(update) => update.seq = seq,
        }
    }

    pub fn room_id(&self) -> RoomId {
        match self {
            RoomUpdate::Drop(counters) => counters.room_id,
            RoomUpdate::Episode(update) => update.room_id,
        }
    }
}

#[derive(Default)]
pub(crate) struct Hub {
    rooms: Mutex<HashMap<RoomId, broadcast::Sender<RoomUpdate>>>,
}

impl Hub {
    pub(crate) fn subscribe(&self, room_id: RoomId) -> broadcast::Receiver<RoomUpdate> {
        let mut rooms = self.rooms.lock().expect("hub lock");
        rooms.entry(room_id).or_insert_with(|| broadcast::channel(ROOM_UPDATES_BUFFERED_MAX).0).subscribe()
    }

    pub(crate) fn publish(&self, update: RoomUpdate) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        let room_id = update.room_id();
        if let Some(sender) = rooms.get(&room_id)
            && sender.send(update).is_err()
        {
            // Nobody listens any more: forget the room so the map only holds watched rooms.
            rooms.remove(&room_id);
        }
    }
}
