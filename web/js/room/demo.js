// @ts-check
// The demo window: while the host runs one, the product being shown and a countdown to its end.

import { countdown, progress } from '../countdown.js';
import { runningDemo } from '../feed.js';
import { product } from '../products.js';
import { $, el, fill } from '../ui.js';
import { state } from '../room/state.js';

export function renderDemo() {
  const demo = runningDemo(state);
  const card = $('#demo');
  card.hidden = !demo;
  if (!demo) return;
  const item = product(demo.product_id);
  const endsAt = Date.parse(demo.ends_at);
  fill(
    card,
    el('div', { class: 'demo-head' }, el('span', { class: 'badge demo' }, 'Live demo'), countdown(endsAt, { class: 'big' })),
    el('p', {}, item ? item.title : 'Product demo', el('span', { class: 'muted' }, ' — watch before it drops')),
    el('div', { class: 'bar thin' }, progress(endsAt, demo.seconds * 1_000)),
  );
}
