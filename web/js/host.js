// @ts-check
// The host console: signs the room's creator in, follows the live feed and renders the panels
// (js/host/): the episode, the microphone, the stage, drops and products, earnings, the demo
// window, polls and the Q&A queue. Each message re-renders only the panels that show it, so a form being filled
// in elsewhere is left alone.
// The panels import each other as '../host/…': the server's embed test reads './' as js/.

import { runCountdowns } from './countdown.js';
import { whenProductLoads } from './products.js';
import { $, busy, feedStatus, fill } from './ui.js';
import { renderDemo } from './host/demo.js';
import { createDrop, renderDrops } from './host/drops.js';
import { noteSales, startEarnings } from './host/earnings.js';
import { renderEpisode } from './host/episode.js';
import { renderMic, stopAudio } from './host/mic.js';
import { renderPolls, startPoll } from './host/polls.js';
import { createProduct, renderProducts } from './host/products.js';
import { renderQuestions } from './host/questions.js';
import { signInAsBefore, signOutButton, wireSignIn } from './host/signin.js';
import { renderStage } from './host/stage.js';
import { fail, feed, roomId, state } from './host/state.js';

// The host's countdowns (a drop opening, a demo) turn urgent in their last ten seconds.
const URGENT_MS = 10_000;

function renderStatus() {
  feedStatus($('#status'), state.connection, !!state.live);
}

function render() {
  renderStatus();
  if (state.room) {
    $('#room-title').textContent = state.room.title;
    document.title = `Host · ${state.room.title} · livedrop`;
  }
  $('#episode-title').textContent = state.live ? state.live.episode.title : 'Host console';
  renderEpisode();
  renderMic();
  renderStage();
  renderDrops();
  noteSales();
  renderProducts();
  renderDemo();
  renderPolls();
  renderQuestions();
}

/** @type {Record<import('./feed.js').Change, () => void>} */
const RENDERS = {
  snapshot: () => {
    if (!state.live) stopAudio();
    render();
  },
  drop: () => {
    renderDrops();
    noteSales();
  },
  stage: () => {
    renderStage();
    renderMic();
  },
  poll: renderPolls,
  questions: renderQuestions,
  rituals: () => {
    renderDrops();
    renderDemo();
  },
};

/**
 * A form's submit runs `action` with its button busy.
 * @param {string} form
 * @param {() => Promise<void>} action
 */
function onSubmit(form, action) {
  $(form).addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    busy(event.submitter ?? $(`${form} button`), action, fail);
  });
}

function enter() {
  $('#signin').hidden = true;
  $('#console').hidden = false;
  fill($('#whoami'), `Signed in as ${state.me.handle}. `, signOutButton());
  whenProductLoads(() => {
    renderProducts();
    renderDemo();
  });
  render();
  startEarnings();
  feed.connect({ onChange: (change) => RENDERS[change](), onStatus: renderStatus });
  runCountdowns({
    urgentMs: URGENT_MS,
    onDue: () => {
      renderDemo();
      renderDrops();
    },
  });
  Object.assign(window, { livedropHost: state }); // for the browser test and for debugging
}

async function start() {
  if (!roomId) return;
  wireSignIn(enter);
  onSubmit('#new-drop', createDrop);
  onSubmit('#new-product', createProduct);
  onSubmit('#new-poll', startPoll);
  if (await signInAsBefore()) enter();
}

start();
