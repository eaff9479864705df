// @ts-check
// Small DOM helpers shared by the pages: element building, money, durations, toasts, avatars.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// el('button', { class: 'primary', onclick }, 'Buy') — attributes starting with "on" are listeners,
// `dataset` and `style` objects are merged, false/null attributes and children are skipped.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') node.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'class') node.className = value;
    else if (name === 'style') node.style.cssText = value; // CSSOM: allowed by the pages' CSP
    else if (name in node && typeof value !== 'string') node[name] = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Replaces a node's children.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const formats = new Map();

function currencyFormat(currency) {
  if (!formats.has(currency)) {
    let format;
    try {
      format = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      format = null;
    }
    formats.set(currency, format);
  }
  return formats.get(currency);
}

// Minor units to text: 2500 EUR → €25.00 (JPY has no minor unit, and so on).
export function money(minor, currency) {
  const format = currencyFormat(currency);
  if (!format) return `${minor} ${currency} (minor units)`;
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

// 65_000 → "1:05"; 3_725_000 → "1:02:05".
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1_000));
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

// A recording's length as minutes and seconds: 194_400 → "03:14" (an hour is "60:00").
export function minutesSeconds(ms) {
  const total = Math.max(0, Math.round(ms / 1_000));
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

export function when(rfc3339) {
  const date = new Date(rfc3339);
  return date.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'short' });
}

export const FULFILMENT = {
  ship: { label: 'Ships to you', icon: '📦' },
  pickup: { label: 'Pick up in person', icon: '🏬' },
  digital: { label: 'Digital delivery', icon: '⚡' },
};

// The last characters of an opaque id, for people to tell members apart.
export function shortId(id) {
  return id ? `…${id.slice(-4)}` : '';
}

// A colour and initials from an id or handle, stable per id.
export function avatar(id, label, size = '') {
  let hash = 0;
  for (const char of id ?? '') hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const text = (label ?? (id ?? '?').replace(/^acct_/, '').slice(-2)).slice(0, 2).toUpperCase();
  return el('span', { class: `avatar ${size}`, style: `--hue:${hue}`, 'aria-hidden': 'true' }, text);
}

let toastRoot = null;

// A short message at the bottom of the screen; kind is 'info', 'ok' or 'error'.
export function toast(message, kind = 'info', ms = 4_000) {
  if (!toastRoot) {
    toastRoot = el('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastRoot);
  }
  const node = el('div', { class: `toast ${kind}` }, message);
  toastRoot.append(node);
  setTimeout(() => node.classList.add('leaving'), ms);
  setTimeout(() => node.remove(), ms + 400);
}

// Runs `action` with the button disabled and a busy look; errors go to `onError`.
export async function busy(button, action, onError) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.classList.add('busy');
  try {
    return await action();
  } catch (error) {
    onError?.(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove('busy');
  }
}

export function store(key) {
  return {
    get() {
      try {
        return JSON.parse(localStorage.getItem(key) ?? 'null');
      } catch {
        return null;
      }
    },
    set(value) {
      if (value === null || value === undefined) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    },
  };
}

// The room id of /rooms/{id} and /rooms/{id}/host.
export function roomIdFromPath() {
  const match = location.pathname.match(/^\/rooms\/([^/]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

/** The header's status pill: connecting, reconnecting, live or offline, from the live feed's state. */
export function feedStatus(status, connection, live) {
  let text;
  let kind;
  if (connection === 'connecting') [text, kind] = ['Connecting…', 'connecting'];
  else if (connection === 'reconnecting') [text, kind] = ['Reconnecting…', 'connecting'];
  else if (live) [text, kind] = ['LIVE', 'live'];
  else [text, kind] = ['Offline', 'offline'];
  status.textContent = text;
  status.className = `pill ${kind}`;
  status.dataset.state = kind;
}
