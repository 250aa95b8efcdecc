// The admin's dashboard: the live verification queue, analytics, mentor applications, users
// and the audit log.

import { api, withQuery } from '../api.js';
import { append, fill, h, money, statusChip, tabs, time } from '../dom.js';
import { bindForm, datesOutOfOrder, field, noDefaultDecision } from '../forms.js';
import { dataTable, empty, errorNote, loadMore, statTiles } from '../views.js';

// Claims are two-minute leases; the page renews the ones it holds well before they lapse.
const RENEW_MS = 60_000;

export async function render(ctx) {
  ctx.title('Admin dashboard');
  const panel = h('div', { id: 'tab-panel', role: 'tabpanel', 'aria-labelledby': 'tab-queue' });
  const views = { queue: queueView, analytics: analyticsView, mentors: mentorsView, users: usersView, audit: auditView };
  let stopView = null;
  const { bar } = tabs([
    { id: 'queue', label: 'Verification queue' },
    { id: 'analytics', label: 'Analytics' },
    { id: 'mentors', label: 'Mentor applications' },
    { id: 'users', label: 'Users' },
    { id: 'audit', label: 'Audit log' },
  ], (id) => {
    stopView?.();
    stopView = views[id](ctx, panel) || null;
  }, 'queue');
  ctx.onLeave(() => stopView?.());
  append(ctx.main, h('h1', {}, 'Admin dashboard'), bar, panel);
  stopView = queueView(ctx, panel);
}

function queueView(ctx, panel) {
  const me = ctx.user.user_id;
  const items = new Map(); // lead_id → queue item (with live `claim`)
  const details = new Map(); // lead_id → the full lead (contact) from the admin listing
  const list = h('ul', { class: 'lead-list', id: 'queue', 'aria-label': 'Leads waiting for review' });
  const summary = h('p', { class: 'muted', id: 'queue-summary', role: 'status', 'aria-live': 'polite' });
  const drawn = new Map(); // lead_id → { node, key }: items are rebuilt only when they change
  let more = false;

  const loadDetails = async () => {
    const page = await api.page(withQuery('/api/admin/leads', { status: 'PENDING', limit: 100 }));
    for (const lead of page.items) details.set(lead.lead_id, lead);
    draw();
  };
  const draw = () => {
    const queue = [...items.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    summary.textContent = `${queue.length}${more ? '+' : ''} lead${queue.length === 1 ? '' : 's'} waiting for review.`;
    if (queue.length === 0) {
      drawn.clear();
      fill(list, h('li', { class: 'empty' }, 'The queue is empty. New leads that need a look appear here live.'));
      return;
    }
    // Update in place, so a reason being typed (and the focus) survives others' news.
    const nodes = queue.map((entry) => {
      const key = itemKey(entry);
      const known = drawn.get(entry.lead_id);
      if (known && known.key === key) return known.node;
      const node = item(entry);
      known?.node.replaceWith(node);
      drawn.set(entry.lead_id, { node, key });
      return node;
    });
    for (const id of drawn.keys()) if (!items.has(id)) drawn.delete(id);
    list.querySelector(':scope > .empty')?.remove();
    nodes.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
  };
  const liveClaim = (entry) => (entry.claim && Date.parse(entry.claim.expires_at) > Date.now() ? entry.claim : null);
  const itemKey = (entry) => {
    const claim = liveClaim(entry);
    const holder = !claim ? 'none' : claim.admin_id === me ? 'me' : 'other';
    // Renewing one's own lease must not rebuild the form one is typing in.
    return JSON.stringify([holder, holder === 'other' && claim.expires_at, details.has(entry.lead_id)]);
  };
  const item = (entry) => {
    const claim = liveClaim(entry);
    const mine = claim && claim.admin_id === me;
    const other = claim && !mine;
    const lead = details.get(entry.lead_id);
    const actions = h('div', { class: 'stack' });
    if (other) {
      actions.append(h('p', { class: 'claim-note' }, 'Being reviewed by another admin until ', time(claim.expires_at), '.'));
    } else if (!mine) {
      actions.append(h('button', { type: 'button', class: 'secondary', onclick: () => act(() => api.post(claimPath(entry), undefined), actions) }, 'Claim for review'));
    } else {
      const form = h('form', { class: 'form' },
        noDefaultDecision(),
        field({ label: 'Reason (required to reject)', name: 'reason', maxlength: 500 }),
        h('div', { class: 'row' },
          h('button', { type: 'submit', name: 'decision', value: 'VERIFIED' }, 'Verify'),
          h('button', { type: 'submit', name: 'decision', value: 'REJECTED', class: 'danger' }, 'Reject'),
          h('button', { type: 'button', class: 'link', onclick: () => act(() => api.delete(claimPath(entry)), actions) }, 'Release')));
      bindForm(form, async ({ reason, decision }) => {
        await api.put(`/api/admin/leads/${encodeURIComponent(entry.lead_id)}/verify`, { status: decision, reason: reason || null });
        ctx.flash(decision === 'VERIFIED' ? 'Lead verified; the mentor sees it now.' : 'Lead rejected; its slot is free again.');
      });
      actions.append(h('p', { class: 'small ok' }, 'You are reviewing this lead.'), form);
    }
    return h('li', { class: 'lead', 'data-lead-id': entry.lead_id, 'data-claimed': mine ? 'me' : other ? 'other' : 'none' },
      h('div', { class: 'row spread' }, h('h3', {}, entry.event_title), h('span', { class: 'small muted' }, time(entry.created_at))),
      h('p', { class: 'row' }, entry.verification_notes.map((n) => h('span', { class: 'tag' }, n.replaceAll('_', ' ').toLowerCase()))),
      lead
        ? h('dl', { class: 'small' },
          h('dt', {}, 'Learner'), h('dd', {}, lead.name),
          h('dt', {}, 'E-mail'), h('dd', {}, lead.email),
          h('dt', {}, 'Phone'), h('dd', {}, lead.phone),
          lead.message && [h('dt', {}, 'Message'), h('dd', {}, lead.message)])
        : h('p', { class: 'muted small' }, 'Loading contact details…'),
      actions);
  };
  const act = async (fn, where) => {
    try {
      await fn();
    } catch (error) {
      where.append(h('p', { class: 'field-error', role: 'alert' }, error.message));
    }
  };
  const claimPath = (entry) => `/api/admin/leads/${encodeURIComponent(entry.lead_id)}/claim`;

  const renew = setInterval(() => {
    for (const entry of items.values()) {
      if (entry.claim && entry.claim.admin_id === me) api.post(claimPath(entry), undefined).catch(() => {});
    }
  }, RENEW_MS);
  const expiry = setInterval(draw, 15_000); // a lapsed lease frees the item even without news
  const stop = ctx.live.subscribe('admin:queue', {
    snapshot: (snapshot) => {
      items.clear();
      for (const entry of snapshot.items || []) items.set(entry.lead_id, entry);
      more = Boolean(snapshot.more);
      draw();
      loadDetails().catch(() => {});
    },
    event: (event) => {
      const entry = items.get(event.lead_id);
      switch (event.type) {
        case 'queue_item_added':
          items.set(event.lead_id, { ...event, claim: null });
          ctx.notify(`New lead to review: ${event.event_title}`);
          loadDetails().catch(() => {});
          break;
        case 'queue_item_claimed':
          if (entry) entry.claim = { lead_id: event.lead_id, admin_id: event.admin_id, expires_at: event.expires_at };
          break;
        case 'queue_item_released':
          if (entry) entry.claim = null;
          break;
        case 'queue_item_resolved':
          items.delete(event.lead_id);
          details.delete(event.lead_id);
          break;
        default:
          return;
      }
      draw();
    },
  });
  fill(panel, h('h2', {}, 'Verification queue'),
    h('p', { class: 'muted' }, 'Leads the automatic checks flagged. Claim one to review it; other admins see it as taken.'),
    summary, list);
  draw();
  return () => {
    stop();
    clearInterval(renew);
    clearInterval(expiry);
  };
}

function analyticsView(ctx, panel) {
  const tiles = h('div', { class: 'stats', id: 'analytics' });
  const chart = h('figure', { class: 'chart' });
  const days = h('div', { class: 'day-charts', id: 'daily' });
  fill(panel, h('h2', {}, 'Analytics'), tiles, chart, h('h3', {}, 'The last 30 days'), days);
  const load = async () => {
    const [a, daily] = await Promise.all([api.get('/api/admin/analytics'), api.get('/api/admin/analytics/daily?days=30')]);
    fill(days, [
      ['Bookings', 'bookings', String],
      ['Verified leads', 'verified', String],
      ['Purchases', 'purchases', String],
      ['Revenue', 'revenue', money],
    ].map(([label, key, show]) => dayChart(label, daily.map((d) => [d.day, d[key]]), show)));
    fill(tiles, statTiles([
      ['Learners', a.total_learners], ['Mentors', a.total_mentors], ['Pending mentors', a.pending_mentors],
      ['Events', a.total_events], ['Leads', a.total_leads], ['Pending leads', a.pending_leads],
      ['Verified leads', a.verified_leads], ['Purchased leads', a.purchased_leads], ['Revenue', money(a.total_revenue)],
    ]));
    // Each lead once, in the state it is in now.
    fill(chart, barChart([
      ['Pending', a.pending_leads], ['For sale', a.verified_leads - a.purchased_leads], ['Purchased', a.purchased_leads],
      ['Rejected', a.rejected_leads], ['Cancelled', a.cancelled_leads],
    ]), h('figcaption', { class: 'small muted' }, 'Leads by state now'));
  };
  load().catch((error) => fill(tiles, errorNote(error.message)));
  // Decisions and new leads change the numbers: follow the queue and refresh (at most every 2 s).
  let timer = null;
  const stop = ctx.live.subscribe('admin:queue', {
    event: () => {
      clearTimeout(timer);
      timer = setTimeout(() => load().catch(() => {}), 2000);
    },
  });
  return () => {
    stop();
    clearTimeout(timer);
  };
}

/**
 * One bar per day as SVG, with the total and the busiest day in words for screen readers
 * (and as its caption).
 */
function dayChart(label, points, show) {
  const max = Math.max(1, ...points.map(([, v]) => v));
  const total = points.reduce((sum, [, v]) => sum + v, 0);
  const [busiestDay, busiest] = points.reduce((best, p) => (p[1] > best[1] ? p : best), ['', 0]);
  const said = busiest > 0
    ? `${label}: ${show(total)} in ${points.length} days; most on ${busiestDay} (${show(busiest)})`
    : `${label}: none in ${points.length} days`;
  const width = 300;
  const height = 60;
  const step = width / points.length;
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': said, 'data-total': String(total) });
  points.forEach(([, value], i) => {
    const bar = Math.round(((height - 4) * value) / max);
    svg.append(h('svg:rect', { x: (i * step + 1).toFixed(1), y: height - Math.max(bar, 1), width: Math.max(step - 2, 1).toFixed(1), height: Math.max(bar, 1), rx: 1, fill: value ? '#1746a2' : '#d5dbe2' }));
  });
  return h('figure', { class: 'chart day-chart', 'data-series': label }, svg, h('figcaption', { class: 'small' }, said));
}

/** A horizontal bar chart as SVG, labelled for screen readers. */
function barChart(rows) {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  const width = 520;
  const rowHeight = 34;
  const svg = h('svg:svg', {
    viewBox: `0 0 ${width} ${rows.length * rowHeight}`,
    role: 'img',
    'aria-label': rows.map(([label, v]) => `${label}: ${v}`).join(', '),
  });
  rows.forEach(([label, value], i) => {
    const y = i * rowHeight;
    const barWidth = Math.round(((width - 170) * value) / max);
    svg.append(
      h('svg:text', { x: 0, y: y + 21 }, label),
      h('svg:rect', { x: 90, y: y + 6, width: Math.max(barWidth, 2), height: 22, rx: 4, fill: '#1746a2' }),
      h('svg:text', { x: 96 + Math.max(barWidth, 2), y: y + 21 }, String(value)));
  });
  return svg;
}

function mentorsView(ctx, panel) {
  const body = h('div', { class: 'table-wrap', id: 'mentor-applications' });
  const filter = field({ label: 'Show', name: 'status', as: 'select', value: 'PENDING', options: [['PENDING', 'Waiting for review'], ['APPROVED', 'Approved'], ['REJECTED', 'Rejected'], ['', 'All']] });
  const load = async () => {
    const status = filter.querySelector('select').value;
    const mentors = await api.get(withQuery('/api/admin/mentors', { status }));
    if (mentors.length === 0) {
      fill(body, empty('No mentors here.'));
      return;
    }
    const table = dataTable({ caption: 'Mentor applications', headings: ['Mentor', 'Expertise', 'Status', 'Applied', 'Decision'] });
    fill(body, table.table);
    fill(table.body, mentors.map((m) => {
        const form = h('form', { class: 'row' },
          noDefaultDecision(),
          field({ label: 'Reason', name: 'reason', maxlength: 500, placeholder: 'Required to reject' }),
          m.verification_status !== 'APPROVED' && h('button', { type: 'submit', name: 'decision', value: 'APPROVED' }, 'Approve'),
          m.verification_status !== 'REJECTED' && h('button', { type: 'submit', name: 'decision', value: 'REJECTED', class: 'danger' }, m.verification_status === 'APPROVED' ? 'Revoke' : 'Reject'));
        bindForm(form, async ({ reason, decision }) => {
          await api.put(`/api/admin/mentors/${encodeURIComponent(m.mentor_id)}/verify`, { status: decision, reason: reason || null });
          ctx.flash(`${m.name}: ${decision === 'APPROVED' ? 'approved' : 'not approved'}.`);
          await load();
        });
        return table.row({ 'data-mentor-id': m.mentor_id }, [
          [m.name, h('div', { class: 'small muted' }, m.email), m.bio && h('div', { class: 'small' }, m.bio)],
          [m.expertise.join(', ') || '—', m.experience && h('div', { class: 'small muted' }, m.experience)],
          statusChip(m.verification_status),
          h('span', { class: 'small' }, time(m.created_at)),
          form]);
      }));
  };
  const show = () => load().catch((error) => fill(body, errorNote(error.message)));
  filter.querySelector('select').addEventListener('change', show);
  fill(panel, h('h2', {}, 'Mentor applications'), h('div', { class: 'form' }, filter), body);
  show();
}

/**
 * A paged table: `columns` are [heading, row → cell content]; `key` names a row; `filters`
 * are fields whose values go with each request (a change starts the list again). Loading
 * the next page appends only rows not shown yet, and there is nothing to load past the last.
 */
function pagedTable(panel, title, path, columns, id, key, filters = []) {
  const table = dataTable({ caption: title, headings: columns.map(([heading]) => heading), tableId: id });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': `Filter ${title.toLowerCase()}` }, filters);
  const status = h('p', { class: 'muted small', role: 'status' });
  let shown = new Set();
  let cursor = null;
  let loading = null;
  let round = 0;
  const more = loadMore(() => load());
  const load = () => {
    const mine = round;
    if (loading) return loading;
    const request = (async () => {
      const wanted = Object.fromEntries(new FormData(form).entries());
      const page = await api.page(withQuery(path, { ...wanted, limit: 50, cursor }));
      if (mine !== round) return; // the filters changed meanwhile
      const fresh = page.items.filter((row) => !shown.has(key(row)));
      for (const row of fresh) shown.add(key(row));
      table.body.append(...fresh.map((row) => table.row({}, columns.map(([, cell]) => cell(row)))));
      cursor = page.next;
      more.hidden = !cursor;
      status.textContent = shown.size > 0 ? ''
        : cursor ? 'No match among those read so far: Load more looks further.' : 'Nothing matches.';
    })().finally(() => { if (loading === request) loading = null; });
    loading = request;
    return request;
  };
  let debounce = null;
  const restart = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      if (form.elements.namedItem('to') && datesOutOfOrder(form)) return;
      round += 1;
      loading = null;
      shown = new Set();
      cursor = null;
      fill(table.body);
      load().catch((error) => fill(status, errorNote(error.message)));
    }, 250);
  };
  form.addEventListener('input', restart);
  form.addEventListener('submit', (e) => { e.preventDefault(); restart(); });
  fill(panel, h('h2', {}, title), filters.length ? form : null, status, table.wrap, h('p', {}, more));
  load().catch((error) => fill(panel, errorNote(error.message)));
  return () => clearTimeout(debounce);
}

function usersView(ctx, panel) {
  return pagedTable(panel, 'Users', '/api/admin/users', [
    ['Name', (u) => u.name],
    ['E-mail', (u) => u.email],
    ['Role', (u) => h('span', { class: 'tag' }, u.role)],
    ['Joined', (u) => time(u.created_at)],
  ], 'users', (u) => u.user_id, [
    h('div', { class: 'search' }, field({ label: 'Search users', name: 'q', type: 'search', placeholder: 'Name or e-mail' })),
    field({ label: 'Role', name: 'role', as: 'select', options: [['', 'Everyone'], ['USER', 'Learners'], ['MENTOR', 'Mentors'], ['ADMIN', 'Admins']] }),
  ]);
}

const AUDIT_ACTIONS = [
  ['MENTOR_APPROVED', 'Mentor approved'], ['MENTOR_REJECTED', 'Mentor turned down'],
  ['LEAD_VERIFIED', 'Lead verified'], ['LEAD_REJECTED', 'Lead rejected'],
  ['PAYMENT_CREATED', 'Payment opened'], ['PAYMENT_COMPLETED', 'Payment completed'],
  ['PAYMENT_FAILED', 'Payment failed'], ['PAYMENT_REFUND_DUE', 'Refund due'],
  ['ACCOUNT_CLOSED', 'Account closed'],
];

function auditView(ctx, panel) {
  const actors = field({ label: 'By', name: 'actor_id', as: 'select', options: [['', 'Anyone'], ['razorpay_webhook', 'Razorpay'], ['system', 'LeadBridge']] });
  // Admins by name, for the By filter.
  api.page(withQuery('/api/admin/users', { role: 'ADMIN', limit: 100 })).then((page) => {
    const select = actors.querySelector('select');
    for (const admin of page.items) select.append(h('option', { value: admin.user_id }, admin.name));
  }).catch(() => {});
  return pagedTable(panel, 'Audit log', '/api/admin/audit-log', [
    ['When', (e) => time(e.created_at)],
    ['What happened', (e) => [e.summary, h('div', {}, h('span', { class: 'tag' }, e.action.replaceAll('_', ' ').toLowerCase()))]],
    ['Reason', (e) => e.reason || '—'],
  ], 'audit-log', (e) => e.audit_id, [
    field({ label: 'Action', name: 'action', as: 'select', options: [['', 'All actions'], ...AUDIT_ACTIONS] }),
    actors,
    field({ label: 'From', name: 'from', type: 'date' }),
    field({ label: 'To', name: 'to', type: 'date' }),
  ]);
}
