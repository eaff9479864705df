// @ts-check
// The microphone card: go live with the microphone (WHIP) with a level meter and mute, and hear
// the other speakers on stage (WHEP). The browser test reads the peer connections from window.

import { audioSink, levelMeter, listen, publishMicrophone } from '../media.js';
import { $, busy, el, fill } from '../ui.js';
import { fail, state } from '../host/state.js';

const sink = audioSink($('#host-audio'));

/** @param {RTCPeerConnectionState} connection */
function connectionText(connection) {
  return { new: 'starting', connecting: 'connecting…', connected: 'connected', disconnected: 'interrupted', failed: 'failed', closed: 'closed' }[connection] ?? connection;
}

async function goLiveWithMic() {
  const { session, stream } = await publishMicrophone(state.live.episode.id, state.token, {
    onState: (connection) => {
      if (state.mic) state.mic.state = connection;
      renderMic();
    },
  });
  const meter = levelMeter(stream, (level) => {
    state.micLevel = level;
    const bar = $('#mic-level');
    if (bar) bar.style.width = `${Math.round(level * 100)}%`;
  });
  state.mic = { session, stream, meter, muted: false, state: session.pc.connectionState };
  Object.assign(window, { livedropPublisher: session.pc }); // read by the browser test
  renderMic();
  // Hear the other speakers too (the server never sends you your own voice).
  hear().catch(fail);
}

async function hear() {
  if (state.hearing || !state.live) return;
  const session = await listen(state.live.episode.id, state.token, {
    onTrack: (track, index) => {
      sink.play(track, index);
      renderMic();
    },
    onState: (connection) => {
      if (state.hearing) state.hearing.state = connection;
      renderMic();
    },
  });
  state.hearing = { session, state: session.pc.connectionState };
  Object.assign(window, { livedropHostListener: session.pc }); // read by the browser test
  renderMic();
}

/** Stops speaking and hearing. */
export async function stopAudio() {
  if (state.mic) {
    state.mic.meter.stop();
    await state.mic.session.stop(); // stops the microphone's track too
    state.mic = null;
  }
  if (state.hearing) {
    await state.hearing.session.stop();
    state.hearing = null;
    sink.clear();
  }
  renderMic();
}

function toggleMute() {
  const mic = state.mic;
  mic.muted = !mic.muted;
  mic.stream.getAudioTracks().forEach((track) => {
    track.enabled = !mic.muted;
  });
  renderMic();
}

function hearingLine() {
  return state.hearing ? `Hearing the stage: ${connectionText(state.hearing.state)}` : 'Not hearing the stage';
}

export function renderMic() {
  const root = $('#mic');
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Go live first; then speak to the room with your microphone.'));
    return;
  }
  const mic = state.mic;
  if (!mic) {
    fill(
      root,
      el('button', { class: 'primary big', id: 'go-live-mic', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, goLiveWithMic, fail) }, '🎙️ Go live with microphone'),
      el('p', { class: 'muted small' }, 'Your browser asks for the microphone. Listeners hear the host and up to two other speakers.'),
      state.hearing
        ? el('p', { class: 'muted small' }, hearingLine())
        : el('button', { class: 'ghost small', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, hear, fail) }, '🎧 Only listen to the stage'),
    );
    return;
  }
  fill(
    root,
    el('div', { class: 'mic-live' },
      el('span', { class: `mic-dot ${mic.muted ? 'muted' : mic.state === 'connected' ? 'on' : ''}` }),
      el('div', { class: 'grow' },
        el('p', { id: 'mic-state' }, mic.muted ? 'Microphone muted' : `On air · ${connectionText(mic.state)}`),
        el('div', { class: 'bar thin level' }, el('span', { id: 'mic-level', style: `width:${Math.round(state.micLevel * 100)}%` })))),
    el('div', { class: 'row' },
      el('button', { class: mic.muted ? 'primary' : 'ghost', type: 'button', id: 'mute-mic', onclick: toggleMute }, mic.muted ? 'Unmute' : 'Mute'),
      el('button', { class: 'danger', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, stopAudio, fail) }, 'Stop audio')),
    el('p', { class: 'muted small' }, hearingLine()),
  );
}
