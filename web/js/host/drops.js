// @ts-check
// The drops card: every drop of the room with its live counters, revenue and opening countdown;
// pin one in the room's buy slot, unpin it, close it; and the new-drop form.

import { countdown, serverNow } from '../countdown.js';
import { pinnedDropId } from '../feed.js';
import { $, busy, el, fill, money, toast } from '../ui.js';
import { api, episodePath, fail, roomId, state } from '../host/state.js';

/** @typedef {import('../feed.js').Drop} Drop */

/** @param {string} dropId */
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

/** @param {Drop} drop */
async function close(drop) {
  state.drops.set(drop.id, await api.post(`/v1/drops/${encodeURIComponent(drop.id)}/close`));
  renderDrops();
}

/** @param {Drop} drop */
function dropCard(drop) {
  const pinned = pinnedDropId(state) === drop.id;
  const quantity = Math.max(1, drop.quantity);
  const revenue = money(drop.sold * drop.price_minor, drop.currency);
  /** @param {() => Promise<void>} action */
  const act = (action) => (/** @type {Event} */ event) => busy(event.currentTarget, action, fail);
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
      drop.state === 'scheduled' ? [' · opens in ', countdown(Date.parse(drop.opens_at))] : ''),
    el('div', { class: 'row wrap' },
      state.live && drop.state !== 'closed'
        ? pinned
          ? el('button', { class: 'ghost small', type: 'button', onclick: act(unpin) }, 'Unpin')
          : el('button', { class: 'primary small pin', type: 'button', onclick: act(() => pin(drop.id)) }, '📌 Pin in room')
        : null,
      drop.state !== 'closed' ? el('button', { class: 'ghost small', type: 'button', onclick: act(() => close(drop)) }, 'Close drop') : null),
  );
}

export function renderDrops() {
  const drops = [...state.drops.values()].reverse();
  fill($('#drops'), drops.length ? drops.map(dropCard) : el('p', { class: 'muted', id: 'no-drops' }, 'No drops yet. Create one below: buyers see it the moment it is pinned.'));
  $('#new-drop-panel').open ||= drops.length === 0;
}

export async function createDrop() {
  const productId = $('#drop-product').value;
  if (!productId) throw new Error('create a product first');
  const opensIn = Number($('#drop-opens').value || 0);
  const body = {
    product_id: productId,
    quantity: Number($('#drop-quantity').value),
    per_buyer_limit: Number($('#drop-limit').value),
    hold_seconds: Number($('#drop-hold').value),
    opens_at: opensIn > 0 ? new Date(serverNow() + opensIn * 1_000).toISOString() : undefined, // JSON leaves it out
  };
  const drop = await api.post(`/v1/rooms/${encodeURIComponent(roomId)}/drops`, body);
  state.drops.set(drop.id, drop);
  $('#new-drop-panel').open = false;
  renderDrops();
  toast(`Drop created: ${drop.quantity} × ${drop.title}`, 'ok');
  if ($('#drop-pin').checked && state.live) await pin(drop.id).catch(fail);
}
