// Every page beyond the main journey: finding events, accounts, the mentor's and the admin's
// tools, reconnecting, phone widths and keyboard use.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, adminToken, BASE, call, launch, live, mentorWithEvent, open, PASSWORD, register, screenshot, signIn, unique } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const cards = (page) => page.locator('#event-list .event-card');

/** Waits until the list shows exactly these titles (the list refreshes a moment after typing). */
async function shows(page, titles) {
  await page.waitForFunction((want) => {
    const got = [...document.querySelectorAll('#event-list .event-card h3')].map((h) => h.textContent).sort();
    return JSON.stringify(got) === JSON.stringify(want);
  }, [...titles].sort());
}

test('visitors search and filter events, and the filters live in the address', async () => {
  const tag = unique('topic');
  const { event: soon } = await mentorWithEvent('Sam Search', 4, `Rust ${tag} basics`);
  const { mentor, event: design } = await mentorWithEvent('Dana Dates', 4, `Design ${tag} review`);
  const later = (await call(mentor.token, 'POST', '/api/mentor/events', {
    title: `Later ${tag} clinic`,
    description: 'Far ahead.',
    category: `Cat-${tag}`,
    event_datetime: new Date(Date.now() + 60 * 86_400_000).toISOString(),
    duration: 30,
    available_slots: 2,
    price_per_lead: 300,
  })).event;

  const visitor = await open(browser);
  const { page } = visitor;
  await page.goto('/');
  await page.getByLabel('Search').fill(tag);
  await shows(page, [soon.title, design.title, later.title]);
  await page.getByLabel('Search').fill(`Rust ${tag}`);
  await shows(page, [soon.title]);
  assert.match(page.url(), /q=Rust/);

  // Category and dates narrow it down; a reload keeps the filters.
  await page.getByLabel('Search').fill(tag);
  // Categories are chosen from those of upcoming events.
  await page.getByLabel('Category').selectOption(`Cat-${tag}`);
  await shows(page, [later.title]);
  await page.getByLabel('Category').selectOption('');
  const inTwoWeeks = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('To').fill(inTwoWeeks);
  await shows(page, [soon.title, design.title]);
  await page.reload();
  await shows(page, [soon.title, design.title]);
  assert.equal(await page.getByLabel('To').inputValue(), inTwoWeeks);
  await screenshot(page, 'events-list-filtered');

  // The event page shows the mentor and a live counter.
  await cards(page).filter({ hasText: soon.title }).getByRole('link').click();
  await page.waitForURL(`**/events/${soon.event_id}`);
  await page.getByText('About Sam Search').waitFor();
  await page.getByText('4 of 4 slots left').waitFor();
  await page.locator('#main').getByRole('link', { name: 'Sign in' }).waitFor();
  await visitor.done();
});

test('accounts: sign-in guards, sign out, and a session ended in another tab', async () => {
  const learner = await register('USER', 'Ada Account');
  const tab = await open(browser);
  const { page, context } = tab;

  // A dashboard asks for a sign-in, then returns there.
  await page.goto('/user/dashboard');
  await page.waitForURL('**/login?next=%2Fuser%2Fdashboard');
  await page.getByLabel('E-mail').fill(learner.email);
  await page.getByLabel('Password').fill('wrong-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/user/dashboard');
  await page.getByText('No bookings yet.').waitFor();
  // A learner may not open the admin's pages.
  await page.goto('/admin/dashboard');
  await page.waitForURL('**/user/dashboard');

  // Signing out in one tab ends the other tab's live session too.
  const other = await context.newPage();
  await other.goto('/user/dashboard');
  await live(other);
  await live(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await other.waitForURL('**/login?next=**');
  await other.getByText('Your session ended').waitFor();
  await tab.done();
});

test('a mentor applies, is approved by an admin, and manages events and profile', async () => {
  const mentorTab = await open(browser);
  const adminTab = await open(browser);
  const { page } = mentorTab;
  const email = `${unique('mo')}@example.com`;

  await page.goto('/signup?role=MENTOR');
  await page.getByLabel('Full name').fill('Mo Mentor');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL('**/mentor/dashboard');
  await page.locator('#mentor-status-note').getByText('under review').waitFor();

  // The profile is saved and shown to learners later.
  await page.getByRole('tab', { name: 'Profile' }).click();
  await page.getByLabel('Bio').fill('I teach distributed systems.');
  await page.getByLabel('Expertise').fill('Rust, Databases');
  await page.getByLabel('Experience').fill('12 years');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByText('Profile saved.').waitFor();

  // The admin approves the application in the browser.
  await signIn(adminTab.page, ADMIN);
  await adminTab.page.getByRole('tab', { name: 'Mentor applications' }).click();
  const row = adminTab.page.locator('#mentor-applications tr').filter({ hasText: email });
  await row.getByText('Rust, Databases').waitFor();
  await screenshot(adminTab.page, 'admin-dashboard-mentor-applications');
  await row.getByRole('button', { name: 'Approve' }).click();
  await adminTab.page.getByText('Mo Mentor: approved').waitFor();

  // Approved, the mentor reloads (the session id is renewed on the way: approval changed
  // the account's rights) and creates, edits and deletes an event.
  await page.reload();
  await page.locator('.status', { hasText: 'APPROVED' }).waitFor();
  assert.equal(await page.locator('#mentor-status-note').count(), 0);
  await page.getByRole('tab', { name: 'My events' }).click();
  const form = page.locator('#event-form');
  const title = unique('Systems clinic');
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Category').fill('Engineering');
  await form.getByLabel('Description').fill('Bring your design.');
  const when = new Date(Date.now() + 3 * 86_400_000);
  const local = new Date(when.getTime() - when.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await form.getByLabel('Date and time').fill(local);
  await form.getByLabel('Slots').fill('6');
  await form.getByLabel('Price per lead (₹)').fill('5000000');
  await form.getByRole('button', { name: 'Create event' }).click();
  await form.locator('[aria-invalid="true"][name="price_per_lead"]').waitFor();
  await form.getByLabel('Price per lead (₹)').fill('750');
  await form.getByRole('button', { name: 'Create event' }).click();
  const eventRow = page.locator('tr').filter({ hasText: title });
  await eventRow.getByText('0 booked of 6').waitFor();
  await eventRow.getByText('₹750').waitFor();
  await screenshot(page, 'mentor-dashboard-events');
  await eventRow.getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Slots').fill('8');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await eventRow.getByText('0 booked of 8').waitFor();

  // Learners see the profile on the event page.
  const eventLink = await eventRow.getByRole('link').getAttribute('href');
  const visitor = await open(browser);
  await visitor.page.goto(eventLink);
  await visitor.page.getByText('I teach distributed systems.').waitFor();
  await visitor.page.getByText('Experience: 12 years').waitFor();

  await eventRow.getByRole('button', { name: 'Delete' }).click();
  await eventRow.getByRole('button', { name: 'Yes, delete' }).click();
  await eventRow.waitFor({ state: 'detached' });
  for (const who of [mentorTab, adminTab, visitor]) await who.done();
});

test('admins see analytics, users and the audit log', async () => {
  const learner = await register('USER', 'Uma Listed');
  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, ADMIN);
  await page.getByRole('tab', { name: 'Analytics' }).click();
  await page.locator('#analytics .stat').filter({ hasText: 'Revenue' }).waitFor();
  const chart = page.locator('#tab-panel > figure.chart svg[role="img"]');
  // The page says what the API counts: learners are learners, each lead once in its state.
  const counted = await call(await adminToken(), 'GET', '/api/admin/analytics');
  const tile = (label) => page.locator('#analytics .stat').filter({ hasText: label }).locator('.value').textContent();
  assert.equal(await tile('Learners'), String(counted.total_learners));
  assert.equal(await tile('Purchased leads'), String(counted.purchased_leads));
  const forSale = counted.verified_leads - counted.purchased_leads;
  // The last 30 days, one bar each, totals as the API counts them.
  const daily = await call(await adminToken(), 'GET', '/api/admin/analytics/daily?days=30');
  assert.equal(daily.length, 30);
  const bookings = page.locator('#daily figure[data-series="Bookings"] svg');
  assert.equal(await bookings.locator('rect').count(), 30);
  assert.equal(await bookings.getAttribute('data-total'), String(daily.reduce((n, d) => n + d.bookings, 0)));
  assert.equal(await chart.getAttribute('aria-label'),
    `Pending: ${counted.pending_leads}, For sale: ${forSale}, Purchased: ${counted.purchased_leads}, Rejected: ${counted.rejected_leads}, Cancelled: ${counted.cancelled_leads}`);
  await screenshot(page, 'admin-dashboard-analytics');
  await page.getByRole('tab', { name: 'Users' }).click();
  const users = page.locator('#users');
  await users.locator('tbody tr').first().waitFor();
  const more = page.getByRole('button', { name: 'Load more' });
  while (await users.getByText(learner.email).count() === 0) {
    assert.ok(await more.isVisible(), `${learner.email} is listed before the last page`);
    await more.click();
  }
  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.locator('#audit-log').getByText('approved the mentor application of').first().waitFor();
  await screenshot(page, 'admin-dashboard-audit-log');
  await tab.done();
});

test('a dropped connection comes back by itself and replays what it missed', async () => {
  const { event } = await mentorWithEvent('Rita Reconnect', 5);
  const tab = await open(browser);
  const { page, context } = tab;
  const routes = [];
  const fromServer = [];
  const fromPage = [];
  await page.routeWebSocket(/\/api\/ws$/, (ws) => {
    const server = ws.connectToServer();
    routes.push({ ws, server });
    ws.onMessage((m) => { fromPage.push(JSON.parse(m)); server.send(m); });
    server.onMessage((m) => { fromServer.push(JSON.parse(m)); ws.send(m); });
  });
  await page.goto(`/events/${event.event_id}`);
  await live(page);
  await page.getByText('5 of 5 slots left').waitFor();
  // (The page shows the count from HTTP at once; wait for the subscription itself.)
  while (!fromServer.some((m) => m.type === 'subscribed')) await page.waitForTimeout(50);

  // The network goes away and the socket with it; two bookings happen meanwhile.
  await context.setOffline(true);
  routes[0].ws.close({ code: 1006, reason: 'network lost' });
  routes[0].server.close();
  await page.locator('#live-badge[data-state="offline"]').waitFor();
  for (const name of ['Bo One', 'Cy Two']) {
    const learner = await register('USER', name);
    await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, {
      name, email: learner.email, phone: '+91 98765 4321' + fromPage.length % 10,
    });
  }

  // Back online: it reconnects, resumes from its offset and catches up without a reload.
  await context.setOffline(false);
  await live(page);
  await page.getByText('3 of 5 slots left').waitFor();
  const resume = fromPage.find((m) => m.type === 'subscribe' && m.since);
  assert.ok(resume, `the client resubscribed with since: ${JSON.stringify({ fromPage, fromServer, n: routes.length })}`);
  assert.ok(fromServer.some((m) => m.type === 'subscribed' && m.recovered === true), 'the server replayed the gap');
  await tab.done();
});

test('pages fit a phone, work by keyboard, and unknown pages say so', async () => {
  const { event } = await mentorWithEvent('Pia Phone', 2);
  const tab = await open(browser, { viewport: { width: 375, height: 760 } });
  const { page } = tab;
  const learner = await register('USER', 'Kim Keys');
  const fits = async () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

  await page.goto('/');
  await cards(page).first().waitFor();
  assert.ok(await fits(), 'the event list fits 375 px');
  await page.goto(`/events/${event.event_id}`);
  await page.getByText('2 of 2 slots left').waitFor();
  assert.ok(await fits(), 'the event page fits 375 px');
  await screenshot(page, 'phone-event-page');

  // Sign in with the keyboard only.
  await page.goto('/login');
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab');
  for (let presses = 0; !(await page.evaluate(() => document.activeElement?.name === 'email')); presses++) {
    assert.ok(presses < 12, 'the e-mail field is reachable by Tab from the top of the page');
    await page.keyboard.press('Tab');
  }
  await page.keyboard.type(learner.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/user/dashboard');
  assert.ok(await fits(), 'the learner dashboard fits 375 px');
  await screenshot(page, 'phone-learner-dashboard');

  const response = await page.goto('/no/such/page');
  assert.equal(response.status(), 404);
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await page.goto('/events/%E0%A4'); // a malformed escape is a missing page, not a stuck one
  await page.getByRole('heading', { name: 'Page not found' }).waitFor();
  await tab.done();
  assert.ok(BASE.startsWith('http://127.0.0.1'), 'tests run against the local server');
});
