// Merchant-initiated login (CIBA) in Chromium: the demo shop's till starts a login by the
// customer's phone number, the test app (in its own browser context) shows the request with
// the till's code, the shop's consent questions are answered in the app, and the test checks
// what the till (poll) or the shop's web page (login to webpage) got.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNod, launch, desktop, snap, openTestApp, pendingRequest } from './harness.mjs';

let nod;
let browser;

before(async () => {
  nod = await startNod();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  nod?.stop();
});

/** At the demo shop's till, sends a login request; returns the till's page, now waiting. */
async function startAtTill(context, { phone, message = 'TILL-42', mode = 'poll', screenshot = null }) {
  const till = await context.newPage();
  await till.goto(`${nod.base}/demo/`);
  await till.locator('#ciba-phone').fill(phone);
  await till.locator('#ciba-message').fill(message);
  await till.locator(`input[name=mode][value=${mode}]`).check();
  if (screenshot) await snap(till, screenshot);
  await till.locator('#ciba-start').click();
  await till.locator('#ciba-waiting').waitFor({ timeout: 10_000 });
  return till;
}

/** The result page (till or the shop's web page): the welcome, and the userinfo JSON. */
async function expectWelcome(page, name) {
  // The till's waiting page reloads itself every five seconds until the person answered.
  await page.locator('#result').waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('#result').textContent(), `Welcome, ${name}!`);
  return JSON.parse(await page.locator('#userinfo').textContent());
}

/** The app's status line, once it says `text`. */
async function expectStatus(app, text) {
  await app.page.getByTestId('status').filter({ hasText: text }).waitFor({ timeout: 10_000 });
}

test('poll: the till gets the login once the customer confirms in the app', async () => {
  const context = await desktop(browser);
  const till = await startAtTill(context, { phone: '+45 20 12 34 03', screenshot: 'ciba-till-form' });
  const app = await openTestApp(browser, nod.base, '4520123403');
  const card = await pendingRequest(app);

  // What the person sees: a login at the shop, the till's code, the data and the questions.
  assert.equal(await card.getAttribute('data-kind'), 'merchant_initiated');
  assert.match(await card.getByTestId('request-kind').textContent(), /Login at the shop/);
  assert.equal(await card.getByTestId('sales-unit').textContent(), 'Demo Shop');
  assert.equal((await card.getByTestId('binding-message').textContent()).trim(), 'TILL-42');
  assert.match(await card.textContent(), /Check that the till shows the same code/);
  assert.equal(await card.getByTestId('remember').count(), 0, 'no browser to remember');
  const questions = card.getByTestId('delegated-consents');
  assert.match(await questions.locator('legend').textContent(), /Stay in touch with Demo Shop/);
  for (const name of ['Terms', 'Privacy statement']) {
    const link = questions.getByRole('link', { name });
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.equal(await link.getAttribute('rel'), 'noopener');
  }
  assert.match(await card.locator('label', { has: app.page.getByTestId('delegated-terms') }).textContent(), /\(required\)/);
  assert.doesNotMatch(await card.locator('label', { has: app.page.getByTestId('delegated-newsletter') }).textContent(), /\(required\)/);

  // Approve stays disabled until the required question is ticked.
  const approve = card.getByTestId('approve');
  assert.equal(await approve.isDisabled(), true);
  assert.equal(await card.getByTestId('approve-hint').isVisible(), true);
  await app.page.waitForTimeout(300);
  await snap(app.page, 'test-app-merchant-initiated-unanswered');
  await card.getByTestId('consent').check();
  await card.getByTestId('delegated-newsletter').check();
  await card.getByTestId('delegated-newsletter').uncheck();
  assert.equal(await approve.isDisabled(), true, 'the optional question does not unlock approve');
  await card.getByTestId('delegated-terms').check();
  assert.equal(await approve.isEnabled(), true);
  assert.equal(await card.getByTestId('approve-hint').isVisible(), false);
  await card.getByTestId('delegated-terms').uncheck();
  assert.equal(await approve.isDisabled(), true);
  await card.getByTestId('delegated-terms').check();
  await app.page.evaluate(() => window.scrollTo(0, 0));
  await app.page.waitForTimeout(300);
  await snap(app.page, 'test-app-merchant-initiated');

  await approve.click();
  await expectStatus(app, 'Confirmed. The shop has been told.');
  await card.waitFor({ state: 'detached' });

  const userinfo = await expectWelcome(till, 'Freja Møller');
  await snap(till, 'ciba-till-welcome');
  assert.equal(userinfo.phone_number, '4520123403');
  const answers = Object.fromEntries(userinfo.delegatedConsents.consents.map((c) => [c.id, c.accepted]));
  assert.deepEqual(answers, { terms: true, newsletter: false });
  const claims = JSON.parse(await till.locator('#claims').textContent());
  assert.ok(claims.auth_req_id, 'the ID token names the merchant-initiated request');
  await context.close();
  await app.context.close();
});

test('login to webpage: the app opens the shop\'s page, which shows the welcome', async () => {
  const context = await desktop(browser);
  const till = await startAtTill(context, { phone: '+45 20 12 34 04', message: 'TILL-7', mode: 'webpage' });
  const app = await openTestApp(browser, nod.base, '4520123404');
  const card = await pendingRequest(app);
  assert.equal((await card.getByTestId('binding-message').textContent()).trim(), 'TILL-7');
  await card.getByTestId('consent').check();
  await card.getByTestId('delegated-terms').check();
  await card.getByTestId('delegated-newsletter').check();
  await card.getByTestId('approve').click();
  await app.page.waitForURL(/\/demo\/ciba-callback\?code=/, { timeout: 10_000 });
  const userinfo = await expectWelcome(app.page, 'Mikkel Andersen');
  await snap(app.page, 'ciba-webpage-welcome');
  const answers = Object.fromEntries(userinfo.delegatedConsents.consents.map((c) => [c.id, c.accepted]));
  assert.deepEqual(answers, { terms: true, newsletter: true });
  // The till itself learns nothing in this mode: it still waits.
  await till.locator('#ciba-waiting').waitFor();
  await context.close();
  await app.context.close();
});

test('rejecting in the app: the till gets access_denied', async () => {
  const context = await desktop(browser);
  const till = await startAtTill(context, { phone: '+45 20 12 34 05', message: 'TILL-9' });
  const app = await openTestApp(browser, nod.base, '4520123405');
  const card = await pendingRequest(app);
  await card.getByTestId('reject').click();
  await expectStatus(app, 'Rejected.');
  await till.locator('#result-error').waitFor({ timeout: 15_000 });
  assert.match(await till.locator('#result-error').textContent(), /access_denied/);
  await snap(till, 'ciba-till-rejected');
  await context.close();
  await app.context.close();
});
