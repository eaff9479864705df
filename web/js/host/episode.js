// @ts-check
// The episode card: go live now or schedule an episode, start or cancel a scheduled one, and, while
// live, the elapsed time, the buyer page's link and the end.

import { elapsed, serverNow } from '../countdown.js';
import { scheduledEpisodes } from '../feed.js';
import { $, busy, el, fill, toast, when } from '../ui.js';
import { stopAudio } from '../host/mic.js';
import { api, episodePath, fail, feed, roomId, state } from '../host/state.js';

/**
 * @param {string} title
 * @param {string} startsAt RFC 3339
 */
function schedule(title, startsAt) {
  return api.post(`/v1/rooms/${encodeURIComponent(roomId)}/episodes`, { title, starts_at: startsAt });
}

/** @param {string} episodeId */
async function startEpisode(episodeId) {
  await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/start`);
  toast('You are live', 'ok');
  feed.resync();
}

/** @param {string} title */
async function goLiveNow(title) {
  const episode = await schedule(title, new Date(serverNow()).toISOString());
  await startEpisode(episode.id);
}

async function endEpisode() {
  await stopAudio();
  await api.post(episodePath('/end'));
  toast('Episode ended');
  feed.resync();
}

/** @param {string} episodeId */
async function cancelEpisode(episodeId) {
  await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/end`);
  feed.resync();
}

function renderLive() {
  const episode = state.live.episode;
  fill(
    $('#episode'),
    el('div', { class: 'live-line' },
      el('span', { class: 'pill live' }, 'LIVE'),
      el('strong', {}, episode.title),
      elapsed(Date.parse(episode.started_at), 'muted small elapsed')),
    el('div', { class: 'row' },
      el('a', { class: 'button ghost grow', href: `/rooms/${encodeURIComponent(roomId)}`, target: '_blank', rel: 'noopener' }, 'Open the buyer page ↗'),
      el('button', { class: 'danger', id: 'end-episode', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, endEpisode, fail) }, 'End episode')),
  );
}

function renderOffline() {
  const scheduled = scheduledEpisodes(state.room);
  const title = /** @type {HTMLInputElement} */ (el('input', { id: 'episode-title-input', maxlength: '200', value: 'Live session', required: true, 'aria-label': 'Episode title' }));
  const at = /** @type {HTMLInputElement} */ (el('input', { id: 'episode-at', type: 'datetime-local', 'aria-label': 'Starts at' }));
  fill(
    $('#episode'),
    el('p', { class: 'muted' }, 'The room is offline. Buyers on the room page see it go live at once.'),
    el('form', {
      class: 'stack', id: 'go-live-form',
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        busy($('#go-live'), () => goLiveNow(title.value.trim()), fail);
      },
    },
    el('label', { class: 'field' }, el('span', {}, 'Title'), title),
    el('button', { class: 'primary big', id: 'go-live', type: 'submit' }, '● Go live now')),
    el('details', { class: 'panel' },
      el('summary', {}, 'Schedule for later'),
      el('div', { class: 'row' }, at,
        el('button', {
          class: 'ghost', type: 'button',
          onclick: (/** @type {Event} */ event) => busy(event.currentTarget, async () => {
            if (!at.value) throw new Error('pick a start time');
            await schedule(title.value.trim(), new Date(at.value).toISOString());
            toast('Episode scheduled', 'ok');
            feed.resync();
          }, fail),
        }, 'Schedule'))),
    scheduled.length
      ? el('ul', { class: 'list' }, scheduled.map((episode) =>
          el('li', {},
            el('div', {}, el('strong', {}, episode.title), el('p', { class: 'muted small' }, when(episode.starts_at))),
            el('div', { class: 'row' },
              el('button', { class: 'primary small', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => startEpisode(episode.id), fail) }, 'Start'),
              el('button', { class: 'ghost small', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => cancelEpisode(episode.id), fail) }, 'Cancel')))))
      : null,
  );
}

export function renderEpisode() {
  if (state.live) renderLive();
  else renderOffline();
}
