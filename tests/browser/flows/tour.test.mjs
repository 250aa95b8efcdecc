// Every page at a desktop and a phone width, as each role sees it: axe finds nothing to fix
// (any impact), nothing scrolls sideways, and a screenshot of each lands in the artifacts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { ADMIN, call, launch, mentorWithEvent, open, PASSWORD, register, screenshot, signIn } from '../lib.mjs';

// Evaluated through the browser's protocol: the page's own CSP allows no inline script.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 375, height: 760 } };

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** axe's findings on the page as it is now, one line each. */
async function accessibilityFindings(page) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run(document)).violations);
  return violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const fits = (page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth
  && [...document.querySelectorAll('.table-wrap')].every((wrap) => wrap.scrollWidth <= wrap.clientWidth));

/** Checks and photographs one page state. */
async function look(page, name, width) {
  await page.waitForTimeout(300); // let live counters and toasts settle
  assert.deepEqual(await accessibilityFindings(page), [], `axe on ${name} (${width})`);
  assert.ok(await fits(page), `${name} fits ${width}`);
  await screenshot(page, `tour-${name}-${width}`);
}

test('every page, as each role sees it, is accessible, fits and is photographed at both widths', async () => {
  const { mentor, event } = await mentorWithEvent('Zoe Tour', 3);
  const learner = await register('USER', 'Abe Tour');
  await call(learner.token, 'POST', `/api/events/${event.event_id}/book`, {
    name: 'Abe Tour', email: learner.email, phone: '+91 98765 43210',
  });
  for (const [width, viewport] of Object.entries(WIDTHS)) {
    const visitor = await open(browser, { viewport });
    const v = visitor.page;
    await v.goto('/');
    await v.locator('#event-list .event-card').first().waitFor();
    await look(v, 'events', width);
    await v.goto(`/events/${event.event_id}`);
    await v.locator('#slot-counter .slots').waitFor();
    await look(v, 'event', width);
    await v.goto('/login');
    await v.getByLabel('E-mail').waitFor();
    await look(v, 'login', width);
    await v.goto('/signup');
    await v.getByLabel('Full name').waitFor();
    await look(v, 'signup', width);
    await v.goto('/no/such/page');
    await v.getByRole('heading', { name: 'Page not found' }).waitFor();
    await look(v, 'not-found', width);
    await visitor.done();

    const learnerTab = await open(browser, { viewport });
    await signIn(learnerTab.page, learner);
    await learnerTab.page.locator('#bookings tr').first().waitFor();
    await look(learnerTab.page, 'learner-bookings', width);
    await learnerTab.page.goto('/account');
    await learnerTab.page.locator('#sessions table').waitFor();
    await look(learnerTab.page, 'account', width);
    await learnerTab.done();

    const mentorTab = await open(browser, { viewport });
    const m = mentorTab.page;
    await signIn(m, { email: mentor.email, password: PASSWORD });
    await m.locator('#lead-feed').waitFor();
    await look(m, 'mentor-leads', width);
    await m.getByRole('tab', { name: 'My events' }).click();
    await m.locator('#event-form').waitFor();
    await look(m, 'mentor-events', width);
    await m.getByRole('tab', { name: 'Profile' }).click();
    await m.locator('#profile-form').waitFor();
    await look(m, 'mentor-profile', width);
    await mentorTab.done();

    const adminTab = await open(browser, { viewport });
    const a = adminTab.page;
    await signIn(a, ADMIN);
    const tabs = {
      'Verification queue': ['admin-queue', '#queue > li'],
      Analytics: ['admin-analytics', '#analytics .stat'],
      'Mentor applications': ['admin-applications', '#mentor-applications > *'],
      Users: ['admin-users', '#users tbody tr'],
      'Audit log': ['admin-audit', '#audit-log tbody tr'],
    };
    for (const [label, [name, content]] of Object.entries(tabs)) {
      await a.getByRole('tab', { name: label }).click();
      await a.locator(content).first().waitFor();
      await look(a, name, width);
    }
    await adminTab.done();
  }
});
