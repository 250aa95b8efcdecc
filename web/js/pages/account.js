// The signed-in account: where it is signed in (ending one session or all), and linking
// Google sign-in to it.

import { api, withQuery } from '../api.js';
import { append, fill, h, time } from '../dom.js';
import { session } from '../session.js';
import { bindForm, field } from '../forms.js';
import { dataTable, errorNote } from '../views.js';

export async function render(ctx) {
  ctx.title('Account');
  const list = h('div', { id: 'sessions' });
  const note = h('div', {});

  const draw = async () => {
    const sessions = await api.get('/api/auth/sessions');
    if (!ctx.current()) return;
    const table = dataTable({
      caption: 'Where you are signed in', headings: ['Device', 'Signed in', 'Last active', ''], showCaption: true,
    });
    fill(table.body, sessions.map((s) => table.row({ 'data-session': s.session_id }, [
      [s.device, s.current ? h('span', { class: 'small muted' }, ' (this browser)') : null],
      time(s.created_at),
      time(s.last_seen_at),
      s.current ? null : h('button', { type: 'button', class: 'secondary', onclick: () => end(s.session_id) }, 'Sign out'),
    ])));
    fill(list, table.wrap);
  };

  const end = async (id) => {
    try {
      await api.delete(`/api/auth/sessions/${encodeURIComponent(id)}`);
      ctx.flash('That session has ended.');
      await draw();
    } catch (error) {
      fill(note, errorNote(error.message));
    }
  };

  const everywhere = h('button', {
    type: 'button',
    class: 'danger',
    id: 'sign-out-everywhere',
    onclick: async () => {
      try {
        await api.post('/api/auth/logout-everywhere');
      } catch (error) {
        fill(note, errorNote(error.message));
        return;
      }
      session.ended();
      ctx.flash('You are signed out on every device.');
      ctx.navigate('/login');
    },
  }, 'Sign out everywhere');

  const google = ctx.config.google_sign_in
    ? h('section', { 'aria-labelledby': 'google-title' },
      h('h2', { id: 'google-title' }, 'Google sign-in'),
      h('p', {}, 'Link your Google account to sign in with it instead of your password.'),
      h('a', {
        class: 'button secondary',
        id: 'link-google',
        href: withQuery('/api/auth/google/start', { link: 'true', next: '/account' }),
      }, 'Link Google account'))
    : null;

  append(ctx.main,
    h('h1', {}, 'Account'),
    h('p', {}, `${ctx.user.name} · ${ctx.user.email} · ${ctx.user.role}`),
    note,
    list,
    h('p', {}, everywhere),
    google,
    ctx.user.role === 'ADMIN' ? null : closeAccount(ctx));
  await draw();
}

/** Closing the account, confirmed with the password (or a recent Google sign-in). */
function closeAccount(ctx) {
  const form = h('form', { class: 'form', id: 'close-account', 'aria-labelledby': 'close-title' },
    h('h2', { id: 'close-title' }, 'Close account'),
    h('p', {}, 'Your live bookings are cancelled and you are signed out everywhere. Leads a mentor has already bought stay with them.'),
    field({
      label: 'Password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      hint: ctx.config.google_sign_in ? 'Signed up with Google? Leave it empty; if asked, sign in with Google again first.' : null,
    }),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'danger' }, 'Close my account')));
  bindForm(form, async ({ password }) => {
    await api.delete('/api/auth/me', password ? { password } : {});
    session.ended();
    ctx.flash('Your account is closed.');
    ctx.navigate('/');
  });
  return form;
}
