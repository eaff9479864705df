// @ts-check
// The creator's products: the new-product form, and the product pickers of the new-drop form and
// the demo card. The API lists no products per creator, so the ids this browser made are kept in
// localStorage, with those the room's drops and slots name.

import { keepProduct, product } from '../products.js';
import { $, el, fill, money, store, toast } from '../ui.js';
import { api, state } from '../host/state.js';

const productList = () => store(`livedrop.products.${state.me.id}`);

export function knownProductIds() {
  const ids = new Set(productList().get() ?? []);
  for (const drop of state.drops.values()) ids.add(drop.product_id);
  for (const slot of state.room.slots) if (slot.product_id) ids.add(slot.product_id);
  return [...ids];
}

/** @param {string} id */
function productLabel(id) {
  const body = product(id);
  return body ? `${body.title} · ${money(body.price_minor, body.currency)} · ${body.stock - body.allocated} free` : id;
}

/**
 * A picker's options, keeping its choice.
 * @param {HTMLSelectElement} select
 * @param {string[]} ids
 * @param {(id: string) => string} label
 */
function options(select, ids, label) {
  const chosen = select.value;
  return ids.map((id) => el('option', { value: id, selected: id === chosen }, label(id)));
}

export function renderProducts() {
  const ids = knownProductIds();
  const dropPicker = $('#drop-product');
  fill(dropPicker, ids.length ? options(dropPicker, ids, productLabel) : el('option', { value: '' }, 'Create a product first'));
  const demoPicker = $('#demo-product');
  if (demoPicker) fill(demoPicker, options(demoPicker, ids, (id) => product(id)?.title ?? id));
}

export async function createProduct() {
  const currency = $('#product-currency').value.trim().toUpperCase();
  const digits = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
  const body = await api.post('/v1/products', {
    title: $('#product-title').value.trim(),
    price_minor: Math.round(Number($('#product-price').value) * 10 ** digits),
    currency,
    stock: Number($('#product-stock').value),
    fulfilment: $('#product-fulfilment').value,
  });
  const ids = productList().get() ?? [];
  if (!ids.includes(body.id)) productList().set([...ids, body.id]);
  keepProduct(body);
  renderProducts();
  $('#drop-product').value = body.id;
  $('#new-product').reset();
  $('#new-product-panel').open = false;
  $('#new-drop-panel').open = true;
  toast(`Product created: ${body.title}`, 'ok');
}
