// @ts-check
// The server's clock and the countdowns that run on it. The live feed's snapshot carries the
// server's time; every countdown (a drop opening, a hold expiring, a demo window) and every time a
// page sends is reckoned on that clock, so a wrong device clock does not matter.

import { clock, el } from './ui.js';

const TICK_MS = 250;

let offsetMs = 0;

/** The server's clock, in milliseconds since the epoch. */
export function serverNow() {
  return Date.now() + offsetMs;
}

/**
 * Sets the server's clock from its time (RFC 3339) as received at `receivedAt` on this device.
 * @param {string} rfc3339
 * @param {number} [receivedAt]
 */
export function setServerTime(rfc3339, receivedAt = Date.now()) {
  const server = Date.parse(rfc3339);
  if (Number.isFinite(server)) offsetMs = server - receivedAt;
}

/**
 * Milliseconds left until an RFC 3339 time on the server's clock; NaN without a time.
 * @param {string | null | undefined} rfc3339
 */
export function msUntil(rfc3339) {
  return Date.parse(rfc3339 ?? '') - serverNow();
}

/**
 * A `.countdown` to `until` (ms on the server's clock), kept current by `runCountdowns`; at zero
 * it reads `expired`.
 * @param {number} until
 * @param {{ class?: string, id?: string, expired?: string }} [options]
 */
export function countdown(until, { class: extra = '', id, expired } = {}) {
  const left = until - serverNow();
  const dataset = expired === undefined ? { until: String(until) } : { until: String(until), expired };
  return el('span', { class: `countdown ${extra}`.trim(), id, dataset }, left > 0 ? clock(left) : (expired ?? clock(0)));
}

/**
 * A bar's `.progress` that empties from `totalMs` left to none at `until`.
 * @param {number} until
 * @param {number} totalMs
 */
export function progress(until, totalMs) {
  return el('span', { class: 'progress', dataset: { until: String(until), total: String(totalMs) } });
}

/**
 * The time since `since` (ms on the server's clock), kept current by `runCountdowns`.
 * @param {number} since
 * @param {string} className
 */
export function elapsed(since, className) {
  return el('span', { class: className, dataset: { since: String(since) } }, clock(serverNow() - since));
}

/**
 * Keeps the page's countdowns, progress bars and elapsed times current between messages. A
 * countdown is `urgent` in its last `urgentMs`; `onDue` runs once for every tick in which one or
 * more reached zero, so the sections they belong to can show what comes next.
 * @param {{ urgentMs: number, onDue: () => void }} options
 */
export function runCountdowns({ urgentMs, onDue }) {
  setInterval(() => {
    const now = serverNow();
    let due = false;
    for (const node of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-until]'))) {
      const left = Number(node.dataset.until) - now;
      if (node.classList.contains('progress')) {
        node.style.width = `${Math.max(0, Math.min(100, (100 * left) / Number(node.dataset.total)))}%`;
      } else {
        node.textContent = left > 0 ? clock(left) : (node.dataset.expired ?? clock(0));
        node.classList.toggle('urgent', left > 0 && left <= urgentMs);
      }
      if (left <= 0 && !node.dataset.done) {
        node.dataset.done = '1';
        due = true;
      }
    }
    for (const node of /** @type {NodeListOf<HTMLElement>} */ (document.querySelectorAll('[data-since]'))) {
      node.textContent = clock(now - Number(node.dataset.since));
    }
    if (due) onDue();
  }, TICK_MS);
}
