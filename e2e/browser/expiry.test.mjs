// Expiry in a real browser: a Nod whose login requests live four seconds. The waiting page
// turns into a clear page that lets the person start over.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startNod, launch, desktop, snap } from './harness.mjs';

let nod;
let browser;

before(async () => {
  nod = await startNod(['--login-request-lifetime', '4']);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  nod?.stop();
});

test('an expired login shows a page that lets the person start over', async () => {
  const context = await desktop(browser);
  const page = await context.newPage();
  await page.goto(`${nod.base}/demo/start?journey=web`);
  await page.getByLabel('Mobile number').fill('+47 912 34 501');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#challenge').waitFor();
  // Nobody confirms; the page notices by itself.
  await page.getByRole('heading', { name: 'Time ran out' }).waitFor({ timeout: 15_000 });
  await snap(page, 'expired');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByLabel('Mobile number').waitFor();
  assert.match(page.url(), /\/login\/[0-9a-f-]+$/);
  await context.close();
});
