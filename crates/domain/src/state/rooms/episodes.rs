//! Episodes: the room creator schedules, starts and ends a live session of the room. Everything else
//! in an episode needs it live, so its lifecycle is decided here on its own.

use crate::limits::*;
use crate::state::decision::{Decision, ReadBack};
use crate::state::{State, check_title};
use crate::{Actor, Episode, EpisodeId, EpisodeStatus, Event, Rejection, RoomId, Stage, Timestamp};

impl State {
    pub(in crate::state) fn decide_schedule_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        room_id: RoomId,
        title: &str,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
    ) -> Result<Decision, Rejection> {
        let room = self.rooms.get(&room_id).ok_or(Rejection::NotFound)?;
        if room.creator_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        check_title("title", title)?;
        if starts_at.0.abs_diff(now.0) > SCHEDULE_AHEAD_MS_MAX as u64 {
            return Err(Rejection::invalid("starts_at", "must be within a year of now"));
        }
        if let Some(ends_at) = ends_at
            && (ends_at <= starts_at || ends_at.0 - starts_at.0 > EPISODE_LENGTH_MS_MAX)
        {
            return Err(Rejection::invalid("ends_at", "must be after starts_at, at most a day later"));
        }
        if room.episode_ids.len() >= ROOM_EPISODES_MAX {
            return Err(Rejection::invalid(
                "room",
                format!("a room may schedule at most {ROOM_EPISODES_MAX} episodes"),
            ));
        }
        let episode_id = EpisodeId(self.allocator(room_id.partition()).next());
        let episode = Episode {
            id: episode_id,
            room_id,
            host_id: room.creator_id,
            title: title.to_owned(),
            starts_at,
            ends_at,
            status: EpisodeStatus::Scheduled,
            started_at: None,
            ended_at: None,
            stage: Stage::default(),
            rituals: Default::default(),
            created_at: now,
        };
        Ok(Decision::read_back(vec![Event::EpisodeScheduled { episode }], ReadBack::Episode(episode_id)))
    }

    fn hosted_episode(&self, actor: &Actor, episode_id: EpisodeId) -> Result<&Episode, Rejection> {
        let episode = self.room_book.episodes.get(&episode_id).ok_or(Rejection::NotFound)?;
        if episode.host_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        Ok(episode)
    }

    /// Starting a live episode again changes nothing and answers it. A scheduled episode whose
    /// `ends_at` has passed (`now` at or after it) is refused, `EpisodeOver`: it would end at once.
    pub(in crate::state) fn decide_start_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Decision, Rejection> {
        let episode = self.hosted_episode(actor, episode_id)?;
        let events = match episode.status {
            EpisodeStatus::Live => Vec::new(),
            EpisodeStatus::Ended => return Err(Rejection::EpisodeEnded),
            EpisodeStatus::Scheduled if episode.ends_at.is_some_and(|ends_at| ends_at <= now) => {
                return Err(Rejection::EpisodeOver);
            }
            EpisodeStatus::Scheduled if self.room_book.live.contains_key(&episode.room_id) => {
                return Err(Rejection::EpisodeAlreadyLive);
            }
            EpisodeStatus::Scheduled => vec![Event::EpisodeStarted { episode_id, at: now }],
        };
        Ok(Decision::read_back(events, ReadBack::Episode(episode_id)))
    }

    /// Ending a scheduled episode cancels it; ending an ended one changes nothing. A live episode with
    /// an `ends_at` also ends by itself then: `State::advance` fires the same `EpisodeEnded`.
    pub(in crate::state) fn decide_end_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Decision, Rejection> {
        let episode = self.hosted_episode(actor, episode_id)?;
        let events = match episode.status {
            EpisodeStatus::Ended => Vec::new(),
            EpisodeStatus::Scheduled | EpisodeStatus::Live => vec![Event::EpisodeEnded { episode_id, at: now }],
        };
        Ok(Decision::read_back(events, ReadBack::Episode(episode_id)))
    }
}
