// Test scenarios in Chromium: the test app's outcome buttons (test mode) end a login the
// way a merchant's integration must be able to handle, and the test checks what the demo
// shop got: the error on its redirect URI (browser logins) or from the token endpoint
// (the till's merchant-initiated logins), and the expired page for "Expire now".

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

/** At the demo shop, starts the desktop journey for this number; returns the shop's page. */
async function waitingAtShop(context, typed) {
  const page = await context.newPage();
  await page.goto(`${nod.base}/demo/`);
  await page.locator('[data-journey="web"]').click();
  await page.getByLabel('Mobile number').fill(typed);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#challenge').waitFor();
  return page;
}

/** At the demo shop's till, sends a merchant-initiated login; returns the till's page. */
async function waitingAtTill(context, typed) {
  const till = await context.newPage();
  await till.goto(`${nod.base}/demo/`);
  await till.locator('#ciba-phone').fill(typed);
  await till.locator('#ciba-message').fill('TEST-1');
  await till.locator('input[name=mode][value=poll]').check();
  await till.locator('#ciba-start').click();
  await till.locator('#ciba-waiting').waitFor({ timeout: 10_000 });
  return till;
}

/** The error the demo shop shows once it got one. */
async function shopError(page) {
  const error = page.locator('#result-error');
  await error.waitFor({ timeout: 15_000 });
  return error.textContent();
}

/** Clicks an outcome button on the pending request's card; waits for the app to confirm. */
async function clickOutcome(app, outcome) {
  const card = await pendingRequest(app);
  await card.getByTestId(`outcome-${outcome}`).click();
  await app.page.getByTestId('status').filter({ hasText: /Ended with|Expired now/ }).waitFor({ timeout: 10_000 });
  return card;
}

test('a browser login shows every outcome it can have, and not old_app', async () => {
  const context = await desktop(browser);
  await waitingAtShop(context, '+47 912 34 503');
  const app = await openTestApp(browser, nod.base, '4791234503');
  const card = await pendingRequest(app);
  const buttons = card.getByTestId('test-outcomes').locator('button');
  const shown = await buttons.evaluateAll((all) => all.map((b) => b.dataset.outcome));
  assert.deepEqual(shown, ['rejected', 'wrong_challenge', 'unknown_reject_reason', 'outdated_app_version', 'expire_now']);
  await snap(app.page, 'test-app-outcomes');
  await clickOutcome(app, 'rejected');
  await context.close();
  await app.context.close();
});

for (const [outcome, error, typed, phone] of [
  ['rejected', 'access_denied', '+358 40 123 4503', '358401234503'],
  ['wrong_challenge', 'wrong_challenge', '+358 40 123 4504', '358401234504'],
  ['unknown_reject_reason', 'unknown_reject_reason', '+358 50 123 4505', '358501234505'],
  ['outdated_app_version', 'outdated_app_version', '+45 20 12 34 02', '4520123402'],
]) {
  test(`browser login, outcome ${outcome}: the shop gets ${error}`, async () => {
    const context = await desktop(browser);
    const shop = await waitingAtShop(context, typed);
    const app = await openTestApp(browser, nod.base, phone);
    await clickOutcome(app, outcome);
    assert.match(await shopError(shop), new RegExp(error));
    if (outcome === 'outdated_app_version') await snap(shop, 'demo-shop-outdated-app-version');
    await context.close();
    await app.context.close();
  });
}

test('browser login, Expire now: the waiting page turns into the expired page at once', async () => {
  const context = await desktop(browser);
  const shop = await waitingAtShop(context, '+45 20 12 34 04');
  const app = await openTestApp(browser, nod.base, '4520123404');
  await clickOutcome(app, 'expire_now');
  await shop.getByRole('heading', { name: 'Time ran out' }).waitFor({ timeout: 10_000 });
  await app.page.getByTestId('request').waitFor({ state: 'detached', timeout: 10_000 });
  await snap(shop, 'expired-now');
  await context.close();
  await app.context.close();
});

for (const [outcome, error, typed, phone] of [
  ['old_app', 'old_app', '+47 912 34 504', '4791234504'],
  ['expire_now', 'expired_token', '+47 912 34 505', '4791234505'],
]) {
  test(`merchant-initiated login, outcome ${outcome}: the till gets ${error}`, async () => {
    const context = await desktop(browser);
    const till = await waitingAtTill(context, typed);
    const app = await openTestApp(browser, nod.base, phone);
    const card = await pendingRequest(app);
    const shown = await card.getByTestId('test-outcomes').locator('button')
      .evaluateAll((all) => all.map((b) => b.dataset.outcome));
    assert.deepEqual(shown, ['rejected', 'old_app', 'expire_now']);
    await clickOutcome(app, outcome);
    assert.match(await shopError(till), new RegExp(error));
    await context.close();
    await app.context.close();
  });
}

test('the special demo users: the test app says what is special; an under-15 user gets invalid_user', async () => {
  const context = await desktop(browser);
  const page = await context.newPage();
  await page.goto(`${nod.base}/test-app/`);
  const notes = async (phone) => page.getByTestId(`user-${phone}`).getByTestId('user-notes').textContent();
  assert.match(await notes('4791234510'), /under 15/);
  assert.match(await notes('4791234511'), /e-mail not verified/);
  assert.match(await notes('4791234512'), /no address/);
  assert.equal(await page.getByTestId('user-4791234513').count(), 0, 'an inactive user has no app');
  await snap(page, 'test-app-special-users');

  const till = await context.newPage();
  await till.goto(`${nod.base}/demo/`);
  await till.locator('#ciba-phone').fill('+47 912 34 510');
  await till.locator('#ciba-start').click();
  assert.match(await shopError(till), /invalid_user/);
  await context.close();
});
