// @ts-check
// The polls card: the live episode's polls with their tallies as they come in, closing one, and
// the new-poll form.

import { pollResults } from '../feed.js';
import { $, busy, el, fill, toast } from '../ui.js';
import { api, episodePath, fail, state } from '../host/state.js';

/** @typedef {import('../feed.js').Poll} Poll */

const OPTIONS_MIN = 2;
const OPTIONS_MAX = 6;

/** @param {Poll} poll */
async function closePoll(poll) {
  Object.assign(poll, await api.post(episodePath(`/polls/${poll.slot}/close`)));
  renderPolls();
}

/** @param {Poll} poll */
function pollCard(poll) {
  const { options } = pollResults(poll);
  return el('div', { class: 'poll', dataset: { slot: String(poll.slot) } },
    el('p', { class: 'question' }, poll.question, el('span', { class: `badge ${poll.open ? '' : 'muted-badge'}` }, poll.open ? 'open' : 'closed')),
    el('div', { class: 'options' }, options.map(({ label, count, share }) =>
      el('div', { class: 'option results', style: `--share:${share}%` }, el('span', { class: 'label' }, label), el('span', { class: 'share' }, `${count} · ${share}%`)))),
    poll.open
      ? el('button', { class: 'ghost small', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => closePoll(poll), fail) }, 'Close poll')
      : null);
}

export function renderPolls() {
  const root = $('#polls');
  $('#new-poll-panel').hidden = !state.live;
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Polls run while the episode is live.'));
    return;
  }
  const polls = state.live.polls;
  fill(root, polls.length === 0 ? el('p', { class: 'muted' }, 'No polls yet.') : polls.map(pollCard));
}

export async function startPoll() {
  const options = $('#poll-options').value.split('\n').map((/** @type {string} */ line) => line.trim()).filter(Boolean);
  if (options.length < OPTIONS_MIN || options.length > OPTIONS_MAX) throw new Error(`a poll takes ${OPTIONS_MIN} to ${OPTIONS_MAX} options`);
  const poll = await api.post(episodePath('/polls'), { question: $('#poll-question').value.trim(), options });
  if (!state.live.polls.some((p) => p.slot === poll.slot)) state.live.polls.push(poll);
  $('#new-poll').reset();
  $('#new-poll-panel').open = false;
  renderPolls();
  toast('Poll started', 'ok');
}
