// The whole marketplace, live, across four browser profiles: a learner books while another
// visitor watches the seat counter drop, the admin verifies from the live queue, the mentor's
// feed shows the lead arrive, the mentor buys it and sees the contact, and the learner's
// status follows every step without a reload.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ADMIN, launch, live, mentorWithEvent, open, PASSWORD, screenshot, signIn, unique } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a booking travels live from learner to admin to mentor and back', async () => {
  const { mentor, event } = await mentorWithEvent('Maya Mentor', 3);
  const eventPath = `/events/${event.event_id}`;

  const watcher = await open(browser);
  const learner = await open(browser);
  const admin = await open(browser);
  const seller = await open(browser);

  // Someone else is looking at the event.
  await watcher.page.goto(eventPath);
  await live(watcher.page);
  const counter = watcher.page.locator('#slot-counter .slots');
  await assert.doesNotReject(counter.filter({ hasText: '3 of 3 slots left' }).waitFor());

  // The admin watches the queue, the mentor the lead feed.
  await signIn(admin.page, ADMIN);
  assert.equal(new URL(admin.page.url()).pathname, '/admin/dashboard');
  await live(admin.page);
  await signIn(seller.page, { email: mentor.email, password: PASSWORD });
  assert.equal(new URL(seller.page.url()).pathname, '/mentor/dashboard');
  await live(seller.page);

  // A learner signs up in the browser and books, first with a phone number that is wrong.
  const email = `${unique('lea')}@guerrillamail.com`; // disposable: goes to manual review
  await learner.page.goto(`/signup?next=${encodeURIComponent(eventPath)}`);
  await learner.page.getByLabel('Full name').fill('Lea Learner');
  await learner.page.getByLabel('E-mail').fill(email);
  await learner.page.getByLabel('Password').fill(PASSWORD);
  await learner.page.getByRole('button', { name: 'Create account' }).click();
  await learner.page.waitForURL(`**${eventPath}`);
  const form = learner.page.locator('#booking-form');
  await form.getByLabel('Phone').fill('12');
  await form.getByRole('button', { name: 'Book my slot' }).click();
  const phone = form.getByLabel('Phone');
  await learner.page.locator('#booking-form [aria-invalid="true"][name="phone"]').waitFor();
  const phoneError = await learner.page.locator(`#${await phone.getAttribute('id')}-error`).textContent();
  assert.match(phoneError, /phone/i, 'the phone error sits under the phone field');
  await form.getByLabel('E-mail').fill('not-an-email');
  await form.getByLabel('Phone').fill('+91 98765 43210');
  await form.getByRole('button', { name: 'Book my slot' }).click();
  await learner.page.locator('#booking-form [aria-invalid="true"][name="email"]').waitFor();
  await form.getByLabel('E-mail').fill(email);
  await form.getByLabel('Message to the mentor (optional)').fill('Looking forward to it!');
  await form.getByRole('button', { name: 'Book my slot' }).click();
  await learner.page.locator('#booking-result').filter({ hasText: 'PENDING' }).waitFor();
  await screenshot(learner.page, 'event-page-booked');

  // The other visitor's counter drops without a reload.
  await counter.filter({ hasText: '2 of 3 slots left' }).waitFor();

  // The learner follows the booking from the dashboard.
  await learner.page.getByRole('link', { name: 'Follow it in my bookings' }).click();
  await learner.page.waitForURL('**/user/dashboard');
  await live(learner.page);
  const row = learner.page.locator('#bookings tr').filter({ hasText: event.title });
  await row.locator('.status', { hasText: 'PENDING' }).waitFor();

  // The admin's queue shows the lead live, with its contact and why it is there.
  const item = admin.page.locator('#queue li').filter({ hasText: event.title });
  await item.waitFor();
  await item.getByText(email).waitFor();
  await item.getByText('disposable email domain').waitFor();
  await item.getByRole('button', { name: 'Claim for review' }).click();
  await admin.page.locator('#queue li[data-claimed="me"]').filter({ hasText: event.title }).waitFor();
  await screenshot(admin.page, 'admin-dashboard-queue');
  await item.getByRole('button', { name: 'Verify' }).click();
  await item.waitFor({ state: 'detached' });

  // The learner sees VERIFIED; the mentor sees the lead slide in, masked.
  await row.locator('.status', { hasText: 'VERIFIED' }).waitFor();
  const lead = seller.page.locator('#lead-feed li').filter({ hasText: event.title });
  await lead.waitFor();
  assert.equal(await lead.getByText(email).count(), 0, 'the contact is hidden before purchase');
  assert.equal(await lead.locator('h3').textContent(), 'L. L.', 'the name is masked to initials');
  await screenshot(seller.page, 'mentor-dashboard-new-lead');

  // The mentor buys it through the (simulated) Razorpay checkout and sees the contact.
  await lead.getByRole('button', { name: /Buy lead/ }).click();
  await seller.page.waitForURL('**/checkout/**');
  await seller.page.getByText('₹499').first().waitFor();
  await screenshot(seller.page, 'checkout-simulated');
  await seller.page.getByRole('button', { name: /Pay/ }).click();
  await seller.page.waitForURL('**/mentor/dashboard');
  const bought = seller.page.locator('#lead-feed li[data-status="PURCHASED"]').filter({ hasText: event.title });
  await bought.getByText(email).waitFor();
  await bought.getByText('+91').waitFor();
  await screenshot(seller.page, 'mentor-dashboard-purchased');

  // And the learner knows.
  await row.locator('.status', { hasText: 'PURCHASED' }).waitFor();
  await screenshot(learner.page, 'learner-dashboard');

  for (const who of [watcher, learner, admin, seller]) await who.done();
});

test('an item another admin holds shows as taken, and their verify wins', async () => {
  const second = { email: process.env.LEADBRIDGE_SECOND_ADMIN_EMAIL, password: process.env.LEADBRIDGE_SECOND_ADMIN_PASSWORD };
  const { event } = await mentorWithEvent('Omar Organiser', 2);
  const learner = await open(browser);
  const one = await open(browser);
  const two = await open(browser);
  await signIn(one.page, ADMIN);
  await signIn(two.page, second);
  await live(one.page);
  await live(two.page);

  // The learner books with a disposable address so the lead needs review.
  await learner.page.goto(`/signup?next=/events/${event.event_id}`);
  await learner.page.getByLabel('Full name').fill('Quinn Queue');
  await learner.page.getByLabel('E-mail').fill(`${unique('quinn')}@example.com`);
  await learner.page.getByLabel('Password').fill(PASSWORD);
  await learner.page.getByRole('button', { name: 'Create account' }).click();
  await learner.page.locator('#booking-form').waitFor();
  await learner.page.getByLabel('E-mail').fill(`${unique('quinn')}@guerrillamail.com`);
  await learner.page.getByLabel('Phone').fill('+91 91234 56780');
  await learner.page.getByRole('button', { name: 'Book my slot' }).click();
  await learner.page.locator('#booking-result').waitFor();

  const itemOne = one.page.locator('#queue li').filter({ hasText: event.title });
  const itemTwo = two.page.locator('#queue li').filter({ hasText: event.title });
  await itemOne.getByRole('button', { name: 'Claim for review' }).click();
  await two.page.locator('#queue li[data-claimed="other"]').filter({ hasText: event.title }).waitFor();
  await itemTwo.getByText('Being reviewed by another admin').waitFor();
  assert.equal(await itemTwo.getByRole('button', { name: 'Verify' }).count(), 0);
  await screenshot(two.page, 'admin-queue-claimed-by-other');

  // Rejecting needs a reason; the first admin gives one and the item leaves both queues.
  await itemOne.getByRole('button', { name: 'Reject' }).click();
  await itemOne.locator('[aria-invalid="true"][name="reason"]').waitFor();
  await itemOne.getByLabel(/Reason/).fill('Throwaway address');
  // Enter in the reason field decides nothing (it must not verify what was being rejected).
  await itemOne.getByLabel(/Reason/).press('Enter');
  await one.page.waitForTimeout(500);
  assert.equal(await itemOne.getAttribute('data-claimed'), 'me', 'still in the queue, still claimed');
  await itemOne.getByRole('button', { name: 'Reject' }).click();
  await itemOne.waitFor({ state: 'detached' });
  await itemTwo.waitFor({ state: 'detached' });

  for (const who of [learner, one, two]) await who.done();
});
