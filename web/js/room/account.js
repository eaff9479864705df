// @ts-check
// The buyer account of this browser: made on the first visit with a random handle, its token kept in
// localStorage, so a buyer needs no sign-up to buy, vote or ask.

import { request } from '../api.js';
import { store } from '../ui.js';

/** @typedef {import('../room/state.js').Buyer} Buyer */

const buyerStore = store('livedrop.buyer');
const HANDLE_TRIES = 5;

function randomHandle() {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return `buyer_${Array.from(bytes, (b) => letters[b % letters.length]).join('')}`;
}

/**
 * The saved account (checked with the server), or a new one.
 * @returns {Promise<Buyer>}
 */
export async function account() {
  const saved = buyerStore.get();
  if (saved?.token) {
    try {
      const me = await request('/v1/accounts/me', { token: saved.token });
      return { ...saved, id: me.id, handle: me.handle };
    } catch (error) {
      if (error.status !== 401) return saved; // offline or busy: keep using it
    }
  }
  for (let attempt = 0; attempt < HANDLE_TRIES; attempt++) {
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
