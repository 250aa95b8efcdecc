// What makes the app look finished: nothing meant to be hidden shows, lists page without
// repeating rows, tables fit a phone, a page opened while the server is away recovers by
// itself, and each role is told what applies to them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, adminToken, call, launch, mentorWithEvent, open, PASSWORD, register, screenshot, signIn } from '../lib.mjs';

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

test('forms name every problem at once, in plain words, and focus the first', async () => {
  const { mentor, event } = await mentorWithEvent('Quin Forms', 3);
  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, { email: mentor.email, password: PASSWORD });
  await page.getByRole('tab', { name: 'My events' }).click();
  const form = page.locator('#event-form');
  await form.getByLabel('Date and time').fill('2020-01-01T10:00');
  await form.getByLabel('Price per lead (₹)').fill('');
  await form.getByRole('button', { name: 'Create event' }).click();
  const errorOf = async (name) => {
    const id = await form.locator(`[name="${name}"]`).getAttribute('id');
    return page.locator(`#${id}-error`).textContent();
  };
  await form.locator('[aria-invalid="true"][name="title"]').waitFor();
  assert.equal(await errorOf('title'), 'Enter title');
  assert.equal(await errorOf('category'), 'Enter category');
  assert.equal(await errorOf('event_datetime'), 'Choose a time in the future');
  assert.equal(await errorOf('price_per_lead'), 'Enter price per lead');
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'title', 'focus is on the first problem');

  // A learner's booking form: both contact problems at once; a booking moves focus to its result.
  const learner = await register('USER', 'Rae Forms');
  const learnerTab = await open(browser);
  await signIn(learnerTab.page, learner);
  await learnerTab.page.goto(`/events/${event.event_id}`);
  const booking = learnerTab.page.locator('#booking-form');
  await booking.getByLabel('E-mail').fill('rae-at-example');
  await booking.getByRole('button', { name: 'Book my slot' }).click();
  await booking.locator('[aria-invalid="true"][name="phone"]').waitFor();
  const bookingError = async (name) => {
    const id = await booking.locator(`[name="${name}"]`).getAttribute('id');
    return learnerTab.page.locator(`#${id}-error`).textContent();
  };
  assert.equal(await bookingError('email'), 'Enter an e-mail like name@example.com');
  assert.match(await bookingError('phone'), /^Enter a phone number with its country code/);
  assert.equal(await learnerTab.page.evaluate(() => document.activeElement?.name), 'email');
  await booking.getByLabel('E-mail').fill(learner.email);
  await booking.getByLabel('Phone').fill('+91 98765 43210');
  await booking.getByRole('button', { name: 'Book my slot' }).click();
  await learnerTab.page.locator('#booking-result').waitFor();
  assert.equal(await learnerTab.page.evaluate(() => document.activeElement?.id), 'booking-result');
  await learnerTab.page.locator('#price-note').getByText('Free to book').waitFor();
  for (const t of [tab, learnerTab]) await t.done();
});

test('live news shows as a toast and as a count in the tab title until the person looks', async () => {
  const { mentor, event } = await mentorWithEvent('Sol Signal', 3);
  const mentorTab = await open(browser);
  await signIn(mentorTab.page, { email: mentor.email, password: PASSWORD });
  await mentorTab.page.locator('#live-badge[data-state="live"]').waitFor();
  await mentorTab.page.locator('#lead-feed').waitFor();
  const adminTab = await open(browser);
  await signIn(adminTab.page, ADMIN);
  await adminTab.page.locator('#live-badge[data-state="live"]').waitFor();

  // A flagged booking reaches the admin's queue; the learner watches their bookings.
  const learner = await register('USER', 'Tao Toast');
  const learnerTab = await open(browser);
  await signIn(learnerTab.page, learner);
  const lead = await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, {
    name: 'Tao Toast', email: `${learner.email.split('@')[0]}@yopmail.com`, phone: '+91 98765 43210',
  });
  await learnerTab.page.locator(`#bookings tr[data-lead-id="${lead.lead_id}"]`).waitFor();
  await learnerTab.page.locator('#live-badge[data-state="live"]').waitFor();
  await adminTab.page.locator('.toast').filter({ hasText: `New lead to review: ${event.title}` }).waitFor();
  assert.match(await adminTab.page.title(), /^\(1\) Admin dashboard — LeadBridge$/);

  await call(await adminToken(), 'PUT', `/api/admin/leads/${lead.lead_id}/verify`, { status: 'VERIFIED' });
  await learnerTab.page.locator('.toast').filter({ hasText: 'your booking is verified' }).waitFor();
  await mentorTab.page.locator('.toast').filter({ hasText: `New lead for ${event.title}` }).waitFor();
  assert.match(await mentorTab.page.title(), /^\(1\) Mentor dashboard — LeadBridge$/);
  assert.match(await learnerTab.page.title(), /^\(\d\) My bookings — LeadBridge$/);
  // Looking (using the page) clears the count.
  await learnerTab.page.keyboard.press('Shift');
  assert.equal(await learnerTab.page.title(), 'My bookings — LeadBridge');
  for (const t of [mentorTab, adminTab, learnerTab]) await t.done();
});

test('the event list says what booking costs, names time zones, and keeps its filters sensible', async () => {
  const { event } = await mentorWithEvent('Uri Units', 2, `Rustacean ${Date.now().toString(36)} meetup`);
  const tab = await open(browser);
  const { page } = tab;
  await page.goto('/');
  // Part of a word finds the event.
  const word = event.title.split(' ')[1];
  await page.getByLabel('Search').fill(word.slice(2, -1));
  const card = page.locator('#event-list .event-card').filter({ hasText: event.title });
  await card.waitFor();
  await card.getByText('Free to book').waitFor();
  assert.match(await card.locator('time').textContent(), /(UTC|GMT)/, 'the time names its zone');
  await page.locator('#clear-filters').waitFor();

  // Nothing matches: the message says so and the filters can be cleared at once.
  await page.getByLabel('Search').fill(`no-such-${word}`);
  await page.getByText('No upcoming events match. Try other filters.').waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await card.waitFor();
  assert.equal(await page.getByLabel('Search').inputValue(), '');
  await page.locator('#clear-filters').waitFor({ state: 'hidden' });

  // A To date before From is refused where it was typed.
  await page.getByLabel('From').fill('2031-05-10');
  await page.getByLabel('To').fill('2031-05-01');
  await page.getByText('Choose a To date on or after the From date').waitFor();
  await page.getByLabel('To').fill('2031-05-20');
  await page.getByText('Choose a To date on or after the From date').waitFor({ state: 'hidden' });
  await tab.done();
});

test('a rejected learner reads the reason and can book again', async () => {
  const { event } = await mentorWithEvent('Vic Verdict', 2);
  const learner = await register('USER', 'Wen Rejected');
  const lead = await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, {
    name: 'Wen Rejected', email: `${learner.email.split('@')[0]}@yopmail.com`, phone: '+91 98765 43210',
  });
  const admin = await adminToken();
  await call(admin, 'POST', `/api/admin/leads/${lead.lead_id}/claim`);
  await call(admin, 'PUT', `/api/admin/leads/${lead.lead_id}/verify`, { status: 'REJECTED', reason: 'The phone number does not answer' });
  const tab = await open(browser, { viewport: PHONE });
  const { page } = tab;
  await signIn(page, learner);
  const row = page.locator(`#bookings tr[data-lead-id="${lead.lead_id}"]`);
  await row.getByText('Reason: The phone number does not answer').waitFor();
  await row.getByText('book again with details that can be checked').waitFor();
  await screenshot(page, 'phone-learner-rejected');
  await row.getByRole('link', { name: 'Book again' }).click();
  await page.locator('#booking-form').waitFor();
  await tab.done();
});

test('tabs move with Home and End, and each panel is named by its tab', async () => {
  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, ADMIN);
  await page.getByRole('tab', { name: 'Verification queue' }).focus();
  await page.keyboard.press('End');
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  assert.equal(await page.locator('#tab-panel').getAttribute('aria-labelledby'), 'tab-audit');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-audit');
  await page.keyboard.press('Home');
  await page.getByRole('heading', { name: 'Verification queue' }).waitFor();
  assert.equal(await page.locator('#tab-panel').getAttribute('aria-labelledby'), 'tab-queue');
  // The account page names each browser in words.
  await page.goto('/account');
  await page.locator('#sessions').getByText('Chrome on Linux').first().waitFor();
  assert.equal(await page.locator('#sessions').getByText('Mozilla/').count(), 0);
  await tab.done();
});

test('admin lists name people, say what happened in words, and filter', async () => {
  const learner = await register('USER', 'Xia Findme');
  const { profile } = await mentorWithEvent('Yan Approved', 1);
  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, ADMIN);

  await page.getByRole('tab', { name: 'Users' }).click();
  await page.locator('#users tbody tr').first().waitFor();
  await page.getByLabel('Search users').fill(learner.email.split('@')[0].toUpperCase());
  await page.waitForFunction(() => document.querySelectorAll('#users tbody tr').length === 1);
  await page.locator('#users tbody tr').getByText(learner.email).waitFor();
  await page.getByLabel('Search users').fill('');
  await page.getByLabel('Role').selectOption('MENTOR');
  await page.locator('#users tbody tr').first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('#users tbody tr td:nth-child(3)')]
    .every((cell) => cell.textContent === 'MENTOR'));
  await screenshot(page, 'admin-dashboard-users-filtered');

  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.locator('#audit-log tbody tr').first().waitFor();
  await page.getByLabel('Action').selectOption('MENTOR_APPROVED');
  await page.locator('#audit-log tbody tr').filter({ hasText: `approved the mentor application of ${profile.name}` }).first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('#audit-log tbody tr')]
    .every((row) => row.textContent.includes('approved the mentor application of')));
  const text = await page.locator('#audit-log tbody').textContent();
  assert.doesNotMatch(text, /\b(user|mentor|lead|pay)_[0-9a-z]{6,}/, 'people and things are named, not shown as ids');
  // Nothing logged tomorrow.
  const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('From').fill(tomorrow);
  await page.getByText('Nothing matches.').waitFor();
  // A To before From is refused here too.
  await page.getByLabel('To').fill('2020-01-01');
  await page.getByText('Choose a To date on or after the From date').waitFor();
  await screenshot(page, 'admin-dashboard-audit-filtered');
  await tab.done();
});
