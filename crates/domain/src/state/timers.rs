//! Timers: a drop opening and closing, a hold expiring, a live episode reaching its `ends_at`. They
//! fire as ordinary events when time is advanced, so a replay needs no clock: the journal holds them.

use super::State;
use crate::{DropId, EpisodeId, Event, HoldId, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Deadline {
    DropOpen(DropId),
    DropClose(DropId),
    HoldExpiry(HoldId),
    /// A live episode reaches its `ends_at`: it ends as if its host had ended it.
    EpisodeEnd(EpisodeId),
}

/// When a live episode's timer fires: its `ends_at`, or its start if it went live later (only an
/// episode journaled before starts were refused after `ends_at` can have), so it never ends before
/// it started. `None` for an episode that is not live or has no `ends_at`.
pub(super) fn episode_end_deadline(episode: &crate::Episode) -> Option<Timestamp> {
    if episode.status != crate::EpisodeStatus::Live {
        return None;
    }
    let ends_at = episode.ends_at?;
    Some(episode.started_at.map_or(ends_at, |started_at| ends_at.max(started_at)))
}

impl State {
    /// When the next timer is due, so the shard knows how long it may sleep.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Fires every timer due at or before `now`, applying and returning the events, and forgets
    /// idempotency records past their TTL. Forgetting is not a fact: an expired record can change no
    /// outcome, so it needs no event, and a replayed state equals the live one once both are advanced
    /// to the same `now`.
    pub fn advance(&mut self, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        self.advance_into(now, &mut events);
        events
    }

    /// `advance`, appending the events to `events`.
    pub(super) fn advance_into(&mut self, now: Timestamp, events: &mut Vec<Event>) {
        self.forget_expired_idempotency(now);
        while let Some(&(at, deadline)) = self.deadlines.first() {
            if at > now {
                break;
            }
            let event = match deadline {
                Deadline::DropOpen(drop_id) => Event::DropOpened { drop_id, at },
                Deadline::DropClose(drop_id) => Event::DropClosed { drop_id, at, by_creator: false },
                Deadline::HoldExpiry(hold_id) => {
                    let hold = &self.holds[&hold_id];
                    Event::HoldExpired { hold_id, drop_id: hold.drop_id, quantity: hold.quantity, at }
                }
                Deadline::EpisodeEnd(episode_id) => Event::EpisodeEnded { episode_id, at },
            };
            let n_deadlines_before = self.deadlines.len();
            self.apply(&event);
            assert!(self.deadlines.len() < n_deadlines_before, "a fired deadline must be consumed");
            events.push(event);
        }
    }
}
