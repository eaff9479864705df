// @ts-check
// The host console's state: the live feed's view of the room, the creator signed in, and the
// host's audio. Panels change it and render themselves (a whole render would reset the forms).

import { client, describe } from '../api.js';
import { liveView, roomFeed } from '../feed.js';
import { roomIdFromPath, toast } from '../ui.js';

/**
 * @typedef {{ id: string, handle: string, role: 'buyer' | 'creator' }} Account
 * @typedef {{
 *   session: import('../media.js').MediaSession, stream: MediaStream, meter: { stop(): void },
 *   muted: boolean, state: RTCPeerConnectionState,
 * }} Mic
 * @typedef {{ session: import('../media.js').MediaSession, state: RTCPeerConnectionState }} Hearing
 */

export const roomId = roomIdFromPath();

export const state = {
  ...liveView(),
  /** @type {Account | null} */
  me: null,
  /** @type {string | null} the creator token */
  token: null,
  /** @type {Mic | null} speaking from the microphone */
  mic: null,
  /** @type {Hearing | null} listening to the other speakers */
  hearing: null,
  micLevel: 0,
};

/** The creator's signed-in HTTP API. */
export const api = client(() => state.token);

export const feed = roomFeed(roomId, state);

/** @param {unknown} error */
export const fail = (error) => toast(describe(error), 'error', 6_000);

/**
 * A path of the live episode's API.
 * @param {string} [suffix]
 */
export function episodePath(suffix = '') {
  return `/v1/episodes/${encodeURIComponent(state.live.episode.id)}${suffix}`;
}
