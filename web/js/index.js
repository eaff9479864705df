// The landing page: open a room by id or link, or make a creator account and a room.

import { describe, request } from './api.js';
import { $, el, fill, store } from './ui.js';

// Takes `room_…`, `/rooms/room_…` or a whole link to a room page.
function roomId(text) {
  const value = text.trim();
  const match = value.match(/rooms\/([^/?#\s]+)/);
  return match ? decodeURIComponent(match[1]) : value;
}

$('#open-room').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = roomId($('#room-id').value);
  if (!id) return;
  const host = event.submitter?.value === 'host';
  location.href = `/rooms/${encodeURIComponent(id)}${host ? '/host' : ''}`;
});

$('#start-selling').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('#start-result');
  const button = event.submitter ?? event.currentTarget.querySelector('button');
  button.disabled = true;
  result.hidden = true;
  try {
    const account = await request('/v1/accounts', { method: 'POST', body: { handle: $('#handle').value.trim(), role: 'creator' } });
    const room = await request('/v1/rooms', { method: 'POST', token: account.token, body: { title: $('#room-title').value.trim() } });
    store('livedrop.host').set({ token: account.token });
    result.className = 'notice ok';
    fill(
      result,
      el('strong', {}, 'Your room is ready. '),
      'Keep your creator token somewhere safe — it is shown only once: ',
      el('code', { class: 'token' }, account.token),
      el('br'),
      el('a', { class: 'button primary', href: `/rooms/${encodeURIComponent(room.id)}/host` }, 'Open the host console →'),
    );
  } catch (error) {
    result.className = 'notice error';
    result.textContent = describe(error);
  } finally {
    result.hidden = false;
    button.disabled = false;
  }
});
