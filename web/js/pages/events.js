// The public event list: search and filters in the URL, seat counts live.

import { api, withQuery } from '../api.js';
import { append, fill, h } from '../dom.js';
import { datesOutOfOrder, field } from '../forms.js';
import { empty, errorNote, eventCard, followSlots, loadMore } from '../views.js';

// A socket may follow 64 topics; the list follows at most this many cards.
const LIVE_CARDS = 40;

/** A local calendar day as the instant it starts (or ends) in the reader's time zone. */
function dayBound(day, end) {
  if (!day) return '';
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** The categories of upcoming events, with `wanted` (from the address) kept if it is not one. */
async function categoriesInUse(wanted) {
  const categories = await api.get('/api/events/categories');
  const known = categories.some((c) => c.toLowerCase() === wanted.toLowerCase());
  return wanted && !known ? [...categories, wanted] : categories;
}

export async function render(ctx) {
  ctx.title('Events');
  const q = ctx.query;
  const wanted = q.get('category') || '';
  const categories = await categoriesInUse(wanted);
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    h('div', { class: 'search' }, field({ label: 'Search', name: 'q', type: 'search', value: q.get('q') || '', placeholder: 'Title, topic or description' })),
    field({
      label: 'Category', name: 'category', as: 'select', value: wanted,
      options: [['', 'All categories'], ...categories.map((c) => [c, c])],
    }),
    field({ label: 'From', name: 'from', type: 'date', value: q.get('from') || '' }),
    field({ label: 'To', name: 'to', type: 'date', value: q.get('to') || '' }));
  const clear = h('button', { type: 'button', class: 'link', id: 'clear-filters', hidden: true }, 'Clear filters');
  clear.addEventListener('click', () => {
    filters.reset();
    for (const control of filters.elements) control.value = '';
    refresh();
    filters.elements.namedItem('q').focus();
  });
  const filtered = () => [...new FormData(filters).values()].some((v) => String(v).trim() !== '');
  const results = h('div', { class: 'grid', id: 'event-list' });
  const count = h('p', { class: 'muted small', id: 'event-count', role: 'status', 'aria-live': 'polite' });
  const more = loadMore(() => load(cursor));
  let cursor = null;
  let following = [];
  let shown = 0;

  const stopFollowing = () => following.splice(0).forEach((stop) => stop());
  ctx.onLeave(stopFollowing);

  let latest = 0;
  async function load(from) {
    const asked = ++latest;
    const params = Object.fromEntries(new FormData(filters).entries());
    const page = await api.page(withQuery('/api/events', {
      q: params.q.trim(),
      category: params.category.trim(),
      from: dayBound(params.from, false),
      to: dayBound(params.to, true),
      limit: 24,
      cursor: from,
    }));
    if (asked !== latest || !ctx.current()) return; // a newer search or page replaced this one
    if (!from) {
      stopFollowing();
      fill(results);
      shown = 0;
    }
    for (const event of page.items) {
      const { card, slots, edited } = eventCard(event);
      results.append(card);
      if (following.length < LIVE_CARDS) following.push(followSlots(ctx.live, event.event_id, slots, null, edited));
    }
    shown += page.items.length;
    if (shown === 0) {
      fill(results, filtered()
        ? empty('No upcoming events match. Try other filters.')
        : empty('No upcoming events yet. Mentors publish new ones often: check back soon.'));
    }
    clear.hidden = !filtered();
    count.textContent = `${shown} event${shown === 1 ? '' : 's'} shown`;
    cursor = page.next;
    more.hidden = !cursor;
  }

  let debounce = null;
  const refresh = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      clear.hidden = !filtered();
      if (datesOutOfOrder(filters)) return;
      const params = Object.fromEntries(new FormData(filters).entries());
      history.replaceState(null, '', withQuery('/', params));
      load(null).catch((error) => fill(results, errorNote(error.message)));
    }, 250);
  };
  ctx.onLeave(() => clearTimeout(debounce));
  filters.addEventListener('input', refresh);
  filters.addEventListener('change', refresh);
  filters.addEventListener('submit', (e) => { e.preventDefault(); refresh(); });

  append(ctx.main, 
    h('h1', {}, 'Find a mentor session'),
    h('p', { class: 'muted' }, 'Book a slot with a verified mentor. Seat counts update live.'),
    filters, h('div', { class: 'row spread' }, count, clear),
    h('h2', { class: 'sr-only' }, 'Upcoming events'), results, h('p', {}, more));
  if (datesOutOfOrder(filters)) return;
  await load(null);
}
