// Sign in and sign up.

import { withQuery } from '../api.js';
import { append, h } from '../dom.js';
import { bindForm, field } from '../forms.js';
import { landingFor, session } from '../session.js';

/** A same-site path to return to after signing in, or null. */
function nextPath(query) {
  const next = query.get('next');
  if (!next || !next.startsWith('/')) return null;
  const url = new URL(next, location.origin);
  return url.origin === location.origin ? url.pathname + url.search : null;
}

/** Why a Google sign-in came back to the sign-in page (`?error=CODE`). */
const GOOGLE_ERRORS = {
  GOOGLE_EMAIL_IN_USE: 'An account with this e-mail exists. Sign in with its password, then link Google from your account page.',
  GOOGLE_ACCOUNT_IN_USE: 'That Google account is linked to another LeadBridge account.',
  GOOGLE_EMAIL_UNVERIFIED: 'Google has not verified this e-mail address yet.',
  GOOGLE_SIGN_IN_CANCELLED: 'Google sign-in was cancelled.',
  OIDC_STATE_INVALID: 'That Google sign-in expired or was already used. Please try again.',
  IDENTITY_PROVIDER_ERROR: 'Google sign-in is unavailable right now. Try again, or use your password.',
  RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
};

/** "Continue with Google", when this server offers it. */
function googleButton(ctx, params = {}) {
  if (!ctx.config.google_sign_in) return null;
  const href = withQuery('/api/auth/google/start', { next: nextPath(ctx.query), ...params });
  return h('p', { class: 'alt-sign-in' },
    h('a', { href, class: 'button secondary', id: 'google-sign-in' }, 'Continue with Google'));
}

function googleError(ctx) {
  const code = ctx.query.get('error');
  if (!code) return null;
  const message = GOOGLE_ERRORS[code] || 'Google sign-in did not work. Please try again.';
  return h('p', { class: 'form-error', role: 'alert', id: 'google-error' }, message);
}

export const login = {
  render(ctx) {
    ctx.title('Sign in');
    const form = h('form', { class: 'form', 'aria-labelledby': 'login-title' },
      field({ label: 'E-mail', name: 'email', type: 'email', autocomplete: 'email', required: true }),
      field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Sign in')));
    bindForm(form, async ({ email, password }) => {
      const user = await session.signIn(email, password);
      ctx.flash(`Welcome back, ${user.name}.`);
      ctx.navigate(nextPath(ctx.query) || landingFor(user));
    });
    append(ctx.main,
      h('h1', { id: 'login-title' }, 'Sign in'),
      googleError(ctx),
      form,
      googleButton(ctx),
      h('p', {}, 'New here? ', h('a', { href: withNext('/signup', ctx.query) }, 'Create an account')));
  },
};

export const signup = {
  render(ctx) {
    ctx.title('Sign up');
    const role = ctx.query.get('role') === 'MENTOR' ? 'MENTOR' : 'USER';
    const form = h('form', { class: 'form', 'aria-labelledby': 'signup-title' },
      field({ label: 'Full name', name: 'name', autocomplete: 'name', required: true, maxlength: 100 }),
      field({ label: 'E-mail', name: 'email', type: 'email', autocomplete: 'email', required: true }),
      field({
        label: 'Password',
        name: 'password',
        type: 'password',
        autocomplete: 'new-password',
        required: true,
        minlength: 8,
        hint: 'At least 8 characters; not a common password.',
      }),
      h('fieldset', { class: 'field' },
        h('legend', {}, 'I want to'),
        h('div', { class: 'radio-row' },
          h('label', {}, h('input', { type: 'radio', name: 'role', value: 'USER', checked: role === 'USER' }), 'Book sessions (learner)'),
          h('label', {}, h('input', { type: 'radio', name: 'role', value: 'MENTOR', checked: role === 'MENTOR' }), 'Host events (mentor)'))),
      h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Create account')));
    bindForm(form, async (values) => {
      const user = await session.register(values);
      ctx.flash(user.role === 'MENTOR'
        ? 'Account created. An admin reviews mentor applications; complete your profile meanwhile.'
        : `Welcome, ${user.name}.`);
      ctx.navigate(nextPath(ctx.query) || landingFor(user));
    });
    const googleSignUp = googleButton(ctx, { role });
    // The account Google creates takes the role picked above.
    form.addEventListener('change', () => {
      const link = googleSignUp && googleSignUp.querySelector('a');
      const picked = form.elements.role.value;
      if (link) link.href = withQuery('/api/auth/google/start', { next: nextPath(ctx.query), role: picked });
    });
    append(ctx.main,
      h('h1', { id: 'signup-title' }, 'Create your account'),
      form,
      googleSignUp,
      h('p', {}, 'Already have an account? ', h('a', { href: withNext('/login', ctx.query) }, 'Sign in')));
  },
};

function withNext(path, query) {
  const next = nextPath(query);
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}
