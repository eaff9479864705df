//! What the members of a live episode do: joining the stage and the host's and moderators' control
//! of it, voting in polls, and the Q&A queue. Separate from `rituals`, which only the host and
//! moderators run.

use super::check_name;
use crate::limits::*;
use crate::state::State;
use crate::state::decision::{Decision, ReadBack};
use crate::{
    AccountId, Actor, Episode, EpisodeId, EpisodeStatus, Event, QuestionStatus, Rejection, Slot, StageAction,
    StageRole, Timestamp,
};

impl State {
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

    pub(in crate::state) fn decide_vote_poll(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        slot: u32,
        option: u32,
    ) -> Result<Decision, Rejection> {
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
        let voted = Event::PollVoted { episode_id, slot, voter: actor.id, option, at: now };
        Ok(Decision::read_back(vec![voted], ReadBack::Poll { episode_id, slot }))
    }

    pub(in crate::state) fn decide_ask_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        text: &str,
    ) -> Result<Decision, Rejection> {
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
        let asked = Event::QuestionAsked { episode_id, number, by: actor.id, text: text.to_owned(), at: now };
        Ok(Decision::read_back(vec![asked], ReadBack::Question { episode_id, number }))
    }

    pub(in crate::state) fn decide_upvote_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        number: u32,
    ) -> Result<Decision, Rejection> {
        let question = self.question(episode_id, number).ok_or(Rejection::NotFound)?;
        self.live_membership(actor, episode_id)?;
        if question.status != QuestionStatus::Open {
            return Err(Rejection::QuestionClosed);
        }
        if question.upvoters.contains(&actor.id) {
            return Err(Rejection::AlreadyVoted);
        }
        let upvoted = Event::QuestionUpvoted { episode_id, number, by: actor.id, at: now };
        Ok(Decision::read_back(vec![upvoted], ReadBack::Question { episode_id, number }))
    }

    pub(in crate::state) fn decide_resolve_question(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        number: u32,
        answered: bool,
    ) -> Result<Decision, Rejection> {
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
        let resolved = Event::QuestionResolved { episode_id, number, by: actor.id, answered, at: now };
        Ok(Decision::read_back(vec![resolved], ReadBack::Question { episode_id, number }))
    }

    /// An action that would change nothing (joining twice, inviting a speaker) produces no event and
    /// answers the episode as it is.
    pub(in crate::state) fn decide_change_stage(
        &self,
        now: Timestamp,
        actor: &Actor,
        episode_id: EpisodeId,
        action: StageAction,
    ) -> Result<Decision, Rejection> {
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
        let events = if changed { vec![event] } else { Vec::new() };
        Ok(Decision::read_back(events, ReadBack::Episode(episode_id)))
    }
}
