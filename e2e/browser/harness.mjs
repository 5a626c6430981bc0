// Test harness for the browser journeys: a real Nod (the debug binary, test mode, a fresh
// SQLite file) on 127.0.0.1, Debian's Chromium driven by playwright-core, and helpers to
// act as the merchant's customer (desktop or phone browser) and as the test app.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, devices } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshots = join(root, 'e2e', 'screenshots');
mkdirSync(screenshots, { recursive: true });

export const PHONE = '4791234501';
export const OTHER_PHONE = '4520123401';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts Nod in test mode; `extra` adds command-line flags. */
export async function startNod(extra = []) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nod-e2e-'));
  const binary = process.env.NOD_BIN || join(root, 'target', 'debug', 'nod');
  const child = spawn(binary, [
    '--database', `sqlite://${join(dir, 'nod.db')}`,
    '--listen', `127.0.0.1:${port}`,
    '--public-url', base,
    // The suites log the same test users in many times a minute.
    'serve', '--demo', '--max-requests-per-number-per-10-minutes', '1000', ...extra,
  ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RUST_LOG: 'warn' } });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nod exited: ${stderr}`);
    try {
      const r = await fetch(`${base}/health/ready`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`nod did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, stop: () => child.kill('SIGTERM') };
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

/** A desktop browser context (a merchant's customer at a computer). */
export async function desktop(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
}

/** A phone browser context (phone viewport and user agent). */
export async function phone(browser) {
  return browser.newContext({ ...devices['Pixel 7'], locale: 'en-GB' });
}

/** Saves a screenshot of what the person sees now, as `e2e/screenshots/{name}.png`. */
export async function snap(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Opens the test app in its own phone-sized context as a test user. */
export async function openTestApp(browser, base, phoneNumber = PHONE) {
  const context = await browser.newContext({ ...devices['Pixel 7'], locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(`${base}/test-app/`);
  await page.getByTestId(`user-${phoneNumber}`).click();
  await page.getByTestId('tab-requests').waitFor();
  return { context, page };
}

/** The test app: the card of the one pending request, once it has arrived. */
export async function pendingRequest(app) {
  const card = app.page.getByTestId('request').first();
  await card.waitFor({ timeout: 10_000 });
  return card;
}
