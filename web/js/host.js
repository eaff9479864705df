// The host console: sign in with the creator token, run the episode (go live, end), speak with the
// microphone over WHIP and hear the stage over WHEP, manage the stage, pin drops, run demo windows
// and polls, create products and drops and watch them sell, and work through the Q&A queue.

import { ApiError, client, describe, request } from './api.js';
import { serverNow } from './countdown.js';
import { connectLive } from './live.js';
import { audioSink, levelMeter, listen, publish } from './media.js';
import { $, avatar, busy, clock, el, fill, money, roomIdFromPath, shortId, feedStatus, store, toast, when } from './ui.js';

const roomId = roomIdFromPath();
const tokenStore = store('livedrop.host');

const state = {
  me: null,
  token: null,
  room: null,
  drops: new Map(),
  products: new Map(),
  live: null,
  feed: 'connecting',
  mic: null, // { session, stream, meter, muted, state }
  hearing: null, // { session, state }
  micLevel: 0,
};

let api = null;
let feed = null;
let productStore = null;
const sink = audioSink($('#host-audio'));

const fail = (error) => toast(describe(error), 'error', 6_000);

// ——— sign in ————————————————————————————————————————————————————————————————————————————

// A token in the fragment (`#token=…`, as `serve --demo` prints) is stored and removed from the
// address bar at once, so it is not left in history or shown on screen.
function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    tokenStore.set({ token });
    history.replaceState(null, '', location.pathname + location.search);
  }
}

async function signIn(token) {
  const me = await request('/v1/accounts/me', { token });
  if (me.role !== 'creator') throw new ApiError(403, 'forbidden', `${me.handle} is a ${me.role} account, not a creator`);
  const room = await request(`/v1/rooms/${encodeURIComponent(roomId)}`);
  if (room.creator_id !== me.id) throw new ApiError(403, 'forbidden', `${me.handle} is not the creator of this room`);
  state.me = me;
  state.token = token;
  state.room = room;
  state.drops = new Map(room.drops.map((drop) => [drop.id, drop]));
  api = client(() => state.token);
  productStore = store(`livedrop.products.${me.id}`);
  return me;
}

function showSignIn(message) {
  $('#signin').hidden = false;
  $('#console').hidden = true;
  const error = $('#signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('#status').textContent = 'Signed out';
  $('#status').className = 'pill offline';
}

// ——— data ———————————————————————————————————————————————————————————————————————————————

function knownProductIds() {
  const ids = new Set(productStore.get() ?? []);
  for (const drop of state.drops.values()) ids.add(drop.product_id);
  for (const slot of state.room.slots) if (slot.product_id) ids.add(slot.product_id);
  return [...ids];
}

function loadProducts() {
  for (const id of knownProductIds()) {
    if (state.products.has(id)) continue;
    state.products.set(id, null);
    request(`/v1/products/${encodeURIComponent(id)}`)
      .then((body) => {
        state.products.set(id, body);
        renderProducts();
        renderDemo();
      })
      .catch(() => state.products.delete(id));
  }
}

function rememberProduct(body) {
  const ids = productStore.get() ?? [];
  if (!ids.includes(body.id)) productStore.set([...ids, body.id]);
  state.products.set(body.id, body);
}

function fetchDrop(dropId) {
  request(`/v1/drops/${encodeURIComponent(dropId)}`)
    .then((body) => {
      state.drops.set(dropId, { ...body, ...state.drops.get(dropId) });
      renderDrops();
    })
    .catch(() => {});
}

function episodePath(suffix = '') {
  return `/v1/episodes/${encodeURIComponent(state.live.episode.id)}${suffix}`;
}

function onMessage(message) {
  const episodeId = state.live?.episode.id;
  switch (message.type) {
    case 'snapshot': {
      state.room = message.room;
      state.drops = new Map(message.room.drops.map((drop) => [drop.id, drop]));
      state.live = message.live_episode;
      if (!state.live) stopAudio();
      loadProducts();
      render();
      return;
    }
    case 'drop': {
      const known = state.drops.get(message.drop_id);
      const { type: _type, seq: _seq, drop_id: _id, ...counters } = message;
      if (known) state.drops.set(message.drop_id, { ...known, ...counters });
      else fetchDrop(message.drop_id);
      renderDrops();
      return;
    }
    case 'episode':
      feed.resync();
      return;
    case 'stage':
      if (message.episode_id !== episodeId) return;
      state.live.stage = message;
      renderStage();
      renderMic();
      return;
    case 'poll': {
      if (message.episode_id !== episodeId) return;
      const { type: _type, seq: _seq, ...poll } = message;
      const index = state.live.polls.findIndex((p) => p.slot === poll.slot);
      if (index >= 0) state.live.polls[index] = { ...state.live.polls[index], ...poll };
      else state.live.polls.push(poll);
      renderPolls();
      return;
    }
    case 'questions':
      if (message.episode_id !== episodeId) return;
      state.live.questions = message.questions;
      renderQuestions();
      return;
    case 'rituals':
      if (message.episode_id !== episodeId) return;
      state.live.rituals = { episode_id: message.episode_id, pinned: message.pinned, demo: message.demo };
      renderDrops();
      renderDemo();
      return;
    default:
  }
}

// ——— episode ————————————————————————————————————————————————————————————————————————————

async function goLiveNow(title) {
  const episode = await api.post(`/v1/rooms/${encodeURIComponent(roomId)}/episodes`, {
    title,
    starts_at: new Date(serverNow()).toISOString(),
  });
  await startEpisode(episode.id);
}

async function startEpisode(episodeId) {
  await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/start`);
  toast('You are live', 'ok');
  feed.resync();
}

async function endEpisode() {
  await stopAudio();
  await api.post(episodePath('/end'));
  toast('Episode ended');
  feed.resync();
}

function renderEpisode() {
  const root = $('#episode');
  if (state.live) {
    const episode = state.live.episode;
    const started = Date.parse(episode.started_at);
    fill(
      root,
      el('div', { class: 'live-line' },
        el('span', { class: 'pill live' }, 'LIVE'),
        el('strong', {}, episode.title),
        el('span', { class: 'muted small elapsed', dataset: { since: String(started) } }, clock(serverNow() - started))),
      el('div', { class: 'row' },
        el('a', { class: 'button ghost grow', href: `/rooms/${encodeURIComponent(roomId)}`, target: '_blank', rel: 'noopener' }, 'Open the buyer page ↗'),
        el('button', { class: 'danger', id: 'end-episode', type: 'button', onclick: (event) => busy(event.currentTarget, endEpisode, fail) }, 'End episode')),
    );
    return;
  }
  const scheduled = state.room.episodes.filter((e) => e.status === 'scheduled').sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  const title = el('input', { id: 'episode-title-input', maxlength: '200', value: 'Live session', required: true, 'aria-label': 'Episode title' });
  const at = el('input', { id: 'episode-at', type: 'datetime-local', 'aria-label': 'Starts at' });
  fill(
    root,
    el('p', { class: 'muted' }, 'The room is offline. Buyers on the room page see it go live at once.'),
    el('form', {
      class: 'stack', id: 'go-live-form',
      onsubmit: (event) => {
        event.preventDefault();
        busy($('#go-live'), () => goLiveNow(title.value.trim()), fail);
      },
    },
    el('label', { class: 'field' }, el('span', {}, 'Title'), title),
    el('button', { class: 'primary big', id: 'go-live', type: 'submit' }, '● Go live now')),
    el('details', { class: 'panel' },
      el('summary', {}, 'Schedule for later'),
      el('div', { class: 'row' }, at,
        el('button', {
          class: 'ghost', type: 'button',
          onclick: (event) => busy(event.currentTarget, async () => {
            if (!at.value) throw new Error('pick a start time');
            await api.post(`/v1/rooms/${encodeURIComponent(roomId)}/episodes`, { title: title.value.trim(), starts_at: new Date(at.value).toISOString() });
            toast('Episode scheduled', 'ok');
            feed.resync();
          }, fail),
        }, 'Schedule'))),
    scheduled.length
      ? el('ul', { class: 'list' }, scheduled.map((episode) =>
          el('li', {},
            el('div', {}, el('strong', {}, episode.title), el('p', { class: 'muted small' }, when(episode.starts_at))),
            el('div', { class: 'row' },
              el('button', { class: 'primary small', type: 'button', onclick: (event) => busy(event.currentTarget, () => startEpisode(episode.id), fail) }, 'Start'),
              el('button', {
                class: 'ghost small', type: 'button',
                onclick: (event) => busy(event.currentTarget, async () => {
                  await api.post(`/v1/episodes/${encodeURIComponent(episode.id)}/end`);
                  feed.resync();
                }, fail),
              }, 'Cancel')))))
      : null,
  );
}

// ——— microphone and listening ———————————————————————————————————————————————————————————

async function goLiveWithMic() {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser cannot use a microphone here (it needs https or localhost)');
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true }, video: false });
  let session;
  try {
    session = await publish(state.live.episode.id, state.token, stream, {
      onState: (connection) => {
        if (state.mic) state.mic.state = connection;
        renderMic();
      },
    });
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    throw error;
  }
  const meter = levelMeter(stream, (level) => {
    state.micLevel = level;
    const bar = $('#mic-level');
    if (bar) bar.style.width = `${Math.round(level * 100)}%`;
  });
  state.mic = { session, stream, meter, muted: false, state: session.pc.connectionState };
  window.livedropPublisher = session.pc; // read by the browser test
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
  window.livedropHostListener = session.pc;
  renderMic();
}

async function stopAudio() {
  if (state.mic) {
    state.mic.meter.stop();
    state.mic.stream.getTracks().forEach((track) => track.stop());
    await state.mic.session.stop();
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

function connectionText(connection) {
  return { new: 'starting', connecting: 'connecting…', connected: 'connected', disconnected: 'interrupted', failed: 'failed', closed: 'closed' }[connection] ?? connection;
}

function renderMic() {
  const root = $('#mic');
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Go live first; then speak to the room with your microphone.'));
    return;
  }
  if (!state.mic) {
    fill(
      root,
      el('button', { class: 'primary big', id: 'go-live-mic', type: 'button', onclick: (event) => busy(event.currentTarget, goLiveWithMic, fail) }, '🎙️ Go live with microphone'),
      el('p', { class: 'muted small' }, 'Your browser asks for the microphone. Listeners hear the host and up to two other speakers.'),
      state.hearing ? null : el('button', { class: 'ghost small', type: 'button', onclick: (event) => busy(event.currentTarget, hear, fail) }, '🎧 Only listen to the stage'),
      state.hearing ? el('p', { class: 'muted small' }, `Hearing the stage: ${connectionText(state.hearing.state)}`) : null,
    );
    return;
  }
  const mic = state.mic;
  fill(
    root,
    el('div', { class: 'mic-live' },
      el('span', { class: `mic-dot ${mic.muted ? 'muted' : mic.state === 'connected' ? 'on' : ''}` }),
      el('div', { class: 'grow' },
        el('p', { id: 'mic-state' }, mic.muted ? 'Microphone muted' : `On air · ${connectionText(mic.state)}`),
        el('div', { class: 'bar thin level' }, el('span', { id: 'mic-level', style: `width:${Math.round(state.micLevel * 100)}%` })))),
    el('div', { class: 'row' },
      el('button', { class: mic.muted ? 'primary' : 'ghost', type: 'button', id: 'mute-mic', onclick: toggleMute }, mic.muted ? 'Unmute' : 'Mute'),
      el('button', { class: 'danger', type: 'button', onclick: (event) => busy(event.currentTarget, stopAudio, fail) }, 'Stop audio')),
    el('p', { class: 'muted small' }, state.hearing ? `Hearing the stage: ${connectionText(state.hearing.state)}` : 'Not hearing the stage'),
  );
}

// ——— stage ——————————————————————————————————————————————————————————————————————————————

function stageAction(action, accountId) {
  return (event) =>
    busy(event.currentTarget, async () => {
      state.live.stage = await api.post(episodePath(`/${action}`), { account_id: accountId });
      renderStage();
    }, fail);
}

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
  return el(
    'li',
    { class: 'member', dataset: { account: member.account_id } },
    avatar(member.account_id, member.account_id === state.me.id ? state.me.handle : null),
    el('div', { class: 'grow' },
      el('p', {}, member.account_id === state.me.id ? `${state.me.handle} (you)` : shortId(member.account_id),
        member.hand_raised ? el('span', { class: 'badge hand' }, '✋ hand raised') : null),
      el('p', { class: 'muted small' }, `${member.role}${member.muted ? ' · muted' : ''}${member.may_publish ? ' · may speak' : ''}`)),
    el('div', { class: 'actions' }, actions),
  );
}

function renderStage() {
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
    el('details', { class: 'panel', open: listeners.length > 0 && listeners.length <= 8 },
      el('summary', {}, `Listeners (${listeners.length})`),
      listeners.length ? el('ul', { class: 'members' }, listeners.slice(0, 200).map(memberRow)) : el('p', { class: 'muted small' }, 'No one is listening yet.')),
  );
}

// ——— products and drops —————————————————————————————————————————————————————————————————

function productLabel(id) {
  const body = state.products.get(id);
  return body ? `${body.title} · ${money(body.price_minor, body.currency)} · ${body.stock - body.allocated} free` : id;
}

function renderProducts() {
  const select = $('#drop-product');
  const chosen = select.value;
  const ids = knownProductIds();
  fill(select, ids.length ? ids.map((id) => el('option', { value: id, selected: id === chosen }, productLabel(id))) : el('option', { value: '' }, 'Create a product first'));
  const demoSelect = $('#demo-product');
  if (demoSelect) {
    const demoChosen = demoSelect.value;
    fill(demoSelect, ids.map((id) => el('option', { value: id, selected: id === demoChosen }, state.products.get(id)?.title ?? id)));
  }
}

function pinnedDropId() {
  return state.live?.rituals.pinned?.drop_id ?? null;
}

async function pin(dropId) {
  const rituals = await api.post(episodePath('/pin'), { drop_id: dropId });
  if (state.live) state.live.rituals = rituals;
  toast('Pinned in the room', 'ok');
  renderDrops();
}

async function unpin() {
  const rituals = await api.post(episodePath('/unpin'));
  if (state.live) state.live.rituals = rituals;
  renderDrops();
}

function dropCard(drop) {
  const pinned = pinnedDropId() === drop.id;
  const quantity = Math.max(1, drop.quantity);
  const revenue = money(drop.sold * drop.price_minor, drop.currency);
  const opens = Date.parse(drop.opens_at);
  return el(
    'article',
    { class: `drop-card ${pinned ? 'pinned' : ''}`, dataset: { dropId: drop.id, state: drop.state } },
    el('div', { class: 'drop-head' },
      el('strong', {}, drop.title),
      el('span', { class: `pill small ${drop.state}` }, drop.state.replace('_', ' ')),
      pinned ? el('span', { class: 'badge' }, '📌 pinned') : null),
    el('div', { class: 'counters' },
      el('div', {}, el('span', { class: 'num', dataset: { counter: 'remaining' } }, String(drop.remaining)), el('span', { class: 'muted small' }, 'remaining')),
      el('div', {}, el('span', { class: 'num held', dataset: { counter: 'held' } }, String(drop.held)), el('span', { class: 'muted small' }, 'held')),
      el('div', {}, el('span', { class: 'num sold', dataset: { counter: 'sold' } }, String(drop.sold)), el('span', { class: 'muted small' }, 'sold')),
      el('div', {}, el('span', { class: 'num' }, revenue), el('span', { class: 'muted small' }, 'revenue'))),
    el('div', { class: 'bar' },
      el('span', { class: 'sold', style: `width:${(100 * drop.sold) / quantity}%` }),
      el('span', { class: 'held', style: `width:${(100 * drop.held) / quantity}%` })),
    el('p', { class: 'muted small' },
      `${money(drop.price_minor, drop.currency)} · ${drop.per_buyer_limit} per buyer · holds ${drop.hold_seconds} s`,
      drop.state === 'scheduled' ? [' · opens in ', el('span', { class: 'countdown', dataset: { until: String(opens) } }, clock(opens - serverNow()))] : ''),
    el('div', { class: 'row wrap' },
      state.live && drop.state !== 'closed'
        ? pinned
          ? el('button', { class: 'ghost small', type: 'button', onclick: (event) => busy(event.currentTarget, unpin, fail) }, 'Unpin')
          : el('button', { class: 'primary small pin', type: 'button', onclick: (event) => busy(event.currentTarget, () => pin(drop.id), fail) }, '📌 Pin in room')
        : null,
      drop.state !== 'closed'
        ? el('button', {
            class: 'ghost small', type: 'button',
            onclick: (event) => busy(event.currentTarget, async () => {
              const body = await api.post(`/v1/drops/${encodeURIComponent(drop.id)}/close`);
              state.drops.set(drop.id, body);
              renderDrops();
            }, fail),
          }, 'Close drop')
        : null),
  );
}

function renderDrops() {
  const drops = [...state.drops.values()].reverse();
  fill($('#drops'), drops.length ? drops.map(dropCard) : el('p', { class: 'muted', id: 'no-drops' }, 'No drops yet. Create one below: buyers see it the moment it is pinned.'));
  $('#new-drop-panel').open ||= drops.length === 0;
}

async function createDrop() {
  const productId = $('#drop-product').value;
  if (!productId) throw new Error('create a product first');
  const opensIn = Number($('#drop-opens').value || 0);
  const body = {
    product_id: productId,
    quantity: Number($('#drop-quantity').value),
    per_buyer_limit: Number($('#drop-limit').value),
    hold_seconds: Number($('#drop-hold').value),
  };
  if (opensIn > 0) body.opens_at = new Date(serverNow() + opensIn * 1_000).toISOString();
  const drop = await api.post(`/v1/rooms/${encodeURIComponent(roomId)}/drops`, body);
  state.drops.set(drop.id, drop);
  $('#new-drop-panel').open = false;
  renderDrops();
  toast(`Drop created: ${drop.quantity} × ${drop.title}`, 'ok');
  if ($('#drop-pin').checked && state.live) await pin(drop.id).catch(fail);
}

async function createProduct() {
  const currency = $('#product-currency').value.trim().toUpperCase();
  const digits = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  const body = await api.post('/v1/products', {
    title: $('#product-title').value.trim(),
    price_minor: Math.round(Number($('#product-price').value) * 10 ** digits),
    currency,
    stock: Number($('#product-stock').value),
    fulfilment: $('#product-fulfilment').value,
  });
  rememberProduct(body);
  renderProducts();
  $('#drop-product').value = body.id;
  $('#new-product').reset();
  $('#new-product-panel').open = false;
  $('#new-drop-panel').open = true;
  toast(`Product created: ${body.title}`, 'ok');
}

// ——— demo window ————————————————————————————————————————————————————————————————————————

function renderDemo() {
  const root = $('#demo');
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Run a 60 or 90 second demo countdown of a product while live.'));
    return;
  }
  const demo = state.live.rituals.demo;
  const endsAt = Date.parse(demo?.ends_at ?? '');
  if (demo && endsAt > serverNow()) {
    fill(root,
      el('div', { class: 'demo-head' },
        el('span', {}, `Demo: ${state.products.get(demo.product_id)?.title ?? demo.product_id}`),
        el('span', { class: 'countdown big', dataset: { until: String(endsAt) } }, clock(endsAt - serverNow()))),
      el('button', {
        class: 'ghost', type: 'button',
        onclick: (event) => busy(event.currentTarget, async () => {
          const rituals = await api.post(episodePath('/demo/stop'));
          state.live.rituals = rituals;
          renderDemo();
        }, fail),
      }, 'Stop demo'));
    return;
  }
  const select = el('select', { id: 'demo-product', 'aria-label': 'Product' });
  fill(root,
    el('label', { class: 'field' }, el('span', {}, 'Product'), select),
    el('div', { class: 'row' },
      [60, 90].map((seconds) => el('button', {
        class: 'primary grow', type: 'button',
        onclick: (event) => busy(event.currentTarget, async () => {
          if (!select.value) throw new Error('create a product first');
          const rituals = await api.post(episodePath('/demo'), { product_id: select.value, seconds });
          state.live.rituals = rituals;
          renderDemo();
        }, fail),
      }, `▶ ${seconds} s demo`))));
  renderProducts();
}

// ——— polls ——————————————————————————————————————————————————————————————————————————————

function renderPolls() {
  const root = $('#polls');
  $('#new-poll-panel').hidden = !state.live;
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Polls run while the episode is live.'));
    return;
  }
  const polls = state.live.polls;
  fill(root, polls.length === 0 ? el('p', { class: 'muted' }, 'No polls yet.') : polls.map((poll) => {
    const total = poll.tallies.reduce((a, b) => a + b, 0);
    const open = poll.open;
    return el('div', { class: 'poll', dataset: { slot: String(poll.slot) } },
      el('p', { class: 'question' }, poll.question, el('span', { class: `badge ${open ? '' : 'muted-badge'}` }, open ? 'open' : 'closed')),
      el('div', { class: 'options' }, poll.options.map((option, index) => {
        const share = total ? Math.round((100 * poll.tallies[index]) / total) : 0;
        return el('div', { class: 'option results', style: `--share:${share}%` }, el('span', { class: 'label' }, option), el('span', { class: 'share' }, `${poll.tallies[index]} · ${share}%`));
      })),
      open
        ? el('button', {
            class: 'ghost small', type: 'button',
            onclick: (event) => busy(event.currentTarget, async () => {
              const body = await api.post(episodePath(`/polls/${poll.slot}/close`));
              Object.assign(poll, body);
              renderPolls();
            }, fail),
          }, 'Close poll')
        : null);
  }));
}

async function startPoll() {
  const options = $('#poll-options').value.split('\n').map((line) => line.trim()).filter(Boolean);
  if (options.length < 2 || options.length > 6) throw new Error('a poll takes 2 to 6 options');
  const poll = await api.post(episodePath('/polls'), { question: $('#poll-question').value.trim(), options });
  if (!state.live.polls.some((p) => p.slot === poll.slot)) state.live.polls.push(poll);
  $('#new-poll').reset();
  $('#new-poll-panel').open = false;
  renderPolls();
  toast('Poll started', 'ok');
}

// ——— questions ——————————————————————————————————————————————————————————————————————————

function renderQuestions() {
  const root = $('#questions');
  const questions = state.live?.questions ?? [];
  const open = questions.filter((q) => q.status === 'open');
  $('#qa-count').textContent = open.length ? String(open.length) : '';
  if (!state.live) {
    fill(root, el('li', { class: 'empty muted' }, 'Questions come in while live.'));
    return;
  }
  fill(root,
    questions.length === 0 ? el('li', { class: 'empty muted' }, 'No questions yet.') : null,
    questions.map((question) => el('li', { class: `question-item ${question.status}` },
      el('span', { class: 'upvote static' }, el('span', {}, '▲'), el('span', {}, String(question.upvotes))),
      el('div', { class: 'text grow' }, el('p', {}, question.text), el('p', { class: 'muted small' }, `${shortId(question.asked_by)}${question.status === 'open' ? '' : ` · ${question.status}`}`)),
      question.status === 'open'
        ? el('div', { class: 'actions' },
            el('button', { class: 'primary small', type: 'button', onclick: resolve(question, 'answer') }, 'Answered'),
            el('button', { class: 'ghost small', type: 'button', onclick: resolve(question, 'dismiss') }, 'Dismiss'))
        : null)));
}

function resolve(question, action) {
  return (event) => busy(event.currentTarget, async () => {
    await api.post(episodePath(`/questions/${question.number}/${action}`));
  }, fail);
}

// ——— page ———————————————————————————————————————————————————————————————————————————————

function setStatus() {
  feedStatus($('#status'), state.feed, !!state.live);
}

function render() {
  setStatus();
  if (state.room) {
    $('#room-title').textContent = state.room.title;
    document.title = `Host · ${state.room.title} · livedrop`;
  }
  $('#episode-title').textContent = state.live ? state.live.episode.title : 'Host console';
  renderEpisode();
  renderMic();
  renderStage();
  renderDrops();
  renderProducts();
  renderDemo();
  renderPolls();
  renderQuestions();
}

function tick() {
  const now = serverNow();
  let due = false;
  document.querySelectorAll('[data-until]').forEach((node) => {
    const left = Number(node.dataset.until) - now;
    node.textContent = clock(left);
    node.classList.toggle('urgent', left > 0 && left <= 10_000);
    if (left <= 0 && !node.dataset.done) {
      node.dataset.done = '1';
      due = true;
    }
  });
  document.querySelectorAll('[data-since]').forEach((node) => {
    node.textContent = clock(now - Number(node.dataset.since));
  });
  if (due) {
    renderDemo();
    renderDrops();
  }
}

function wire() {
  $('#signin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $('#token').value.trim();
    busy(event.submitter ?? $('#signin-form button'), async () => {
      try {
        await signIn(token);
      } catch (error) {
        showSignIn(error.status === 401 ? 'That token is not valid on this server.' : describe(error));
        return;
      }
      tokenStore.set({ token });
      enter();
    });
  });
  $('#new-drop').addEventListener('submit', (event) => {
    event.preventDefault();
    busy($('#create-drop'), createDrop, fail);
  });
  $('#new-product').addEventListener('submit', (event) => {
    event.preventDefault();
    busy(event.submitter ?? $('#new-product button'), createProduct, fail);
  });
  $('#new-poll').addEventListener('submit', (event) => {
    event.preventDefault();
    busy(event.submitter ?? $('#new-poll button'), startPoll, fail);
  });
}

function enter() {
  $('#signin').hidden = true;
  $('#console').hidden = false;
  const signOut = el('button', {
    class: 'link', type: 'button',
    onclick: () => {
      tokenStore.set(null);
      location.reload();
    },
  }, 'Sign out');
  fill($('#whoami'), `Signed in as ${state.me.handle}. `, signOut);
  loadProducts();
  render();
  feed = connectLive(roomId, {
    onMessage,
    onStatus: (status) => {
      state.feed = status;
      setStatus();
    },
  });
  setInterval(tick, 250);
  window.livedropHost = state;
}

async function start() {
  if (!roomId) return;
  wire();
  tokenFromFragment();
  const saved = tokenStore.get();
  if (!saved?.token) {
    showSignIn();
    return;
  }
  try {
    await signIn(saved.token);
  } catch (error) {
    if (error.status === 401) tokenStore.set(null);
    showSignIn(error.status === 401 ? 'Your token is not valid on this server; sign in again.' : describe(error));
    return;
  }
  enter();
}

start();

