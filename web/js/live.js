// The room's live feed (`GET /v1/rooms/{id}/live`): a snapshot, then whole-state messages in
// journal order. Reconnects with backoff; every (re)connection starts with a fresh snapshot, so the
// page just renders what it gets. The snapshot's `server_time` gives the clock offset that every
// countdown (drop opening, hold expiry, demo window) uses, so a wrong device clock does not matter.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

let clockOffsetMs = 0;

// The server's clock, in milliseconds since the epoch.
export function serverNow() {
  return Date.now() + clockOffsetMs;
}

export function setServerTime(rfc3339, sentAt = Date.now()) {
  const server = Date.parse(rfc3339);
  if (Number.isFinite(server)) clockOffsetMs = server - sentAt;
}

export function clockOffset() {
  return clockOffsetMs;
}

// Opens the feed. `onMessage(message)` gets every message, `onStatus(status)` one of
// 'connecting', 'open', 'reconnecting'. Returns { resync(), close() }.
export function connectLive(roomId, { onMessage, onStatus }) {
  let socket = null;
  let closed = false;
  let backoff = BACKOFF_MIN_MS;
  let timer = null;
  let lastSeq = 0;

  const url = () => {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/v1/rooms/${encodeURIComponent(roomId)}/live`;
  };

  const open = (status) => {
    if (closed) return;
    onStatus?.(status);
    const ws = new WebSocket(url());
    socket = ws;
    ws.onmessage = (event) => {
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
