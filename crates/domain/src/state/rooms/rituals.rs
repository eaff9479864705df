//! The host's rituals in a live episode: the pinned drop, the demo window, live polls and closing
//! polls. Only the host and moderators run them, and only while the episode is live.

use super::check_poll;
use crate::limits::*;
use crate::state::State;
use crate::state::decision::{Decision, ReadBack};
use crate::{Actor, DropId, Episode, EpisodeId, EpisodeStatus, Event, ProductId, Rejection, StageRole, Timestamp};

impl State {
    /// A live episode the caller runs rituals in: as its host or a moderator. An ended episode's
    /// rituals are read-only, so it answers like a scheduled one: not live.
    fn moderated_episode(&self, actor: &Actor, episode_id: EpisodeId) -> Result<&Episode, Rejection> {
        let episode = self.room_book.episodes.get(&episode_id).ok_or(Rejection::NotFound)?;
        if episode.status != EpisodeStatus::Live {
            return Err(Rejection::EpisodeNotLive);
        }
        match episode.stage.members.get(&actor.id).map(|member| member.role) {
            Some(StageRole::Host | StageRole::Moderator) => Ok(episode),
            _ => Err(Rejection::Forbidden),
        }
    }

    /// Pinning the pinned drop again changes nothing; pinning another replaces the pin.
    pub(in crate::state) fn decide_pin_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        drop_id: DropId,
    ) -> Result<Decision, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        if drop.room_id != episode.room_id {
            return Err(Rejection::invalid("drop_id", "not a drop of this episode's room"));
        }
        if episode.rituals.pinned.is_some_and(|pin| pin.drop_id == drop_id) {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Episode(episode_id)));
        }
        let pinned = Event::DropPinned { episode_id, drop_id, by: actor.id, at: now };
        Ok(Decision::read_back(vec![pinned], ReadBack::Episode(episode_id)))
    }

    /// Unpinning with nothing pinned changes nothing.
    pub(in crate::state) fn decide_unpin_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Decision, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        if episode.rituals.pinned.is_none() {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Episode(episode_id)));
        }
        let unpinned = Event::DropUnpinned { episode_id, by: actor.id, at: now };
        Ok(Decision::read_back(vec![unpinned], ReadBack::Episode(episode_id)))
    }

    pub(in crate::state) fn decide_start_demo(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        product_id: ProductId,
        seconds: u32,
    ) -> Result<Decision, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        // A moderator demonstrates the host's products: the room is the creator's shop.
        if self.products.get(&product_id).is_none_or(|product| product.creator_id != episode.host_id) {
            return Err(Rejection::invalid("product_id", "not one of the room creator's products"));
        }
        if !DEMO_SECONDS_ALLOWED.contains(&seconds) {
            let [short, long] = DEMO_SECONDS_ALLOWED;
            return Err(Rejection::invalid("seconds", format!("must be {short} or {long}")));
        }
        if episode.rituals.demo.is_some_and(|demo| demo.running(now)) {
            return Err(Rejection::DemoRunning);
        }
        let started = Event::DemoStarted { episode_id, product_id, seconds, by: actor.id, at: now };
        Ok(Decision::read_back(vec![started], ReadBack::Episode(episode_id)))
    }

    /// Stopping when no demo runs (none yet, or its window is over) changes nothing.
    pub(in crate::state) fn decide_stop_demo(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Decision, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        if !episode.rituals.demo.is_some_and(|demo| demo.running(now)) {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Episode(episode_id)));
        }
        let stopped = Event::DemoStopped { episode_id, by: actor.id, at: now };
        Ok(Decision::read_back(vec![stopped], ReadBack::Episode(episode_id)))
    }

    pub(in crate::state) fn decide_start_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        question: &str,
        options: &[String],
    ) -> Result<Decision, Rejection> {
        self.moderated_episode(actor, episode_id)?;
        check_poll("", question, options)?;
        let n_live = self.live_polls(episode_id).len();
        if n_live >= EPISODE_LIVE_POLLS_MAX {
            return Err(Rejection::invalid(
                "question",
                format!("an episode takes at most {EPISODE_LIVE_POLLS_MAX} live polls"),
            ));
        }
        let slot = LIVE_POLL_SLOT_FIRST + n_live as u32;
        let started = Event::PollStarted {
            episode_id,
            slot,
            question: question.to_owned(),
            options: options.to_vec(),
            by: actor.id,
            at: now,
        };
        Ok(Decision::read_back(vec![started], ReadBack::Poll { episode_id, slot }))
    }

    /// Closing a closed poll changes nothing.
    pub(in crate::state) fn decide_close_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        slot: u32,
    ) -> Result<Decision, Rejection> {
        let tally = self.poll_tally(episode_id, slot).ok_or(Rejection::NotFound)?;
        self.moderated_episode(actor, episode_id)?;
        if !tally.open {
            return Ok(Decision::read_back(Vec::new(), ReadBack::Poll { episode_id, slot }));
        }
        let closed = Event::PollClosed { episode_id, slot, by: actor.id, at: now };
        Ok(Decision::read_back(vec![closed], ReadBack::Poll { episode_id, slot }))
    }
}
