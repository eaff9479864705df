// @ts-check
// Audio over WebRTC with the server's SFU: WHIP to speak (one sendonly Opus transceiver), WHEP to
// listen (three recvonly transceivers the server fills with the loudest speakers, never your own
// voice). The server is ICE-lite with one host candidate in its answer, so the offer is posted right
// after setLocalDescription without waiting for ICE gathering.

import { ApiError } from './api.js';

// Slots the server fills when listening.
export const LISTEN_TRACKS = 3;

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  return new ApiError(response.status, body?.error?.code ?? `http_${response.status}`, body?.error?.message ?? 'request failed', body);
}

async function negotiate(pc, url, token) {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
      body: pc.localDescription.sdp,
    });
  } catch (error) {
    throw new ApiError(0, 'network_error', `could not reach the server (${error.message})`);
  }
  if (response.status !== 201 && !response.ok) throw await errorOf(response);
  const answer = await response.text();
  const location = response.headers.get('Location');
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return location ? new URL(location, window.location.origin).toString() : null;
}

// One media session: the peer connection and the resource to DELETE when done.
/**
 * @typedef {Session} MediaSession
 * @typedef {(state: RTCPeerConnectionState) => void} OnState
 */
class Session {
  constructor(pc, token, onState) {
    this.pc = pc;
    this.token = token;
    this.resource = null;
    this.stopped = false;
    pc.addEventListener('connectionstatechange', () => onState?.(pc.connectionState));
    // Leaving the page ends the session at once rather than when the server notices silence.
    this.onPageHide = () => this.stop({ keepalive: true });
    window.addEventListener('pagehide', this.onPageHide);
  }

  async stop({ keepalive = false } = {}) {
    if (this.stopped) return;
    this.stopped = true;
    window.removeEventListener('pagehide', this.onPageHide);
    this.pc.getSenders().forEach((sender) => sender.track?.stop());
    this.pc.close();
    if (this.resource) {
      try {
        await fetch(this.resource, { method: 'DELETE', keepalive, headers: { Authorization: `Bearer ${this.token}` } });
      } catch {
        // the server ends sessions whose peer went away by itself
      }
    }
  }
}

// Speaks `stream`'s audio in the episode. Only the host, moderators and unmuted speakers of a live
// episode may (403 not_allowed_to_publish, 409 episode_not_live otherwise).
/**
 * @param {string} episodeId
 * @param {string} token
 * @param {MediaStream} stream
 * @param {{ onState?: OnState }} [handlers]
 */
export async function publish(episodeId, token, stream, { onState } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
  const session = new Session(pc, token, onState);
  try {
    const [track] = stream.getAudioTracks();
    if (!track) throw new Error('no microphone track');
    pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    session.resource = await negotiate(pc, `/v1/episodes/${encodeURIComponent(episodeId)}/whip`, token);
  } catch (error) {
    pc.close();
    throw error;
  }
  return session;
}

// Speaks from the microphone in the episode: asks for it (with the voice processing a call wants),
// publishes it, and releases it again when publishing fails. Returns { session, stream }; the
// session's stop() releases the microphone too.
/**
 * @param {string} episodeId
 * @param {string} token
 * @param {{ onState?: OnState }} [handlers]
 */
export async function publishMicrophone(episodeId, token, { onState } = {}) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser cannot use a microphone here (it needs https or localhost)');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  try {
    return { session: await publish(episodeId, token, stream, { onState }), stream };
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    throw error;
  }
}

// Listens to the episode's speakers: `onTrack(track, transceiverIndex)` for every received track.
/**
 * @param {string} episodeId
 * @param {string} token
 * @param {{ onTrack?: (track: MediaStreamTrack, index: number) => void, onState?: OnState }} [handlers]
 */
export async function listen(episodeId, token, { onTrack, onState } = {}) {
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
  const session = new Session(pc, token, onState);
  pc.addEventListener('track', (event) => {
    const index = pc.getTransceivers().indexOf(event.transceiver);
    onTrack?.(event.track, index);
  });
  try {
    for (let i = 0; i < LISTEN_TRACKS; i++) pc.addTransceiver('audio', { direction: 'recvonly' });
    session.resource = await negotiate(pc, `/v1/episodes/${encodeURIComponent(episodeId)}/whep`, token);
  } catch (error) {
    pc.close();
    throw error;
  }
  return session;
}

// Plays received tracks, one <audio> element per track, inside `container`.
export function audioSink(container) {
  const elements = new Map();
  return {
    play(track, index) {
      let audio = elements.get(index);
      if (!audio) {
        audio = document.createElement('audio');
        audio.autoplay = true;
        audio.dataset.slot = String(index);
        container.append(audio);
        elements.set(index, audio);
      }
      audio.srcObject = new MediaStream([track]);
      audio.play().catch(() => {
        // autoplay refused: the Listen button is the gesture that allows it, so this is rare
      });
    },
    clear() {
      elements.forEach((audio) => {
        audio.srcObject = null;
        audio.remove();
      });
      elements.clear();
    },
    get count() {
      return elements.size;
    },
  };
}

// The input level of a stream, 0..1, for a meter; `stop()` releases the audio context.
export function levelMeter(stream, onLevel) {
  const AudioContextClass = window.AudioContext || /** @type {any} */ (window).webkitAudioContext;
  if (!AudioContextClass) return { stop() {} };
  const context = new AudioContextClass();
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
    requestAnimationFrame(tick);
  };
  tick();
  return {
    stop() {
      running = false;
      context.close();
    },
  };
}

// Inbound audio statistics of a listening session, summed over its tracks (the test reads these).
export async function inboundAudio(pc) {
  const totals = { packetsReceived: 0, totalAudioEnergy: 0, tracks: 0 };
  const stats = await pc.getStats();
  stats.forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') {
      totals.tracks += 1;
      totals.packetsReceived += report.packetsReceived ?? 0;
      totals.totalAudioEnergy += report.totalAudioEnergy ?? 0;
    }
  });
  return totals;
}
