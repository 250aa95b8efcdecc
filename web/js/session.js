// Who is signed in. The session itself is the HttpOnly cookie the API sets; this only mirrors
// the account it belongs to, so pages can show the right things.

import { api } from './api.js';

const listeners = new Set();

export const session = {
  /** The signed-in account (`GET /api/auth/me`), or null. */
  user: null,

  async load() {
    this.user = (await api.get('/api/auth/session')).user;
    notify();
    return this.user;
  },

  async signIn(email, password) {
    this.user = strip(await api.post('/api/auth/login', { email, password }));
    notify();
    return this.user;
  },

  async register(values) {
    this.user = strip(await api.post('/api/auth/register', values));
    notify();
    return this.user;
  },

  async signOut() {
    try {
      await api.post('/api/auth/logout');
    } finally {
      this.ended();
    }
  },

  /** The server ended the session (logout elsewhere, expiry). */
  ended() {
    if (this.user === null) return;
    this.user = null;
    notify();
  },

  /** Calls `fn(user)` whenever the signed-in account changes. */
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

// The page keeps no bearer token: the cookie authenticates every request and the socket.
function strip(signedIn) {
  const { access_token: _token, token_type: _type, expires_in: _expires, ...user } = signedIn;
  return user;
}

function notify() {
  for (const fn of listeners) fn(session.user);
}

/** Where each role starts. */
export function landingFor(user) {
  if (!user) return '/';
  return { USER: '/user/dashboard', MENTOR: '/mentor/dashboard', ADMIN: '/admin/dashboard' }[user.role] || '/';
}
