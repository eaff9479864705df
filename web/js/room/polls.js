// @ts-check
// The polls card: the live episode's polls, a tap to vote, and the results once voted or closed. A
// vote is remembered per poll in localStorage, as the server takes one per account.

import { pollResults } from '../feed.js';
import { $, busy, el, fill } from '../ui.js';
import { api, ensureJoined, fail, render, state } from '../room/state.js';

/** @typedef {import('../feed.js').Poll} Poll */

/** @param {Poll} poll */
const voteKey = (poll) => `${poll.episode_id}/${poll.slot}`;

/**
 * @param {Poll} poll
 * @param {number} option
 */
async function vote(poll, option) {
  await ensureJoined();
  const remember = () => {
    const voted = state.voted.get() ?? {};
    voted[voteKey(poll)] = option;
    state.voted.set(voted);
  };
  try {
    const tally = await api.post(`/v1/episodes/${encodeURIComponent(poll.episode_id)}/polls/${poll.slot}/votes`, { option });
    remember();
    Object.assign(poll, tally);
  } catch (error) {
    if (error.code !== 'already_voted') throw error;
    remember();
  }
  render();
}

/**
 * @param {Poll} poll
 * @param {number | undefined} mine the option voted for here
 */
function pollCard(poll, mine) {
  const { total, options } = pollResults(poll);
  const showResults = mine !== undefined || !poll.open;
  return el(
    'div',
    { class: 'poll', dataset: { slot: String(poll.slot) } },
    el('p', { class: 'question' }, poll.question, poll.open ? null : el('span', { class: 'badge muted-badge' }, 'closed')),
    el('div', { class: 'options' },
      options.map(({ label, share }, index) =>
        el(
          'button',
          {
            class: `option ${mine === index ? 'mine' : ''} ${showResults ? 'results' : ''}`,
            type: 'button',
            disabled: showResults,
            style: `--share:${share}%`,
            onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => vote(poll, index), fail),
          },
          el('span', { class: 'label' }, label),
          showResults ? el('span', { class: 'share' }, `${share}%`) : null,
        )),
    ),
    el('p', { class: 'muted small' }, `${total} vote${total === 1 ? '' : 's'}`, showResults ? '' : ' · tap an answer to vote'),
  );
}

export function renderPolls() {
  const card = $('#polls');
  const polls = state.live?.polls ?? [];
  card.hidden = polls.length === 0;
  if (card.hidden) return;
  $('#polls h2').textContent = polls.length > 1 ? 'Polls' : 'Poll';
  const voted = state.voted.get() ?? {};
  fill($('#poll-list'), polls.map((poll) => pollCard(poll, voted[voteKey(poll)])));
}
