// @ts-check
// The room page's state: the live feed's view of the room, and what this browser's buyer does in it
// (listening, speaking, buying) and remembers (votes, upvotes). Panels change it, then call
// render(), which the page entry points at its renderer.

import { ApiError, client, describe } from '../api.js';
import { liveView, roomFeed } from '../feed.js';
import { roomIdFromPath, store, toast } from '../ui.js';

/**
 * @typedef {{ id: string, handle: string, token: string }} Buyer
 * @typedef {{ session: import('../media.js').MediaSession, episodeId: string }} Listening
 * @typedef {{
 *   session: import('../media.js').MediaSession, stream: MediaStream, episodeId: string,
 *   state: RTCPeerConnectionState,
 * }} Speaking
 * @typedef {{ recordings?: import('../room/replays.js').Recording[], pending?: boolean, fresh?: boolean, error?: string }} Replay
 */

export const roomId = roomIdFromPath();

export const state = {
  ...liveView(),
  /** @type {Buyer | null} */
  me: null,
  /** @type {string | null} the episode joined */
  joined: null,
  /** @type {Listening | null} */
  listening: null,
  /** @type {Speaking | null} */
  speaking: null,
  /** @type {RTCPeerConnectionState | null} the listening connection's */
  listenState: null,
  /** @type {import('../room/checkout.js').Purchase | null} */
  purchase: null,
  voted: store(`livedrop.votes.${roomId}`),
  upvoted: store(`livedrop.upvotes.${roomId}`),
  /** @type {Map<string, Replay>} episode id → its recordings */
  replays: new Map(),
};

/** The buyer's signed-in HTTP API. */
export const api = client(() => state.me?.token);

export const feed = roomFeed(roomId, state);

/** @param {unknown} error */
export const fail = (error) => toast(describe(error), 'error');

let renderer = () => {};

/** Shows the state as it is now. */
export function render() {
  renderer();
}

/** @param {() => void} renderPage */
export function setRenderer(renderPage) {
  renderer = renderPage;
}

/**
 * Joins the live episode unless the buyer is on its stage already: votes, questions, a raised hand
 * and listening need it. Returns the episode's id.
 */
export async function ensureJoined() {
  const episodeId = state.live?.episode.id;
  if (!episodeId) throw new ApiError(409, 'episode_not_live', 'not live');
  const member = state.live.stage.members.some((m) => m.account_id === state.me.id);
  if (state.joined === episodeId && member) return episodeId;
  const stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/join`);
  state.joined = episodeId;
  if (state.live?.episode.id === episodeId) state.live.stage = stage;
  return episodeId;
}
