// @ts-check
// The receipt card of the buyer's last order: its lines and total, and the signed receipt that
// `livedrop verify` checks offline, to download as order.json.

import { $, el, fill, money } from '../ui.js';
import { state } from '../room/state.js';

export function renderReceipt() {
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
    el('ul', { class: 'lines' }, order.lines.map((line) => el('li', {}, el('span', {}, `${line.quantity} × ${line.title}${line.edition ? ` · ✦ ${line.edition}` : ''}`), el('span', {}, money(line.unit_price_minor * line.quantity, order.currency))))),
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
