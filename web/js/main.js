// Start-up: who is signed in, the live connection, the navigation bar and the page router.

import { api, ApiError } from './api.js';
import { fill, h } from './dom.js';
import { Live } from './live.js';
import { match, navigate, onNavigate } from './router.js';
import { landingFor, session } from './session.js';
import { errorNote } from './views.js';
import * as account from './pages/account.js';
import * as admin from './pages/admin.js';
import * as auth from './pages/auth.js';
import * as checkout from './pages/checkout.js';
import * as event from './pages/event.js';
import * as events from './pages/events.js';
import * as learner from './pages/learner.js';
import * as mentor from './pages/mentor.js';

const routes = [
  { path: '/', page: events },
  { path: '/events/:id', page: event },
  { path: '/login', page: auth.login, guest: true },
  { path: '/signup', page: auth.signup, guest: true },
  { path: '/user/dashboard', page: learner, role: 'USER' },
  { path: '/mentor/dashboard', page: mentor, role: 'MENTOR' },
  { path: '/admin/dashboard', page: admin, role: 'ADMIN' },
  { path: '/checkout/:orderId', page: checkout, role: 'MENTOR' },
  { path: '/account', page: account, signedIn: true },
];

const main = document.getElementById('main');
const badge = document.getElementById('live-badge');
const flashBox = document.getElementById('flash');
let cleanups = [];
let generation = 0;
let flashTimer = null;
let config = { payments: 'simulated' };
/** Tries in a row that found the server unreachable; the next waits longer. */
let failures = 0;

const BADGE_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };

const live = new Live({
  onState: (state) => {
    badge.dataset.state = state;
    badge.textContent = BADGE_TEXT[state];
    badge.title = state === 'live' ? 'Updates arrive as they happen' : 'Live updates paused; catching up when back';
  },
  onSessionEnded: () => {
    if (!session.user) return;
    session.ended();
    flash('Your session ended. Please sign in again.', 'error');
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  },
  onRevoked: () => {
    flash('Your access changed. The page has been refreshed.', 'error');
    render();
  },
});

const toasts = document.getElementById('toasts');
let titleText = 'LeadBridge';
let unseen = 0;

function showTitle() {
  document.title = `${unseen ? `(${unseen}) ` : ''}${titleText} — LeadBridge`;
}

/** The person looked (came back to the tab, or used the page): nothing is unseen now. */
function seen() {
  if (!unseen) return;
  unseen = 0;
  showTitle();
}
document.addEventListener('visibilitychange', () => { if (!document.hidden) seen(); });
for (const kind of ['pointerdown', 'keydown']) document.addEventListener(kind, seen, { capture: true });

/**
 * News for the person on the page, arrived live: a short toast (read out by screen readers)
 * and a count in the tab's title until they look.
 */
function notify(message) {
  const toast = h('p', { class: 'toast' }, message);
  toasts.append(toast);
  setTimeout(() => toast.remove(), 6000);
  while (toasts.children.length > 3) toasts.firstElementChild.remove();
  unseen += 1;
  showTitle();
}

/** A short message at the top of the page that survives one navigation. */
function flash(message, kind = 'ok') {
  flashBox.textContent = message;
  flashBox.dataset.kind = kind;
  flashBox.hidden = false;
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { flashBox.hidden = true; }, 7000);
}

function renderNav(user) {
  const nav = document.getElementById('nav');
  const items = [h('a', { href: '/' }, 'Events')];
  if (user) {
    const label = { USER: 'My bookings', MENTOR: 'Mentor dashboard', ADMIN: 'Admin dashboard' }[user.role];
    items.push(h('a', { href: landingFor(user) }, label));
    items.push(h('a', { href: '/account' }, 'Account'));
    items.push(h('span', { class: 'who' }, `Signed in as ${user.name}`));
    items.push(h('button', {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        await session.signOut().catch(() => {});
        flash('You are signed out.');
        navigate('/');
      },
    }, 'Sign out'));
  } else {
    items.push(h('a', { href: '/login' }, 'Sign in'));
    items.push(h('a', { href: '/signup', class: 'button' }, 'Sign up'));
  }
  fill(nav, items);
}

async function render() {
  for (const fn of cleanups.splice(0)) fn();
  const mine = ++generation;
  const current = () => mine === generation;
  const found = match(routes, location.pathname);
  const user = session.user;
  if (found && found.route.signedIn && !user) {
    navigate(`/login?next=${encodeURIComponent(location.pathname)}`, { replace: true });
    return;
  }
  if (found && found.route.role && (!user || user.role !== found.route.role)) {
    const next = encodeURIComponent(location.pathname + location.search);
    navigate(user ? landingFor(user) : `/login?next=${next}`, { replace: true });
    return;
  }
  if (found && found.route.guest && user) {
    navigate(landingFor(user), { replace: true });
    return;
  }
  // The page builds in its own container, shown only if no newer navigation replaced it.
  const container = h('div', {});
  const ctx = {
    main: container,
    params: found ? found.params : {},
    query: new URLSearchParams(location.search),
    user,
    live,
    config,
    flash,
    navigate,
    /** Builds the page again (its data changed in a way a patch cannot follow). */
    rerender: () => { if (current()) render(); },
    /** Whether this page is still the one shown (false once the user navigated on). */
    current,
    /** Runs `fn` when the page is left (unsubscribe, stop timers); at once if already left. */
    onLeave: (fn) => (current() ? cleanups.push(fn) : fn()),
    title: (text) => {
      if (!current()) return;
      titleText = text;
      showTitle();
    },
    notify,
  };
  fill(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    if (!found) {
      ctx.title('Not found');
      fill(container, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '/' }, 'Browse events')));
    } else {
      await found.route.page.render(ctx);
    }
    failures = 0;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      ctx.title('Not found');
      fill(container, h('h1', {}, 'Not found'), h('p', {}, error.message),
        h('p', {}, h('a', { href: '/' }, 'Browse events')));
    } else if (error instanceof ApiError && (error.status === 0 || error.status >= 500)) {
      ctx.title('Unreachable');
      unreachable(container, current, render, error.status === 0);
    } else {
      // A refusal says so; a fault in the page itself is shown, and logged for whoever debugs.
      if (!(error instanceof ApiError)) console.error(error);
      fill(container, h('h1', {}, 'Something went wrong'), errorNote(error.message),
        h('p', {}, h('a', { href: '/' }, 'Browse events')));
    }
  }
  if (!current()) return;
  fill(main, container);
  main.focus({ preventScroll: true });
}

/**
 * The server could not be reached (or failed): say so, try again by itself after a pause
 * that grows with each failure (2 s up to 30 s), and offer to try at once.
 */
function unreachable(container, current, retry, silent = true) {
  const wait = Math.min(30, 2 ** Math.min(++failures, 5));
  const countdown = h('span', { 'aria-hidden': 'true' }, String(wait));
  const now = h('button', { type: 'button', id: 'retry-now' }, 'Try again now');
  let left = wait;
  const tick = setInterval(() => {
    left -= 1;
    countdown.textContent = String(Math.max(left, 0));
    if (left > 0 && current()) return;
    clearInterval(tick);
    if (current()) retry();
  }, 1000);
  now.addEventListener('click', () => {
    clearInterval(tick);
    now.disabled = true;
    retry();
  });
  // Said once to screen readers; the countdown beside it is for the eye.
  fill(container,
    h('h1', {}, silent ? 'LeadBridge is unreachable' : 'LeadBridge is having trouble'),
    h('p', { id: 'retry-status' },
      h('span', { role: 'status' }, silent ? 'We could not reach the server. ' : 'The server could not answer just now. '),
      'Trying again in ', countdown, ' s…'),
    h('p', {}, now));
}

let starting = false;

async function start() {
  if (starting) return;
  starting = true;
  try {
    config = await api.get('/api/config');
    await session.load();
    failures = 0;
  } catch {
    starting = false;
    const container = h('div', {});
    const mine = generation;
    unreachable(container, () => mine === generation, start);
    fill(main, container);
    return;
  }
  renderNav(session.user);
  session.onChange((user) => {
    renderNav(user);
    live.restart();
  });
  live.start();
  onNavigate(render);
  await render();
}

start();
