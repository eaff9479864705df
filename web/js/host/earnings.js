// @ts-check
// The earnings card: the creator's pending, available, reserved, in-transit, paid-out and owed
// money per currency, the next payout and its date, the payout terms of new sales and who set
// them, each order's earning with why it is (not yet)
// available, and the payouts with their CSV statements. Read from the API every 30 s, and soon
// after the live feed shows a sale; a failed read says so and keeps the last figures.

import { describe } from '../api.js';
import { serverNow } from '../countdown.js';
import { balancesView, earningsView, loadMoney, nextPayoutView, payoutsView, termsView } from '../money.js';
import { $, busy, el, fill } from '../ui.js';
import { fail, state } from '../host/state.js';

const REFRESH_MS = 30_000;
/** A sale is read this long after the feed shows it, so a burst of sales is one read. */
const AFTER_SALE_MS = 400;

const view = {
  /** @type {import('../money.js').Money | null} */
  money: null,
  /** @type {unknown} the last read's error, if it failed */
  error: null,
  /** @type {number | null} */
  loadedAt: null,
  /** what was last rendered, to leave the card (and focus in it) alone when nothing changed */
  shown: '',
};
/** Reads are numbered so a slow, older answer never replaces a newer one. */
let reads = 0;
let soldSeen = -1;
/** @type {ReturnType<typeof setTimeout> | null} */
let saleTimer = null;

/** Reads the creator's money now and renders it. */
export async function refreshEarnings() {
  if (!state.token) return;
  const read = ++reads;
  try {
    const money = await loadMoney(state.token);
    if (read !== reads) return;
    Object.assign(view, { money, error: null, loadedAt: Date.now() });
  } catch (error) {
    if (read !== reads) return;
    view.error = error;
  }
  renderEarnings();
}

/** The card's figures stay put while unchanged; only the time of the last read moves. */
export function renderEarnings() {
  const root = $('#earnings');
  const updated = view.loadedAt ? `Updated ${new Date(view.loadedAt).toLocaleTimeString()}` : '';
  const key = JSON.stringify([view.money, view.error ? describe(view.error) : null, Math.floor(serverNow() / 60_000)]);
  if (key === view.shown && root.childElementCount) {
    const stamp = $('#earnings-updated');
    if (stamp) stamp.textContent = updated;
    return;
  }
  view.shown = key;
  root.setAttribute('aria-busy', String(!view.money && !view.error));
  const money = view.money;
  fill(root,
    view.error
      ? el('p', { class: 'notice error', role: 'alert', id: 'earnings-error' },
          `Could not read your earnings: ${describe(view.error)}`, money ? ' The figures below are from the last read.' : '')
      : null,
    !money && !view.error ? el('p', { class: 'muted' }, 'Reading your earnings…') : null,
    money
      ? [
          el('div', { id: 'balances' }, balancesView(money.balances)),
          nextPayoutView(money.balances, money.earnings, serverNow()),
          termsView(money.profile),
          el('h3', { id: 'earnings-orders-heading' }, 'Per order'),
          el('ul', { class: 'list earnings', id: 'earnings-list', 'aria-labelledby': 'earnings-orders-heading' }, earningsView(money.earnings)),
          el('h3', { id: 'payouts-heading' }, 'Payouts'),
          el('ul', { class: 'list payouts', id: 'payouts-list', 'aria-labelledby': 'payouts-heading' },
            payoutsView(money.payouts, state.token, (button, action) => busy(button, action, fail))),
        ]
      : null,
    el('p', { class: 'row muted small refresh-line' },
      el('span', { id: 'earnings-updated', class: 'grow' }, updated),
      el('button', {
        class: 'ghost small', type: 'button', id: 'refresh-earnings',
        onclick: (/** @type {Event} */ event) => busy(event.currentTarget, refreshEarnings, fail),
      }, 'Refresh')));
}

/** Called on every drop update: when units were sold, the earnings are read again shortly. */
export function noteSales() {
  let sold = 0;
  for (const drop of state.drops.values()) sold += drop.sold;
  if (soldSeen >= 0 && sold !== soldSeen && !saleTimer) {
    saleTimer = setTimeout(() => {
      saleTimer = null;
      refreshEarnings();
    }, AFTER_SALE_MS);
  }
  soldSeen = sold;
}

/** First read, then one every 30 s while the page is visible. */
export function startEarnings() {
  renderEarnings();
  refreshEarnings();
  setInterval(() => {
    if (!document.hidden) refreshEarnings();
  }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refreshEarnings();
  });
}
