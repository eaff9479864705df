// @ts-check
// The stage card: raised hands, who is on stage and who listens, with the host's actions on each
// member (invite to speak, mute, unmute, back to the audience, remove).

import { $, avatar, busy, el, fill, shortId } from '../ui.js';
import { api, episodePath, fail, state } from '../host/state.js';

/** @typedef {import('../feed.js').StageMember} StageMember */

// More listeners than this are not listed.
const LISTENERS_SHOWN_MAX = 200;
// The listeners' list starts open when it is this short.
const LISTENERS_OPEN_MAX = 8;

/**
 * @param {string} action
 * @param {string} accountId
 */
function stageAction(action, accountId) {
  return (/** @type {Event} */ event) =>
    busy(event.currentTarget, async () => {
      state.live.stage = await api.post(episodePath(`/${action}`), { account_id: accountId });
      renderStage();
    }, fail);
}

/** @param {StageMember} member */
function memberRow(member) {
  const actions = [];
  if (member.role === 'host') {
    // the host stays on stage
  } else if (member.role === 'listener') {
    actions.push(el('button', { class: member.hand_raised ? 'primary small' : 'ghost small', type: 'button', onclick: stageAction('invite', member.account_id) }, 'Invite to speak'));
  } else {
    actions.push(member.muted
      ? el('button', { class: 'ghost small', type: 'button', onclick: stageAction('unmute', member.account_id) }, 'Unmute')
      : el('button', { class: 'ghost small', type: 'button', onclick: stageAction('mute', member.account_id) }, 'Mute'));
    actions.push(el('button', { class: 'ghost small', type: 'button', onclick: stageAction('move-to-audience', member.account_id) }, 'To audience'));
  }
  if (member.role !== 'host') actions.push(el('button', { class: 'danger small', type: 'button', onclick: stageAction('remove', member.account_id) }, 'Remove'));
  const isMe = member.account_id === state.me.id;
  return el(
    'li',
    { class: 'member', dataset: { account: member.account_id } },
    avatar(member.account_id, isMe ? state.me.handle : null),
    el('div', { class: 'grow' },
      el('p', {}, isMe ? `${state.me.handle} (you)` : shortId(member.account_id),
        member.hand_raised ? el('span', { class: 'badge hand' }, '✋ hand raised') : null),
      el('p', { class: 'muted small' }, `${member.role}${member.muted ? ' · muted' : ''}${member.may_publish ? ' · may speak' : ''}`)),
    el('div', { class: 'actions' }, actions),
  );
}

export function renderStage() {
  const root = $('#stage');
  if (!state.live) {
    $('#stage-count').textContent = '';
    fill(root, el('p', { class: 'muted' }, 'The stage opens when the episode goes live.'));
    return;
  }
  const members = state.live.stage.members;
  const hands = members.filter((m) => m.hand_raised);
  const onStage = members.filter((m) => m.role !== 'listener');
  const listeners = members.filter((m) => m.role === 'listener' && !m.hand_raised);
  $('#stage-count').textContent = String(members.length);
  fill(
    root,
    hands.length ? [el('h3', {}, `Raised hands (${hands.length})`), el('ul', { class: 'members', id: 'raised-hands' }, hands.map(memberRow))] : null,
    el('h3', {}, 'On stage'),
    el('ul', { class: 'members', id: 'on-stage' }, onStage.map(memberRow)),
    el('details', { class: 'panel', open: listeners.length > 0 && listeners.length <= LISTENERS_OPEN_MAX },
      el('summary', {}, `Listeners (${listeners.length})`),
      listeners.length ? el('ul', { class: 'members' }, listeners.slice(0, LISTENERS_SHOWN_MAX).map(memberRow)) : el('p', { class: 'muted small' }, 'No one is listening yet.')),
  );
}
