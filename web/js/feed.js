// @ts-check
// The room as its live feed shows it: a view model that the snapshot fills and each message updates,
// the same for the room page and the host console. Every message carries a whole current state (a
// drop's counters, the stage, one poll, the Q&A queue, the rituals), so applying one replaces what
// it names; an episode starting or ending changes everything, so it is answered with a fresh
// snapshot. The shapes below are the server's (`routes/live.rs`, `wire.rs`), the same version.

import { request } from './api.js';
import { msUntil } from './countdown.js';
import { connectLive } from './live.js';

/**
 * @typedef {{
 *   id: string, room_id: string, product_id: string, title: string,
 *   state: 'scheduled' | 'open' | 'sold_out' | 'closed',
 *   quantity: number, remaining: number, held: number, sold: number, released: number,
 *   per_buyer_limit: number, hold_seconds: number, price_minor: number, currency: string,
 *   opens_at: string, closes_at: string | null,
 *   service?: {method: string, partner_id: string, terms: {ready_within_hours: number, deliver_within_hours?: number, pickup_window?: {from: string, to: string}, location?: string}},
 * }} Drop
 * @typedef {{
 *   id: string, room_id: string, host_id: string, title: string,
 *   status: 'scheduled' | 'live' | 'ended',
 *   starts_at: string, ends_at: string | null, started_at: string | null, ended_at: string | null,
 *   members: number, created_at: string,
 * }} Episode
 * @typedef {{
 *   kind: 'buy' | 'demo' | 'poll' | 'qa' | 'drop',
 *   product_id?: string, seconds?: number, question?: string, options?: string[],
 * }} Slot
 * @typedef {{
 *   id: string, creator_id: string, title: string, created_at: string, drops: Drop[],
 *   template: { id: string, version: number } | null, slots: Slot[], episodes: Episode[],
 * }} Room
 * @typedef {{
 *   account_id: string, role: 'host' | 'moderator' | 'speaker' | 'listener',
 *   hand_raised: boolean, muted: boolean, may_publish: boolean,
 * }} StageMember
 * @typedef {{
 *   episode_id: string, status: Episode['status'], members: StageMember[],
 *   raised_hands: string[], muted: string[], banned: string[],
 * }} Stage
 * @typedef {{
 *   episode_id: string, slot: number, question: string, options: string[], tallies: number[],
 *   open: boolean,
 * }} Poll
 * @typedef {{
 *   number: number, asked_by: string, text: string, upvotes: number,
 *   status: 'open' | 'answered' | 'dismissed', asked_at: string,
 * }} Question
 * @typedef {{ product_id: string, seconds: number, started_at: string, ends_at: string }} Demo
 * @typedef {{
 *   episode_id: string, pinned: { drop_id: string, pinned_at: string } | null, demo: Demo | null,
 * }} Rituals
 * @typedef {{
 *   episode: Episode, stage: Stage, polls: Poll[], questions: Question[], rituals: Rituals,
 * }} LiveEpisode
 */

/**
 * The messages, in journal order (`seq` never decreases).
 * @typedef {{
 *   type: 'snapshot', seq: number, server_time: string, room: Room, live_episode: LiveEpisode | null,
 * }} SnapshotMessage
 * @typedef {{
 *   type: 'drop', seq: number, drop_id: string, state: Drop['state'],
 *   quantity: number, remaining: number, held: number, sold: number, released: number,
 * }} DropMessage
 * @typedef {{ type: 'episode', seq: number, episode_id: string, state: Episode['status'] }} EpisodeMessage
 * @typedef {Stage & { type: 'stage', seq: number }} StageMessage
 * @typedef {Poll & { type: 'poll', seq: number }} PollMessage
 * @typedef {{ type: 'questions', seq: number, episode_id: string, questions: Question[] }} QuestionsMessage
 * @typedef {Rituals & { type: 'rituals', seq: number }} RitualsMessage
 * @typedef {SnapshotMessage | DropMessage | EpisodeMessage | StageMessage | PollMessage
 *   | QuestionsMessage | RitualsMessage} FeedMessage
 */

/**
 * What a page shows of the room: `connection` is the feed's, for the header's pill.
 * @typedef {{
 *   room: Room | null, drops: Map<string, Drop>, live: LiveEpisode | null,
 *   connection: import('./live.js').Connection,
 * }} LiveView
 * @typedef {'snapshot' | 'drop' | 'stage' | 'poll' | 'questions' | 'rituals'} Change
 */

/** @returns {LiveView} */
export function liveView() {
  return { room: null, drops: new Map(), live: null, connection: 'connecting' };
}

/**
 * Shows a room read over HTTP (before the feed's first snapshot) or from a snapshot.
 * @param {LiveView} view
 * @param {Room} room
 */
export function showRoom(view, room) {
  view.room = room;
  view.drops = new Map(room.drops.map((drop) => [drop.id, drop]));
}

/**
 * Follows the room's live feed into `view` once `connect` is called. `onChange(change)` runs
 * after the view changed (messages about another episode than the live one change nothing),
 * `onEpisode(message)` when an episode started or ended (a fresh snapshot follows by itself),
 * `onStatus()` when the connection did.
 * @param {string} roomId
 * @param {LiveView} view
 */
export function roomFeed(roomId, view) {
  /** @type {ReturnType<typeof connectLive> | null} */
  let connection = null;
  /** @type {(change: Change) => void} */
  let changed = () => {};
  const fetching = new Set();

  /** @param {FeedMessage} message */
  const apply = (message) => {
    if (message.type === 'snapshot') {
      showRoom(view, message.room);
      view.live = message.live_episode;
      return changed('snapshot');
    }
    if (message.type === 'drop') {
      const { type: _type, seq: _seq, drop_id: dropId, ...counters } = message;
      const known = view.drops.get(dropId);
      if (!known) return feed.fetchDrop(dropId); // created since the snapshot
      view.drops.set(dropId, { ...known, ...counters });
      return changed('drop');
    }
    const live = view.live;
    if (message.type === 'episode' || message.episode_id !== live?.episode.id) return undefined;
    const { type, seq: _seq, ...state } = message;
    if (type === 'stage') live.stage = /** @type {Stage} */ (state);
    else if (type === 'questions') live.questions = message.questions;
    else if (type === 'rituals') live.rituals = /** @type {Rituals} */ (state);
    else if (type === 'poll') {
      const poll = /** @type {Poll} */ (state);
      const index = live.polls.findIndex((known) => known.slot === poll.slot);
      if (index >= 0) live.polls[index] = poll;
      else live.polls.push(poll);
    }
    return changed(type);
  };

  const feed = {
    /**
     * @param {{
     *   onChange: (change: Change) => void,
     *   onEpisode?: (message: EpisodeMessage) => void,
     *   onStatus?: () => void,
     * }} handlers
     */
    connect({ onChange, onEpisode, onStatus }) {
      changed = onChange;
      connection = connectLive(roomId, {
        onMessage: (message) => {
          if (message.type !== 'episode') return apply(message);
          onEpisode?.(message);
          return feed.resync();
        },
        onStatus: (status) => {
          view.connection = status;
          onStatus?.();
        },
      });
    },

    /** A fresh snapshot now, after an action that changes much (going live, ending). */
    resync() {
      connection?.resync();
    },

    /**
     * Reads a drop the view does not know yet (created since the snapshot, or pinned).
     * @param {string} dropId
     */
    fetchDrop(dropId) {
      if (fetching.has(dropId)) return;
      fetching.add(dropId);
      request(`/v1/drops/${encodeURIComponent(dropId)}`)
        .then((/** @type {Drop} */ drop) => {
          // Counters a message brought in the meantime are newer than the ones read.
          view.drops.set(dropId, { ...drop, ...view.drops.get(dropId) });
          changed('drop');
        })
        .catch(() => {}) // the next message about it or the next render asks again
        .finally(() => fetching.delete(dropId));
    },
  };
  return feed;
}

/**
 * The drop pinned in the live episode's buy slot.
 * @param {LiveView} view
 */
export function pinnedDropId(view) {
  return view.live?.rituals.pinned?.drop_id ?? null;
}

/**
 * The live episode's demo window while it runs on the server's clock, else null.
 * @param {LiveView} view
 */
export function runningDemo(view) {
  const demo = view.live?.rituals.demo;
  return demo && msUntil(demo.ends_at) > 0 ? demo : null;
}

/**
 * The room's scheduled episodes, the next first.
 * @param {Room} room
 */
export function scheduledEpisodes(room) {
  return room.episodes.filter((episode) => episode.status === 'scheduled').sort((a, b) => a.starts_at.localeCompare(b.starts_at));
}

/**
 * A poll's votes: the total and, per option, its count and rounded share in percent.
 * @param {Poll} poll
 */
export function pollResults(poll) {
  const total = poll.tallies.reduce((a, b) => a + b, 0);
  const options = poll.options.map((label, index) => {
    const count = poll.tallies[index];
    return { label, count, share: total ? Math.round((100 * count) / total) : 0 };
  });
  return { total, options };
}
