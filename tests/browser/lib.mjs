// Shared pieces of the browser flows: the browser, pages that fail on console errors, API
// shortcuts for setting the stage, and screenshots into the artifact folder.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const BASE = process.env.LEADBRIDGE_URL;
export const ADMIN = { email: process.env.LEADBRIDGE_ADMIN_EMAIL, password: process.env.LEADBRIDGE_ADMIN_PASSWORD };
export const ARTIFACTS = process.env.LEADBRIDGE_ARTIFACTS || 'artifacts';
export const PASSWORD = 'browser-pass-2026';
assert.ok(BASE, 'LEADBRIDGE_URL names the server under test');
mkdirSync(ARTIFACTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/**
 * A fresh browser profile (cookies of its own) and a page in it. Every console error and
 * uncaught exception is collected; `done()` asserts there were none.
 */
export async function open(browser, { viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ baseURL: BASE, viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => {
    // Chromium logs every 4xx answer; those the pages expect (a refused booking) are shown
    // to the user inline, and the flows check that. Anything else is an error.
    const expected = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === 'error' && !expected.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 500) errors.push(`${response.status()} from ${response.url()}`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    errors,
    async done() {
      await context.close();
      assert.deepEqual(errors, [], 'no console errors');
    },
  };
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

let counter = 0;
export const unique = (prefix) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

/** The API with a bearer token, for setting the stage without clicking through it. */
export async function call(token, method, path, body) {
  const response = await fetch(BASE + path, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(data)}`);
  return data;
}

export async function register(role, name) {
  const email = `${unique(name.toLowerCase().replace(/\W+/g, ''))}@example.com`;
  const signed = await call(null, 'POST', '/api/auth/register', { email, password: PASSWORD, name, role });
  return { ...signed, email, password: PASSWORD, token: signed.access_token };
}

export async function adminToken() {
  return (await call(null, 'POST', '/api/auth/login', ADMIN)).access_token;
}

/** A mentor an admin has approved, with one event of `slots` slots a week from now. */
export async function mentorWithEvent(name, slots = 3, title = unique('Event')) {
  const mentor = await register('MENTOR', name);
  const profile = await call(mentor.token, 'GET', '/api/mentor/profile');
  await call(await adminToken(), 'PUT', `/api/admin/mentors/${profile.mentor_id}/verify`, { status: 'APPROVED' });
  // Approval renews the mentor's session: an API client signs in again.
  mentor.token = (await call(null, 'POST', '/api/auth/login', { email: mentor.email, password: PASSWORD })).access_token;
  const event = await call(mentor.token, 'POST', '/api/mentor/events', {
    title,
    description: 'A hands-on session.',
    category: 'Career',
    event_datetime: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    duration: 60,
    available_slots: slots,
    price_per_lead: 499,
  });
  return { mentor, profile, event: event.event };
}

/** Signs a browser profile in through the sign-in page. */
export async function signIn(page, who) {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/** Waits until the page's realtime badge says it is live. */
export async function live(page) {
  await page.locator('#live-badge[data-state="live"]').waitFor();
}
