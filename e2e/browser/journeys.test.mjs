// Every browser journey in Chromium, the way a merchant's customer lives through it: the
// demo merchant starts the login, the test app (in its own browser context) confirms by
// clicking, and the test checks where the browser ends and what userinfo the shop got.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startNod, launch, desktop, phone, snap, openTestApp, pendingRequest, PHONE, OTHER_PHONE,
} from './harness.mjs';

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

/** On the demo shop, starts a journey and returns the page. */
async function startAtShop(context, journey = 'web') {
  const page = await context.newPage();
  await page.goto(`${nod.base}/demo/`);
  await page.locator(`[data-journey="${journey}"]`).click();
  return page;
}

/** Types the phone number on Nod's login page; returns the number the page shows. */
async function enterPhone(page, number = '+47 912 34 501', remember = false) {
  await page.getByLabel('Mobile number').fill(number);
  if (remember) await page.getByLabel('Remember me in this browser').check();
  await page.getByRole('button', { name: 'Next' }).click();
  const challenge = page.locator('#challenge');
  await challenge.waitFor();
  return (await challenge.textContent()).trim();
}

async function expectWelcome(page, name = 'Ingrid Solberg') {
  await page.locator('#result').waitFor({ timeout: 15_000 });
  assert.equal(await page.locator('#result').textContent(), `Welcome, ${name}!`);
  return JSON.parse(await page.locator('#userinfo').textContent());
}

async function acceptConsent(page) {
  await page.getByRole('button', { name: 'Accept and continue' }).click();
}

test('desktop, not remembered: phone number, number matching, consent', async () => {
  const context = await desktop(browser);
  const shop = await startAtShop(context);
  await snap(shop, 'desktop-phone-number');
  const number = await enterPhone(shop);
  await snap(shop, 'desktop-waiting-with-number');
  const app = await openTestApp(browser, nod.base);
  const card = await pendingRequest(app);
  await app.page.waitForTimeout(500);
  await snap(app.page, 'test-app-request');
  await card.getByTestId('choice').filter({ hasText: number }).click();
  // The waiting page moves on by itself to the consent page.
  await shop.getByRole('button', { name: 'Accept and continue' }).waitFor({ timeout: 10_000 });
  await snap(shop, 'desktop-consent');
  await acceptConsent(shop);
  const userinfo = await expectWelcome(shop);
  await snap(shop, 'demo-shop-welcome');
  assert.equal(userinfo.email, 'ingrid.solberg@example.no');
  assert.equal(userinfo.phone_number, PHONE);
  assert.equal(userinfo.nin, '14035810200');
  await context.close();
  await app.context.close();
});

test('desktop, remembered: the second login needs neither app nor consent; app_auth forces the app', async () => {
  const context = await desktop(browser);
  const app = await openTestApp(browser, nod.base, OTHER_PHONE);
  const shop = await startAtShop(context);
  const number = await enterPhone(shop, '+45 20 12 34 01', true);
  const card = await pendingRequest(app);
  await card.getByTestId('choice').filter({ hasText: number }).click();
  await acceptConsent(shop);
  await expectWelcome(shop, 'Mette Sørensen');

  // Again in the same browser: straight back to the shop.
  await shop.goto(`${nod.base}/demo/`);
  await shop.locator('[data-journey="web"]').click();
  const userinfo = await expectWelcome(shop, 'Mette Sørensen');
  assert.equal(userinfo.phone_number, OTHER_PHONE);

  // acr_values=urn:vipps:acr:app_auth: the app again, even here.
  await shop.goto(`${nod.base}/demo/`);
  await shop.locator('[data-journey="app_auth"]').click();
  const again = await enterPhone(shop, '+45 20 12 34 01');
  const second = await pendingRequest(app);
  await second.getByTestId('choice').filter({ hasText: again }).click();
  await expectWelcome(shop, 'Mette Sørensen');
  const claims = JSON.parse(await shop.locator('#claims').textContent());
  assert.equal(claims.acr, 'urn:vipps:acr:app_auth');
  assert.deepEqual(claims.amr, ['app']);
  await context.close();
  await app.context.close();
});

test('mobile: the landing page opens the app, then finishes by itself', async () => {
  const context = await phone(browser);
  const shop = await startAtShop(context);
  const link = shop.locator('#open-app');
  await link.waitFor();
  await snap(shop, 'mobile-open-the-app');
  const deepLink = await link.getAttribute('href');
  assert.match(deepLink, /\/test-app\/open\?ticket=/);
  // The phone's app opens the deep link.
  const app = await openTestApp(browser, nod.base, '4791234502');
  await app.page.goto(deepLink);
  const card = await pendingRequest(app);
  assert.equal(await card.getByTestId('choice').count(), 0, 'no number to match on the same phone');
  // Opened from a link: the app warns against links someone sent, and does not offer to
  // remember the browser.
  assert.match(await card.getByTestId('link-warning').textContent(), /started this login on this phone/);
  assert.equal(await card.getByTestId('remember').count(), 0);
  await card.getByTestId('approve').click();
  await shop.getByRole('button', { name: 'Accept and continue' }).waitFor({ timeout: 10_000 });
  await snap(shop, 'mobile-consent');
  await acceptConsent(shop);
  await expectWelcome(shop, 'Ørjan Bjørnstad');
  await snap(shop, 'mobile-welcome');
  await context.close();
  await app.context.close();
});

test('app to app: the shop app gets resume_uri and finishes in its browser', async () => {
  const context = await phone(browser);
  const shop = await startAtShop(context, 'app_to_app');
  const deepLink = await shop.locator('#open-app').getAttribute('href');
  const app = await openTestApp(browser, nod.base, '4520123402');
  await app.page.goto(deepLink);
  const card = await pendingRequest(app);
  await card.getByTestId('approve').click();
  // The app opens the shop app's callback; the shop app opens resume_uri in its browser.
  await app.page.waitForURL(/\/demo\/app-callback\?/, { timeout: 10_000 });
  await snap(app.page, 'app-to-app-shop-app');
  const resume = await app.page.locator('#resume').getAttribute('href');
  await shop.goto(resume);
  await acceptConsent(shop);
  await expectWelcome(shop, 'Jens Kjær');
  // A replayed resume_uri is refused.
  await shop.goto(resume);
  assert.match(await shop.locator('h1').textContent(), /Link not valid/);
  await context.close();
  await app.context.close();
});

test('app to app v2: consent in the app, the app opens the redirect URI', async () => {
  const context = await phone(browser);
  const shop = await startAtShop(context, 'app_to_app_v2');
  const deepLink = await shop.locator('#open-app').getAttribute('href');
  const app = await openTestApp(browser, nod.base, '4791234503');
  await app.page.goto(deepLink);
  const card = await pendingRequest(app);
  await card.getByTestId('consent').check();
  await snap(app.page, 'test-app-consent-in-app');
  await card.getByTestId('approve').click();
  await expectWelcome(app.page, 'Siri Åsheim');
  // The starting browser is told the login finished in the app.
  await shop.getByRole('heading', { name: 'You are logged in' }).waitFor({ timeout: 10_000 });
  await context.close();
  await app.context.close();
});

test('automatic return: completes in another browser without the first one\'s cookies', async () => {
  const context = await phone(browser);
  const shop = await startAtShop(context, 'automatic_return');
  const deepLink = await shop.locator('#open-app').getAttribute('href');
  const app = await openTestApp(browser, nod.base, '4791234504');
  assert.equal((await app.context.cookies(nod.base)).some((c) => c.name === 'nod_bid'), false);
  await app.page.goto(deepLink);
  const card = await pendingRequest(app);
  await card.getByTestId('consent').check();
  await card.getByTestId('approve').click();
  const userinfo = await expectWelcome(app.page, 'Magnus Hægeland');
  assert.equal(userinfo.birthdate, '2001-09-08');
  await context.close();
  await app.context.close();
});

test('consent revoked in the app is asked for again', async () => {
  const context = await desktop(browser);
  const app = await openTestApp(browser, nod.base, '4791234505');
  const shop = await startAtShop(context);
  const number = await enterPhone(shop, '+47 912 34 505', true);
  await (await pendingRequest(app)).getByTestId('choice').filter({ hasText: number }).click();
  await acceptConsent(shop);
  await expectWelcome(shop, 'Astrid Lie');

  await app.page.getByTestId('tab-consents').click();
  const item = app.page.getByTestId('consent-item').filter({ hasText: 'Demo Shop' });
  await item.waitFor();
  await snap(app.page, 'test-app-consents');
  await item.getByTestId('revoke').click();
  await item.waitFor({ state: 'detached' });

  // Remembered, so no app; but the consent page again.
  await shop.goto(`${nod.base}/demo/`);
  await shop.locator('[data-journey="web"]').click();
  await shop.getByRole('button', { name: 'Accept and continue' }).waitFor();
  await acceptConsent(shop);
  await expectWelcome(shop, 'Astrid Lie');

  // Logging the browser out in the app: the phone number again.
  await app.page.getByTestId('tab-browsers').click();
  const remembered = app.page.getByTestId('browser-item').first();
  await remembered.waitFor();
  await snap(app.page, 'test-app-browsers');
  await remembered.getByTestId('forget').click();
  await remembered.waitFor({ state: 'detached' });
  await shop.goto(`${nod.base}/demo/`);
  await shop.locator('[data-journey="web"]').click();
  await shop.getByLabel('Mobile number').waitFor();
  await context.close();
  await app.context.close();
});

test('the wrong number ends the login with wrong_challenge', async () => {
  const context = await desktop(browser);
  const shop = await startAtShop(context);
  const number = await enterPhone(shop, '+358 40 123 4501');
  const app = await openTestApp(browser, nod.base, '358401234501');
  const card = await pendingRequest(app);
  const wrong = card.getByTestId('choice').filter({ hasNotText: number }).first();
  await wrong.click();
  await shop.locator('#result-error').waitFor({ timeout: 10_000 });
  assert.match(await shop.locator('#result-error').textContent(), /wrong_challenge/);
  await snap(shop, 'demo-shop-wrong-number');
  await context.close();
  await app.context.close();
});

test('rejecting in the app denies access', async () => {
  const context = await desktop(browser);
  const shop = await startAtShop(context);
  await enterPhone(shop, '+358 40 123 4502');
  const app = await openTestApp(browser, nod.base, '358401234502');
  await (await pendingRequest(app)).getByTestId('reject').click();
  await shop.locator('#result-error').waitFor({ timeout: 10_000 });
  assert.match(await shop.locator('#result-error').textContent(), /access_denied/);
  await context.close();
  await app.context.close();
});

test('the login page refuses to render inside an iframe', async () => {
  const context = await desktop(browser);
  const shop = await startAtShop(context);
  await shop.getByLabel('Mobile number').waitFor();
  const loginUrl = shop.url();
  // A page of another origin that frames the login page.
  const framer = await context.newPage();
  await framer.route('http://framer.test/', (route) => route.fulfill({
    contentType: 'text/html',
    body: `<h1>Evil</h1><iframe id="f" src="${loginUrl}" width="600" height="400"></iframe>`,
  }));
  await framer.goto('http://framer.test/');
  await framer.waitForTimeout(1000);
  const frame = framer.frames().find((f) => f !== framer.mainFrame());
  const content = frame ? await frame.content().catch(() => '') : '';
  assert.equal(content.includes('phone_number'), false, 'the login form must not render in a frame');
  await context.close();
});

test('pages speak Norwegian, Danish and Finnish', async () => {
  for (const [locale, words] of [['nb-NO', 'Mobilnummer'], ['da-DK', 'Mobilnummer'], ['fi-FI', 'Matkapuhelinnumero']]) {
    const context = await browser.newContext({ locale, viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    await page.goto(`${nod.base}/demo/start?journey=web`);
    await page.getByLabel(words).waitFor();
    await snap(page, `phone-page-${locale}`);
    await context.close();
  }
});
