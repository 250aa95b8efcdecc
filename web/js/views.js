// Pieces more than one page shows.

import { dateTime, h, time } from './dom.js';

/** "3 of 5 slots left", kept current by `updateSlots`. */
export function slotsLabel(available, total) {
  const el = h('span', { class: 'slots' });
  updateSlots(el, available, total);
  return el;
}

export function updateSlots(el, available, total) {
  el.textContent = available === 0 ? `Fully booked (${total} slots)` : `${available} of ${total} slots left`;
  el.dataset.available = String(available);
  el.dataset.full = String(available === 0);
}

/** Follows `event:{id}` and keeps `el` showing its seats; `onEdit(details)` hears the
 * mentor's edits. Returns the unsubscribe. */
export function followSlots(live, eventId, el, onChange, onEdit) {
  const apply = ({ available_slots: available, total_slots: total, deleted }) => {
    if (deleted) {
      el.textContent = 'This event is no longer available';
      el.dataset.full = 'true';
      onChange?.(0, 0, true);
      return;
    }
    updateSlots(el, available, total);
    onChange?.(available, total);
  };
  return live.subscribe(`event:${eventId}`, {
    snapshot: apply,
    event: (event) => {
      if (event.type === 'slots_changed') apply(event);
      if (event.type === 'event_deleted') apply({ deleted: true });
      if (event.type === 'event_updated') {
        apply(event);
        onEdit?.(event);
      }
    },
  });
}

/** What an edit of a booked event means to the learner, in words ("" if nothing). */
export function editNote(details) {
  const changed = new Set(details.changed || []);
  const notes = [];
  if (changed.has('event_datetime')) notes.push(`Rescheduled to ${dateTime(details.event_datetime)}`);
  if (changed.has('title')) notes.push(`Renamed “${details.title}”`);
  return notes.join(' · ');
}

export function eventCard(event) {
  const slots = slotsLabel(event.available_slots, event.total_slots);
  const link = h('a', { href: `/events/${encodeURIComponent(event.event_id)}` }, event.title);
  const when = h('p', { class: 'meta' }, time(event.event_datetime), ` · ${event.duration} min`);
  const card = h('article', { class: 'card event-card stack', 'data-event-id': event.event_id },
    h('div', { class: 'row spread' }, h('span', { class: 'tag' }, event.category), slots),
    h('h3', {}, link),
    h('p', { class: 'meta' }, 'with ', event.mentor_name),
    when,
    h('p', { class: 'meta price' }, 'Free to book'));
  /** The mentor's edit, as `event_updated` carries it. */
  const edited = (details) => {
    link.textContent = details.title;
    when.replaceChildren(time(details.event_datetime), ` · ${details.duration} min`);
  };
  return { card, slots, edited };
}

/** A "Load more" button for a paged listing; hides itself on the last page. */
export function loadMore(onClick) {
  const button = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.parentElement?.querySelector('.field-error')?.remove();
    try {
      await onClick();
    } catch (error) {
      button.after(h('span', { class: 'field-error', role: 'alert' }, ` ${error.message}`));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/**
 * A table that turns into stacked cards on narrow screens, each cell showing its column's
 * heading. `headings`: the column names, '' for the actions column (named for screen readers).
 */
export function dataTable({ caption, headings, tableId, bodyId, showCaption = false }) {
  const body = h('tbody', { id: bodyId });
  const table = h('table', { id: tableId },
    h('caption', { class: showCaption ? null : 'sr-only' }, caption),
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t || h('span', { class: 'sr-only' }, 'Actions'))))),
    body);
  /** A row of `cells`, in column order. */
  const row = (attrs, cells) => h('tr', attrs, cells.map((cell, i) => h('td', { 'data-label': headings[i] || '' }, cell)));
  return { wrap: h('div', { class: 'table-wrap' }, table), table, body, row };
}

/** An empty-state line. */
export const empty = (text) => h('p', { class: 'empty' }, text);

const BOOKING_HELP = {
  PENDING: 'Waiting for a quick check by our team.',
  VERIFIED: 'Verified. The mentor can now reach out.',
  PURCHASED: 'The mentor has your contact and will get in touch.',
  REJECTED: 'Not accepted, so the slot went back. Read the reason, then book again with details that can be checked, or choose another event.',
  GONE: 'The mentor removed this event.',
  CANCELLED: 'You cancelled this booking.',
};

/** What a booking's status means for the learner. */
export const bookingHelp = (status) => BOOKING_HELP[status] || '';

/** An error the reader must notice, announced by screen readers. */
export const errorNote = (message) => h('p', { class: 'form-error', role: 'alert' }, message);

/** Number tiles: [label, value] pairs. */
export const statTiles = (pairs) => pairs.map(([label, value]) =>
  h('div', { class: 'stat' }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label)));
