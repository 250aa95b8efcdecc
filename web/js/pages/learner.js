// The learner's bookings, with statuses that change live as admins and mentors act.

import { api } from '../api.js';
import { append, fill, h, statusChip, time } from '../dom.js';
import { bookingHelp, dataTable, editNote, empty } from '../views.js';

const CANCELLABLE = new Set(['PENDING', 'VERIFIED']);


export async function render(ctx) {
  ctx.title('My bookings');
  const bookings = new Map();
  const { wrap: table, body, row: tableRow } = dataTable({
    caption: 'My bookings', headings: ['Event', 'When', 'Status', 'Updated', ''], bodyId: 'bookings',
  });
  const holder = h('div', {});

  const draw = () => {
    const rows = [...bookings.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    if (rows.length === 0) {
      fill(holder, empty('No bookings yet.'), h('p', {}, h('a', { href: '/', class: 'button' }, 'Find an event')));
      return;
    }
    fill(body, rows.map((b) => row(b)));
    fill(holder, table);
  };

  const row = (b) => {
    const actions = h('div', {});
    if (CANCELLABLE.has(b.status)) {
      const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel booking');
      cancel.addEventListener('click', () => {
        const yes = h('button', { type: 'button', class: 'danger', onclick: () => doCancel(b, actions) }, 'Yes, cancel');
        fill(actions,
          h('span', { class: 'small' }, 'Cancel and free the slot? '),
          yes,
          ' ',
          h('button', { type: 'button', class: 'link', onclick: draw }, 'Keep it'));
        yes.focus();
      });
      actions.append(cancel);
    } else if (b.status === 'REJECTED') {
      actions.append(h('a', { href: `/events/${encodeURIComponent(b.event_id)}`, class: 'button secondary' }, 'Book again'));
    }
    return tableRow({ 'data-lead-id': b.lead_id, 'data-status': b.status }, [
      h('a', { href: `/events/${encodeURIComponent(b.event_id)}` }, b.event_title),
      b.event_datetime ? time(b.event_datetime) : '—',
      [statusChip(b.status), h('div', { class: 'small muted' }, bookingHelp(b.status)),
        b.reason && h('div', { class: 'small', 'data-reason': '' }, `Reason: ${b.reason}`),
        b.note && h('div', { class: 'note small', role: 'status', 'data-note': '' }, b.note)],
      h('span', { class: 'small' }, time(b.updated_at)),
      actions]);
  };

  async function doCancel(b, cell) {
    try {
      const updated = await api.post(`/api/user/bookings/${encodeURIComponent(b.lead_id)}/cancel`);
      bookings.set(updated.lead_id, updated);
      ctx.flash('Booking cancelled; the slot is free for someone else.');
      draw();
    } catch (error) {
      fill(cell, h('span', { class: 'field-error', role: 'alert' }, error.message));
    }
  }

  async function reload() {
    // A note of a change heard live stays with its booking (the listing has no notes).
    for (const b of await api.get('/api/user/bookings')) bookings.set(b.lead_id, { ...b, note: bookings.get(b.lead_id)?.note });
    draw();
  }

  // Live changes carry the state; the listing carries the rest (time, contact).
  const merge = (change) => {
    const known = bookings.get(change.lead_id);
    if (!known) return false;
    if (Date.parse(known.updated_at) > Date.parse(change.updated_at)) return true;
    bookings.set(change.lead_id, { ...known, ...change });
    return true;
  };
  const apply = (changes) => {
    const unknown = changes.filter((c) => !merge(c)).length > 0;
    draw();
    if (unknown) reload().catch(() => {});
  };
  // The mentor moved or renamed an event this learner booked.
  const edited = (details) => {
    const note = editNote(details);
    for (const b of bookings.values()) {
      if (b.event_id !== details.event_id) continue;
      bookings.set(b.lead_id, {
        ...b, event_title: details.title, event_datetime: details.event_datetime, note: note || b.note,
      });
    }
    draw();
  };

  await reload();
  append(ctx.main, 
    h('h1', {}, 'My bookings'),
    h('p', { class: 'muted' }, 'Statuses update live: pending → verified → purchased.'),
    holder);
  ctx.onLeave(ctx.live.subscribe(`user:${ctx.user.user_id}`, {
    snapshot: (snapshot) => apply(snapshot.bookings || []),
    event: (event) => {
      if (event.type === 'booking_updated') {
        const known = bookings.get(event.lead_id);
        apply([event]);
        // News only if it is news: not the learner's own cancel, already shown.
        if (known?.status !== event.status) {
          const title = known?.event_title;
          ctx.notify(`${title ? `${title}: ` : ''}your booking is ${event.status.toLowerCase()}`);
        }
      }
      if (event.type === 'event_updated') edited(event);
    },
  }));
}
