// @ts-check
// Buying: claim a unit of a drop (a hold), then pay for the cart, with the test provider's cards.
// A purchase decision keeps its Idempotency-Keys until the server decided: a retry after a lost
// connection or a 5xx sends the same key (and body), so it can never buy twice; a new tap after a
// decided answer (a decline, sold out, an expired hold) is a new decision with a new key. The
// purchase is kept in localStorage, so a reload in the middle keeps its keys too.

import { ApiError, describe, newIdempotencyKey } from '../api.js';
import { msUntil } from '../countdown.js';
import { money, store, toast } from '../ui.js';
import { api, render, roomId, state } from '../room/state.js';

/**
 * @typedef {{ hold_id: string, cart_id: string, drop_id: string, quantity: number, expires_at: string }} Claim
 * @typedef {{
 *   order_id: string, status: 'paid', total_minor: number, currency: string, cart_id: string,
 *   lines: { drop_id: string, title: string, quantity: number, unit_price_minor: number }[],
 *   receipt: { key_id: string, entries: { leaf_index: number, checkpoint: { tree_size: number, root_hash: string, timestamp: string } }[] } | null,
 * }} Order
 * @typedef {{
 *   method: string, dropId?: string, claimKey?: string | null, claim?: Claim | null,
 *   checkoutKey?: string | null, checkoutMethod?: string, paying?: boolean,
 *   error?: { code: string, text: string, undecided: boolean } | null,
 *   order?: Order | null, lastOrder?: Order | null,
 * }} Purchase
 */

export const PAYMENT_METHODS = [
  ['pm_card_visa', 'Visa •••• 4242'],
  ['pm_card_mastercard', 'Mastercard •••• 4444'],
  ['pm_card_amex', 'Amex •••• 8431'],
  ['pm_card_discover', 'Discover •••• 1117'],
  ['pm_card_chargeDeclined', 'Test card: declined'],
  ['pm_card_chargeDeclinedInsufficientFunds', 'Test card: insufficient funds'],
  ['pm_card_chargeDeclinedExpiredCard', 'Test card: expired'],
];
const DEFAULT_METHOD = 'pm_card_visa';

/** @type {ReturnType<typeof store>} */
let purchaseStore;

/** Takes up the buyer's purchase in this room where the last visit left it. */
export function restorePurchase() {
  purchaseStore = store(`livedrop.purchase.${roomId}.${state.me.id}`);
  state.purchase = purchaseStore.get();
  if (state.purchase) state.purchase.paying = false; // a reload in the middle of paying: the key is kept
}

function savePurchase() {
  purchaseStore.set(state.purchase);
}

/** How long the buyer's hold has left, in ms on the server's clock (NaN without one). */
export function holdLeft() {
  return msUntil(state.purchase?.claim?.expires_at);
}

/** Holding units of a drop and not yet paid for them. */
export function holding() {
  return !!state.purchase?.claim && !state.purchase.order;
}

export function paymentMethod() {
  return state.purchase?.method ?? DEFAULT_METHOD;
}

/** @param {string} method */
export function choosePaymentMethod(method) {
  if (state.purchase) state.purchase.method = method;
  else state.purchase = { method };
  savePurchase();
}

/**
 * What the purchase shows of a failed call: a decided one (a decline, sold out) gives up its key.
 * @param {unknown} error
 */
function failure(error) {
  const undecided = error instanceof ApiError && error.undecided;
  return { code: error instanceof ApiError ? error.code : undefined, text: describe(error), undecided };
}

/**
 * Holds a unit of the drop, then pays for it.
 * @param {import('../feed.js').Drop} drop
 */
export async function buy(drop) {
  const previous = state.purchase;
  const same = previous && previous.dropId === drop.id && !previous.order;
  state.purchase = {
    dropId: drop.id,
    method: previous?.method ?? DEFAULT_METHOD,
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
    state.purchase.error = failure(error);
    if (!state.purchase.error.undecided) state.purchase.claimKey = null;
    savePurchase();
    render();
    return;
  }
  savePurchase();
  await pay();
}

/** Pays for the held units with the chosen card. */
export async function pay() {
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
    /** @type {Order} */
    const order = await api.post(
      `/v1/carts/${encodeURIComponent(purchase.claim.cart_id)}/checkout`,
      { payment_method: purchase.checkoutMethod },
      { idempotencyKey: purchase.checkoutKey },
    );
    purchase.order = order;
    purchase.checkoutKey = null;
    toast(`Paid ${money(order.total_minor, order.currency)} — thank you!`, 'ok');
  } catch (error) {
    purchase.error = failure(error);
    if (!purchase.error.undecided) purchase.checkoutKey = null;
  } finally {
    purchase.paying = false;
    savePurchase();
    render();
  }
}
