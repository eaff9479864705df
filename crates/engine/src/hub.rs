//! Fan-out of committed drop counters to the live subscribers of each room.

use domain::{Drop, DropId, DropStatus, RoomId};
use std::collections::HashMap;
use std::sync::Mutex;
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

#[derive(Default)]
pub(crate) struct Hub {
    rooms: Mutex<HashMap<RoomId, broadcast::Sender<DropCounters>>>,
}

impl Hub {
    pub(crate) fn subscribe(&self, room_id: RoomId) -> broadcast::Receiver<DropCounters> {
        let mut rooms = self.rooms.lock().expect("hub lock");
        rooms.entry(room_id).or_insert_with(|| broadcast::channel(ROOM_UPDATES_BUFFERED_MAX).0).subscribe()
    }

    pub(crate) fn publish(&self, update: DropCounters) {
        let mut rooms = self.rooms.lock().expect("hub lock");
        if let Some(sender) = rooms.get(&update.room_id)
            && sender.send(update.clone()).is_err()
        {
            // Nobody listens any more: forget the room so the map only holds watched rooms.
            rooms.remove(&update.room_id);
        }
    }
}
