// @ts-check
// The partner page (/partner): a venue, logistics partner or curator signs in with its token (from
// the address's fragment, localStorage or the form) or makes a partner account; then sees the split
// contracts naming it, accepting or rejecting the pending ones, the orders it fulfils and how it
// did (js/partner/fulfilment.js), its balances, each order's earning and its payouts with their CSV
// statements. Read again every 30 s, on demand and after each action.

import { ApiError, client, describe, request } from './api.js';
import { fulfilmentConsole } from './partner/fulfilment.js';
import { whenProductLoads } from './products.js';
import { balancesView, earningsView, loadMoney, nextPayoutView, payoutsView, termsView } from './money.js';
import { $, busy, el, fill, shortId, store, toast, when } from './ui.js';

const REFRESH_MS = 30_000;
const KINDS = { venue: 'venue', logistics: 'logistics partner', curator: 'curator' };

/**
 * @typedef {{ partner_id: string, share_bps: number, accepted_at?: string }} Share
 * @typedef {{
 *   id: string, creator_id: string, version: number, replaces?: string, state: 'pending' | 'accepted' | 'rejected',
 *   shares: Share[], creator_share_bps: number, created_at: string, rejected_by?: string,
 * }} Contract
 */

const tokenStore = store('livedrop.partner');

const state = {
  /** @type {{ id: string, handle: string, role: string, partner_kind?: string } | null} */
  me: null,
  /** @type {string | null} */
  token: null,
  /** @type {Contract[]} */
  contracts: [],
  /** @type {import('./money.js').Money | null} */
  money: null,
  /** @type {number | null} */
  loadedAt: null,
};

const api = client(() => state.token);
const fulfilment = fulfilmentConsole(api, () => state.me?.id);

/** @param {unknown} error */
const fail = (error) => toast(describe(error), 'error', 6_000);

/** @param {number} bps */
const percent = (bps) => `${(bps / 100).toFixed(2)} %`;

function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (token) {
    tokenStore.set({ token });
    history.replaceState(null, '', location.pathname + location.search);
  }
}

/**
 * Signs in if the token is a partner's.
 * @param {string} token
 */
async function signIn(token) {
  const me = await request('/v1/accounts/me', { token });
  if (me.role !== 'partner') {
    throw new ApiError(403, 'not_a_partner', `${me.handle} is a ${me.role} account, not a partner${me.role === 'creator' ? ': creators use their room’s host console' : ''}.`);
  }
  state.me = me;
  state.token = token;
}

/** @param {string} [message] */
function showSignIn(message) {
  $('#signin').hidden = false;
  $('#dashboard').hidden = true;
  const error = $('#signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
}

/** @param {unknown} error */
function signInError(error) {
  return error instanceof ApiError && error.status === 401 ? 'That token is not valid on this server.' : describe(error);
}

function signOut() {
  tokenStore.set(null);
  location.reload();
}

/**
 * @param {Contract} contract
 * @param {boolean} accept
 */
async function answer(contract, accept) {
  if (!accept && !confirm('Reject this split contract? The creator cannot use it then; they would have to propose a new one.')) return;
  const answered = await api.post(`/v1/split-contracts/${encodeURIComponent(contract.id)}/${accept ? 'accept' : 'reject'}`);
  state.contracts = state.contracts.map((c) => (c.id === answered.id ? answered : c));
  renderContracts();
  toast(accept ? (answered.state === 'accepted' ? 'Accepted: the contract is in force' : 'Accepted; waiting for the other partners') : 'Rejected', 'ok');
}

/** @param {Contract} contract */
function contractItem(contract) {
  const me = state.me?.id;
  const mine = contract.shares.find((share) => share.partner_id === me);
  const others = contract.shares.length - 1;
  const answerable = contract.state === 'pending' && mine && !mine.accepted_at;
  let status;
  if (contract.state === 'accepted') status = 'In force: the creator’s drops may use it.';
  else if (contract.state === 'rejected') status = contract.rejected_by === me ? 'You rejected it.' : 'Rejected by another partner.';
  else if (mine?.accepted_at) status = `You accepted it ${when(mine.accepted_at)}; waiting for the other partners.`;
  else status = 'Waiting for your answer.';
  /** @param {boolean} accept */
  const act = (accept) => (/** @type {Event} */ event) => busy(event.currentTarget, () => answer(contract, accept), fail);
  return el('li', { class: 'contract', dataset: { contractId: contract.id, state: contract.state } },
    el('div', { class: 'grow' },
      el('p', {},
        el('strong', {}, `${percent(mine?.share_bps ?? 0)} of each sale`),
        ' from creator ', el('span', { class: 'mono', title: contract.creator_id }, shortId(contract.creator_id))),
      el('p', { class: 'muted small' },
        `After the platform fee. The creator keeps ${percent(contract.creator_share_bps)}`,
        others > 0 ? `, ${others} other partner${others > 1 ? 's' : ''} share the rest` : '',
        `. Version ${contract.version}, proposed ${when(contract.created_at)}.`),
      el('p', { class: 'small contract-status' }, status)),
    el('div', { class: 'actions' },
      el('span', { class: `pill small ${contract.state}` }, contract.state),
      answerable
        ? [
            el('button', { class: 'primary small accept', type: 'button', 'aria-label': `Accept the contract ${contract.id}`, onclick: act(true) }, 'Accept'),
            el('button', { class: 'danger small reject', type: 'button', 'aria-label': `Reject the contract ${contract.id}`, onclick: act(false) }, 'Reject'),
          ]
        : null));
}

function renderContracts() {
  const pending = state.contracts.filter((c) => c.state === 'pending' && !c.shares.find((s) => s.partner_id === state.me?.id)?.accepted_at);
  $('#contracts-count').textContent = pending.length ? `${pending.length} to answer` : '';
  // Those waiting for an answer first, then the newest.
  const ordered = [...state.contracts].reverse().sort((a, b) => Number(pending.includes(b)) - Number(pending.includes(a)));
  fill($('#contracts'), ordered.length
    ? ordered.map(contractItem)
    : el('li', { class: 'empty muted' }, 'No split contract names you yet. Creators name you by your account id (below).'));
}

function renderMoney() {
  const money = state.money;
  if (!money) return;
  fill($('#balances'), balancesView(money.balances));
  fill($('#next-payout-line'), nextPayoutView(money.balances, money.earnings, Date.now()), termsView(money.profile));
  fill($('#earnings-list'), earningsView(money.earnings));
  fill($('#payouts-list'), payoutsView(money.payouts, state.token ?? '', (button, action) => busy(button, action, fail)));
}

async function refresh() {
  if (!state.token) return;
  const error = $('#load-error');
  const orders = fulfilment.refresh(); // shows its own failures
  try {
    const [contracts, money] = await Promise.all([api.get('/v1/split-contracts'), loadMoney(state.token)]);
    state.contracts = contracts.contracts;
    state.money = money;
    state.loadedAt = Date.now();
    error.hidden = true;
  } catch (problem) {
    if (problem instanceof ApiError && problem.status === 401) {
      tokenStore.set(null);
      showSignIn('Your token is not valid on this server any more; sign in again.');
      return;
    }
    error.hidden = false;
    error.textContent = `Could not read your contracts and money: ${describe(problem)}${state.money ? ' What is shown is from the last read.' : ''}`;
    return;
  }
  renderContracts();
  renderMoney();
  await orders;
  $('#partner-updated').textContent = `Updated ${new Date(state.loadedAt).toLocaleTimeString()}`;
}

function enter() {
  const me = /** @type {NonNullable<typeof state.me>} */ (state.me);
  $('#signin').hidden = true;
  $('#dashboard').hidden = false;
  $('#partner-title').textContent = `${me.handle} · ${KINDS[me.partner_kind ?? ''] ?? 'partner'}`;
  document.title = `${me.handle} · livedrop partners`;
  fill($('#whoami'),
    `Signed in as ${me.handle}. Your account id, for creators to name you in a split contract: `,
    el('code', { id: 'partner-id' }, me.id), '. ',
    el('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out'));
  whenProductLoads(fulfilment.render);
  refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
  Object.assign(window, { livedropPartner: state }); // for the browser test and for debugging
}

function wireForms() {
  $('#signin-form').addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const token = $('#token').value.trim();
    busy(event.submitter ?? $('#signin-form button'), async () => {
      try {
        await signIn(token);
      } catch (error) {
        showSignIn(signInError(error));
        return;
      }
      tokenStore.set({ token });
      enter();
    });
  });
  $('#signup-form').addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    busy(event.submitter ?? $('#signup-form button'), async () => {
      let account;
      try {
        const body = { handle: $('#handle').value.trim(), role: 'partner', partner_kind: $('#partner-kind').value };
        account = await request('/v1/accounts', { method: 'POST', body });
      } catch (error) {
        showSignIn(describe(error));
        return;
      }
      // Kept and shown before anything else can fail: the server never shows it again.
      tokenStore.set({ token: account.token });
      const notice = $('#new-token');
      fill(notice, 'Keep your partner token somewhere safe — it is shown only once: ', el('code', { class: 'token' }, account.token));
      notice.hidden = false;
      try {
        await signIn(account.token);
      } catch (error) {
        showSignIn(`Your account was made, but signing in failed: ${describe(error)} Reload the page to try again.`);
        return;
      }
      enter();
    });
  });
  $('#refresh').addEventListener('click', (/** @type {Event} */ event) => busy(event.currentTarget, refresh, fail));
}

async function start() {
  wireForms();
  tokenFromFragment();
  const saved = tokenStore.get();
  if (!saved?.token) {
    showSignIn();
    return;
  }
  try {
    await signIn(saved.token);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) tokenStore.set(null);
    showSignIn(signInError(error));
    return;
  }
  enter();
}

start();
