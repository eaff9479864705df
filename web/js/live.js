// @ts-check
// The room's live feed (`GET /v1/rooms/{id}/live`) as a connection: a snapshot, then whole-state
// messages in journal order. Reconnects with backoff; every (re)connection starts with a fresh
// snapshot, whose `server_time` sets the server's clock that every countdown runs on. What the
// messages mean is feed.js's.

import { setServerTime } from './countdown.js';

/** @typedef {import('./feed.js').FeedMessage} FeedMessage */
/** @typedef {'connecting' | 'open' | 'reconnecting'} Connection */

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/**
 * Opens the feed. `onMessage(message)` gets every message, `onStatus(status)` each change of the
 * connection. Returns { resync(), close() }.
 * @param {string} roomId
 * @param {{ onMessage: (message: FeedMessage) => void, onStatus?: (status: Connection) => void }} handlers
 */
export function connectLive(roomId, { onMessage, onStatus }) {
  /** @type {WebSocket | null} */
  let socket = null;
  let closed = false;
  let backoff = BACKOFF_MIN_MS;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let lastSeq = 0;

  const url = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/v1/rooms/${encodeURIComponent(roomId)}/live`;
  };

  /** @param {Connection} status */
  const open = (status) => {
    if (closed) return;
    onStatus?.(status);
    const ws = new WebSocket(url());
    socket = ws;
    ws.onmessage = (event) => {
      /** @type {FeedMessage} */
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === 'snapshot') {
        setServerTime(message.server_time);
        backoff = BACKOFF_MIN_MS;
        lastSeq = message.seq;
        onStatus?.('open');
      } else {
        if (message.seq < lastSeq) return; // never happens by contract; ignore rather than go back
        lastSeq = message.seq;
      }
      onMessage(message);
    };
    ws.onclose = () => {
      if (socket !== ws || closed) return;
      socket = null;
      const wait = backoff * (0.75 + Math.random() * 0.5);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      onStatus?.('reconnecting');
      timer = setTimeout(() => open('reconnecting'), wait);
    };
    ws.onerror = () => ws.close();
  };

  // Coming back to a tab or a network: reconnect now rather than at the end of a long backoff.
  const wake = () => {
    if (!closed && socket === null) {
      clearTimeout(timer);
      backoff = BACKOFF_MIN_MS;
      open('reconnecting');
    }
  };
  window.addEventListener('online', wake);
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && wake());

  open('connecting');
  return {
    // A fresh snapshot: closes this connection and opens another at once.
    resync() {
      if (closed) return;
      clearTimeout(timer);
      const old = socket;
      socket = null;
      if (old) {
        old.onclose = null;
        old.close();
      }
      open('open');
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close();
    },
  };
}
