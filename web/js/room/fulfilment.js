// @ts-check
// The buyer's order status, beside the receipt: each shipped or picked-up line's state in words,
// the promise its ETA makes, and for a pickup the six-digit code large with its QR code for the
// venue to scan. The order is read again every 5 s while a line is still under way, so what the
// venue does shows here by itself. The QR code is an SVG the API serves to the buyer alone: it
// needs the bearer token, so it is fetched and shown from a blob URL (a plain <img src> could not
// carry the token).

import { describe } from '../api.js';
import { STATE_WORDS, isDone, promise } from '../fulfilment.js';
import { $, el, fill } from '../ui.js';
import { api, state } from '../room/state.js';

/** @typedef {import('../fulfilment.js').FulfilmentOrder} FulfilmentOrder */

const POLL_MS = 5_000;
/** After a failed read, wait longer: the server may be busy or the network gone. */
const POLL_AFTER_ERROR_MS = 15_000;

/** The steps each method goes through, for the progress line. */
const STEPS = {
  pickup: ['open', 'accepted', 'ready_for_pickup', 'picked_up'],
  ship: ['open', 'accepted', 'in_transit', 'delivered'],
};

const view = {
  /** @type {string | null} the order followed */
  orderId: null,
  /** @type {FulfilmentOrder[] | null} null until read */
  lines: null,
  /** @type {Map<string, string>} hold id → the line's title */
  titles: new Map(),
  /** @type {string | null} the last read's failure */
  error: null,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
  /** @type {Map<string, string>} fulfilment id → its QR code's blob URL, 'loading' or 'failed' */
  qr: new Map(),
  /** What is drawn, to draw again only when it changed. */
  drawn: '',
};

/** Follows the buyer's last order (the receipt's) and shows its status. */
export function renderOrderStatus() {
  const order = state.purchase?.order ?? state.purchase?.lastOrder ?? null;
  const orderId = order?.order_id ?? null;
  if (orderId !== view.orderId) {
    for (const url of view.qr.values()) if (url.startsWith('blob:')) URL.revokeObjectURL(url);
    Object.assign(view, { orderId, lines: null, error: null, qr: new Map(), drawn: '' });
    view.titles = new Map((order?.lines ?? []).map((/** @type {any} */ line) => [line.hold_id, line.title]));
    schedule(0);
  }
  draw();
}

/** @param {number} ms */
function schedule(ms) {
  clearTimeout(view.timer);
  if (view.orderId) view.timer = setTimeout(poll, ms);
}

async function poll() {
  const orderId = view.orderId;
  if (!orderId) return;
  if (document.hidden && view.lines) {
    schedule(POLL_MS);
    return;
  }
  try {
    const order = await api.get(`/v1/orders/${encodeURIComponent(orderId)}`);
    if (orderId !== view.orderId) return; // another order was bought meanwhile
    view.lines = order.fulfilment ?? [];
    for (const line of order.lines ?? []) view.titles.set(line.hold_id, line.title);
    view.error = null;
  } catch (error) {
    if (orderId !== view.orderId) return;
    view.error = describe(error);
    draw();
    schedule(POLL_AFTER_ERROR_MS);
    return;
  }
  draw();
  // Nothing more happens to a line once it is done (a return is rare and told by other means).
  if (view.lines.some((line) => !isDone(line))) schedule(POLL_MS);
}

/** @param {FulfilmentOrder} line */
function loadQr(line) {
  view.qr.set(line.id, 'loading');
  const orderId = view.orderId;
  api.raw(`/v1/fulfilment-orders/${encodeURIComponent(line.id)}/pickup-code.svg`, { response: true, accept: 'image/svg+xml' })
    .then((/** @type {Response} */ response) => response.blob())
    .then((blob) => {
      if (orderId !== view.orderId) return;
      view.qr.set(line.id, URL.createObjectURL(blob));
      draw();
    })
    .catch(() => {
      if (orderId !== view.orderId) return;
      view.qr.set(line.id, 'failed'); // the code itself is still shown, large
      draw();
    });
}

/** @param {FulfilmentOrder} line */
function steps(line) {
  const path = STEPS[line.method] ?? [];
  const reached = path.indexOf(line.state);
  if (reached < 0) return null; // cancelled or returned: the state says it
  return el('ol', { class: 'steps', 'aria-hidden': 'true' },
    path.map((step, index) => el('li', { class: index <= reached ? 'done' : '' }, STATE_WORDS[/** @type {keyof STATE_WORDS} */ (step)])));
}

/** @param {FulfilmentOrder} line */
function pickup(line) {
  if (line.method !== 'pickup' || !line.pickup_code || isDone(line)) return null;
  const code = line.pickup_code;
  const qr = view.qr.get(line.id);
  return el('div', { class: 'pickup' },
    el('p', { class: 'small muted' }, 'Show this at the counter to collect your order:'),
    el('p', { class: 'pickup-code', dataset: { code }, 'aria-label': `Pickup code ${code.split('').join(' ')}` }, `${code.slice(0, 3)} ${code.slice(3)}`),
    qr?.startsWith('blob:') ? el('img', { class: 'qr', src: qr, alt: `QR code of your pickup code ${code}`, width: 200, height: 200 }) : null,
    qr === 'failed' ? el('p', { class: 'small muted' }, 'The QR code could not be loaded; the venue can type the code.') : null);
}

/** @param {FulfilmentOrder} line */
function lineItem(line) {
  const said = promise(line);
  return el('li', { class: 'fulfilment-line', dataset: { fulfilmentId: line.id, state: line.state, method: line.method } },
    el('div', { class: 'status-head' },
      el('strong', { class: 'grow' }, `${line.quantity} × ${view.titles.get(line.hold_id) ?? 'Your item'}`),
      el('span', { class: `pill small ${line.state}` }, STATE_WORDS[line.state])),
    said ? el('p', { class: 'promise' }, said) : null,
    steps(line),
    pickup(line));
}

function draw() {
  const card = $('#order-status');
  const lines = view.lines ?? [];
  for (const line of lines) {
    if (line.method === 'pickup' && line.pickup_code && !isDone(line) && !view.qr.has(line.id)) loadQr(line);
  }
  // Redrawn on every room update: only build it again when something it shows changed (the
  // promise's words change with the day too).
  const drawn = JSON.stringify([lines, view.error, [...view.qr], new Date().toDateString()]);
  if (drawn === view.drawn) return;
  view.drawn = drawn;
  card.hidden = lines.length === 0;
  if (card.hidden) return;
  fill(card,
    el('h2', { id: 'order-status-heading' }, lines.every(isDone) ? 'Your order' : 'Your order’s way to you'),
    el('ul', { class: 'fulfilment-status', 'aria-live': 'polite' }, lines.map(lineItem)),
    view.error ? el('p', { class: 'small muted refresh-error' }, `Could not check for news: ${view.error} Trying again shortly.`) : null);
}
