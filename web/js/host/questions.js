// @ts-check
// The Q&A card: the queue as the server orders it (open questions by upvotes first), each open
// one marked answered or dismissed by the host.

import { $, busy, el, fill, shortId } from '../ui.js';
import { api, episodePath, fail, state } from '../host/state.js';

/** @typedef {import('../feed.js').Question} Question */

/**
 * @param {Question} question
 * @param {'answer' | 'dismiss'} action
 */
function resolve(question, action) {
  return (/** @type {Event} */ event) => busy(event.currentTarget, async () => {
    await api.post(episodePath(`/questions/${question.number}/${action}`));
  }, fail);
}

/** @param {Question} question */
function questionItem(question) {
  const open = question.status === 'open';
  return el('li', { class: `question-item ${question.status}` },
    el('span', { class: 'upvote static' }, el('span', {}, '▲'), el('span', {}, String(question.upvotes))),
    el('div', { class: 'text grow' }, el('p', {}, question.text), el('p', { class: 'muted small' }, `${shortId(question.asked_by)}${open ? '' : ` · ${question.status}`}`)),
    open
      ? el('div', { class: 'actions' },
          el('button', { class: 'primary small', type: 'button', onclick: resolve(question, 'answer') }, 'Answered'),
          el('button', { class: 'ghost small', type: 'button', onclick: resolve(question, 'dismiss') }, 'Dismiss'))
      : null);
}

export function renderQuestions() {
  const root = $('#questions');
  const questions = state.live?.questions ?? [];
  const open = questions.filter((q) => q.status === 'open');
  $('#qa-count').textContent = open.length ? String(open.length) : '';
  if (!state.live) {
    fill(root, el('li', { class: 'empty muted' }, 'Questions come in while live.'));
    return;
  }
  fill(root, questions.length === 0 ? el('li', { class: 'empty muted' }, 'No questions yet.') : null, questions.map(questionItem));
}
