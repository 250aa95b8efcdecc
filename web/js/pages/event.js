// One event: details, the mentor, a live seat counter and, for learners, the booking form.

import { api } from '../api.js';
import { append, fill, h, statusChip, time } from '../dom.js';
import { bindForm, field } from '../forms.js';
import { bookingHelp, editNote, followSlots, slotsLabel } from '../views.js';

const ACTIVE = new Set(['PENDING', 'VERIFIED', 'PURCHASED']);

export async function render(ctx) {
  const id = ctx.params.id;
  const event = await api.get(`/api/events/${encodeURIComponent(id)}`);
  ctx.title(event.title);
  const slots = slotsLabel(event.available_slots, event.total_slots);
  const booking = h('section', { class: 'card stack', 'aria-labelledby': 'book-title' });
  const heading = h('h1', {}, event.title);
  const when = h('p', { class: 'meta' }, time(event.event_datetime), ` · ${event.duration} minutes`);
  const about = h('p', {}, event.description);
  const changeNote = h('p', { class: 'note', id: 'event-note', role: 'status', hidden: true });

  append(ctx.main, 
    h('p', {}, h('a', { href: '/' }, '← All events')),
    h('article', { class: 'stack' },
      h('div', { class: 'row' }, h('span', { class: 'tag' }, event.category)),
      heading,
      when,
      changeNote,
      h('p', { 'aria-live': 'polite', id: 'slot-counter' }, slots),
      h('p', { class: 'meta', id: 'price-note' }, 'Free to book: you pay nothing. The mentor pays to unlock your contact once it is verified.'),
      about,
      h('section', { class: 'card stack', 'aria-labelledby': 'mentor-title' },
        h('h2', { id: 'mentor-title' }, `About ${event.mentor_name}`),
        h('p', {}, event.mentor_bio || 'This mentor has not written a bio yet.'),
        event.mentor_expertise.length > 0 && h('p', { class: 'row' }, event.mentor_expertise.map((e) => h('span', { class: 'tag' }, e))),
        event.mentor_experience && h('p', { class: 'meta' }, `Experience: ${event.mentor_experience}`)),
      booking));

  let full = event.available_slots === 0;
  const refreshBooking = await bookingPanel(ctx, event, booking, () => full);
  // The mentor's edits show at once, with a note of what moved.
  const edited = (details) => {
    for (const key of ['title', 'description', 'event_datetime', 'duration', 'price_per_lead']) event[key] = details[key];
    ctx.title(details.title);
    fill(heading, details.title);
    fill(when, time(details.event_datetime), ` · ${details.duration} minutes`);
    fill(about, details.description);
    const note = editNote(details);
    if (note) {
      changeNote.textContent = note;
      changeNote.hidden = false;
    }
  };
  ctx.onLeave(followSlots(ctx.live, id, slots, (available, _total, deleted) => {
    const wasFull = full;
    full = available === 0;
    if (deleted) event.gone = true;
    if (wasFull !== full || deleted) refreshBooking();
  }, edited));
}

/** Fills the booking section for whoever is looking; returns a function that redraws it. */
async function bookingPanel(ctx, event, section, isFull) {
  const user = ctx.user;
  let mine = null;
  let own = false;
  if (user && user.role === 'USER') {
    const bookings = await api.get('/api/user/bookings');
    mine = bookings.find((b) => b.event_id === event.event_id && ACTIVE.has(b.status)) || null;
  } else if (user && user.role === 'MENTOR') {
    own = (await api.get('/api/mentor/profile')).mentor_id === event.mentor_id;
  }
  const title = h('h2', { id: 'book-title' }, 'Book a slot');
  const draw = () => {
    const next = encodeURIComponent(location.pathname);
    if (event.gone) {
      fill(section, title, h('p', { class: 'slots', 'data-full': 'true', id: 'event-gone' }, bookingHelp('GONE')));
    } else if (!user) {
      fill(section, title, h('p', {},
        h('a', { href: `/login?next=${next}` }, 'Sign in'), ' or ',
        h('a', { href: `/signup?next=${next}` }, 'create a learner account'), ' to book this event.'));
    } else if (own) {
      fill(section, h('h2', { id: 'book-title' }, 'Your event'),
        h('p', { id: 'own-event' }, 'Learners book it here. Each booking is checked, then shows as a lead on your dashboard, where you can unlock its contact.'),
        h('p', {}, h('a', { href: '/mentor/dashboard', class: 'button secondary' }, 'Go to my dashboard')));
    } else if (user.role === 'ADMIN') {
      fill(section, title, h('p', { class: 'muted' }, 'Bookings that need a look arrive in your verification queue.'),
        h('p', {}, h('a', { href: '/admin/dashboard' }, 'Open the verification queue')));
    } else if (user.role !== 'USER') {
      fill(section, title, h('p', { class: 'muted' }, 'You are signed in as a mentor; slots are booked with a learner account.'));
    } else if (mine) {
      fill(section, title, h('p', { id: 'booking-result' }, 'You have booked this event. Status: ', statusChip(mine.status), ' ', bookingHelp(mine.status)),
        h('p', {}, h('a', { href: '/user/dashboard' }, 'See my bookings')));
    } else if (isFull()) {
      fill(section, title, h('p', { class: 'slots', 'data-full': 'true' }, 'This event is fully booked.'));
    } else {
      fill(section, title, bookingForm(ctx, event, (result) => {
        mine = { status: result.status };
        const said = h('p', { id: 'booking-result', role: 'status', tabindex: '-1' }, 'You are booked. Status: ', statusChip(result.status), ' ', bookingHelp(result.status));
        fill(section, title, said, h('p', {}, h('a', { href: '/user/dashboard' }, 'Follow it in my bookings')));
        said.focus();
      }));
    }
  };
  draw();
  return draw;
}

function bookingForm(ctx, event, done) {
  const form = h('form', { class: 'form', id: 'booking-form', novalidate: true },
    h('p', { class: 'muted small' }, 'The mentor sees your contact details only after your booking is verified and they unlock it.'),
    field({ label: 'Name', name: 'name', autocomplete: 'name', required: true, value: ctx.user.name }),
    field({ label: 'E-mail', name: 'email', type: 'email', autocomplete: 'email', required: true, value: ctx.user.email }),
    field({ label: 'Phone', name: 'phone', type: 'tel', autocomplete: 'tel', required: true, hint: 'With country code, e.g. +91 98765 43210' }),
    field({ label: 'Message to the mentor (optional)', name: 'message', as: 'textarea', maxlength: 1000 }),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Book my slot')));
  bindForm(form, async (values) => {
    const result = await api.post(`/api/events/${encodeURIComponent(event.event_id)}/book`, values);
    ctx.flash('Booked. We will keep your status up to date here and in your dashboard.');
    done(result);
  });
  return form;
}
