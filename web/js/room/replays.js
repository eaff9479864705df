// @ts-check
// The replays card, while the room is offline: each ended episode's recordings, one Ogg Opus file
// per speaker's session, public like the episode. The server finishes a file after the episode
// ends, asynchronously, so a fresh end is read after a short wait and read again while its list is
// empty or a file is not finished yet.

import { describe, request } from '../api.js';
import { serverNow } from '../countdown.js';
import { $, avatar, el, fill, minutesSeconds, shortId, when } from '../ui.js';
import { hostInitials } from '../room/stage.js';
import { render, state } from '../room/state.js';

/**
 * @typedef {{
 *   file: string, account_id: string, started_at: string, duration_ms: number, bytes: number,
 *   complete: boolean, url: string,
 * }} Recording
 * @typedef {import('../feed.js').Episode} Episode
 */

const REPLAYS_MAX = 10;
const REPLAY_FIRST_WAIT_MS = 1_500;
const REPLAY_RETRY_WAITS_MS = [2_000, 4_000];
// Only an episode that ended this recently may still have files being finished.
const REPLAY_FRESH_MS = 120_000;
/** @type {Map<string, { audio: HTMLAudioElement, bytes: number }>} url → the same <audio> across re-renders, so a replay keeps playing */
const replayAudio = new Map();
/** @type {string | null} what the list shows, to rebuild it only when that changed */
let replaysShown = null;

function endedEpisodes() {
  const ended = state.room.episodes.filter((episode) => episode.status === 'ended');
  /** @param {Episode} episode */
  const at = (episode) => Date.parse(episode.ended_at);
  return ended.sort((a, b) => at(b) - at(a)).slice(0, REPLAYS_MAX);
}

/**
 * @param {string} episodeId
 * @param {number} attempt
 * @param {boolean} fresh
 */
function loadReplay(episodeId, attempt, fresh) {
  state.replays.set(episodeId, { ...state.replays.get(episodeId), pending: true, fresh });
  request(`/v1/episodes/${encodeURIComponent(episodeId)}/recordings`)
    .then((/** @type {{ recordings: Recording[] }} */ body) => {
      const recordings = body.recordings;
      const unfinished = recordings.length === 0 || recordings.some((recording) => !recording.complete);
      const again = fresh && unfinished && attempt < REPLAY_RETRY_WAITS_MS.length;
      state.replays.set(episodeId, { recordings, pending: again, fresh });
      if (again) setTimeout(() => loadReplay(episodeId, attempt + 1, true), REPLAY_RETRY_WAITS_MS[attempt]);
    })
    .catch((error) => state.replays.set(episodeId, { error: describe(error) }))
    .finally(render);
}

/**
 * The feed said an episode ended: its recordings are being finished, read them in a moment.
 * @param {string} episodeId
 */
export function replaySoon(episodeId) {
  if (state.replays.get(episodeId)?.pending) return;
  state.replays.set(episodeId, { pending: true, fresh: true });
  setTimeout(() => loadReplay(episodeId, 0, true), REPLAY_FIRST_WAIT_MS);
}

/** A fresh snapshot (a reconnection, say) is a fresh chance for the lists that failed to load. */
export function forgetFailedReplays() {
  for (const [episodeId, replay] of state.replays) if (replay.error) state.replays.delete(episodeId);
}

/**
 * @param {Recording} recording
 * @param {string} title
 */
function replayAudioOf(recording, title) {
  const known = replayAudio.get(recording.url);
  // A file that grew since (it was being finished) gets a fresh element unless it is playing.
  if (known && (known.bytes === recording.bytes || !known.audio.paused)) return known.audio;
  const audio = /** @type {HTMLAudioElement} */ (el('audio', {
    controls: true, preload: 'none', src: recording.url, 'aria-label': title,
    // One replay at a time.
    onplay: (/** @type {Event} */ event) => replayAudio.forEach(({ audio: other }) => other !== event.currentTarget && other.pause()),
  }));
  replayAudio.set(recording.url, { audio, bytes: recording.bytes });
  return audio;
}

/**
 * The stage names people by role and the page knows only its own buyer's handle: the host, you,
 * or the end of the account id, as on the stage.
 * @param {string} accountId
 * @param {Episode} episode
 */
function speakerOf(accountId, episode) {
  if (accountId === state.me.id) return { name: 'You', initials: state.me.handle };
  if (accountId === episode.host_id) return { name: 'Host', initials: hostInitials() };
  return { name: shortId(accountId), initials: null };
}

/** @param {Episode} episode */
function replayEntry(episode) {
  const replay = state.replays.get(episode.id);
  const started = Date.parse(episode.started_at ?? '');
  const ended = Date.parse(episode.ended_at);
  const length = Number.isFinite(started) && Number.isFinite(ended) ? ` · ${minutesSeconds(ended - started)} live` : '';
  let body;
  if (replay?.error) body = el('p', { class: 'notice error small' }, `The recordings could not be loaded: ${replay.error}`);
  else if (!replay?.recordings) body = el('p', { class: 'muted small' }, replay?.fresh ? 'Preparing the recording…' : 'Loading…');
  else if (replay.recordings.length === 0) body = el('p', { class: 'muted small' }, replay.pending ? 'Preparing the recording…' : 'Nothing was recorded in this episode.');
  else {
    body = el('ul', { class: 'tracks' }, replay.recordings.map((recording) => {
      const speaker = speakerOf(recording.account_id, episode);
      return el(
        'li',
        { class: 'track', dataset: { file: recording.file } },
        el('div', { class: 'track-head' },
          avatar(recording.account_id, speaker.initials, 'small'),
          el('span', { class: 'name' }, speaker.name),
          recording.complete ? null : el('span', { class: 'badge muted-badge', title: 'The file was not finished; it plays up to where it stops.' }, 'incomplete'),
          el('span', { class: 'duration muted small' }, minutesSeconds(recording.duration_ms))),
        replayAudioOf(recording, `${episode.title}: ${speaker.name}`),
      );
    }));
  }
  return el(
    'article',
    { class: 'replay', dataset: { episodeId: episode.id } },
    el('div', { class: 'replay-head' },
      el('p', { class: 'replay-title' }, episode.title),
      el('p', { class: 'muted small' }, `${when(episode.started_at ?? episode.starts_at)}${length}`)),
    body,
  );
}

export function renderReplays() {
  const card = $('#replays');
  card.hidden = !!state.live || state.room.episodes.some((episode) => episode.status === 'live');
  if (card.hidden) {
    replayAudio.forEach(({ audio }) => audio.pause());
    return;
  }
  const episodes = endedEpisodes();
  for (const episode of episodes) {
    if (!state.replays.has(episode.id)) loadReplay(episode.id, 0, Date.parse(episode.ended_at) > serverNow() - REPLAY_FRESH_MS);
  }
  // Rebuilt only when what it shows changed: render runs on every message.
  const shown = JSON.stringify(episodes.map((episode) => [episode.id, episode.title, episode.ended_at, state.replays.get(episode.id)]));
  if (shown === replaysShown) return;
  replaysShown = shown;
  $('#replay-count').textContent = episodes.length ? String(episodes.length) : '';
  fill(
    $('#replay-list'),
    episodes.length === 0
      ? el('div', { class: 'empty', id: 'replays-empty' },
          el('div', { class: 'offline-icon', 'aria-hidden': 'true' }, '📼'),
          el('p', {}, el('strong', {}, 'No replays yet')),
          el('p', { class: 'muted small' }, 'When an episode ends, its speakers’ recordings can be heard again here.'))
      : episodes.map(replayEntry),
  );
}
