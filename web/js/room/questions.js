// @ts-check
// The Q&A card: ask the host a question, and upvote others' while they are open. Upvotes are
// remembered per question in localStorage, as the server counts one per account.

import { $, busy, el, fill, shortId, toast } from '../ui.js';
import { api, ensureJoined, fail, render, state } from '../room/state.js';

/** @typedef {import('../feed.js').Question} Question */

/**
 * @param {string} episodeId
 * @param {Question} question
 */
const upvoteKey = (episodeId, question) => `${episodeId}/${question.number}`;

/** @param {Question} question */
async function upvote(question) {
  await ensureJoined();
  const episodeId = state.live.episode.id;
  const key = upvoteKey(episodeId, question);
  try {
    await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/questions/${question.number}/upvote`);
  } catch (error) {
    if (error.status !== 409) throw error;
  }
  const upvoted = state.upvoted.get() ?? {};
  upvoted[key] = true;
  state.upvoted.set(upvoted);
  render();
}

/** @param {HTMLFormElement} form */
async function ask(form) {
  const input = /** @type {HTMLInputElement} */ ($('#ask-text'));
  await busy(form.querySelector('button'), async () => {
    const episodeId = await ensureJoined();
    await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/questions`, { text: input.value.trim() });
    input.value = '';
    toast('Question sent', 'ok');
  }, fail);
}

export function wireQuestions() {
  $('#ask').addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    ask(/** @type {HTMLFormElement} */ (event.currentTarget));
  });
}

export function renderQuestions() {
  const card = $('#qa');
  const hasQa = !!state.live && (state.room.slots.some((slot) => slot.kind === 'qa') || state.live.questions.length > 0);
  card.hidden = !hasQa;
  if (card.hidden) return;
  const upvoted = state.upvoted.get() ?? {};
  const questions = state.live.questions;
  fill(
    $('#questions'),
    questions.length === 0 ? el('li', { class: 'empty muted' }, 'No questions yet — ask the first one.') : null,
    questions.map((question) => {
      const byMe = question.asked_by === state.me.id;
      const upvotedByMe = upvoted[upvoteKey(state.live.episode.id, question)];
      const open = question.status === 'open';
      return el(
        'li',
        { class: `question-item ${question.status}` },
        el('button', {
          class: `upvote ${upvotedByMe ? 'mine' : ''}`, type: 'button', disabled: !open || upvotedByMe || byMe,
          title: 'Upvote', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => upvote(question), fail),
        }, el('span', {}, '▲'), el('span', {}, String(question.upvotes))),
        el('div', { class: 'text' },
          el('p', {}, question.text),
          el('p', { class: 'muted small' }, byMe ? 'You' : shortId(question.asked_by), open ? '' : ` · ${question.status}`)),
      );
    }),
  );
}
