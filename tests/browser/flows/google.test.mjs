// Google sign-in in the browser, against the suite's fake provider (it consents at once as
// the same Google account every time), and the account page around it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { open, launch, register, screenshot, signIn } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('an account links Google, then Google signs it in elsewhere; sessions end one by one or all at once', async () => {
  const learner = await register('USER', 'Lina Linker');
  const laptop = await open(browser);
  const phone = await open(browser);
  await signIn(laptop.page, learner);
  await signIn(phone.page, learner);

  // The laptop ends the phone's session.
  await laptop.page.goto('/account');
  const rows = laptop.page.locator('#sessions tbody tr');
  await rows.nth(2).waitFor();
  assert.equal(await rows.count(), 3, 'registration, laptop, phone');
  await screenshot(laptop.page, 'account-sessions');
  const others = rows.filter({ hasNot: laptop.page.getByText('(this browser)') });
  await others.last().getByRole('button', { name: 'Sign out' }).click();
  await laptop.page.getByText('That session has ended.').waitFor();
  await laptop.page.waitForFunction(() => document.querySelectorAll('#sessions tbody tr').length === 2);

  // Linking Google comes back to the account page, still signed in.
  await laptop.page.getByRole('link', { name: 'Link Google account' }).click();
  await laptop.page.waitForURL((url) => url.pathname === '/account');
  await laptop.page.getByText('Signed in as Lina Linker').waitFor();

  // A new browser continues with Google straight into the linked account.
  const elsewhere = await open(browser);
  await elsewhere.page.goto('/login');
  await screenshot(elsewhere.page, 'login-with-google');
  await elsewhere.page.getByRole('link', { name: 'Continue with Google' }).click();
  await elsewhere.page.waitForURL((url) => url.pathname === '/user/dashboard');
  await elsewhere.page.getByText('Signed in as Lina Linker').waitFor();

  // Signing out everywhere from there ends the laptop's session too.
  await elsewhere.page.goto('/account');
  await elsewhere.page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await elsewhere.page.waitForURL((url) => url.pathname === '/login');
  await laptop.page.goto('/account');
  await laptop.page.waitForURL((url) => url.pathname === '/login');
  for (const tab of [laptop, phone, elsewhere]) await tab.done();
});

test('a learner closes the account from the account page, with the password', async () => {
  const learner = await register('USER', 'Cleo Closer');
  const tab = await open(browser);
  const { page } = tab;
  await signIn(page, learner);
  await page.goto('/account');
  await page.locator('#sessions tbody tr').first().waitFor();
  await screenshot(page, 'account-close');
  const form = page.locator('#close-account');
  await form.getByLabel('Password').fill('not-my-password-1');
  await form.getByRole('button', { name: 'Close my account' }).click();
  await form.getByText('the password is not right').waitFor();
  await form.getByLabel('Password').fill(learner.password);
  await form.getByRole('button', { name: 'Close my account' }).click();
  await page.getByText('Your account is closed.').waitFor();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await signInFails(page, learner);
  await tab.done();
});

/** The sign-in page refuses the account (it no longer exists). */
async function signInFails(page, who) {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('wrong e-mail or password').waitFor();
}
