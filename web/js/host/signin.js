// @ts-check
// Signing in with the room creator's token: from the address's fragment (`#token=…`, as `serve
// --demo` prints and the landing page links), from localStorage, or from the sign-in form; and
// signing out.

import { ApiError, describe, request } from '../api.js';
import { showRoom } from '../feed.js';
import { $, busy, el, store } from '../ui.js';
import { roomId, state } from '../host/state.js';

const tokenStore = store('livedrop.host');

// A token in the fragment is stored and removed from the address bar at once, so it is not left
// in history or shown on screen.
function tokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (token) {
    tokenStore.set({ token });
    history.replaceState(null, '', location.pathname + location.search);
  }
}

/**
 * Signs in if the token is the room creator's.
 * @param {string} token
 */
async function signIn(token) {
  const me = await request('/v1/accounts/me', { token });
  if (me.role !== 'creator') throw new ApiError(403, 'forbidden', `${me.handle} is a ${me.role} account, not a creator`);
  const room = await request(`/v1/rooms/${encodeURIComponent(roomId)}`);
  if (room.creator_id !== me.id) throw new ApiError(403, 'forbidden', `${me.handle} is not the creator of this room`);
  state.me = me;
  state.token = token;
  showRoom(state, room);
}

/** @param {string} [message] */
function showSignIn(message) {
  $('#signin').hidden = false;
  $('#console').hidden = true;
  const error = $('#signin-error');
  error.hidden = !message;
  error.textContent = message ?? '';
  $('#status').textContent = 'Signed out';
  $('#status').className = 'pill offline';
}

/**
 * The sign-in form: a valid token is kept, then `onSignedIn()`.
 * @param {() => void} onSignedIn
 */
export function wireSignIn(onSignedIn) {
  $('#signin-form').addEventListener('submit', (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const token = $('#token').value.trim();
    busy(event.submitter ?? $('#signin-form button'), async () => {
      try {
        await signIn(token);
      } catch (error) {
        showSignIn(error.status === 401 ? 'That token is not valid on this server.' : describe(error));
        return;
      }
      tokenStore.set({ token });
      onSignedIn();
    });
  });
}

/** Signs in with the token given or kept; without one that works, shows the form and says false. */
export async function signInAsBefore() {
  tokenFromFragment();
  const saved = tokenStore.get();
  if (!saved?.token) {
    showSignIn();
    return false;
  }
  try {
    await signIn(saved.token);
  } catch (error) {
    if (error.status === 401) tokenStore.set(null);
    showSignIn(error.status === 401 ? 'Your token is not valid on this server; sign in again.' : describe(error));
    return false;
  }
  return true;
}

export function signOutButton() {
  return el('button', {
    class: 'link', type: 'button',
    onclick: () => {
      tokenStore.set(null);
      location.reload();
    },
  }, 'Sign out');
}
