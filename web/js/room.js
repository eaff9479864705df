// The buyer's room page: the live feed, the stage and audio, the pinned product with one-tap buying,
// the demo window, polls and questions, and replays of past episodes while the room is offline.
// Everything shown comes from the feed's whole-state messages (or a GET); actions call the API and
// the feed brings their effect back.

import { ApiError, client, describe, newIdempotencyKey, request } from './api.js';
import { connectLive, serverNow } from './live.js';
import { audioSink, inboundAudio, listen, publish } from './media.js';
import { $, FULFILMENT, avatar, busy, clock, el, fill, minutesSeconds, money, roomIdFromPath, shortId, feedStatus, store, toast, when } from './ui.js';

const roomId = roomIdFromPath();
const buyerStore = store('livedrop.buyer');

export const PAYMENT_METHODS = [
  ['pm_card_visa', 'Visa •••• 4242'],
  ['pm_card_mastercard', 'Mastercard •••• 4444'],
  ['pm_card_amex', 'Amex •••• 8431'],
  ['pm_card_discover', 'Discover •••• 1117'],
  ['pm_card_chargeDeclined', 'Test card: declined'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Test card: insufficient funds'],
  ['pm_card_chargeDeclinedExpiredCard', 'Test card: expired'],
];

const state = {
  me: null,
  room: null,
  drops: new Map(),
  products: new Map(),
  live: null, // { episode, stage, polls, questions, rituals }
  feed: 'connecting',
  joined: null, // episode id joined
  listening: null, // { session, episodeId }
  speaking: null, // { session, stream, episodeId, state }
  listenState: null,
  purchase: null,
  voted: store(`livedrop.votes.${roomId}`),
  upvoted: store(`livedrop.upvotes.${roomId}`),
  replays: new Map(), // episode id → { recordings, pending, fresh } or { error }
};

let api = null;
let purchaseStore = null;
let feed = null;
const sink = audioSink($('#audio'));

// ——— account ————————————————————————————————————————————————————————————————————————————

function randomHandle() {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `buyer_${Array.from(bytes, (b) => letters[b % letters.length]).join('')}`;
}

// The buyer account of this browser: made on the first visit, kept in localStorage.
async function account() {
  const saved = buyerStore.get();
  if (saved?.token) {
    try {
      const me = await request('/v1/accounts/me', { token: saved.token });
      return { ...saved, id: me.id, handle: me.handle };
    } catch (error) {
      if (error.status !== 401) return saved; // offline or busy: keep using it
    }
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const created = await request('/v1/accounts', { method: 'POST', body: { handle: randomHandle(), role: 'buyer' } });
      const me = { id: created.id, handle: created.handle, token: created.token };
      buyerStore.set(me);
      return me;
    } catch (error) {
      if (error.code !== 'handle_taken') throw error;
    }
  }
  throw new Error('could not make a buyer account');
}

// ——— data ———————————————————————————————————————————————————————————————————————————————

function product(productId) {
  if (!productId) return null;
  const known = state.products.get(productId);
  if (known) return known.then ? null : known;
  const pending = request(`/v1/products/${encodeURIComponent(productId)}`)
    .then((body) => {
      state.products.set(productId, body);
      render();
    })
    .catch(() => state.products.delete(productId));
  state.products.set(productId, pending);
  return null;
}

const fetchingDrops = new Set();

function fetchDrop(dropId) {
  if (fetchingDrops.has(dropId)) return;
  fetchingDrops.add(dropId);
  request(`/v1/drops/${encodeURIComponent(dropId)}`)
    .then((body) => {
      state.drops.set(dropId, { ...body, ...state.drops.get(dropId) });
      render();
    })
    .catch(() => {})
    .finally(() => fetchingDrops.delete(dropId));
}

function onSnapshot(message) {
  state.room = message.room;
  forgetFailedReplays();
  state.drops = new Map(message.room.drops.map((drop) => [drop.id, drop]));
  state.live = message.live_episode;
  if (!state.live || (state.speaking && state.speaking.episodeId !== state.live.episode.id)) stopSpeaking();
  if (!state.live) stopListening();
  else if (state.listening && state.listening.episodeId !== state.live.episode.id) stopListening();
  render();
}

function onMessage(message) {
  const episodeId = state.live?.episode.id;
  switch (message.type) {
    case 'snapshot':
      onSnapshot(message);
      return;
    case 'drop': {
      const known = state.drops.get(message.drop_id);
      const { type: _type, seq: _seq, drop_id: _id, ...counters } = message;
      if (known) state.drops.set(message.drop_id, { ...known, ...counters });
      else fetchDrop(message.drop_id);
      break;
    }
    case 'episode':
      // Start and end change everything on the page: take a fresh snapshot.
      if (message.state === 'ended' && message.episode_id === episodeId) stopListening();
      if (message.state === 'ended') replaySoon(message.episode_id);
      feed.resync();
      return;
    case 'stage':
      if (message.episode_id !== episodeId) return;
      state.live.stage = message;
      break;
    case 'poll': {
      if (message.episode_id !== episodeId) return;
      const polls = state.live.polls;
      const index = polls.findIndex((poll) => poll.slot === message.slot);
      const { type: _type, seq: _seq, ...poll } = message;
      if (index >= 0) polls[index] = { ...polls[index], ...poll };
      else polls.push(poll);
      break;
    }
    case 'questions':
      if (message.episode_id !== episodeId) return;
      state.live.questions = message.questions;
      break;
    case 'rituals':
      if (message.episode_id !== episodeId) return;
      state.live.rituals = { episode_id: message.episode_id, pinned: message.pinned, demo: message.demo };
      break;
    default:
      return;
  }
  render();
}

// The drop in the buy slot: the one you hold, else the pinned one, else the room's newest drop
// still on sale or about to open, else its newest.
function shownDrop() {
  const held = state.purchase?.dropId && state.drops.get(state.purchase.dropId);
  if (held && state.purchase.claim && !state.purchase.order && holdLeft() > 0) return { drop: held, pinned: isPinned(held.id) };
  const pinnedId = state.live?.rituals.pinned?.drop_id;
  if (pinnedId) {
    const pinned = state.drops.get(pinnedId);
    if (!pinned) fetchDrop(pinnedId);
    else return { drop: pinned, pinned: true };
  }
  const drops = [...state.drops.values()];
  const selling = [...drops].reverse().find((drop) => drop.state === 'open' || drop.state === 'scheduled');
  const drop = selling ?? drops.at(-1);
  return drop ? { drop, pinned: false } : null;
}

function isPinned(dropId) {
  return state.live?.rituals.pinned?.drop_id === dropId;
}

// ——— purchase ———————————————————————————————————————————————————————————————————————————
// A purchase decision keeps its Idempotency-Keys until the server decided: a retry after a lost
// connection or a 5xx sends the same key (and body), so it can never buy twice; a new tap after a
// decided answer (a decline, sold out, an expired hold) is a new decision with a new key.

function savePurchase() {
  purchaseStore.set(state.purchase);
}

function holdLeft() {
  const expires = Date.parse(state.purchase?.claim?.expires_at ?? '');
  return Number.isFinite(expires) ? expires - serverNow() : 0;
}

function method() {
  return state.purchase?.method ?? 'pm_card_visa';
}

async function buy(drop) {
  const previous = state.purchase;
  const same = previous && previous.dropId === drop.id && !previous.order;
  state.purchase = {
    dropId: drop.id,
    method: previous?.method ?? 'pm_card_visa',
    claimKey: same && previous.claimKey ? previous.claimKey : newIdempotencyKey(),
    claim: null,
    checkoutKey: null,
    error: null,
    order: null,
    lastOrder: previous?.order ?? previous?.lastOrder ?? null,
  };
  savePurchase();
  render();
  try {
    state.purchase.claim = await api.post(`/v1/drops/${encodeURIComponent(drop.id)}/claims`, { quantity: 1 }, { idempotencyKey: state.purchase.claimKey });
    state.purchase.claimKey = null;
  } catch (error) {
    if (!(error instanceof ApiError) || !error.undecided) state.purchase.claimKey = null;
    state.purchase.error = { code: error.code, text: describe(error), undecided: error.undecided };
    savePurchase();
    render();
    return;
  }
  savePurchase();
  await pay();
}

async function pay() {
  const purchase = state.purchase;
  if (!purchase?.claim) return;
  // A new decision unless the last attempt with this card is undecided.
  if (!purchase.checkoutKey || purchase.checkoutMethod !== purchase.method) {
    purchase.checkoutKey = newIdempotencyKey();
    purchase.checkoutMethod = purchase.method;
  }
  purchase.error = null;
  purchase.paying = true;
  savePurchase();
  render();
  try {
    const order = await api.post(
      `/v1/carts/${encodeURIComponent(purchase.claim.cart_id)}/checkout`,
      { payment_method: purchase.checkoutMethod },
      { idempotencyKey: purchase.checkoutKey },
    );
    purchase.order = order;
    purchase.checkoutKey = null;
    toast(`Paid ${money(order.total_minor, order.currency)} — thank you!`, 'ok');
  } catch (error) {
    if (!error.undecided) purchase.checkoutKey = null;
    purchase.error = { code: error.code, text: describe(error), undecided: error.undecided };
  } finally {
    purchase.paying = false;
    savePurchase();
    render();
  }
}

// ——— stage and audio ————————————————————————————————————————————————————————————————————

async function ensureJoined() {
  const episodeId = state.live?.episode.id;
  if (!episodeId) throw new ApiError(409, 'episode_not_live', 'not live');
  const member = state.live.stage.members.some((m) => m.account_id === state.me.id);
  if (state.joined === episodeId && member) return episodeId;
  const stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/join`);
  state.joined = episodeId;
  if (state.live?.episode.id === episodeId) state.live.stage = stage;
  return episodeId;
}

async function startListening() {
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
        setTimeout(() => state.live && !state.listening && startListening().catch(() => {}), 2_000);
      }
    },
  });
  state.listening = { session, episodeId };
  window.livedropListener = session.pc; // read by the browser test (getStats)
  window.livedropInboundAudio = () => inboundAudio(session.pc);
  render();
}

// Invited to the stage: speak with the microphone over WHIP while the host lets you (unmuted).
async function startSpeaking() {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser cannot use a microphone here (it needs https or localhost)');
  const episodeId = state.live.episode.id;
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
  let session;
  try {
    session = await publish(episodeId, state.me.token, stream, {
      onState: (connection) => {
        if (state.speaking) state.speaking.state = connection;
        render();
      },
    });
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    throw error;
  }
  state.speaking = { session, stream, episodeId, state: session.pc.connectionState };
  window.livedropSpeaker = session.pc;
  if (!state.listening) startListening().catch(() => {});
  render();
}

function stopSpeaking() {
  if (!state.speaking) return;
  state.speaking.stream.getTracks().forEach((track) => track.stop());
  state.speaking.session.stop();
  state.speaking = null;
}

async function leaveStage() {
  stopSpeaking();
  const episodeId = state.live.episode.id;
  state.live.stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/move-to-audience`, { account_id: state.me.id });
  render();
}

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
            onclick: (event) => busy(event.currentTarget, startSpeaking, (error) => toast(describe(error), 'error')),
          }, '🎙 Speak'),
      el('button', { class: 'ghost', type: 'button', onclick: (event) => busy(event.currentTarget, leaveStage, (error) => toast(describe(error), 'error')) }, 'Leave stage')),
  );
}

function stopListening() {
  if (!state.listening) return;
  state.listening.session.stop();
  state.listening = null;
  state.listenState = null;
  sink.clear();
}

// ——— replays ———————————————————————————————————————————————————————————————————————————
// Each ended episode's recordings: one Ogg Opus file per speaker's session, public like the
// episode. The server finishes a file after the episode ends, asynchronously, so a fresh end is read
// after a short wait and read again while its list is empty or a file is not finished yet.

const REPLAYS_MAX = 10;
const REPLAY_FIRST_WAIT_MS = 1_500;
const REPLAY_RETRY_WAITS_MS = [2_000, 4_000];
// Only an episode that ended this recently may still have files being finished.
const REPLAY_FRESH_MS = 120_000;
// url → { audio, bytes }: the same <audio> across re-renders, so a replay keeps playing.
const replayAudio = new Map();

function endedEpisodes() {
  const ended = state.room.episodes.filter((episode) => episode.status === 'ended');
  const at = (episode) => Date.parse(episode.ended_at);
  return ended.sort((a, b) => at(b) - at(a)).slice(0, REPLAYS_MAX);
}

function loadReplay(episodeId, attempt, fresh) {
  state.replays.set(episodeId, { ...state.replays.get(episodeId), pending: true, fresh });
  request(`/v1/episodes/${encodeURIComponent(episodeId)}/recordings`)
    .then((body) => {
      const recordings = body.recordings;
      const unfinished = recordings.length === 0 || recordings.some((recording) => !recording.complete);
      const again = fresh && unfinished && attempt < REPLAY_RETRY_WAITS_MS.length;
      state.replays.set(episodeId, { recordings, pending: again, fresh });
      if (again) setTimeout(() => loadReplay(episodeId, attempt + 1, true), REPLAY_RETRY_WAITS_MS[attempt]);
    })
    .catch((error) => state.replays.set(episodeId, { error: describe(error) }))
    .finally(render);
}

// The feed said an episode ended: its recordings are being finished, read them in a moment.
function replaySoon(episodeId) {
  if (state.replays.get(episodeId)?.pending) return;
  state.replays.set(episodeId, { pending: true, fresh: true });
  setTimeout(() => loadReplay(episodeId, 0, true), REPLAY_FIRST_WAIT_MS);
}

// A fresh snapshot (a reconnection, say) is a fresh chance for the lists that failed to load.
function forgetFailedReplays() {
  for (const [episodeId, replay] of state.replays) if (replay.error) state.replays.delete(episodeId);
}

function replayAudioOf(recording, title) {
  const known = replayAudio.get(recording.url);
  // A file that grew since (it was being finished) gets a fresh element unless it is playing.
  if (known && (known.bytes === recording.bytes || !known.audio.paused)) return known.audio;
  const audio = el('audio', {
    controls: true, preload: 'none', src: recording.url, 'aria-label': title,
    // One replay at a time.
    onplay: (event) => replayAudio.forEach(({ audio: other }) => other !== event.currentTarget && other.pause()),
  });
  replayAudio.set(recording.url, { audio, bytes: recording.bytes });
  return audio;
}

// The stage names people by role and the page knows only its own buyer's handle: the host, you,
// or the end of the account id, as on the stage.
function speakerOf(accountId, episode) {
  if (accountId === state.me.id) return { name: 'You', initials: state.me.handle };
  if (accountId === episode.host_id) return { name: 'Host', initials: initials(state.room?.title) };
  return { name: shortId(accountId), initials: null };
}

function replayEntry(episode) {
  const replay = state.replays.get(episode.id);
  const started = Date.parse(episode.started_at ?? '');
  const ended = Date.parse(episode.ended_at ?? '');
  const length = Number.isFinite(started) && Number.isFinite(ended) ? ` · ${minutesSeconds(ended - started)} live` : '';
  let body;
  if (replay?.error) body = el('p', { class: 'notice error small' }, `The recordings could not be loaded: ${replay.error}`);
  else if (!replay?.recordings) body = el('p', { class: 'muted small' }, replay?.fresh ? 'Preparing the recording…' : 'Loading…');
  else if (replay.recordings.length === 0) body = el('p', { class: 'muted small' }, replay.pending ? 'Preparing the recording…' : 'Nothing was recorded in this episode.');
  else {
    body = el('ul', { class: 'tracks' }, replay.recordings.map((recording) => {
      const speaker = speakerOf(recording.account_id, episode);
      return el(
        'li',
        { class: 'track', dataset: { file: recording.file } },
        el('div', { class: 'track-head' },
          avatar(recording.account_id, speaker.initials, 'small'),
          el('span', { class: 'name' }, speaker.name),
          recording.complete ? null : el('span', { class: 'badge muted-badge', title: 'The file was not finished; it plays up to where it stops.' }, 'incomplete'),
          el('span', { class: 'duration muted small' }, minutesSeconds(recording.duration_ms))),
        replayAudioOf(recording, `${episode.title}: ${speaker.name}`),
      );
    }));
  }
  return el(
    'article',
    { class: 'replay', dataset: { episodeId: episode.id } },
    el('div', { class: 'replay-head' },
      el('p', { class: 'replay-title' }, episode.title),
      el('p', { class: 'muted small' }, `${when(episode.started_at ?? episode.starts_at)}${length}`)),
    body,
  );
}

let replaysShown = null;

function renderReplays() {
  const card = $('#replays');
  const live = !!state.live || state.room.episodes.some((episode) => episode.status === 'live');
  card.hidden = live;
  if (card.hidden) {
    replayAudio.forEach(({ audio }) => audio.pause());
    return;
  }
  const episodes = endedEpisodes();
  for (const episode of episodes) {
    if (!state.replays.has(episode.id)) loadReplay(episode.id, 0, Date.parse(episode.ended_at) > serverNow() - REPLAY_FRESH_MS);
  }
  // Rebuilt only when what it shows changed: render runs on every message.
  const shown = JSON.stringify(episodes.map((episode) => [episode.id, episode.title, episode.ended_at, state.replays.get(episode.id)]));
  if (shown === replaysShown) return;
  replaysShown = shown;
  $('#replay-count').textContent = episodes.length ? String(episodes.length) : '';
  fill(
    $('#replay-list'),
    episodes.length === 0
      ? el('div', { class: 'empty', id: 'replays-empty' },
          el('div', { class: 'offline-icon', 'aria-hidden': 'true' }, '📼'),
          el('p', {}, el('strong', {}, 'No replays yet')),
          el('p', { class: 'muted small' }, 'When an episode ends, its speakers’ recordings can be heard again here.'))
      : episodes.map(replayEntry),
  );
}

// ——— rendering ——————————————————————————————————————————————————————————————————————————

function setStatus() {
  feedStatus($('#status'), state.feed, !!state.live);
}

function renderOffline() {
  const offline = $('#offline');
  offline.hidden = !!state.live || !state.room;
  if (offline.hidden) return;
  const next = state.room.episodes.filter((e) => e.status === 'scheduled').sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0];
  fill(
    offline,
    el('div', { class: 'offline-icon', 'aria-hidden': 'true' }, '📻'),
    el('h2', {}, 'The room is offline'),
    next
      ? el('p', { class: 'muted' }, 'Next: ', el('strong', {}, next.title), ` · ${when(next.starts_at)}`)
      : el('p', { class: 'muted' }, 'Stay on this page: it goes live by itself when the host starts.'),
  );
}

function initials(title) {
  const words = (title ?? '').split(/\s+/).filter(Boolean);
  return words.length > 1 ? `${words[0][0]}${words[1][0]}` : (words[0] ?? 'H').slice(0, 2);
}

function renderStage() {
  const card = $('#stage-card');
  card.hidden = !state.live;
  if (!state.live) return;
  const members = state.live.stage.members;
  const onStage = members.filter((m) => m.role !== 'listener');
  const listeners = members.length - onStage.length;
  const me = members.find((m) => m.account_id === state.me.id);
  fill(
    $('#stage-people'),
    onStage.map((m) =>
      el(
        'div',
        { class: `person ${m.may_publish ? 'speaking' : ''}`, title: `${m.role} ${m.account_id}` },
        avatar(m.account_id, m.role === 'host' ? initials(state.room?.title) : m.account_id === state.me.id ? state.me.handle : null, 'large'),
        el('span', { class: 'name' }, m.role === 'host' ? 'Host' : m.account_id === state.me.id ? 'You' : shortId(m.account_id)),
        el('span', { class: `role ${m.role}` }, m.muted ? '🔇 muted' : m.role === 'host' ? '🎙 on stage' : m.role),
      ),
    ),
  );
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

function renderDemo() {
  const demo = state.live?.rituals.demo;
  const card = $('#demo');
  const endsAt = Date.parse(demo?.ends_at ?? '');
  card.hidden = !demo || !(endsAt > serverNow());
  if (card.hidden) return;
  const item = product(demo.product_id);
  const total = demo.seconds * 1_000;
  fill(
    card,
    el('div', { class: 'demo-head' }, el('span', { class: 'badge demo' }, 'Live demo'), el('span', { class: 'countdown big', dataset: { until: String(endsAt) } }, clock(endsAt - serverNow()))),
    el('p', {}, item ? item.title : 'Product demo', el('span', { class: 'muted' }, ' — watch before it drops')),
    el('div', { class: 'bar thin' }, el('span', { class: 'progress', dataset: { until: String(endsAt), total: String(total) } })),
  );
}

function stockText(drop) {
  const parts = [`${drop.remaining} of ${drop.quantity} left`];
  if (drop.held > 0) parts.push(`${drop.held} in carts`);
  if (drop.sold > 0) parts.push(`${drop.sold} sold`);
  return parts.join(' · ');
}

function paymentPicker() {
  return el(
    'label',
    { class: 'picker' },
    el('span', { class: 'muted small' }, 'Pay with'),
    el(
      'select',
      {
        id: 'payment-method',
        onchange: (event) => {
          if (state.purchase) state.purchase.method = event.target.value;
          else state.purchase = { method: event.target.value };
          savePurchase();
        },
      },
      PAYMENT_METHODS.map(([value, label]) => el('option', { value, selected: value === method() }, label)),
    ),
  );
}

function renderProduct() {
  const card = $('#product');
  const shown = shownDrop();
  card.hidden = !shown;
  if (!shown) return;
  const { drop, pinned } = shown;
  const item = product(drop.product_id);
  card.dataset.dropId = drop.id;
  card.dataset.state = drop.state;
  $('#product-badge').textContent = pinned ? '📌 Pinned' : 'Drop';
  $('#product-title').textContent = item?.title ?? drop.title;
  const fulfilment = FULFILMENT[item?.fulfilment];
  $('#product-fulfilment').textContent = fulfilment ? `${fulfilment.icon} ${fulfilment.label}` : '';
  $('#product-price').textContent = money(drop.price_minor, drop.currency);
  $('#product-limit').textContent = `Limit ${drop.per_buyer_limit} per buyer`;
  const quantity = Math.max(1, drop.quantity);
  $('#stock-bar').style.width = `${(100 * drop.remaining) / quantity}%`;
  $('#held-bar').style.width = `${(100 * drop.held) / quantity}%`;
  const stock = $('#stock-text');
  stock.textContent = stockText(drop);
  stock.dataset.remaining = String(drop.remaining);
  stock.classList.toggle('low', drop.remaining > 0 && drop.remaining <= Math.max(3, quantity / 10));
  fill($('#buy-area'), buyArea(drop));
}

function buyArea(drop) {
  const purchase = state.purchase?.dropId === drop.id ? state.purchase : null;
  const price = money(drop.price_minor, drop.currency);
  const error = purchase?.error
    ? el('p', { class: `notice ${purchase.error.undecided ? 'warn' : 'error'}`, id: 'buy-error', dataset: { code: purchase.error.code } },
        purchase.error.text,
        purchase.error.undecided ? ' Tap again to retry the same purchase: you will not be charged twice.' : '')
    : null;

  // Holding units: pay, or pay again after a decline, until the hold expires.
  if (purchase?.claim && !purchase.order) {
    const left = holdLeft();
    if (left > 0) {
      const expires = Date.parse(purchase.claim.expires_at);
      return el(
        'div',
        { class: 'hold', id: 'hold' },
        el('div', { class: 'hold-head' },
          el('span', {}, `${purchase.claim.quantity} held for you`),
          el('span', { class: 'countdown', id: 'hold-countdown', dataset: { until: String(expires) } }, clock(left)),
        ),
        el('p', { class: 'muted small' }, 'Pay before the timer ends or the unit goes back on sale.'),
        error,
        paymentPicker(),
        el('button', {
          class: 'primary buy', id: 'pay', type: 'button', disabled: purchase.paying,
          onclick: (event) => busy(event.currentTarget, pay),
        }, purchase.paying ? 'Paying…' : purchase.error ? `Try again · ${price}` : `Pay ${price}`),
      );
    }
    return el('div', { class: 'stack' },
      el('p', { class: 'notice warn', id: 'hold-expired' }, 'Your hold expired and the unit went back on sale.'),
      drop.state === 'open' ? buyButton(drop, `Buy again · ${price}`) : null);
  }

  if (drop.state === 'scheduled') {
    const opens = Date.parse(drop.opens_at);
    const left = opens - serverNow();
    return el('div', { class: 'opens' },
      el('p', { class: 'muted small' }, 'Drop opens in'),
      el('p', { class: 'countdown huge', id: 'opens-countdown', dataset: { until: String(opens) } }, left > 0 ? clock(left) : 'any second…'),
      el('button', { class: 'primary buy', type: 'button', disabled: true }, `Buy · ${price}`));
  }
  if (drop.state === 'sold_out') {
    return el('div', { class: 'stack' },
      el('button', { class: 'buy soldout', type: 'button', disabled: true, id: 'sold-out' }, 'Sold out'),
      drop.held > 0 ? el('p', { class: 'muted small center' }, `${drop.held} in other buyers’ carts may come back if their holds expire.`) : null,
      purchase?.order ? null : error);
  }
  if (drop.state === 'closed') {
    return el('button', { class: 'buy soldout', type: 'button', disabled: true }, 'This drop has closed');
  }
  return el('div', { class: 'stack' },
    error,
    paymentPicker(),
    buyButton(drop, purchase?.order ? `Buy another · ${price}` : `Buy now · ${price}`));
}

function buyButton(drop, label) {
  return el('button', { class: 'primary buy', id: 'buy', type: 'button', onclick: (event) => busy(event.currentTarget, () => buy(drop)) }, label);
}

function renderReceipt() {
  const order = state.purchase?.order ?? state.purchase?.lastOrder;
  const card = $('#receipt');
  card.hidden = !order;
  // An order never changes: build its card (and its download link) once.
  if (!order || card.dataset.orderId === order.order_id) return;
  card.dataset.orderId = order.order_id;
  if (card.dataset.download) URL.revokeObjectURL(card.dataset.download);
  const entries = order.receipt?.entries ?? [];
  const json = JSON.stringify(order, null, 2);
  card.dataset.download = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  const download = el('a', { class: 'ghost button', download: `order-${order.order_id}.json`, href: card.dataset.download }, 'Download order.json');
  fill(
    card,
    el('div', { class: 'receipt-head' }, el('span', { class: 'tick', 'aria-hidden': 'true' }, '✓'), el('div', {}, el('h2', {}, 'Order confirmed'), el('p', { class: 'muted small', id: 'order-id' }, order.order_id))),
    el('ul', { class: 'lines' }, order.lines.map((line) => el('li', {}, el('span', {}, `${line.quantity} × ${line.title}`), el('span', {}, money(line.unit_price_minor * line.quantity, order.currency))))),
    el('p', { class: 'total' }, el('span', {}, 'Total paid'), el('strong', { id: 'order-total' }, money(order.total_minor, order.currency))),
    el('div', { class: 'proof' },
      el('h3', {}, '🔏 Verifiable receipt'),
      order.receipt
        ? [
            el('p', { class: 'small' }, `Signed by key ${order.receipt.key_id}. Your sale is leaf ${entries.map((e) => e.leaf_index).join(', ')} of the drop’s public log of ${entries.map((e) => e.checkpoint.tree_size).join(', ')} entries.`),
            el('p', { class: 'small muted' }, 'Anyone can check it offline: save the order and run ', el('code', {}, `livedrop verify order-${order.order_id}.json`), '.'),
            el('p', { class: 'small mono' }, `head ${entries[0]?.checkpoint.root_hash.slice(0, 16) ?? ''}… · ${entries[0]?.checkpoint.timestamp ?? ''}`),
          ]
        : el('p', { class: 'small muted' }, 'The receipt is being prepared; it comes with the order when you read it again.'),
      download,
    ),
  );
}

function renderPolls() {
  const card = $('#polls');
  const polls = state.live?.polls ?? [];
  card.hidden = polls.length === 0;
  if (card.hidden) return;
  $('#polls h2').textContent = polls.length > 1 ? 'Polls' : 'Poll';
  const voted = state.voted.get() ?? {};
  fill(
    $('#poll-list'),
    polls.map((poll) => {
      const key = `${poll.episode_id}/${poll.slot}`;
      const mine = voted[key];
      const open = poll.open;
      const total = poll.tallies.reduce((a, b) => a + b, 0);
      const showResults = mine !== undefined || !open;
      return el(
        'div',
        { class: 'poll', dataset: { slot: String(poll.slot) } },
        el('p', { class: 'question' }, poll.question, open ? null : el('span', { class: 'badge muted-badge' }, 'closed')),
        el('div', { class: 'options' },
          poll.options.map((option, index) => {
            const count = poll.tallies[index];
            const share = total ? Math.round((100 * count) / total) : 0;
            return el(
              'button',
              {
                class: `option ${mine === index ? 'mine' : ''} ${showResults ? 'results' : ''}`,
                type: 'button',
                disabled: showResults,
                style: `--share:${share}%`,
                onclick: (event) => busy(event.currentTarget, () => vote(poll, index), (error) => toast(describe(error), 'error')),
              },
              el('span', { class: 'label' }, option),
              showResults ? el('span', { class: 'share' }, `${share}%`) : null,
            );
          }),
        ),
        el('p', { class: 'muted small' }, `${total} vote${total === 1 ? '' : 's'}`, showResults ? '' : ' · tap an answer to vote'),
      );
    }),
  );
}

async function vote(poll, option) {
  await ensureJoined();
  const key = `${poll.episode_id}/${poll.slot}`;
  const remember = () => {
    const voted = state.voted.get() ?? {};
    voted[key] = option;
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

function renderQuestions() {
  const card = $('#qa');
  const hasQa = !!state.live && (state.room.slots.some((slot) => slot.kind === 'qa') || state.live.questions.length > 0);
  card.hidden = !hasQa;
  if (card.hidden) return;
  const upvoted = state.upvoted.get() ?? {};
  const questions = state.live.questions;
  fill(
    $('#questions'),
    questions.length === 0 ? el('li', { class: 'empty muted' }, 'No questions yet — ask the first one.') : null,
    questions.map((question) => {
      const key = `${state.live.episode.id}/${question.number}`;
      const open = question.status === 'open';
      return el(
        'li',
        { class: `question-item ${question.status}` },
        el('button', {
          class: `upvote ${upvoted[key] ? 'mine' : ''}`, type: 'button', disabled: !open || upvoted[key] || question.asked_by === state.me.id,
          title: 'Upvote', onclick: (event) => busy(event.currentTarget, () => upvote(question), (error) => toast(describe(error), 'error')),
        }, el('span', {}, '▲'), el('span', {}, String(question.upvotes))),
        el('div', { class: 'text' },
          el('p', {}, question.text),
          el('p', { class: 'muted small' }, question.asked_by === state.me.id ? 'You' : shortId(question.asked_by),
            open ? '' : ` · ${question.status}`)),
      );
    }),
  );
}

async function upvote(question) {
  await ensureJoined();
  const episodeId = state.live.episode.id;
  const key = `${episodeId}/${question.number}`;
  try {
    await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/questions/${question.number}/upvote`);
  } catch (error) {
    if (error.status !== 409) throw error;
  }
  const upvoted = state.upvoted.get() ?? {};
  upvoted[key] = true;
  state.upvoted.set(upvoted);
  render();
}

function render() {
  if (!state.me) return;
  setStatus();
  if (state.room) {
    $('#room-title').textContent = state.room.title;
    document.title = `${state.room.title} · livedrop`;
  }
  if (!state.live) $('#episode-title').textContent = '';
  renderOffline();
  renderStage();
  renderDemo();
  renderProduct();
  renderReceipt();
  renderReplays();
  renderPolls();
  renderQuestions();
}

// Countdowns tick between messages; one that reaches zero re-renders its section once.
function tick() {
  const now = serverNow();
  let due = false;
  document.querySelectorAll('[data-until]').forEach((node) => {
    const left = Number(node.dataset.until) - now;
    if (node.classList.contains('progress')) {
      node.style.width = `${Math.max(0, Math.min(100, (100 * left) / Number(node.dataset.total)))}%`;
    } else {
      node.textContent = left > 0 ? clock(left) : node.id === 'opens-countdown' ? 'any second…' : '0:00';
      node.classList.toggle('urgent', left > 0 && left <= 30_000);
    }
    if (left <= 0 && !node.dataset.done) {
      node.dataset.done = '1';
      due = true;
    }
  });
  if (due) render();
}

// ——— start ——————————————————————————————————————————————————————————————————————————————

function wire() {
  $('#listen').addEventListener('click', (event) =>
    busy(event.currentTarget, async () => {
      if (state.listening) {
        stopListening();
        render();
      } else {
        await startListening();
      }
    }, (error) => {
      state.listenState = null;
      toast(describe(error), 'error');
      render();
    }));
  $('#raise-hand').addEventListener('click', (event) =>
    busy(event.currentTarget, async () => {
      const episodeId = await ensureJoined();
      state.live.stage = await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/raise-hand`);
      toast('Hand raised — the host can invite you to speak.', 'ok');
      render();
    }, (error) => toast(describe(error), 'error')));
  $('#ask').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#ask-text');
    const button = event.currentTarget.querySelector('button');
    busy(button, async () => {
      const episodeId = await ensureJoined();
      await api.post(`/v1/episodes/${encodeURIComponent(episodeId)}/questions`, { text: input.value.trim() });
      input.value = '';
      toast('Question sent', 'ok');
    }, (error) => toast(describe(error), 'error'));
  });
}

async function start() {
  if (!roomId) return;
  wire();
  try {
    const room = await request(`/v1/rooms/${encodeURIComponent(roomId)}`);
    state.room = room;
    state.drops = new Map(room.drops.map((drop) => [drop.id, drop]));
  } catch (error) {
    const main = $('#main');
    fill(main, el('section', { class: 'card center' }, el('h2', {}, error.status === 404 ? 'No such room' : 'The room could not be loaded'), el('p', { class: 'muted' }, describe(error)), el('a', { class: 'button ghost', href: '/' }, 'Back to livedrop')));
    $('#status').textContent = 'Offline';
    $('#status').className = 'pill offline';
    return;
  }
  try {
    state.me = await account();
  } catch (error) {
    toast(`Could not sign you in: ${describe(error)}`, 'error', 10_000);
    return;
  }
  api = client(() => state.me.token);
  purchaseStore = store(`livedrop.purchase.${roomId}.${state.me.id}`);
  state.purchase = purchaseStore.get();
  if (state.purchase) state.purchase.paying = false; // a reload in the middle of paying: the key is kept
  $('#whoami').textContent = `You are ${state.me.handle} on this device.`;
  render();
  feed = connectLive(roomId, {
    onMessage,
    onStatus: (status) => {
      state.feed = status;
      render();
    },
  });
  setInterval(tick, 250);
  window.livedropRoom = state; // for the browser test and for debugging
}

start();
