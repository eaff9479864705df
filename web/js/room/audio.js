// @ts-check
// The buyer's audio: listening to the stage (WHEP), and speaking from the microphone (WHIP) once
// invited on stage. The browser test reads the peer connections from window.

import { audioSink, inboundAudio, listen, publishMicrophone } from '../media.js';
import { $ } from '../ui.js';
import { ensureJoined, render, state } from '../room/state.js';

const RELISTEN_WAIT_MS = 2_000;

const sink = audioSink($('#audio'));

export async function startListening() {
  const episodeId = await ensureJoined();
  state.listenState = 'connecting';
  render();
  const session = await listen(episodeId, state.me.token, {
    onTrack: (track, index) => {
      sink.play(track, index);
      render();
    },
    onState: (connection) => {
      state.listenState = connection;
      render();
      if (connection === 'failed' && state.listening?.session === session) {
        // A dropped network path: listen again while the episode is live.
        stopListening();
        setTimeout(() => state.live && !state.listening && startListening().catch(() => {}), RELISTEN_WAIT_MS);
      }
    },
  });
  state.listening = { session, episodeId };
  // Read by the browser test (getStats).
  Object.assign(window, { livedropListener: session.pc, livedropInboundAudio: () => inboundAudio(session.pc) });
  render();
}

export function stopListening() {
  if (!state.listening) return;
  state.listening.session.stop();
  state.listening = null;
  state.listenState = null;
  sink.clear();
}

// Invited to the stage: speak with the microphone while the host lets you (unmuted).
export async function startSpeaking() {
  const episodeId = state.live.episode.id;
  const { session, stream } = await publishMicrophone(episodeId, state.me.token, {
    onState: (connection) => {
      if (state.speaking) state.speaking.state = connection;
      render();
    },
  });
  state.speaking = { session, stream, episodeId, state: session.pc.connectionState };
  Object.assign(window, { livedropSpeaker: session.pc });
  if (!state.listening) startListening().catch(() => {});
  render();
}

export function stopSpeaking() {
  if (!state.speaking) return;
  state.speaking.session.stop(); // stops the microphone's track too
  state.speaking = null;
}

/** A fresh snapshot: audio of an episode that is no longer the live one stops. */
export function followLiveEpisode() {
  const episodeId = state.live?.episode.id;
  if (state.speaking && state.speaking.episodeId !== episodeId) stopSpeaking();
  if (state.listening && state.listening.episodeId !== episodeId) stopListening();
}
