//! Room templates, episodes and the stage: decisions and their facts.
//!
//! A template version is immutable: saving a name again adds the next version. A room has at most
//! one live episode, and a live episode with an `ends_at` ends then at the latest (a timer). A live
//! episode's stage has exactly one host (the room's creator); the banned are never members; members
//! are bounded by `EPISODE_MEMBERS_MAX`. The host's rituals (the pinned drop, the demo window, live
//! polls and closing polls) change only while the episode is live, by the host or a moderator.
//!
//! This file holds the book the rooms keep and its readers; the decisions are split by who makes
//! them: `templates`, `episodes` (the host's schedule), `audience` (stage, votes, Q&A) and `rituals`.

mod apply;
mod audience;
mod episodes;
mod invariants;
mod rituals;
mod templates;

use super::{State, check_title};
use crate::limits::*;
use crate::{
    AccountId, Episode, EpisodeId, LivePoll, PollTally, Question, Rejection, RoomId, Slot, Template, TemplateId,
};
use hashbrown::{HashMap, HashSet};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct RoomBook {
    pub(super) templates: HashMap<TemplateId, Template>,
    /// Each creator's versions of each template name, version 1 first.
    versions: HashMap<(AccountId, String), Vec<TemplateId>>,
    pub(super) episodes: HashMap<EpisodeId, Episode>,
    /// The live episode of each room that has one.
    live: HashMap<RoomId, EpisodeId>,
    /// Each poll's votes in an episode, by (episode, slot): voter → option.
    votes: HashMap<(EpisodeId, u32), BTreeMap<AccountId, u32>>,
    /// The polls started during each episode, in order: slot `LIVE_POLL_SLOT_FIRST + n` at index `n`.
    live_polls: HashMap<EpisodeId, Vec<LivePoll>>,
    /// Polls (template or live) closed in an episode, by (episode, slot).
    closed_polls: HashSet<(EpisodeId, u32)>,
    /// Each episode's Q&A queue, in the order asked (question `n` at index `n - 1`).
    questions: HashMap<EpisodeId, Vec<Question>>,
}

fn check_name(field: &str, text: &str, chars_max: usize) -> Result<(), Rejection> {
    let n_chars = text.chars().count();
    if text.trim().is_empty() || n_chars > chars_max || text.chars().any(char::is_control) {
        return Err(Rejection::invalid(field, format!("must be 1 to {chars_max} printable characters")));
    }
    Ok(())
}

/// A poll's question and options, for a template's poll slot and a live poll alike; `prefix` goes
/// before the field names (`slots[2].` for a slot, nothing for a live poll).
fn check_poll(prefix: &str, question: &str, options: &[String]) -> Result<(), Rejection> {
    check_title(&format!("{prefix}question"), question)?;
    if !(POLL_OPTIONS_MIN..=POLL_OPTIONS_MAX).contains(&options.len()) {
        return Err(Rejection::invalid(
            &format!("{prefix}options"),
            format!("must hold {POLL_OPTIONS_MIN} to {POLL_OPTIONS_MAX} options"),
        ));
    }
    for (option_idx, option) in options.iter().enumerate() {
        check_name(&format!("{prefix}options[{option_idx}]"), option, POLL_OPTION_CHARS_MAX)?;
        if options[..option_idx].contains(option) {
            return Err(Rejection::invalid(&format!("{prefix}options"), "must be distinct"));
        }
    }
    Ok(())
}

/// The `n`-th live poll's index among an episode's live polls, if `slot` is in their range.
fn live_poll_index(slot: u32) -> Option<usize> {
    slot.checked_sub(LIVE_POLL_SLOT_FIRST).map(|index| index as usize)
}

impl State {
    pub fn template(&self, id: TemplateId) -> Option<&Template> {
        self.room_book.templates.get(&id)
    }

    /// The newest version of a template's name (for answering which version a template is behind).
    pub fn latest_template_version(&self, template: &Template) -> u32 {
        let key = (template.creator_id, template.name.clone());
        self.room_book.versions.get(&key).map_or(template.version, |ids| ids.len() as u32)
    }

    pub fn episode(&self, id: EpisodeId) -> Option<&Episode> {
        self.room_book.episodes.get(&id)
    }

    /// The room's live episode, if it has one.
    pub fn live_episode(&self, room_id: RoomId) -> Option<&Episode> {
        self.room_book.live.get(&room_id).and_then(|id| self.room_book.episodes.get(id))
    }

    /// The question and options of poll `slot` in an episode: a poll slot of the room (below
    /// `LIVE_POLL_SLOT_FIRST`) or one of the episode's live polls.
    fn poll(&self, episode_id: EpisodeId, slot: u32) -> Option<(&str, &[String])> {
        let episode = self.room_book.episodes.get(&episode_id)?;
        if let Some(index) = live_poll_index(slot) {
            let poll = self.room_book.live_polls.get(&episode_id)?.get(index)?;
            return Some((&poll.question, &poll.options));
        }
        match self.rooms[&episode.room_id].slots.get(slot as usize) {
            Some(Slot::Poll { question, options }) => Some((question, options)),
            _ => None,
        }
    }

    /// The tally of poll `slot` in an episode; `None` unless that slot is a poll of the room or
    /// one of the episode's live polls.
    pub fn poll_tally(&self, episode_id: EpisodeId, slot: u32) -> Option<PollTally> {
        let (question, options) = self.poll(episode_id, slot)?;
        let mut tallies = vec![0u64; options.len()];
        for option in self.room_book.votes.get(&(episode_id, slot)).into_iter().flat_map(BTreeMap::values) {
            tallies[*option as usize] += 1;
        }
        Some(PollTally {
            episode_id,
            slot,
            question: question.to_owned(),
            options: options.to_vec(),
            tallies,
            open: !self.room_book.closed_polls.contains(&(episode_id, slot)),
        })
    }

    /// Every poll slot of the episode's room, then the episode's live polls in the order started,
    /// tallied.
    pub fn poll_tallies(&self, episode_id: EpisodeId) -> Option<Vec<PollTally>> {
        let episode = self.room_book.episodes.get(&episode_id)?;
        let n_slots = self.rooms[&episode.room_id].slots.len() as u32;
        let n_live = self.live_polls(episode_id).len() as u32;
        let live_slots = LIVE_POLL_SLOT_FIRST..LIVE_POLL_SLOT_FIRST + n_live;
        Some((0..n_slots).chain(live_slots).filter_map(|slot| self.poll_tally(episode_id, slot)).collect())
    }

    /// The polls started during the episode, in order (the n-th has slot `LIVE_POLL_SLOT_FIRST + n`).
    pub fn live_polls(&self, episode_id: EpisodeId) -> &[LivePoll] {
        self.room_book.live_polls.get(&episode_id).map_or(&[], Vec::as_slice)
    }

    pub fn question(&self, episode_id: EpisodeId, number: u32) -> Option<&Question> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.room_book.questions.get(&episode_id)?.get(index)
    }

    /// The episode's questions in the order asked.
    pub fn questions(&self, episode_id: EpisodeId) -> &[Question] {
        self.room_book.questions.get(&episode_id).map_or(&[], Vec::as_slice)
    }
}
