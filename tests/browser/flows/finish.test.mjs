// What makes the app look finished: nothing meant to be hidden shows, lists page without
// repeating rows, tables fit a phone, a page opened while the server is away recovers by
// itself, and each role is told what applies to them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, call, launch, mentorWithEvent, open, PASSWORD, register, screenshot, signIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PHONE = { width: 375, height: 760 };

/** Neither the page nor any table in it scrolls sideways. */
const fits = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth
  && [...document.querySelectorAll('.table-wrap')].every((wrap) => wrap.scrollWidth <= wrap.clientWidth));

/** The element is fully inside the viewport's width, without scrolling anything sideways. */
async function onScreen(locator) {
  // A live list may redraw the row meanwhile: measure the one shown.
  let box = null;
  for (let tries = 0; !box && tries < 50; tries++) {
    await locator.waitFor();
    box = await locator.boundingBox();
  }
  const width = locator.page().viewportSize().width;
  assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${locator} is on screen: ${JSON.stringify(box)}`);
}

async function book(learner, eventId) {
  return call(learner.token, 'POST', `/api/events/${eventId}/book`, {
    name: 'Lu Narrow', email: learner.email, phone: '+91 98765 43210',
  });
}

test('hidden controls stay hidden and paging never repeats a row', async () => {
  // A pending lead in the queue and a pending mentor application, so both forms show.
  await register('MENTOR', 'Hana Hidden');
  const { event } = await mentorWithEvent('Ivo Items', 3);
  const learner = await register('USER', 'Jo Queue');
  await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, {
    name: 'Jo Queue', email: `${learner.email.split('@')[0]}@yopmail.com`, phone: '+91 98765 43210',
  });

  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, ADMIN);
  const item = page.locator('#queue .lead').filter({ hasText: event.title });
  await item.getByRole('button', { name: 'Claim for review' }).click();
  await item.getByRole('button', { name: 'Verify' }).waitFor();
  // The form's guard button (no default decision on Enter) takes no room on screen.
  const guards = item.locator('button[aria-hidden="true"]');
  assert.equal(await guards.count(), 1);
  assert.equal(await guards.isVisible(), false, 'the guard button is not shown');
  await item.getByRole('button', { name: 'Release' }).click();

  await page.getByRole('tab', { name: 'Mentor applications' }).click();
  const application = page.locator('#mentor-applications tr').filter({ hasText: 'Hana Hidden' });
  await application.getByRole('button', { name: 'Approve' }).waitFor();
  assert.equal(await application.locator('button[aria-hidden="true"]').isVisible(), false);

  // Users: "Load more" shows only while there is more, and no row appears twice.
  await page.getByRole('tab', { name: 'Users' }).click();
  const rows = page.locator('#users tbody tr');
  await rows.first().waitFor();
  const more = page.getByRole('button', { name: 'Load more' });
  for (let pages = 0; await more.isVisible(); pages++) {
    assert.ok(pages < 100, 'the listing ends');
    const before = await rows.count();
    await more.click();
    await page.waitForFunction((n) => document.querySelectorAll('#users tbody tr').length > n, before);
  }
  const emails = await page.locator('#users tbody tr td:nth-child(2)').allTextContents();
  assert.equal(new Set(emails).size, emails.length, 'no user is listed twice');
  assert.ok(emails.includes(learner.email), 'a user created just now is listed');
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.locator('#audit-log tbody tr').first().waitFor();
  await tab.done();
});

test('every dashboard fits a phone: tables become cards and their buttons stay on screen', async () => {
  const { mentor, event } = await mentorWithEvent('Kai Cards', 4);
  const learner = await register('USER', 'Lu Narrow');
  await book(learner, event.event_id);
  await register('MENTOR', 'Mo Narrow');

  const learnerTab = await open(browser, { viewport: PHONE });
  await signIn(learnerTab.page, learner);
  const booking = learnerTab.page.locator('#bookings tr').filter({ hasText: event.title });
  await onScreen(booking.getByRole('button', { name: 'Cancel booking' }));
  // Each cell names its column, as the table heading would.
  assert.equal(await booking.locator('td').first().getAttribute('data-label'), 'Event');
  assert.ok(await fits(learnerTab.page), 'the learner dashboard fits 375 px');
  await screenshot(learnerTab.page, 'phone-learner-bookings');

  const mentorTab = await open(browser, { viewport: PHONE });
  await signIn(mentorTab.page, { email: mentor.email, password: PASSWORD });
  await mentorTab.page.getByRole('tab', { name: 'My events' }).click();
  const row = mentorTab.page.locator('tr').filter({ hasText: event.title });
  await onScreen(row.getByRole('button', { name: 'Edit' }));
  await onScreen(row.getByRole('button', { name: 'Delete' }));
  assert.ok(await fits(mentorTab.page), 'the mentor dashboard fits 375 px');
  await screenshot(mentorTab.page, 'phone-mentor-events');

  const adminTab = await open(browser, { viewport: PHONE });
  await signIn(adminTab.page, ADMIN);
  await adminTab.page.getByRole('tab', { name: 'Mentor applications' }).click();
  const application = adminTab.page.locator('#mentor-applications tr').filter({ hasText: 'Mo Narrow' });
  await onScreen(application.getByRole('button', { name: 'Approve' }));
  await onScreen(application.getByRole('button', { name: 'Reject' }));
  assert.ok(await fits(adminTab.page), 'mentor applications fit 375 px');
  await screenshot(adminTab.page, 'phone-admin-applications');
  const shown = { Users: '#users tbody tr', 'Audit log': '#audit-log tbody tr', Analytics: '#analytics .stat', 'Verification queue': '#queue > li' };
  for (const [tab, content] of Object.entries(shown)) {
    await adminTab.page.getByRole('tab', { name: tab }).click();
    await adminTab.page.locator(content).first().waitFor();
    assert.ok(await fits(adminTab.page), `${tab} fits 375 px`);
  }
  for (const tab of [learnerTab, mentorTab, adminTab]) await tab.done();
});

test('a page opened while the server is away says so, retries by itself and recovers', async () => {
  const { event } = await mentorWithEvent('Nia Netdown', 2);
  const tab = await open(browser);
  const { page } = tab;
  // The app itself loads; its API does not answer (the server is restarting).
  await page.route('**/api/events/**', (route) => route.abort('connectionrefused'));
  await page.goto(`/events/${event.event_id}`);
  await page.getByRole('heading', { name: 'LeadBridge is unreachable' }).waitFor();
  await page.locator('#retry-status').getByText('Trying again in').waitFor();
  await page.getByRole('button', { name: 'Try again now' }).waitFor();
  await screenshot(page, 'unreachable');
  // Back: the next automatic try shows the page, with no click.
  await page.unroute('**/api/events/**');
  await page.getByRole('heading', { name: event.title }).waitFor({ timeout: 10_000 });
  await page.getByText('2 of 2 slots left').waitFor();
  // The browser logged the refused requests; nothing else went wrong.
  tab.errors.splice(0, tab.errors.length, ...tab.errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)));
  await tab.done();
});

test('each role is told what applies to them', async () => {
  // A pending mentor learns what pending means instead of meeting a form that fails.
  const pending = await register('MENTOR', 'Oli Pending');
  const pendingTab = await open(browser);
  await signIn(pendingTab.page, pending);
  const note = pendingTab.page.locator('#mentor-status-note');
  await note.getByText('under review').waitFor();
  const colour = await note.evaluate((el) => getComputedStyle(el).color);
  assert.notEqual(colour, 'rgb(164, 22, 26)', 'being reviewed is not shown as an error');
  await pendingTab.page.getByRole('tab', { name: 'My events' }).click();
  await pendingTab.page.locator('#events-after-approval').getByText('as soon as an admin approves').waitFor();
  assert.equal(await pendingTab.page.locator('#event-form').count(), 0, 'no create form before approval');
  await screenshot(pendingTab.page, 'mentor-dashboard-pending');

  // A mentor on their own event page sees it as theirs.
  const { mentor, event } = await mentorWithEvent('Pam Owner', 2);
  const ownerTab = await open(browser);
  await signIn(ownerTab.page, { email: mentor.email, password: PASSWORD });
  await ownerTab.page.goto(`/events/${event.event_id}`);
  await ownerTab.page.locator('#own-event').waitFor();
  assert.equal(await ownerTab.page.getByText('Only learner accounts book slots.').count(), 0);
  await ownerTab.page.getByRole('link', { name: 'Go to my dashboard' }).waitFor();

  // An event that does not exist says so, with a way back.
  const visitor = await open(browser);
  await visitor.page.goto('/events/event_does_not_exist');
  await visitor.page.getByRole('heading', { name: 'Not found' }).waitFor();
  await visitor.page.getByRole('link', { name: 'Browse events' }).click();
  await visitor.page.waitForURL((url) => url.pathname === '/');
  for (const tab of [pendingTab, ownerTab, visitor]) await tab.done();
});
