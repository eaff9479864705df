// @ts-check
// The offline card: while no episode is live, when the next one is (or that the page goes live by
// itself).

import { scheduledEpisodes } from '../feed.js';
import { $, el, fill, when } from '../ui.js';
import { state } from '../room/state.js';

export function renderOffline() {
  const offline = $('#offline');
  offline.hidden = !!state.live || !state.room;
  if (offline.hidden) return;
  const [next] = scheduledEpisodes(state.room);
  fill(
    offline,
    el('div', { class: 'offline-icon', 'aria-hidden': 'true' }, '📻'),
    el('h2', {}, 'The room is offline'),
    next
      ? el('p', { class: 'muted' }, 'Next: ', el('strong', {}, next.title), ` · ${when(next.starts_at)}`)
      : el('p', { class: 'muted' }, 'Stay on this page: it goes live by itself when the host starts.'),
  );
}
