// @ts-check
// What a payee (a creator or a partner) is owed and was paid, shared by the host console's
// Earnings card and the partner page: balances per currency, the next payout and its date, each
// order's earning with why it is (not yet) available, and payouts with their statements (CSV,
// fetched with the bearer token: the API needs it, so a plain link would not do).

import { request } from './api.js';
import { el, money, shortId, when } from './ui.js';

/**
 * @typedef {{
 *   currency: string, pending_minor: number, available_minor: number, reserved_minor: number,
 *   in_transit_minor: number, paid_out_minor: number, owed_minor: number,
 * }} Balance
 * @typedef {{ account_id: string, balances: Balance[], next_settlement_at?: string }} Balances
 * @typedef {{
 *   order_id: string, hold_id: string, currency: string, amount_minor: number, refunded_minor: number,
 *   pending_minor: number, reserved_minor: number, available_at: string, reserve_until?: string, why: string,
 * }} Earning
 * @typedef {{ id: string, account_id: string, currency: string, amount_minor: number, state: 'created' | 'paid' | 'failed' }} Payout
 * @typedef {{
 *   terms: string, set_by: 'default' | 'admin' | 'rule',
 *   rule?: { rule_name?: string, rule_index: number, signals: Record<string, number> } | null,
 * }} Profile
 * @typedef {{ balances: Balances, earnings: Earning[], payouts: Payout[], profile: Profile }} Money
 */

/** The figures of a balance: key (`<key>_minor`), label, and what it means. */
const FIGURES = [
  ['pending', 'Pending', 'Earned, not available yet under your payout terms'],
  ['available', 'Available', 'Paid out when the next settlement window closes'],
  ['reserved', 'Reserved', 'Held in the rolling reserve until its date'],
  ['in_transit', 'In transit', 'Sent to your bank, not confirmed yet'],
  ['paid_out', 'Paid out', 'Confirmed paid'],
  ['owed', 'Owed', 'Refunds beyond what was held; taken from your next earnings'],
];

const PAYOUT_STATES = { created: 'sending', paid: 'paid', failed: 'failed' };

/** Earnings listed at most; the rest are counted. */
const EARNINGS_SHOWN_MAX = 20;

/** Every figure a payee's money has at once: balances, earnings and payouts. */
export async function loadMoney(/** @type {string} */ token) {
  const [balances, earnings, payouts, profile] = await Promise.all([
    request('/v1/balances', { token }),
    request('/v1/earnings', { token }),
    request('/v1/payouts', { token }),
    request('/v1/payout-profile', { token }),
  ]);
  return /** @type {Money} */ ({ balances, earnings: earnings.earnings, payouts: payouts.payouts, profile });
}

/**
 * The payout terms new sales get, and who set them: the answer to "why not sooner?".
 * @param {Profile} profile
 */
export function termsView(profile) {
  let why = 'the platform’s default';
  if (profile.set_by === 'admin') why = 'set for you by the platform';
  if (profile.set_by === 'rule' && profile.rule) {
    const name = profile.rule.rule_name ? `“${profile.rule.rule_name}”` : `#${profile.rule.rule_index + 1}`;
    const read = Object.entries(profile.rule.signals).map(([signal, value]) => `${signal.replaceAll('_', ' ')} ${value}`);
    why = `set by the platform’s payout rule ${name}${read.length ? ` (${read.join(', ')})` : ''}`;
  }
  return el('p', { class: 'payout-terms', id: 'payout-terms', dataset: { setBy: profile.set_by } },
    el('strong', {}, 'Payout terms for new sales: '), profile.terms, el('span', { class: 'muted small' }, ` — ${why}.`));
}

/**
 * Each currency's six figures as a description list.
 * @param {Balances} balances
 */
export function balancesView(balances) {
  if (balances.balances.length === 0) {
    return el('p', { class: 'muted', dataset: { empty: 'balances' } }, 'Nothing earned yet: sales show here as they happen.');
  }
  const several = balances.balances.length > 1;
  return balances.balances.map((balance) =>
    el('div', { class: 'money-currency', dataset: { currency: balance.currency } },
      several ? el('h3', {}, balance.currency) : null,
      el('dl', { class: 'figures', 'aria-label': `Balances in ${balance.currency}` },
        FIGURES.map(([key, label, meaning]) => {
          const minor = balance[`${key}_minor`];
          return el('div', { class: `figure ${key} ${minor ? '' : 'zero'}`, title: meaning },
            el('dt', {}, label),
            el('dd', { dataset: { figure: key, minor: String(minor) } }, money(minor, balance.currency)));
        }))));
}

/**
 * What the next settlement window pays, per currency: what is available now, plus the pending
 * and reserved amounts that mature by then, less what is owed; and when that window closes.
 * Without a schedule (windows closed by an admin) it counts what has matured by `nowMs`.
 * @param {Balances} balances
 * @param {Earning[]} earnings
 * @param {number} nowMs
 */
export function nextPayoutView(balances, earnings, nowMs) {
  const at = balances.next_settlement_at;
  const horizon = at ? Date.parse(at) : nowMs;
  /** @type {Map<string, number>} */
  const due = new Map();
  for (const balance of balances.balances) due.set(balance.currency, balance.available_minor - balance.owed_minor);
  for (const earning of earnings) {
    let maturing = 0;
    if (earning.pending_minor > 0 && Date.parse(earning.available_at) <= horizon) maturing += earning.pending_minor;
    if (earning.reserved_minor > 0 && earning.reserve_until && Date.parse(earning.reserve_until) <= horizon) {
      maturing += earning.reserved_minor;
    }
    due.set(earning.currency, (due.get(earning.currency) ?? 0) + maturing);
  }
  const amounts = [...due].filter(([, minor]) => minor > 0);
  const total = amounts.map(([currency, minor]) => money(minor, currency)).join(' + ');
  const time = at ? el('time', { datetime: at, id: 'next-payout-at' }, when(at)) : null;
  let text;
  if (at) text = amounts.length ? [total, ' on ', time, ', when the next settlement window closes.'] : ['nothing due by ', time, ', when the next settlement window closes.'];
  else text = amounts.length ? [total, ' when an admin closes the next settlement window.'] : 'nothing due yet.';
  return el('p', { class: 'next-payout', id: 'next-payout', dataset: { minor: amounts.map(([c, m]) => `${m} ${c}`).join(',') } },
    el('strong', {}, 'Next payout: '),
    text,
    amounts.length ? el('span', { class: 'muted small' }, ' Payouts below the platform’s minimum wait for a later window.') : null);
}

/**
 * Each order line's earning with its state and why, newest to mature first.
 * @param {Earning[]} earnings
 */
export function earningsView(earnings) {
  if (earnings.length === 0) return el('li', { class: 'empty muted' }, 'No sales yet.');
  const newest = [...earnings].reverse();
  const shown = newest.slice(0, EARNINGS_SHOWN_MAX).map((earning) => {
    const net = earning.amount_minor - earning.refunded_minor;
    const status = earning.pending_minor > 0 ? 'pending' : earning.reserved_minor > 0 ? 'reserved' : net > 0 ? 'matured' : 'refunded';
    return el('li', { class: 'earning', dataset: { orderId: earning.order_id, status } },
      el('div', { class: 'grow' },
        el('p', {},
          el('strong', {}, money(net, earning.currency)),
          el('span', { class: 'muted small', title: earning.order_id }, ` · order ${shortId(earning.order_id)}`),
          earning.refunded_minor ? el('span', { class: 'muted small' }, ` · ${money(earning.refunded_minor, earning.currency)} refunded`) : null),
        el('p', { class: 'muted small why' }, earning.why)),
      el('span', { class: `pill small ${status}` }, status));
  });
  const more = newest.length - shown.length;
  return [shown, more > 0 ? el('li', { class: 'empty muted small' }, `and ${more} earlier`) : null];
}

/**
 * The payouts, newest first, each with a button that downloads its statement.
 * @param {Payout[]} payouts
 * @param {string} token
 * @param {(button: HTMLButtonElement, action: () => Promise<void>) => void} run runs an action with its button busy
 */
export function payoutsView(payouts, token, run) {
  if (payouts.length === 0) return el('li', { class: 'empty muted' }, 'No payouts yet.');
  return payouts.map((payout) =>
    el('li', { class: 'payout', dataset: { payoutId: payout.id, state: payout.state } },
      el('div', { class: 'grow' },
        el('strong', {}, money(payout.amount_minor, payout.currency)),
        el('span', { class: 'muted small', title: payout.id }, ` · ${shortId(payout.id)}`)),
      el('span', { class: `pill small ${payout.state}` }, PAYOUT_STATES[payout.state] ?? payout.state),
      el('button', {
        class: 'ghost small statement', type: 'button',
        'aria-label': `Download the statement of the ${money(payout.amount_minor, payout.currency)} payout ${payout.id} as CSV`,
        onclick: (/** @type {Event} */ event) => {
          const button = /** @type {HTMLButtonElement} */ (event.currentTarget);
          run(button, () => downloadStatement(token, payout.id, button));
        },
      }, 'Statement (CSV)')));
}

/**
 * Fetches a payout's statement with the token and hands it to the browser as a file; the button
 * keeps the size it downloaded (`data-downloaded`).
 * @param {string} token
 * @param {string} payoutId
 * @param {HTMLElement} button
 */
export async function downloadStatement(token, payoutId, button) {
  const response = await request(`/v1/payouts/${encodeURIComponent(payoutId)}/statement.csv`, { token, accept: 'text/csv', response: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: `statement-${payoutId}.csv`, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  button.dataset.downloaded = String(blob.size);
}
