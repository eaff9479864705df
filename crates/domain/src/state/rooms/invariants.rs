//! The invariants of the room book, recomputed from its entries; part of `State::check_invariants`.

use crate::limits::*;
use crate::state::State;
use crate::{AccountId, EpisodeStatus, RoomId, StageRole};
use hashbrown::HashMap;

impl State {
    pub(in crate::state) fn check_room_invariants(&self) -> Result<(), String> {
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
