// @ts-check
// Products by id, each read once over HTTP: drops and demo windows name their product by id, and
// the pages show its title, price and fulfilment. A read that failed is tried again on next use.

import { request } from './api.js';

/**
 * @typedef {{
 *   id: string, creator_id: string, title: string, price_minor: number, currency: string,
 *   stock: number, allocated: number, fulfilment: 'ship' | 'pickup' | 'digital', created_at: string,
 *   edition?: {label: string, curator_id: string},
 * }} Product
 */

/** @type {Map<string, Product | null>} id → the product, or null while it is being read */
const known = new Map();
let onLoad = () => {};

/**
 * What to do when a product read arrives (render what shows it).
 * @param {() => void} render
 */
export function whenProductLoads(render) {
  onLoad = render;
}

/**
 * The product if it is known; else null, and it is read.
 * @param {string | null | undefined} id
 */
export function product(id) {
  if (!id) return null;
  if (!known.has(id)) {
    known.set(id, null);
    request(`/v1/products/${encodeURIComponent(id)}`)
      .then((/** @type {Product} */ body) => {
        known.set(id, body);
        onLoad();
      })
      .catch(() => known.delete(id));
  }
  return known.get(id) ?? null;
}

/**
 * A product this page made or read otherwise.
 * @param {Product} body
 */
export function keepProduct(body) {
  known.set(body.id, body);
}
