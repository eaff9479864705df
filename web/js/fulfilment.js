// @ts-check
// Fulfilment orders in words, shared by the partner console and the buyer's room page, so a venue
// sees exactly the promise its buyer is shown: states ("Ready for pickup", "On its way"), the
// promise an ETA makes ("arrives by Thu 3 Dec", "pickup from 18:00"), and RFC 3339 from a
// datetime-local field.

/**
 * @typedef {'open' | 'accepted' | 'ready_for_pickup' | 'picked_up' | 'in_transit' | 'delivered' | 'cancelled' | 'returned'} FulfilmentState
 * @typedef {{ state: FulfilmentState, at: string, by: string, eta?: string }} Change
 * @typedef {{
 *   id: string, order_id: string, hold_id: string, drop_id: string, product_id: string, quantity: number,
 *   method: 'ship' | 'pickup', partner_id?: string, creator_id: string, buyer_id: string,
 *   state: FulfilmentState, eta?: string, created_at: string, changes: Change[], pickup_code?: string,
 * }} FulfilmentOrder
 */

/** What the buyer is told of each state. */
export const STATE_WORDS = {
  open: 'Order received',
  accepted: 'Being prepared',
  ready_for_pickup: 'Ready for pickup',
  picked_up: 'Picked up',
  in_transit: 'On its way',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
  returned: 'Returned',
};

/** States nothing follows for the buyer (`returned` may still follow a completed one, rarely). */
const DONE = ['picked_up', 'delivered', 'cancelled', 'returned'];

/** @param {FulfilmentOrder} order */
export const isDone = (order) => DONE.includes(order.state);

/** @param {Date} a @param {Date} b */
const sameDay = (a, b) => a.toDateString() === b.toDateString();

/** @param {Date} date */
const clockTime = (date) => date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });

/** @param {Date} date */
const day = (date) => date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });

/**
 * A moment as a person says it: "18:00" today, "Thu 3 Dec, 18:00" otherwise.
 * @param {string} rfc3339
 * @param {number} [now]
 */
export function moment(rfc3339, now = Date.now()) {
  const date = new Date(rfc3339);
  return sameDay(date, new Date(now)) ? clockTime(date) : `${day(date)}, ${clockTime(date)}`;
}

/**
 * The delivery promise of an order as its buyer reads it, or null without one: a pickup is ready
 * from its ETA on, a shipment arrives by its ETA's day (by the hour when that is today); a
 * completed order says when it was.
 * @param {FulfilmentOrder} order
 * @param {number} [now]
 */
export function promise(order, now = Date.now()) {
  if (isDone(order)) {
    const last = [...order.changes].reverse().find((change) => change.state === order.state);
    return last ? `${STATE_WORDS[order.state]} ${moment(last.at, now)}` : null;
  }
  if (!order.eta) return order.state === 'open' ? 'Waiting for confirmation' : null;
  const eta = new Date(order.eta);
  if (order.method === 'pickup') return `pickup from ${moment(order.eta, now)}`;
  return sameDay(eta, new Date(now)) ? `arrives by ${clockTime(eta)} today` : `arrives by ${day(eta)}`;
}

/**
 * A datetime-local field's value (the browser's time zone) as RFC 3339 in UTC, whole seconds; null
 * when it is empty or not a time.
 * @param {string} value
 */
export function localToRfc3339(value) {
  if (!value) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return null;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An RFC 3339 time as a datetime-local field's value, in the browser's time zone.
 * @param {string | undefined} rfc3339
 */
export function rfc3339ToLocal(rfc3339) {
  if (!rfc3339) return '';
  const date = new Date(rfc3339);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * What a drop's fulfiller promises a buyer who buys now, from its service terms, worked out as the
 * server opens the order's ETA: ready `ready_within_hours` after the sale, then collected from the
 * start of the first pickup window (UTC) that is still open, or delivered `deliver_within_hours`
 * later. "Pickup today 18:00–20:00 at Corner Café", "Arrives by Thu 3 Dec".
 * @param {{method: string, terms: {ready_within_hours: number, deliver_within_hours?: number, pickup_window?: {from: string, to: string}, location?: string}}} service
 * @param {number} [now]
 */
export function servicePromise(service, now = Date.now()) {
  const terms = service.terms;
  const ready = now + terms.ready_within_hours * HOUR_MS;
  if (service.method === 'ship') {
    const by = new Date(ready + (terms.deliver_within_hours ?? 0) * HOUR_MS);
    return sameDay(by, new Date(now)) ? `Arrives by ${clockTime(by)} today` : `Arrives by ${day(by)}`;
  }
  const where = terms.location ? ` at ${terms.location}` : '';
  const window = terms.pickup_window;
  if (!window) return `Pickup from ${moment(new Date(ready).toISOString(), now)}${where}`;
  const minutes = (/** @type {string} */ hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const [from, to] = [minutes(window.from), minutes(window.to)];
  const dayStart = Math.floor(ready / DAY_MS) * DAY_MS;
  const minute = Math.floor((ready - dayStart) / 60_000);
  const start = minute < from ? dayStart + from * 60_000 : minute < to ? ready : dayStart + DAY_MS + from * 60_000;
  const windowDay = Math.floor(start / DAY_MS) * DAY_MS;
  const end = new Date(windowDay + to * 60_000);
  const startDate = new Date(start);
  const when = sameDay(startDate, new Date(now)) ? 'today' : day(startDate);
  return `Pickup ${when} ${clockTime(startDate)}–${clockTime(end)}${where}`;
}
