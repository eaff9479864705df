// @ts-check
// The buyer's room page: loads the room and the buyer's account, follows the live feed and renders
// every panel (js/room/) from the state they share. Everything shown comes from the feed's
// whole-state messages (or a GET); actions call the API and the feed brings their effect back.
// The panels import each other as '../room/…': the server's embed test reads './' as js/.

import { describe, request } from './api.js';
import { runCountdowns } from './countdown.js';
import { showRoom } from './feed.js';
import { whenProductLoads } from './products.js';
import { $, el, feedStatus, fill, toast } from './ui.js';
import { account } from './room/account.js';
import { followLiveEpisode, stopListening } from './room/audio.js';
import { restorePurchase } from './room/checkout.js';
import { renderDemo } from './room/demo.js';
import { renderDrop } from './room/drop.js';
import { renderOffline } from './room/offline.js';
import { renderPolls } from './room/polls.js';
import { renderQuestions, wireQuestions } from './room/questions.js';
import { renderOrderStatus } from './room/fulfilment.js';
import { renderReceipt } from './room/receipt.js';
import { forgetFailedReplays, renderReplays, replaySoon } from './room/replays.js';
import { renderStage, wireStage } from './room/stage.js';
import { feed, roomId, setRenderer, state } from './room/state.js';

// Holds are short: a countdown turns urgent in its last half minute.
const URGENT_MS = 30_000;

function render() {
  if (!state.me) return;
  feedStatus($('#status'), state.connection, !!state.live);
  if (state.room) {
    $('#room-title').textContent = state.room.title;
    document.title = `${state.room.title} · livedrop`;
  }
  if (!state.live) $('#episode-title').textContent = '';
  renderOffline();
  renderStage();
  renderDemo();
  renderDrop();
  renderReceipt();
  renderOrderStatus();
  renderReplays();
  renderPolls();
  renderQuestions();
}

/** @param {import('./api.js').ApiError} error */
function showUnavailable(error) {
  const title = error.status === 404 ? 'No such room' : 'The room could not be loaded';
  fill($('#main'), el('section', { class: 'card center' }, el('h2', {}, title), el('p', { class: 'muted' }, describe(error)), el('a', { class: 'button ghost', href: '/' }, 'Back to livedrop')));
  $('#status').textContent = 'Offline';
  $('#status').className = 'pill offline';
}

async function start() {
  if (!roomId) return;
  setRenderer(render);
  whenProductLoads(render);
  wireStage();
  wireQuestions();
  try {
    showRoom(state, await request(`/v1/rooms/${encodeURIComponent(roomId)}`));
  } catch (error) {
    showUnavailable(error);
    return;
  }
  try {
    state.me = await account();
  } catch (error) {
    toast(`Could not sign you in: ${describe(error)}`, 'error', 10_000);
    return;
  }
  restorePurchase();
  $('#whoami').textContent = `You are ${state.me.handle} on this device.`;
  render();
  feed.connect({
    onChange: (change) => {
      if (change === 'snapshot') {
        forgetFailedReplays();
        followLiveEpisode();
      }
      render();
    },
    onEpisode: (message) => {
      if (message.state !== 'ended') return;
      if (message.episode_id === state.live?.episode.id) stopListening();
      replaySoon(message.episode_id);
    },
    onStatus: render,
  });
  runCountdowns({ urgentMs: URGENT_MS, onDue: render });
  Object.assign(window, { livedropRoom: state }); // for the browser test and for debugging
}

start();
