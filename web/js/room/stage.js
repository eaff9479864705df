// @ts-check
// The stage card: who is on stage and how many listen, listening live, raising a hand, and the
// speak controls once the host invited the buyer on stage.

import { avatar, busy, el, fill, shortId, toast, $ } from '../ui.js';
import { startListening, startSpeaking, stopListening, stopSpeaking } from '../room/audio.js';
import { api, ensureJoined, fail, render, state } from '../room/state.js';

/** @typedef {import('../feed.js').StageMember} StageMember */

/** The host's initials, from the room's title: the page knows no host handle. */
export function hostInitials() {
  const words = (state.room?.title ?? '').split(/\s+/).filter(Boolean);
  return words.length > 1 ? `${words[0][0]}${words[1][0]}` : (words[0] ?? 'H').slice(0, 2);
}

async function leaveStage() {
  stopSpeaking();
  const episodeId = state.live.episode.id;
  state.live.stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/move-to-audience`, { account_id: state.me.id });
  render();
}

/** @param {StageMember | undefined} me */
function renderSpeak(me) {
  const root = $('#speak');
  const onStage = me && me.role !== 'listener' && me.role !== 'host';
  if (!onStage && state.speaking) stopSpeaking();
  root.hidden = !onStage;
  if (!onStage) return;
  const speaking = state.speaking;
  let line;
  if (me.muted) line = '🔇 The host muted you.';
  else if (speaking) line = speaking.state === 'connected' ? '🎙 You are on air.' : '🎙 Connecting your microphone…';
  else line = '🎉 You are invited to speak.';
  fill(
    root,
    el('p', { class: 'small', id: 'speak-state' }, line),
    el('div', { class: 'row' },
      speaking
        ? el('button', { class: 'ghost grow', type: 'button', id: 'stop-speaking', onclick: () => { stopSpeaking(); render(); } }, 'Stop mic')
        : el('button', {
            class: 'primary grow', type: 'button', id: 'start-speaking', disabled: !me.may_publish,
            onclick: (/** @type {Event} */ event) => busy(event.currentTarget, startSpeaking, fail),
          }, '🎙 Speak'),
      el('button', { class: 'ghost', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, leaveStage, fail) }, 'Leave stage')),
  );
}

/** @param {StageMember} member */
function person(member) {
  const isMe = member.account_id === state.me.id;
  const host = member.role === 'host';
  return el(
    'div',
    { class: `person ${member.may_publish ? 'speaking' : ''}`, title: `${member.role} ${member.account_id}` },
    avatar(member.account_id, host ? hostInitials() : isMe ? state.me.handle : null, 'large'),
    el('span', { class: 'name' }, host ? 'Host' : isMe ? 'You' : shortId(member.account_id)),
    el('span', { class: `role ${member.role}` }, member.muted ? '🔇 muted' : host ? '🎙 on stage' : member.role),
  );
}

export function renderStage() {
  const card = $('#stage-card');
  card.hidden = !state.live;
  if (!state.live) return;
  const members = state.live.stage.members;
  const onStage = members.filter((m) => m.role !== 'listener');
  const listeners = members.length - onStage.length;
  const me = members.find((m) => m.account_id === state.me.id);
  fill($('#stage-people'), onStage.map(person));
  const speakers = onStage.filter((m) => m.role !== 'host').length;
  $('#stage-counts').textContent = `${speakers} speaker${speakers === 1 ? '' : 's'} · ${listeners} listening`;
  const listenButton = $('#listen');
  listenButton.classList.toggle('on', !!state.listening);
  fill(listenButton, el('span', { class: 'icon' }, state.listening ? '🔊' : '🎧'), state.listening ? ' Stop listening' : ' Listen live');
  renderSpeak(me);
  const hand = $('#raise-hand');
  hand.hidden = me && me.role !== 'listener';
  hand.disabled = !!me?.hand_raised;
  hand.textContent = me?.hand_raised ? '✋ Hand raised' : '✋ Raise hand';
  const listenState = $('#listen-state');
  listenState.hidden = !state.listening;
  if (state.listening) {
    const voices = onStage.filter((m) => m.may_publish).length;
    listenState.textContent =
      state.listenState === 'connected'
        ? `Audio connected · ${voices} voice${voices === 1 ? '' : 's'} on stage`
        : state.listenState === 'failed'
          ? 'Audio connection lost — reconnecting…'
          : 'Connecting audio…';
  }
  $('#episode-title').textContent = state.live.episode.title;
}

export function wireStage() {
  $('#listen').addEventListener('click', (/** @type {Event} */ event) =>
    busy(event.currentTarget, async () => {
      if (state.listening) {
        stopListening();
        render();
      } else {
        await startListening();
      }
    }, (error) => {
      state.listenState = null;
      fail(error);
      render();
    }));
  $('#raise-hand').addEventListener('click', (/** @type {Event} */ event) =>
    busy(event.currentTarget, async () => {
      const episodeId = await ensureJoined();
      state.live.stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/raise-hand`);
      toast('Hand raised — the host can invite you to speak.', 'ok');
      render();
    }, fail));
}
