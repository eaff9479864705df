// @ts-check
// The partner console's Fulfilment and SLA cards: the orders the partner fulfils (those still to
// do first, newest first within each), each with the moves its state allows (accept, ready for
// pickup, in transit, delivered, cancel, returned), an ETA to promise, and for a pickup at its
// counter the buyer's six-digit code that hands the goods over; and how it did
// (/v1/fulfilment-stats). Items are rebuilt only when their
// order changed, so a refresh never wipes an ETA or a code being typed, nor an error being read.

import { ApiError, describe } from '../api.js';
import { STATE_WORDS, isDone, localToRfc3339, moment, promise, rfc3339ToLocal } from '../fulfilment.js';
import { product } from '../products.js';
import { $, FULFILMENT, busy, el, fill, shortId, toast } from '../ui.js';

/**
 * @typedef {import('../fulfilment.js').FulfilmentOrder} FulfilmentOrder
 * @typedef {{ count: number, p50: number, p90: number, max: number }} Spread
 * @typedef {{
 *   orders: number, completed: number, cancelled: number, acceptance_ms: Spread | null,
 *   ready_or_dispatch_ms: Spread | null, promised: number, on_time_rate: number | null, eta_error_ms: Spread | null,
 * }} Figures
 * @typedef {{ get: (path: string) => Promise<any>, post: (path: string, body?: unknown) => Promise<any> }} Api
 */

/** Orders listed at most: those still to do first, then the newest done. */
const SHOWN_MAX = 50;
const CODE = /^\d{6}$/;

/** The moves a fulfiller may make from each state: [state, label, class, asks first?]. */
const MOVES = {
  open: [['accepted', 'Accept', 'primary accept'], ['cancelled', 'Cancel', 'danger cancel', true]],
  accepted: [['ready_for_pickup', 'Ready for pickup', 'primary ready'], ['in_transit', 'In transit', 'primary in-transit'], ['cancelled', 'Cancel', 'danger cancel', true]],
  ready_for_pickup: [['cancelled', 'Cancel', 'danger cancel', true]],
  in_transit: [['delivered', 'Delivered', 'primary delivered']],
  picked_up: [['returned', 'Returned', 'ghost returned', true]],
  delivered: [['returned', 'Returned', 'ghost returned', true]],
  cancelled: [],
  returned: [],
};
/** Moves only one method takes. */
const ONLY = { ready_for_pickup: 'pickup', in_transit: 'ship' };
/** States whose ETA may still be promised. */
const ETA_STATES = ['accepted', 'ready_for_pickup', 'in_transit'];

/**
 * A duration as a person says it: "35 s", "4 min", "1 h 20 min", "2 d 3 h".
 * @param {number} ms
 */
function span(ms) {
  const seconds = Math.round(Math.abs(ms) / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * What an action's refusal says, in the page's words where it has better ones.
 * @param {unknown} error
 */
function refusal(error) {
  if (!(error instanceof ApiError)) return describe(error);
  if (error.code === 'wrong_pickup_code') return `Wrong code: ${error.message}.`;
  if (error.code === 'pickup_code_locked') {
    const seconds = Number(error.message.match(/(\d+) s\b/)?.[1]);
    const until = Number.isFinite(seconds) ? ` Try again in ${span(seconds * 1_000)} (at ${moment(new Date(Date.now() + seconds * 1_000).toISOString())}).` : '';
    return `Locked: too many wrong codes.${until}`;
  }
  if (error.code === 'illegal_transition') return `Not possible now: ${error.message}. The list was read again.`;
  if (error.code === 'order_in_review') return 'The order waits for a fraud review: it can only be cancelled for now.';
  return describe(error);
}

/**
 * The cards, bound to the partner's API and account.
 * @param {Api} api
 * @param {() => string | undefined} myId
 */
export function fulfilmentConsole(api, myId) {
  /** @type {FulfilmentOrder[]} */
  let orders = [];
  /** @type {Figures | null} */
  let figures = null;
  /** @type {Map<string, { signature: string, node: HTMLElement }>} */
  const items = new Map();

  /** Reads the orders and the figures; a failure is shown on the card, what was read stays. */
  async function refresh() {
    const error = $('#fulfilment-error');
    try {
      const [list, stats] = await Promise.all([api.get('/v1/fulfilment-orders'), api.get('/v1/fulfilment-stats')]);
      // The list holds what the caller fulfils and what it sold; a partner sells nothing, but a
      // partner account that also sold would see others' orders it cannot move.
      const me = myId();
      orders = list.fulfilment_orders.filter((/** @type {FulfilmentOrder} */ o) => (o.partner_id ?? o.creator_id) === me);
      figures = stats.as_fulfiller;
      error.hidden = true;
    } catch (problem) {
      error.hidden = false;
      error.textContent = `Could not read your fulfilment orders: ${describe(problem)}${orders.length ? ' What is shown is from the last read.' : ''}`;
      return;
    }
    render();
  }

  /**
   * Sends one change, then reads everything again; the refusal is shown in `where`.
   * @param {FulfilmentOrder} order
   * @param {{ state?: string, eta?: string, pickup_code?: string }} change
   * @param {HTMLElement} where
   */
  async function send(order, change, where) {
    where.hidden = true;
    try {
      await api.post(`/v1/fulfilment-orders/${encodeURIComponent(order.id)}/changes`, change);
    } catch (error) {
      where.textContent = refusal(error);
      where.hidden = false;
      if (error instanceof ApiError && error.code === 'illegal_transition') await refresh();
      return;
    }
    toast(change.state ? `${titleOf(order)}: ${change.state.replaceAll('_', ' ')}` : 'ETA promised: the buyer sees it', 'ok');
    await refresh();
  }

  /** @param {FulfilmentOrder} order */
  function titleOf(order) {
    return product(order.product_id)?.title ?? `Product ${shortId(order.product_id)}`;
  }

  /** @param {FulfilmentOrder} order */
  function item(order) {
    const method = FULFILMENT[order.method];
    const error = el('p', { class: 'notice error small item-error', role: 'alert', hidden: true });
    const etaInput = ETA_STATES.includes(order.state)
      ? el('input', { class: 'eta', type: 'datetime-local', value: rfc3339ToLocal(order.eta), 'aria-label': `${order.method === 'pickup' ? 'Ready' : 'Arrives'} by, for ${titleOf(order)}` })
      : null;
    /** The ETA typed, as RFC 3339; undefined when empty, null when it is no time or is past. */
    const typedEta = () => {
      const value = /** @type {HTMLInputElement | null} */ (etaInput)?.value ?? '';
      if (!value) return undefined;
      const eta = localToRfc3339(value);
      if (!eta || Date.parse(eta) <= Date.now()) {
        error.textContent = 'The ETA must be a time in the future.';
        error.hidden = false;
        return null;
      }
      return value === rfc3339ToLocal(order.eta) ? undefined : eta;
    };

    const moves = (MOVES[order.state] ?? [])
      .filter(([to]) => !ONLY[to] || ONLY[to] === order.method)
      .map(([to, label, kind, ask]) =>
        el('button', {
          class: `small ${kind}`, type: 'button', dataset: { to },
          'aria-label': `${label}: ${titleOf(order)}, order ${order.order_id}`,
          onclick: (/** @type {Event} */ event) => busy(event.currentTarget, async () => {
            if (ask && !confirm(`${label} this order (${order.quantity} × ${titleOf(order)})? The buyer is told at once.`)) return;
            const eta = to === 'cancelled' || to === 'returned' || to === 'delivered' ? undefined : typedEta();
            if (eta === null) return;
            await send(order, eta ? { state: to, eta } : { state: to }, error);
          }),
        }, label));

    const etaForm = etaInput
      ? el('form', {
          class: 'row eta-form', autocomplete: 'off',
          onsubmit: (/** @type {SubmitEvent} */ event) => {
            event.preventDefault();
            busy(/** @type {HTMLButtonElement} */ (event.submitter), async () => {
              const eta = typedEta();
              if (eta === null) return;
              if (eta === undefined) {
                error.textContent = 'Pick a new time first.';
                error.hidden = false;
                return;
              }
              await send(order, { eta }, error);
            });
          },
        },
        el('label', { class: 'field grow' }, el('span', {}, order.method === 'pickup' ? 'Ready for pickup from' : 'Arrives by'), etaInput),
        el('button', { class: 'ghost small set-eta', type: 'submit' }, 'Set ETA'))
      : null;

    const codeError = el('p', { class: 'notice error small pickup-error', role: 'alert', hidden: true });
    const codeId = `pickup-code-${order.id}`;
    const codeInput = el('input', {
      id: codeId, class: 'pickup-code', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: '6', autocomplete: 'one-time-code',
      placeholder: '••••••', required: true, 'aria-label': `The buyer’s pickup code for ${titleOf(order)}`,
    });
    const codeForm = order.method === 'pickup' && order.state === 'ready_for_pickup'
      ? el('form', {
          class: 'pickup-form', autocomplete: 'off', novalidate: true,
          onsubmit: (/** @type {SubmitEvent} */ event) => {
            event.preventDefault();
            const code = /** @type {HTMLInputElement} */ (codeInput).value.replace(/\s/g, '');
            if (!CODE.test(code)) {
              codeError.textContent = 'Enter the six digits the buyer shows you.';
              codeError.hidden = false;
              return;
            }
            busy(/** @type {HTMLButtonElement} */ (event.submitter), () => send(order, { state: 'picked_up', pickup_code: code }, codeError));
          },
        },
        el('div', { class: 'field' }, el('label', { for: codeId }, 'Buyer’s pickup code'),
          el('div', { class: 'row' }, codeInput, el('button', { class: 'primary small hand-over', type: 'submit' }, 'Hand over'))),
        codeError)
      : null;

    const accepted = order.changes.find((change) => change.state === 'accepted');
    const buyerSees = promise(order);
    return el('li', { class: 'fulfilment', dataset: { fulfilmentId: order.id, state: order.state, method: order.method } },
      el('div', { class: 'fulfilment-head' },
        el('strong', { class: 'grow' }, `${order.quantity} × ${titleOf(order)}`),
        el('span', { class: `pill small ${order.state}` }, order.state.replaceAll('_', ' '))),
      el('p', { class: 'muted small' },
        `${method?.icon ?? ''} ${order.method === 'pickup' ? 'Pickup at your counter' : 'Shipping'} · ordered ${moment(order.created_at)}`,
        accepted ? ` · accepted after ${span(Date.parse(accepted.at) - Date.parse(order.created_at))}` : '',
        ' · order ', el('span', { class: 'mono', title: order.order_id }, shortId(order.order_id))),
      el('p', { class: 'small buyer-sees' }, el('span', { class: 'muted' }, 'Buyer sees: '),
        isDone(order) && buyerSees ? buyerSees : [STATE_WORDS[order.state], buyerSees ? ` · ${buyerSees}` : '']),
      // The hand-over first when it is due; the ETA before the moves that send it along.
      codeForm,
      etaForm,
      moves.length ? el('div', { class: 'actions row wrap' }, moves) : null,
      error);
  }

  function render() {
    const todo = orders.filter((order) => !isDone(order));
    const done = orders.filter(isDone);
    const shown = [...todo, ...done].slice(0, SHOWN_MAX);
    $('#fulfilment-count').textContent = todo.length ? `${todo.length} to do` : '';
    const nodes = shown.map((order) => {
      const signature = JSON.stringify([order, titleOf(order)]);
      const kept = items.get(order.id);
      if (kept?.signature === signature) return kept.node;
      const node = item(order);
      items.set(order.id, { signature, node });
      return node;
    });
    for (const id of items.keys()) if (!shown.some((order) => order.id === id)) items.delete(id);
    const hidden = orders.length - shown.length;
    fill($('#fulfilment-list'), nodes.length
      ? [nodes, hidden > 0 ? el('li', { class: 'muted small' }, `${hidden} older completed orders not shown.`) : null]
      : el('li', { class: 'empty muted' }, 'No order to fulfil yet. When a creator’s drop names you for pickups or shipping, each paid order shows here.'));
    renderStats();
  }

  function renderStats() {
    if (!figures) return;
    const f = figures;
    /** @param {Spread | null} spread @param {'p50' | 'p90'} at */
    const time = (spread, at) => (spread ? span(spread[at]) : '—');
    const error = f.eta_error_ms ? `${span(f.eta_error_ms.p50)} ${f.eta_error_ms.p50 <= 0 ? 'early' : 'late'}` : '—';
    /** @type {[string, string, string, string][]} key, label, value, what it means */
    const shown = [
      ['orders', 'Orders', String(f.orders), 'Fulfilment orders measured'],
      ['completed', 'Completed', String(f.completed), 'Picked up or delivered'],
      ['cancelled', 'Cancelled', String(f.cancelled), 'Called off'],
      ['acceptance_p50', 'Accepted, p50', time(f.acceptance_ms, 'p50'), 'Half the orders were accepted within this'],
      ['acceptance_p90', 'Accepted, p90', time(f.acceptance_ms, 'p90'), '9 in 10 orders were accepted within this'],
      ['ready_p50', 'Ready or sent, p50', time(f.ready_or_dispatch_ms, 'p50'), 'From the order to ready for pickup or in transit, for half the orders'],
      ['on_time', 'On time', f.on_time_rate === null ? '—' : `${Math.round(f.on_time_rate * 100)} %`, `Completed by the last ETA promised, of ${f.promised} with one`],
      ['eta_error', 'ETA error, p50', error, 'Completion against the last ETA promised'],
      ['promised', 'With an ETA', String(f.promised), 'Completed orders that had an ETA promised'],
    ];
    fill($('#sla'), shown.map(([key, label, value, title]) =>
      el('div', { class: `figure${value === '—' || value === '0' ? ' zero' : ''}`, dataset: { figure: key }, title },
        el('dt', {}, label), el('dd', {}, value))));
  }

  return { refresh, render };
}
