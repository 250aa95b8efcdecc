// The mentor's dashboard: verification status, stats, the live lead feed (masked until
// bought), events and profile.

import { api } from '../api.js';
import { append, fill, h, money, statusChip, tabs, time } from '../dom.js';
import { bindForm, field } from '../forms.js';
import { buy } from './checkout.js';
import { dataTable, empty, statTiles } from '../views.js';

const STATUS_TEXT = {
  PENDING: 'Your mentor application is under review. An admin usually decides within a day, and this page changes by itself when they do. Meanwhile, complete your profile: learners read it on your events.',
  REJECTED: 'Your mentor application was not approved.',
};

export async function render(ctx) {
  ctx.title('Mentor dashboard');
  const [profile, events] = await Promise.all([api.get('/api/mentor/profile'), api.get('/api/mentor/events')]);
  const state = { profile, events, leads: new Map() };
  const approved = profile.verification_status === 'APPROVED';
  const panel = h('div', { id: 'tab-panel', role: 'tabpanel', 'aria-labelledby': 'tab-leads' });
  const statsBox = h('section', { class: 'stats', 'aria-label': 'Statistics' });

  const refreshStats = debounced(async () => {
    const stats = await api.get('/api/mentor/stats');
    fill(statsBox, statTiles([
      ['Upcoming events', stats.upcoming_events],
      ['Booked slots', `${stats.booked_slots} / ${stats.total_slots}`],
      ['Verified leads', stats.verified_leads],
      ['Pending review', stats.pending_leads],
      ['Leads bought', stats.purchased_leads],
      ['Spent on leads', money(stats.total_spent)],
    ]));
  }, ctx);

  const views = {
    leads: () => leadsView(ctx, state, panel, refreshStats),
    events: () => eventsView(ctx, state, panel, refreshStats),
    profile: () => profileView(ctx, state, panel),
  };
  let stopView = null;
  const { bar } = tabs([
    { id: 'leads', label: 'Leads' },
    { id: 'events', label: 'My events' },
    { id: 'profile', label: 'Profile' },
  ], (id) => {
    stopView?.();
    stopView = views[id]();
  }, 'leads');
  ctx.onLeave(() => stopView?.());

  append(ctx.main, 
    h('div', { class: 'row spread' }, h('h1', {}, `Hello, ${profile.name}`),
      h('p', {}, 'Application: ', statusChip(profile.verification_status))),
    !approved && h('p', {
      class: 'notice',
      'data-kind': profile.verification_status === 'REJECTED' ? 'bad' : null,
      role: 'status',
      id: 'mentor-status-note',
    },
    STATUS_TEXT[profile.verification_status] || '',
    profile.verification_reason ? ` Reason: ${profile.verification_reason}` : ''),
    statsBox, h('h2', { class: 'sr-only' }, 'Sections'), bar, panel);
  await refreshStats.now();
  stopView = views.leads();
  if (!approved) {
    // The decision arrives on the mentor's own topic: the dashboard redraws for it.
    ctx.onLeave(ctx.live.subscribe(`user:${ctx.user.user_id}`, {
      event: async (event) => {
        if (event.type !== 'mentor_status_changed') return;
        const approved = event.verification_status === 'APPROVED';
        ctx.flash(approved
          ? 'Your mentor application was approved. Your lead feed is live.'
          : 'Your mentor application was not approved.', approved ? 'ok' : 'error');
        if (approved) {
          // The approval renewed the session: one request swaps the cookie, then the socket
          // reopens with it and may follow the lead feed.
          await api.get('/api/auth/me').catch(() => {});
          ctx.live.restart();
        }
        ctx.rerender();
      },
    }));
  }
}

/** Runs `fn` at most once per half second, however often it is asked. */
function debounced(fn, ctx) {
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));
  const run = () => fn().catch(() => {});
  return Object.assign(() => {
    clearTimeout(timer);
    timer = setTimeout(run, 500);
  }, { now: run });
}

function leadsView(ctx, state, panel, refreshStats) {
  const list = h('ul', { class: 'lead-list', id: 'lead-feed', 'aria-label': 'Leads' });
  const announce = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const priceOf = (lead) => lead.price_per_lead ?? state.events.find((e) => e.event_id === lead.event_id)?.price_per_lead;
  const draw = () => {
    const leads = [...state.leads.values()].sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
    fill(list, leads.length ? leads.map((lead) => leadItem(lead)) : h('li', { class: 'empty' }, 'No verified leads yet. New ones appear here as they are verified.'));
    for (const lead of leads) lead.arrived = false; // slide in once, not on every redraw
  };
  const leadItem = (lead) => {
    const price = priceOf(lead);
    const action = h('div', { class: 'row' });
    if (lead.status === 'VERIFIED') {
      const button = h('button', { type: 'button' }, price ? `Buy lead · ${money(price)}` : 'Buy lead');
      button.addEventListener('click', async () => {
        button.disabled = true;
        try {
          await buy(ctx, lead);
        } catch (error) {
          action.append(h('span', { class: 'field-error', role: 'alert' }, error.message));
        } finally {
          button.disabled = false;
        }
      });
      action.append(button);
    }
    const contact = lead.status === 'PURCHASED' && lead.email
      ? h('dl', { class: 'contact' },
        h('dt', {}, 'E-mail'), h('dd', {}, h('a', { href: `mailto:${lead.email}` }, lead.email)),
        h('dt', {}, 'Phone'), h('dd', {}, h('a', { href: `tel:${lead.phone}` }, lead.phone)),
        lead.message && [h('dt', {}, 'Message'), h('dd', {}, lead.message)])
      : h('p', { class: 'muted small' }, lead.status === 'VERIFIED' ? 'Contact hidden until you buy this lead.' : '');
    return h('li', {
      class: `lead${lead.arrived ? ' arrived' : ''}`,
      'data-lead-id': lead.lead_id,
      'data-status': lead.status,
    },
    h('div', { class: 'row spread' }, h('h3', {}, lead.name), statusChip(lead.status)),
    h('p', { class: 'meta' }, lead.event_title, ' · ', time(lead.created_at)),
    contact, action);
  };
  const merge = (lead, arrived) => {
    const known = state.leads.get(lead.lead_id);
    state.leads.set(lead.lead_id, { ...known, ...lead, arrived: arrived && !known });
  };
  const note = h('p', { class: 'muted small', id: 'feed-note' });

  let stop = () => {};
  let left = false;
  api.get('/api/mentor/leads').then((leads) => {
    if (left || !ctx.current()) return;
    for (const lead of leads) if (lead.status === 'VERIFIED' || lead.status === 'PURCHASED') merge(lead, false);
    draw();
    stop = ctx.live.subscribe(`mentor:${state.profile.mentor_id}`, {
      snapshot: (snapshot) => {
        for (const lead of snapshot.leads || []) merge(lead, false);
        draw();
      },
      event: (event) => {
        if (!event.lead) return;
        if (event.type === 'lead_updated' && !['VERIFIED', 'PURCHASED'].includes(event.lead.status)) {
          state.leads.delete(event.lead.lead_id);
        } else {
          merge(event.lead, event.type === 'lead_created');
          if (event.type === 'lead_created') {
            announce.textContent = `New lead for ${event.lead.event_title}`;
            ctx.notify(`New lead for ${event.lead.event_title}`);
          }
        }
        draw();
        refreshStats();
      },
      error: (_code, message) => { note.textContent = `Live updates unavailable: ${message}`; },
    });
  }).catch((error) => fill(list, h('li', { class: 'form-error', role: 'alert' }, error.message)));
  fill(panel, h('h2', {}, 'Leads'), h('p', { class: 'muted' }, 'Verified leads arrive here live, with contact details hidden until you buy them.'), note, announce, list);
  return () => {
    left = true;
    stop();
  };
}

/** `datetime-local` value for an RFC 3339 instant, in local time. */
function localInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function eventsView(ctx, state, panel, refreshStats) {
  const list = h('div', { class: 'table-wrap' });
  const editor = h('section', { class: 'card stack', id: 'event-editor', 'aria-labelledby': 'editor-title' });

  const reload = async () => {
    state.events = await api.get('/api/mentor/events');
    drawList();
    refreshStats();
  };
  const drawList = () => {
    if (state.events.length === 0) {
      fill(list, empty('No events yet. Create your first one below.'));
      return;
    }
    const table = dataTable({ caption: 'My events', headings: ['Event', 'When', 'Slots', 'Price per lead', ''] });
    fill(list, table.table);
    fill(table.body, state.events.map((event) => {
        const actions = h('div', { class: 'row' });
        const showActions = () => fill(actions,
          h('button', { type: 'button', class: 'secondary', onclick: () => drawEditor(event) }, 'Edit'),
          h('button', { type: 'button', class: 'secondary', onclick: confirmDelete }, 'Delete'));
        const confirmDelete = () => {
          const yes = h('button', { type: 'button', class: 'danger', onclick: remove }, 'Yes, delete');
          fill(actions, h('span', { class: 'small' }, 'Delete this event? '), yes,
            h('button', { type: 'button', class: 'link', onclick: showActions }, 'Keep'));
          yes.focus();
        };
        const remove = async () => {
          try {
            await api.delete(`/api/mentor/events/${encodeURIComponent(event.event_id)}`);
            ctx.flash(`“${event.title}” deleted.`);
            await reload();
          } catch (error) {
            fill(actions, h('span', { class: 'field-error', role: 'alert' }, error.message),
              h('button', { type: 'button', class: 'link', onclick: showActions }, 'OK'));
          }
        };
        showActions();
        return table.row({ 'data-event-id': event.event_id }, [
          [h('a', { href: `/events/${encodeURIComponent(event.event_id)}` }, event.title), h('div', { class: 'small muted' }, event.category)],
          time(event.event_datetime),
          `${event.total_slots - event.available_slots} booked of ${event.total_slots}`,
          money(event.price_per_lead),
          actions]);
      }));
  };
  const drawEditor = (event) => {
    const editing = Boolean(event);
    const form = h('form', { class: 'form', id: 'event-form' },
      field({ label: 'Title', name: 'title', required: true, minlength: 3, maxlength: 200, value: event?.title || '' }),
      field({ label: 'Category', name: 'category', required: true, maxlength: 100, value: event?.category || '', hint: 'e.g. Career, Data science, Design' }),
      field({ label: 'Description', name: 'description', as: 'textarea', maxlength: 5000, value: event?.description || '' }),
      field({ label: 'Date and time', name: 'event_datetime', type: 'datetime-local', required: true, 'data-future': true, value: event ? localInput(event.event_datetime) : '' }),
      field({ label: 'Duration (minutes)', name: 'duration', type: 'number', min: 1, required: true, value: String(event?.duration || 60) }),
      field({ label: 'Slots', name: 'available_slots', type: 'number', min: 1, required: true, value: String(event?.total_slots || 10), hint: editing ? 'Cannot go below the slots already booked.' : '' }),
      field({ label: 'Price per lead (₹)', name: 'price_per_lead', type: 'number', min: 1, required: true, value: String(event?.price_per_lead || 500), hint: 'What you pay to unlock one verified lead.' }),
      h('div', { class: 'row' },
        h('button', { type: 'submit' }, editing ? 'Save changes' : 'Create event'),
        editing && h('button', { type: 'button', class: 'secondary', onclick: () => drawEditor(null) }, 'Cancel edit')));
    bindForm(form, async (values) => {
      const when = new Date(values.event_datetime);
      const body = {
        title: values.title,
        category: values.category,
        description: values.description,
        event_datetime: Number.isNaN(when.getTime()) ? values.event_datetime : when.toISOString(),
        duration: Number(values.duration),
        available_slots: Number(values.available_slots),
        price_per_lead: Number(values.price_per_lead),
      };
      if (editing) {
        await api.put(`/api/mentor/events/${encodeURIComponent(event.event_id)}`, body);
        ctx.flash('Event updated.');
      } else {
        await api.post('/api/mentor/events', body);
        ctx.flash('Event created.');
      }
      drawEditor(null);
      await reload();
    });
    fill(editor, h('h2', { id: 'editor-title' }, editing ? `Edit “${event.title}”` : 'Create an event'), form);
    if (editing) form.elements.namedItem('title').focus();
  };
  drawList();
  if (state.profile.verification_status === 'APPROVED') {
    drawEditor(null);
  } else {
    // Events can be created once approved: say so rather than offer a form that fails.
    fill(editor, h('h2', { id: 'editor-title' }, 'Create an event'),
      h('p', { class: 'notice', id: 'events-after-approval' }, state.profile.verification_status === 'PENDING'
        ? 'You can create events as soon as an admin approves your application. This page updates by itself when they do.'
        : 'Events can be created by approved mentors only.'));
  }
  fill(panel, h('h2', {}, 'My events'), list, editor);
  return () => {};
}

function profileView(ctx, state, panel) {
  const p = state.profile;
  const form = h('form', { class: 'form', id: 'profile-form' },
    field({ label: 'Bio', name: 'bio', as: 'textarea', maxlength: 2000, value: p.bio }),
    field({ label: 'Expertise', name: 'expertise', value: p.expertise.join(', '), hint: 'Comma-separated, e.g. Rust, System design' }),
    field({ label: 'Experience', name: 'experience', value: p.experience, hint: 'e.g. 8 years at a fintech' }),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save profile')));
  bindForm(form, async (values) => {
    const result = await api.put('/api/mentor/profile', {
      bio: values.bio,
      experience: values.experience,
      expertise: values.expertise.split(',').map((s) => s.trim()).filter(Boolean),
    });
    state.profile = result.profile;
    ctx.flash('Profile saved.');
  });
  fill(panel,
    h('h2', {}, 'Profile'),
    h('dl', { class: 'details' }, h('dt', {}, 'Name'), h('dd', {}, p.name), h('dt', {}, 'E-mail'), h('dd', {}, p.email),
      h('dt', {}, 'Verification'), h('dd', {}, statusChip(p.verification_status))),
    form);
  return () => {};
}
