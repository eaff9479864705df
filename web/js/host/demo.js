// @ts-check
// The demo card: while live, run a 60 or 90 second demo countdown of a product for the room, and
// stop it early.

import { countdown } from '../countdown.js';
import { runningDemo } from '../feed.js';
import { product } from '../products.js';
import { $, busy, el, fill } from '../ui.js';
import { renderProducts } from '../host/products.js';
import { api, episodePath, fail, state } from '../host/state.js';

const DEMO_SECONDS = [60, 90];

/**
 * Starts or stops the demo window.
 * @param {string} suffix
 * @param {unknown} [body]
 */
async function demo(suffix, body) {
  state.live.rituals = await api.post(episodePath(suffix), body);
  renderDemo();
}

export function renderDemo() {
  const root = $('#demo');
  if (!state.live) {
    fill(root, el('p', { class: 'muted' }, 'Run a 60 or 90 second demo countdown of a product while live.'));
    return;
  }
  const running = runningDemo(state);
  if (running) {
    fill(root,
      el('div', { class: 'demo-head' },
        el('span', {}, `Demo: ${product(running.product_id)?.title ?? running.product_id}`),
        countdown(Date.parse(running.ends_at), { class: 'big' })),
      el('button', {
        class: 'ghost', type: 'button',
        onclick: (/** @type {Event} */ event) => busy(event.currentTarget, () => demo('/demo/stop'), fail),
      }, 'Stop demo'));
    return;
  }
  const select = /** @type {HTMLSelectElement} */ (el('select', { id: 'demo-product', 'aria-label': 'Product' }));
  fill(root,
    el('label', { class: 'field' }, el('span', {}, 'Product'), select),
    el('div', { class: 'row' },
      DEMO_SECONDS.map((seconds) => el('button', {
        class: 'primary grow', type: 'button',
        onclick: (/** @type {Event} */ event) => busy(event.currentTarget, async () => {
          if (!select.value) throw new Error('create a product first');
          await demo('/demo', { product_id: select.value, seconds });
        }, fail),
      }, `▶ ${seconds} s demo`))));
  renderProducts();
}
