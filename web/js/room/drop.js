// @ts-check
// The product card: the drop in the buy slot with its price, live stock and fulfilment, and the buy
// area that follows the purchase (buy, hold countdown and pay, sold out, closed, opening soon).

import { countdown } from '../countdown.js';
import { pinnedDropId } from '../feed.js';
import { servicePromise } from '../fulfilment.js';
import { product } from '../products.js';
import { $, FULFILMENT, busy, el, fill, money } from '../ui.js';
import { PAYMENT_METHODS, buy, choosePaymentMethod, holdLeft, holding, pay, paymentMethod } from '../room/checkout.js';
import { feed, state } from '../room/state.js';

/** @typedef {import('../feed.js').Drop} Drop */

// The drop in the buy slot: the one you hold, else the pinned one, else the room's newest drop
// still on sale or about to open, else its newest.
function shownDrop() {
  const pinnedId = pinnedDropId(state);
  const held = state.purchase?.dropId && state.drops.get(state.purchase.dropId);
  if (held && holding() && holdLeft() > 0) return { drop: held, pinned: held.id === pinnedId };
  if (pinnedId) {
    const pinned = state.drops.get(pinnedId);
    if (!pinned) feed.fetchDrop(pinnedId);
    else return { drop: pinned, pinned: true };
  }
  const drops = [...state.drops.values()];
  const selling = [...drops].reverse().find((drop) => drop.state === 'open' || drop.state === 'scheduled');
  const drop = selling ?? drops.at(-1);
  return drop ? { drop, pinned: false } : null;
}

/** @param {Drop} drop */
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
      { id: 'payment-method', onchange: (/** @type {Event} */ event) => choosePaymentMethod(/** @type {HTMLSelectElement} */ (event.target).value) },
      PAYMENT_METHODS.map(([value, label]) => el('option', { value, selected: value === paymentMethod() }, label)),
    ),
  );
}

/**
 * @param {Drop} drop
 * @param {string} label
 */
function buyButton(drop, label) {
  return el('button', { class: 'primary buy', id: 'buy', type: 'button', onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => buy(drop)) }, label);
}

/** @param {Drop} drop */
function buyArea(drop) {
  const purchase = state.purchase?.dropId === drop.id ? state.purchase : null;
  const price = money(drop.price_minor, drop.currency);
  const error = purchase?.error
    ? el('p', { class: `notice ${purchase.error.undecided ? 'warn' : 'error'}`, id: 'buy-error', dataset: { code: purchase.error.code } },
        purchase.error.text,
        purchase.error.undecided ? ' Tap again to retry the same purchase: you will not be charged twice.' : '')
    : null;

  // Holding units: pay, or pay again after a decline, until the hold expires.
  if (purchase && holding()) {
    if (holdLeft() > 0) {
      return el(
        'div',
        { class: 'hold', id: 'hold' },
        el('div', { class: 'hold-head' },
          el('span', {}, `${purchase.claim.quantity} held for you`),
          countdown(Date.parse(purchase.claim.expires_at), { id: 'hold-countdown' }),
        ),
        el('p', { class: 'muted small' }, drop.state === 'closed'
          ? 'The drop has closed, but what you hold is yours to pay for until the timer ends.'
          : 'Pay before the timer ends or the unit goes back on sale.'),
        error,
        paymentPicker(),
        el('button', {
          class: 'primary buy', id: 'pay', type: 'button', disabled: purchase.paying,
          onclick: (/** @type {Event} */ event) => busy(event.currentTarget, pay),
        }, purchase.paying ? 'Paying…' : purchase.error ? `Try again · ${price}` : `Pay ${price}`),
      );
    }
    return el('div', { class: 'stack' },
      el('p', { class: 'notice warn', id: 'hold-expired' }, 'Your hold expired and the unit went back on sale.'),
      drop.state === 'open' ? buyButton(drop, `Buy again · ${price}`) : null);
  }

  if (drop.state === 'scheduled') {
    return el('div', { class: 'opens' },
      el('p', { class: 'muted small' }, 'Drop opens in'),
      countdown(Date.parse(drop.opens_at), { class: 'huge', id: 'opens-countdown', expired: 'any second…' }),
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

export function renderDrop() {
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
  // A curator's co-branded limited edition says so.
  const edition = $('#product-edition');
  edition.hidden = !item?.edition;
  edition.textContent = item?.edition ? `✦ ${item.edition.label} · a curated edition` : '';
  const fulfilment = FULFILMENT[item?.fulfilment];
  $('#product-fulfilment').textContent = fulfilment ? `${fulfilment.icon} ${fulfilment.label}` : '';
  // The fulfiller's promise to a buyer who buys now, from its service terms.
  const promise = $('#product-promise');
  promise.hidden = !drop.service;
  promise.textContent = drop.service ? servicePromise(drop.service) : '';
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
