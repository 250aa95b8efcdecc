// Changes people did not make themselves show on the pages they have open: an event moved
// or removed by its mentor, a mentor's application decided by an admin.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminToken, call, launch, live, mentorWithEvent, open, PASSWORD, register, screenshot, signIn, unique } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const contact = () => ({
  name: 'Rhea Rao',
  email: `${unique('rhea')}@contact-example.org`,
  phone: `+91 9${String(Date.now()).slice(-9)}`,
  message: '',
});

test('a learner sees a reschedule on their bookings, and a removed event stops taking bookings', async () => {
  const { mentor, event } = await mentorWithEvent('Rita Rescheduler', 3);
  const learner = await register('USER', 'Rhea Rebooked');
  await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, contact());

  // On a phone, the learner has their bookings open.
  const phone = await open(browser, { viewport: { width: 375, height: 800 } });
  await signIn(phone.page, learner);
  await phone.page.goto('/user/dashboard');
  await live(phone.page);
  await phone.page.locator(`tr[data-lead-id]`).first().waitFor();

  const later = new Date(Date.now() + 9 * 86_400_000).toISOString();
  await call(mentor.token, 'PUT', `/api/mentor/events/${event.event_id}`, {
    title: event.title,
    description: event.description,
    category: event.category,
    event_datetime: later,
    duration: event.duration,
    available_slots: event.total_slots,
    price_per_lead: event.price_per_lead,
  });
  const note = phone.page.locator('[data-note]');
  await note.filter({ hasText: 'Rescheduled to' }).waitFor();
  assert.equal(await note.getAttribute('role'), 'status', 'screen readers hear the note');
  await screenshot(phone.page, 'bookings-rescheduled-375');

  // Someone is reading another event of the mentor's when it is deleted.
  const other = await call(mentor.token, 'POST', '/api/mentor/events', {
    title: unique('Gone'),
    description: 'Soon removed.',
    category: 'Career',
    event_datetime: later,
    duration: 60,
    available_slots: 2,
    price_per_lead: 499,
  });
  const visitor = await open(browser);
  await visitor.page.goto(`/events/${other.event_id}`);
  await live(visitor.page);
  await call(mentor.token, 'DELETE', `/api/mentor/events/${other.event_id}`);
  await visitor.page.locator('#event-gone').waitFor();
  await phone.done();
  await visitor.done();
});

test('a pending mentor is told of the approval and the lead feed goes live without a reload', async () => {
  const mentor = await register('MENTOR', 'Pia Pending');
  const tab = await open(browser);
  await signIn(tab.page, mentor);
  assert.equal(new URL(tab.page.url()).pathname, '/mentor/dashboard');
  await live(tab.page);
  await tab.page.getByText('under review').waitFor();

  const profile = await call(mentor.token, 'GET', '/api/mentor/profile');
  await call(await adminToken(), 'PUT', `/api/admin/mentors/${profile.mentor_id}/verify`, { status: 'APPROVED' });
  await tab.page.getByText('Your mentor application was approved').waitFor();
  await tab.page.locator('#mentor-status-note').waitFor({ state: 'detached' });

  // The feed follows new leads at once: an event and a clean booking arrive live.
  const token = (await call(null, 'POST', '/api/auth/login', { email: mentor.email, password: PASSWORD })).access_token;
  const created = await call(token, 'POST', '/api/mentor/events', {
    title: unique('Fresh'),
    description: 'First event.',
    category: 'Career',
    event_datetime: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    duration: 60,
    available_slots: 2,
    price_per_lead: 499,
  });
  await live(tab.page);
  const learner = await register('USER', 'Lou Learner');
  const booked = await call(learner.token, 'POST', `/api/events/${created.event_id}/book`, contact());
  await tab.page.locator(`#lead-feed [data-lead-id="${booked.lead_id}"]`).waitFor();
  assert.equal(await tab.page.locator('#feed-note').textContent(), '', 'no "live updates unavailable"');
  await tab.done();
});
