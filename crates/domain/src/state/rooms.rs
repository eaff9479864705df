//! Room templates, episodes and the stage: decisions and their facts.
//!
//! A template version is immutable: saving a name again adds the next version. A room has at most
//! one live episode, and a live episode with an `ends_at` ends then at the latest (a timer). A live episode's stage has exactly one host (the room's creator); the banned
//! are never members; members are bounded by `EPISODE_MEMBERS_MAX`. The host's rituals (the pinned
//! drop, the demo window, live polls and closing polls) change only while the episode is live, by
//! the host or a moderator.

use super::{State, check_title, require_role};
use crate::limits::*;
use crate::{
    AccountId, Actor, Demo, DropId, Episode, EpisodeId, EpisodeStatus, Event, LivePoll, Pin, PollTally, ProductId,
    Question, QuestionStatus, Rejection, Role, RoomId, Slot, Stage, StageAction, StageMember, StageRole, Template,
    TemplateId, TemplateRef, Timestamp,
};
use hashbrown::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};

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

fn member(stage: &mut Stage, id: AccountId) -> &mut StageMember {
    stage.members.get_mut(&id).expect("a stage member")
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

    /// A live episode the caller is a member of.
    fn live_membership(&self, actor: &Actor, episode_id: EpisodeId) -> Result<(&Episode, StageRole), Rejection> {
        let episode = self.room_book.episodes.get(&episode_id).ok_or(Rejection::NotFound)?;
        match episode.status {
            EpisodeStatus::Live => {}
            EpisodeStatus::Scheduled => return Err(Rejection::EpisodeNotLive),
            EpisodeStatus::Ended => return Err(Rejection::EpisodeEnded),
        }
        let member = episode.stage.members.get(&actor.id).ok_or(Rejection::NotInEpisode)?;
        Ok((episode, member.role))
    }

    pub(super) fn decide_vote_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        slot: u32,
        option: u32,
    ) -> Result<Vec<Event>, Rejection> {
        let tally = self.poll_tally(episode_id, slot).ok_or(Rejection::NotFound)?;
        self.live_membership(actor, episode_id)?;
        if !tally.open {
            return Err(Rejection::PollClosed);
        }
        if option as usize >= tally.options.len() {
            return Err(Rejection::invalid("option", format!("must be 0 to {}", tally.options.len() - 1)));
        }
        if self.room_book.votes.get(&(episode_id, slot)).is_some_and(|votes| votes.contains_key(&actor.id)) {
            return Err(Rejection::AlreadyVoted);
        }
        Ok(vec![Event::PollVoted { episode_id, slot, voter: actor.id, option, at: now }])
    }

    pub(super) fn decide_ask_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        text: &str,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.room_book.episodes.get(&episode_id).ok_or(Rejection::NotFound)?;
        if !self.rooms[&episode.room_id].slots.contains(&Slot::Qa) {
            return Err(Rejection::NotFound); // no Q&A queue in this room
        }
        self.live_membership(actor, episode_id)?;
        check_name("text", text, QUESTION_CHARS_MAX)?;
        let n_questions = self.questions(episode_id).len();
        if n_questions >= EPISODE_QUESTIONS_MAX {
            return Err(Rejection::invalid(
                "text",
                format!("an episode takes at most {EPISODE_QUESTIONS_MAX} questions"),
            ));
        }
        let number = n_questions as u32 + 1;
        Ok(vec![Event::QuestionAsked { episode_id, number, by: actor.id, text: text.to_owned(), at: now }])
    }

    pub(super) fn decide_upvote_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        number: u32,
    ) -> Result<Vec<Event>, Rejection> {
        let question = self.question(episode_id, number).ok_or(Rejection::NotFound)?;
        self.live_membership(actor, episode_id)?;
        if question.status != QuestionStatus::Open {
            return Err(Rejection::QuestionClosed);
        }
        if question.upvoters.contains(&actor.id) {
            return Err(Rejection::AlreadyVoted);
        }
        Ok(vec![Event::QuestionUpvoted { episode_id, number, by: actor.id, at: now }])
    }

    pub(super) fn decide_resolve_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        number: u32,
        answered: bool,
    ) -> Result<Vec<Event>, Rejection> {
        let question = self.question(episode_id, number).ok_or(Rejection::NotFound)?;
        let (_, role) = self.live_membership(actor, episode_id).map_err(|rejection| match rejection {
            Rejection::NotInEpisode => Rejection::Forbidden,
            other => other,
        })?;
        if !matches!(role, StageRole::Host | StageRole::Moderator) {
            return Err(Rejection::Forbidden);
        }
        if question.status != QuestionStatus::Open {
            return Err(Rejection::QuestionClosed);
        }
        Ok(vec![Event::QuestionResolved { episode_id, number, by: actor.id, answered, at: now }])
    }

    pub(super) fn decide_save_template(
        &self,
        now: Timestamp,
        actor: &Actor,
        name: &str,
        slots: &[Slot],
    ) -> Result<Vec<Event>, Rejection> {
        require_role(actor, Role::Creator)?;
        check_name("name", name, TEMPLATE_NAME_CHARS_MAX)?;
        if slots.is_empty() || slots.len() > TEMPLATE_SLOTS_MAX {
            return Err(Rejection::invalid("slots", format!("must hold 1 to {TEMPLATE_SLOTS_MAX} slots")));
        }
        for (slot_idx, slot) in slots.iter().enumerate() {
            self.check_slot(actor, slot_idx, slot)?;
        }
        let n_versions = self.room_book.versions.get(&(actor.id, name.to_owned())).map_or(0, Vec::len) as u32;
        if n_versions >= TEMPLATE_VERSIONS_MAX {
            return Err(Rejection::invalid(
                "name",
                format!("a template may have at most {TEMPLATE_VERSIONS_MAX} versions"),
            ));
        }
        let template = Template {
            id: TemplateId(self.allocator(actor.id.partition()).next()),
            creator_id: actor.id,
            name: name.to_owned(),
            version: n_versions + 1,
            slots: slots.to_vec(),
            created_at: now,
        };
        Ok(vec![Event::TemplateSaved { template }])
    }

    fn check_slot(&self, actor: &Actor, slot_idx: usize, slot: &Slot) -> Result<(), Rejection> {
        if let Some(product_id) = slot.product_id()
            && self.products.get(&product_id).is_none_or(|product| product.creator_id != actor.id)
        {
            return Err(Rejection::invalid(&format!("slots[{slot_idx}].product_id"), "not one of your products"));
        }
        match slot {
            Slot::Demo { seconds, .. } if !DEMO_SECONDS_ALLOWED.contains(seconds) => {
                let [short, long] = DEMO_SECONDS_ALLOWED;
                Err(Rejection::invalid(&format!("slots[{slot_idx}].seconds"), format!("must be {short} or {long}")))
            }
            Slot::Poll { question, options } => check_poll(&format!("slots[{slot_idx}]."), question, options),
            _ => Ok(()),
        }
    }

    /// The template a new room is built from: the caller's own.
    pub(super) fn room_template(
        &self,
        actor: &Actor,
        template_id: Option<TemplateId>,
    ) -> Result<(Option<TemplateRef>, Vec<Slot>), Rejection> {
        let Some(template_id) = template_id else { return Ok((None, Vec::new())) };
        let template = self.room_book.templates.get(&template_id).ok_or(Rejection::NotFound)?;
        if template.creator_id != actor.id {
            return Err(Rejection::Forbidden);
        }
        Ok((Some(TemplateRef { id: template.id, version: template.version }), template.slots.clone()))
    }

    pub(super) fn decide_schedule_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        room_id: RoomId,
        title: &str,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
    ) -> Result<Vec<Event>, Rejection> {
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
        let episode = Episode {
            id: EpisodeId(self.allocator(room_id.partition()).next()),
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
        Ok(vec![Event::EpisodeScheduled { episode }])
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
    pub(super) fn decide_start_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.hosted_episode(actor, episode_id)?;
        match episode.status {
            EpisodeStatus::Live => Ok(Vec::new()),
            EpisodeStatus::Ended => Err(Rejection::EpisodeEnded),
            EpisodeStatus::Scheduled if episode.ends_at.is_some_and(|ends_at| ends_at <= now) => {
                Err(Rejection::EpisodeOver)
            }
            EpisodeStatus::Scheduled if self.room_book.live.contains_key(&episode.room_id) => {
                Err(Rejection::EpisodeAlreadyLive)
            }
            EpisodeStatus::Scheduled => Ok(vec![Event::EpisodeStarted { episode_id, at: now }]),
        }
    }

    /// Ending a scheduled episode cancels it; ending an ended one changes nothing. A live episode with
    /// an `ends_at` also ends by itself then: `State::advance` fires the same `EpisodeEnded`.
    pub(super) fn decide_end_episode(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.hosted_episode(actor, episode_id)?;
        match episode.status {
            EpisodeStatus::Ended => Ok(Vec::new()),
            EpisodeStatus::Scheduled | EpisodeStatus::Live => Ok(vec![Event::EpisodeEnded { episode_id, at: now }]),
        }
    }

    /// An action that would change nothing (joining twice, inviting a speaker) produces no event and
    /// answers the episode as it is.
    pub(super) fn decide_change_stage(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        action: StageAction,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.room_book.episodes.get(&episode_id).ok_or(Rejection::NotFound)?;
        match episode.status {
            EpisodeStatus::Live => {}
            EpisodeStatus::Scheduled => return Err(Rejection::EpisodeNotLive),
            EpisodeStatus::Ended => return Err(Rejection::EpisodeEnded),
        }
        let stage = &episode.stage;
        let event = Event::StageChanged { episode_id, by: actor.id, action, at: now };
        let member = |account: &AccountId| stage.members.get(account).ok_or(Rejection::NotInEpisode);
        let actor_role = stage.members.get(&actor.id).map(|member| member.role);
        // Host over everyone, moderators over speakers and listeners; nobody over the host.
        let may_control = |target_role: StageRole| match actor_role {
            Some(StageRole::Host) => target_role != StageRole::Host,
            Some(StageRole::Moderator) => matches!(target_role, StageRole::Speaker | StageRole::Listener),
            _ => false,
        };
        let changed = match action {
            StageAction::Join => {
                if stage.banned.contains(&actor.id) {
                    return Err(Rejection::BannedFromEpisode);
                }
                if stage.members.contains_key(&actor.id) {
                    false
                } else if stage.members.len() >= EPISODE_MEMBERS_MAX {
                    return Err(Rejection::EpisodeFull);
                } else {
                    true
                }
            }
            StageAction::RaiseHand => {
                let member = member(&actor.id)?;
                member.role == StageRole::Listener && !member.hand_raised
            }
            StageAction::Invite(target) => {
                let target = member(&target)?;
                if !may_control(target.role) {
                    return Err(Rejection::Forbidden);
                }
                target.role == StageRole::Listener
            }
            StageAction::MoveToAudience(target_id) => {
                let target = member(&target_id)?;
                // Anyone may step down from the stage themselves, except the host.
                let self_service = target_id == actor.id && target.role != StageRole::Host;
                if !self_service && !may_control(target.role) {
                    return Err(Rejection::Forbidden);
                }
                target.role != StageRole::Listener || target.hand_raised
            }
            StageAction::Mute(target) | StageAction::Unmute(target) => {
                let target = member(&target)?;
                if !may_control(target.role) {
                    return Err(Rejection::Forbidden);
                }
                target.muted != matches!(action, StageAction::Mute(_))
            }
            StageAction::Remove(target_id) => {
                let target = member(&target_id)?;
                if !may_control(target.role) {
                    return Err(Rejection::Forbidden);
                }
                if stage.banned.len() >= EPISODE_BANS_MAX {
                    return Err(Rejection::invalid(
                        "account_id",
                        format!("at most {EPISODE_BANS_MAX} bans per episode"),
                    ));
                }
                true
            }
            StageAction::AppointModerator(target) => {
                let target = member(&target)?;
                if actor_role != Some(StageRole::Host) || target.role == StageRole::Host {
                    return Err(Rejection::Forbidden);
                }
                target.role != StageRole::Moderator
            }
        };
        Ok(if changed { vec![event] } else { Vec::new() })
    }

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
    pub(super) fn decide_pin_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        drop_id: DropId,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        let drop = self.drops.get(&drop_id).ok_or(Rejection::NotFound)?;
        if drop.room_id != episode.room_id {
            return Err(Rejection::invalid("drop_id", "not a drop of this episode's room"));
        }
        if episode.rituals.pinned.is_some_and(|pin| pin.drop_id == drop_id) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::DropPinned { episode_id, drop_id, by: actor.id, at: now }])
    }

    /// Unpinning with nothing pinned changes nothing.
    pub(super) fn decide_unpin_drop(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        if episode.rituals.pinned.is_none() {
            return Ok(Vec::new());
        }
        Ok(vec![Event::DropUnpinned { episode_id, by: actor.id, at: now }])
    }

    pub(super) fn decide_start_demo(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        product_id: ProductId,
        seconds: u32,
    ) -> Result<Vec<Event>, Rejection> {
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
        Ok(vec![Event::DemoStarted { episode_id, product_id, seconds, by: actor.id, at: now }])
    }

    /// Stopping when no demo runs (none yet, or its window is over) changes nothing.
    pub(super) fn decide_stop_demo(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
    ) -> Result<Vec<Event>, Rejection> {
        let episode = self.moderated_episode(actor, episode_id)?;
        if !episode.rituals.demo.is_some_and(|demo| demo.running(now)) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::DemoStopped { episode_id, by: actor.id, at: now }])
    }

    pub(super) fn decide_start_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        question: &str,
        options: &[String],
    ) -> Result<Vec<Event>, Rejection> {
        self.moderated_episode(actor, episode_id)?;
        check_poll("", question, options)?;
        let n_live = self.live_polls(episode_id).len();
        if n_live >= EPISODE_LIVE_POLLS_MAX {
            return Err(Rejection::invalid(
                "question",
                format!("an episode takes at most {EPISODE_LIVE_POLLS_MAX} live polls"),
            ));
        }
        Ok(vec![Event::PollStarted {
            episode_id,
            slot: LIVE_POLL_SLOT_FIRST + n_live as u32,
            question: question.to_owned(),
            options: options.to_vec(),
            by: actor.id,
            at: now,
        }])
    }

    /// Closing a closed poll changes nothing.
    pub(super) fn decide_close_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        slot: u32,
    ) -> Result<Vec<Event>, Rejection> {
        let tally = self.poll_tally(episode_id, slot).ok_or(Rejection::NotFound)?;
        self.moderated_episode(actor, episode_id)?;
        if !tally.open {
            return Ok(Vec::new());
        }
        Ok(vec![Event::PollClosed { episode_id, slot, by: actor.id, at: now }])
    }

    pub(super) fn apply_room_event(&mut self, event: &Event) {
        let book = &mut self.room_book;
        match event {
            Event::TemplateSaved { template } => {
                let versions = book.versions.entry((template.creator_id, template.name.clone())).or_default();
                assert_eq!(
                    versions.len() as u32 + 1,
                    template.version,
                    "template {} out of version order",
                    template.id
                );
                versions.push(template.id);
                book.templates.insert(template.id, template.clone());
            }
            Event::EpisodeScheduled { episode } => {
                let room = self.rooms.get_mut(&episode.room_id).expect("episode of a known room");
                room.episode_ids.push(episode.id);
                book.episodes.insert(episode.id, episode.clone());
            }
            Event::EpisodeStarted { episode_id, at } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                assert_eq!(episode.status, EpisodeStatus::Scheduled, "episode {episode_id} started twice");
                let previous = book.live.insert(episode.room_id, *episode_id);
                assert!(previous.is_none(), "room {} live twice", episode.room_id);
                episode.status = EpisodeStatus::Live;
                episode.started_at = Some(*at);
                let host = StageMember { role: StageRole::Host, hand_raised: false, muted: false };
                episode.stage.members.insert(episode.host_id, host);
            }
            Event::EpisodeEnded { episode_id, at } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                assert_ne!(episode.status, EpisodeStatus::Ended, "episode {episode_id} ended twice");
                if episode.status == EpisodeStatus::Live {
                    book.live.remove(&episode.room_id);
                }
                episode.status = EpisodeStatus::Ended;
                episode.ended_at = Some(*at);
            }
            Event::StageChanged { episode_id, by, action, .. } => {
                let stage = &mut book.episodes.get_mut(episode_id).expect("known episode").stage;
                match *action {
                    StageAction::Join => {
                        let listener = StageMember { role: StageRole::Listener, hand_raised: false, muted: false };
                        stage.members.insert(*by, listener);
                        assert!(stage.members.len() <= EPISODE_MEMBERS_MAX, "episode {episode_id} over capacity");
                    }
                    StageAction::RaiseHand => member(stage, *by).hand_raised = true,
                    StageAction::Invite(target) => {
                        let target = member(stage, target);
                        target.role = StageRole::Speaker;
                        target.hand_raised = false;
                    }
                    StageAction::MoveToAudience(target) => {
                        let target = member(stage, target);
                        target.role = StageRole::Listener;
                        target.hand_raised = false;
                    }
                    StageAction::Mute(target) => member(stage, target).muted = true,
                    StageAction::Unmute(target) => member(stage, target).muted = false,
                    StageAction::Remove(target) => {
                        stage.members.remove(&target).expect("a stage member");
                        stage.banned.insert(target);
                    }
                    StageAction::AppointModerator(target) => {
                        let target = member(stage, target);
                        target.role = StageRole::Moderator;
                        target.hand_raised = false;
                    }
                }
            }
            Event::PollVoted { episode_id, slot, voter, option, .. } => {
                let previous = book.votes.entry((*episode_id, *slot)).or_default().insert(*voter, *option);
                assert!(previous.is_none(), "{voter} voted twice in poll {slot} of {episode_id}");
            }
            Event::QuestionAsked { episode_id, number, by, text, at } => {
                let questions = book.questions.entry(*episode_id).or_default();
                assert_eq!(questions.len() as u32 + 1, *number, "question {number} of {episode_id} out of order");
                questions.push(Question {
                    number: *number,
                    asked_by: *by,
                    text: text.clone(),
                    upvoters: BTreeSet::new(),
                    status: QuestionStatus::Open,
                    asked_at: *at,
                });
            }
            Event::QuestionUpvoted { episode_id, number, by, .. } => {
                let question = &mut book.questions.get_mut(episode_id).expect("known queue")[*number as usize - 1];
                assert!(question.upvoters.insert(*by), "{by} upvoted question {number} twice");
            }
            Event::QuestionResolved { episode_id, number, answered, .. } => {
                let question = &mut book.questions.get_mut(episode_id).expect("known queue")[*number as usize - 1];
                assert_eq!(question.status, QuestionStatus::Open, "question {number} resolved twice");
                question.status = if *answered { QuestionStatus::Answered } else { QuestionStatus::Dismissed };
            }
            Event::DropPinned { episode_id, drop_id, at, .. } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                assert_eq!(episode.status, EpisodeStatus::Live, "a pin in episode {episode_id}, which is not live");
                episode.rituals.pinned = Some(Pin { drop_id: *drop_id, pinned_at: *at });
            }
            Event::DropUnpinned { episode_id, .. } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                assert!(episode.rituals.pinned.take().is_some(), "episode {episode_id} unpinned with no pin");
            }
            Event::DemoStarted { episode_id, product_id, seconds, at, .. } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                assert_eq!(episode.status, EpisodeStatus::Live, "a demo in episode {episode_id}, which is not live");
                let ends_at = at.plus_ms(u64::from(*seconds) * 1_000);
                episode.rituals.demo =
                    Some(Demo { product_id: *product_id, seconds: *seconds, started_at: *at, ends_at });
            }
            Event::DemoStopped { episode_id, at, .. } => {
                let episode = book.episodes.get_mut(episode_id).expect("known episode");
                let demo = episode.rituals.demo.as_mut().expect("a demo to stop");
                assert!(demo.running(*at), "episode {episode_id}: a demo stopped after its end");
                demo.ends_at = *at;
            }
            Event::PollStarted { episode_id, slot, question, options, by, at } => {
                let polls = book.live_polls.entry(*episode_id).or_default();
                assert_eq!(live_poll_index(*slot), Some(polls.len()), "live poll {slot} of {episode_id} out of order");
                polls.push(LivePoll {
                    question: question.clone(),
                    options: options.clone(),
                    started_by: *by,
                    started_at: *at,
                });
            }
            Event::PollClosed { episode_id, slot, .. } => {
                assert!(book.closed_polls.insert((*episode_id, *slot)), "poll {slot} of {episode_id} closed twice");
            }
            other => unreachable!("{} is not a room event", other.kind()),
        }
    }

    pub(super) fn check_room_invariants(&self) -> Result<(), String> {
        let book = &self.room_book;
        let mut n_live_by_room: HashMap<RoomId, usize> = HashMap::new();
        for episode in book.episodes.values() {
            let stage = &episode.stage;
            if stage.members.len() > EPISODE_MEMBERS_MAX || stage.members.keys().any(|id| stage.banned.contains(id)) {
                return Err(format!("episode {}: members over capacity or banned", episode.id));
            }
            let hosts: Vec<&AccountId> =
                stage.members.iter().filter(|(_, member)| member.role == StageRole::Host).map(|(id, _)| id).collect();
            if episode.status == EpisodeStatus::Live {
                *n_live_by_room.entry(episode.room_id).or_default() += 1;
                if hosts != [&episode.host_id] {
                    return Err(format!(
                        "episode {}: a live episode has exactly its room's creator as host",
                        episode.id
                    ));
                }
            }
        }
        for (room_id, n_live) in &n_live_by_room {
            if *n_live > 1 || book.live.get(room_id).is_none() {
                return Err(format!("room {room_id}: more than one live episode, or its index out of step"));
            }
        }
        for ((episode_id, slot), votes) in &book.votes {
            let Some((_, options)) = self.poll(*episode_id, *slot) else {
                return Err(format!("episode {episode_id}: votes in slot {slot}, which is not a poll"));
            };
            if votes.values().any(|option| *option as usize >= options.len()) {
                return Err(format!("episode {episode_id}: a vote for an option poll {slot} does not have"));
            }
        }
        if book.live_polls.values().any(|polls| polls.len() > EPISODE_LIVE_POLLS_MAX) {
            return Err("live polls over their bound".to_owned());
        }
        if let Some((episode_id, slot)) = book.closed_polls.iter().find(|(id, slot)| self.poll(*id, *slot).is_none()) {
            return Err(format!("episode {episode_id}: closed poll {slot} is not a poll"));
        }
        for episode in book.episodes.values() {
            let rituals = &episode.rituals;
            if episode.status == EpisodeStatus::Scheduled && *rituals != Default::default() {
                return Err(format!("episode {}: rituals before it went live", episode.id));
            }
            if let Some(pin) = rituals.pinned
                && self.drops.get(&pin.drop_id).is_none_or(|drop| drop.room_id != episode.room_id)
            {
                return Err(format!("episode {}: the pinned drop is not the room's", episode.id));
            }
            if let Some(demo) = rituals.demo {
                let full_length_ends_at = demo.started_at.plus_ms(u64::from(demo.seconds) * 1_000);
                let product = self.products.get(&demo.product_id);
                if product.is_none_or(|product| product.creator_id != episode.host_id)
                    || !DEMO_SECONDS_ALLOWED.contains(&demo.seconds)
                    || !(demo.started_at..=full_length_ends_at).contains(&demo.ends_at)
                {
                    return Err(format!("episode {}: a demo of another's product or out of its window", episode.id));
                }
            }
        }
        if book.questions.values().any(|questions| questions.len() > EPISODE_QUESTIONS_MAX) {
            return Err("a Q&A queue over its bound".to_owned());
        }
        if book.live.len() != n_live_by_room.len() {
            return Err("live episode index out of step".to_owned());
        }
        for ((creator_id, name), ids) in &book.versions {
            for (idx, id) in ids.iter().enumerate() {
                let template = &book.templates[id];
                if template.version as usize != idx + 1 || template.creator_id != *creator_id || template.name != *name
                {
                    return Err(format!("template {id}: versions out of order"));
                }
            }
        }
        Ok(())
    }
}
