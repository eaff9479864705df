// @ts-check
// The HTTP API from the browser: JSON in and out, the bearer token, Idempotency-Key, and errors as
// ApiError with the server's status and snake_case code. Pages are served by the API's own origin.

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }

  // No answer at all, or a 5xx: the outcome is unknown, so a keyed request is retried with the
  // same key (a checkout may already have charged the card).
  get undecided() {
    return this.status === 0 || this.status >= 500;
  }
}

const RETRIES_MAX = 2;
const RETRY_WAIT_MAX_MS = 5_000;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function newIdempotencyKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  // Pages on plain http to another host than localhost have no randomUUID; getRandomValues is there.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page, say
  }
  const code = body?.error?.code ?? `http_${response.status}`;
  const message = body?.error?.message ?? (response.statusText || 'request failed');
  return new ApiError(response.status, code, message, body);
}

// One call. `body` is sent as JSON; `raw` (with `contentType`) is sent as is and the answer is
// returned as the Response, as it is with `response` (a file to download, say). 429 and 503 with a
// short Retry-After are retried with the same key.
/**
 * @param {string} path
 * @param {{
 *   method?: string, token?: string, body?: unknown, idempotencyKey?: string,
 *   raw?: BodyInit, contentType?: string, accept?: string, response?: boolean,
 * }} [options]
 * @returns {Promise<any>}
 */
export async function request(path, { method = 'GET', token, body, idempotencyKey, raw, contentType, accept, response: asResponse = false } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
  if (accept) headers.Accept = accept;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    if (contentType) headers['Content-Type'] = contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
    } catch (error) {
      throw new ApiError(0, 'network_error', `could not reach the server (${error.message})`);
    }
    if ((response.status === 429 || response.status === 503) && attempt < RETRIES_MAX) {
      const wait = Number(response.headers.get('Retry-After') || '1') * 1_000;
      if (wait <= RETRY_WAIT_MAX_MS) {
        await sleep(wait);
        continue;
      }
    }
    if (!response.ok) throw await errorOf(response);
    if (raw !== undefined || asResponse) return response;
    if (response.status === 204) return null;
    return response.json();
  }
}

// A client bound to one token.
export function client(getToken) {
  const token = () => (typeof getToken === 'function' ? getToken() : getToken);
  return {
    get: (path) => request(path, { token: token() }),
    post: (path, body, options = {}) => request(path, { method: 'POST', token: token(), body, ...options }),
    del: (path) => request(path, { method: 'DELETE', token: token() }),
    raw: (path, options) => request(path, { token: token(), ...options }),
  };
}

// Plain words for the codes a person may meet in the pages.
const MESSAGES = {
  network_error: 'No connection to the server. Check your network and try again.',
  unauthorized: 'Your session is not valid any more.',
  forbidden: 'You are not allowed to do that.',
  not_found: 'Not found.',
  sold_out: 'Sold out.',
  limit_exceeded: 'You already hold or bought as many as this drop allows per buyer.',
  drop_not_open: 'This drop is not open.',
  cart_expired: 'Your hold expired.',
  cart_checked_out: 'This cart is already paid.',
  cart_changed: 'Your cart changed while paying; nothing was charged. Try again.',
  payment_declined: 'Your card was declined.',
  blocked_by_risk_rules: 'This purchase was blocked by the shop’s fraud rules.',
  rate_limited: 'Too many requests; wait a moment.',
  overloaded: 'The server is busy; try again in a moment.',
  already_voted: 'You already voted in this poll.',
  episode_not_live: 'The episode is not live.',
  episode_already_live: 'Another episode of this room is live; end it first.',
  episode_ended: 'The episode has ended.',
  episode_over: 'This episode\'s end time has passed; schedule a new one.',
  not_in_episode: 'Join the episode first.',
  banned_from_episode: 'You were removed from this episode.',
  episode_full: 'The episode is full.',
  question_closed: 'That question is already answered or dismissed.',
  not_allowed_to_publish: 'You may not speak now (only the host, moderators and unmuted speakers can).',
  invalid_sdp: 'The browser’s audio offer was refused.',
  media_unavailable: 'This server runs no audio: no live sound and no recordings.',
  handle_taken: 'That handle is taken.',
  contract_already_answered: 'This contract was already answered.',
  split_not_accepted: 'Every partner must accept the split contract before a drop can use it.',
};

const DECLINES = {
  generic_decline: 'the bank declined it',
  insufficient_funds: 'insufficient funds',
  fraudulent: 'the bank flagged it as fraudulent',
  expired_card: 'the card has expired',
  incorrect_cvc: 'the security code is wrong',
  processing_error: 'the bank could not process it',
};

export function describe(error) {
  if (!(error instanceof ApiError)) return error?.message ?? String(error);
  const plain = MESSAGES[error.code];
  if (error.code === 'payment_declined') {
    const code = error.message?.match(/\(([a-z_]+)\)/)?.[1];
    const reason = DECLINES[code] ?? code?.replaceAll('_', ' ');
    return `Your card was declined${reason ? `: ${reason}` : ''}. Nothing was charged; your unit stays held until the timer ends, so you can pay with another card.`;
  }
  if (error.code === 'invalid_request' || !plain) return error.message;
  return plain;
}
