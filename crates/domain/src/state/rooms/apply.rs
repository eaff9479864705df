//! The room facts applied to the room book: the only place templates, episodes, stages, votes,
//! questions and rituals change.

use super::live_poll_index;
use crate::limits::EPISODE_MEMBERS_MAX;
use crate::state::State;
use crate::{
    AccountId, Demo, EpisodeStatus, Event, LivePoll, Pin, Question, QuestionStatus, Stage, StageAction, StageMember,
    StageRole,
};
use std::collections::BTreeSet;

fn member(stage: &mut Stage, id: AccountId) -> &mut StageMember {
    stage.members.get_mut(&id).expect("a stage member")
}

impl State {
    pub(in crate::state) fn apply_room_event(&mut self, event: &Event) {
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
}
