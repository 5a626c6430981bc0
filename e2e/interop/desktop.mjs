// Interoperability check: openid-client (a certified relying-party library) logs in
// against a running Nod. The browser steps are driven over plain HTTP (no redirects
// followed, cookies kept by hand) and the login is approved through Nod's app API.
//
// Env: NOD_ISSUER, NOD_BASE, NOD_CLIENT_ID, NOD_CLIENT_SECRET, NOD_REDIRECT_URI, NOD_PHONE.
// Success: one line of JSON on stdout, exit 0. Failure: the error on stderr, exit 1.

import * as client from 'openid-client';

const SCOPE = 'openid name email address phoneNumber birthDate';

class StepError extends Error {
  constructor(message, body) {
    super(message);
    this.body = body;
  }
}

function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

/** A minimal browser cookie jar: name → value, for one host. */
class CookieJar {
  #cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [k, v] = a.split('=').map((s) => s.trim().toLowerCase());
        return k === 'max-age' && Number(v) <= 0;
      });
      if (expired || value === '') {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, value);
      }
    }
  }

  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const base = env('NOD_BASE');
const jar = new CookieJar();

/** A browser request: no redirects followed, cookies sent and kept. */
async function browser(method, path, form) {
  const url = new URL(path, base);
  const headers = { accept: 'text/html' };
  const cookie = jar.header();
  if (cookie) headers.cookie = cookie;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, { method, headers, body, redirect: 'manual' });
  jar.store(response);
  return response;
}

async function expectStatus(response, status, step) {
  if (response.status !== status) {
    const body = await response.text().catch(() => '');
    throw new StepError(
      `${step}: expected HTTP ${status}, got ${response.status} (location: ${response.headers.get('location')})`,
      body,
    );
  }
  return response;
}

async function expectRedirect(response, step, check) {
  await expectStatus(response, 303, step);
  const location = response.headers.get('location') ?? '';
  if (check && !check(location)) {
    throw new StepError(`${step}: unexpected redirect to ${location}`, await response.text());
  }
  return location;
}

function between(text, start, end, what) {
  const i = text.indexOf(start);
  if (i < 0) throw new StepError(`page has no ${what}`, text);
  const from = i + start.length;
  const j = text.indexOf(end, from);
  if (j < 0) throw new StepError(`page has no ${what}`, text);
  return text.slice(from, j);
}

/** The app: registers a device for the phone number and approves the login. */
async function appApprove(phone, id, challenge) {
  const registered = await fetch(new URL('/app-api/v1/devices', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ phone_number: phone }),
  });
  await expectStatus(registered, 201, 'app: register device');
  const { device_token: deviceToken } = await registered.json();
  if (!deviceToken) throw new Error('app: no device_token in the response');

  const approved = await fetch(new URL(`/app-api/v1/login-requests/${id}/approve`, base), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${deviceToken}`,
      'content-type': 'application/json',
      accept: 'application/json',
    },
    body: JSON.stringify({ challenge, remember_browser: false }),
  });
  await expectStatus(approved, 200, 'app: approve');
}

async function main() {
  const issuer = env('NOD_ISSUER');
  const clientId = env('NOD_CLIENT_ID');
  const clientSecret = env('NOD_CLIENT_SECRET');
  const redirectUri = env('NOD_REDIRECT_URI');
  const phone = env('NOD_PHONE');

  // Discovery fetches `${issuer}.well-known/openid-configuration` and checks the issuer.
  // openid-client defaults to client_secret_post when given a secret; Nod registered the
  // client for client_secret_basic, so say so.
  const config = await client.discovery(
    new URL(issuer),
    clientId,
    clientSecret,
    client.ClientSecretBasic(clientSecret),
    { execute: [client.allowInsecureRequests] },
  );

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  // 1. Authorize → the login page.
  const loginPath = await expectRedirect(
    await browser('GET', authorizationUrl.href),
    'authorize',
    (l) => l.startsWith('/login/'),
  );
  const id = loginPath.slice('/login/'.length);

  // 2. The phone form and its CSRF token.
  const loginPage = await expectStatus(await browser('GET', loginPath), 200, 'login page');
  const csrf = between(await loginPage.text(), 'name="csrf" value="', '"', 'CSRF token');

  // 3. Submit the phone number.
  await expectRedirect(
    await browser('POST', `/login/${id}/phone`, { csrf, phone_number: phone }),
    'phone form',
    (l) => l === `/login/${id}/wait`,
  );

  // 4. The waiting page shows the number to pick in the app.
  const waitPage = await expectStatus(await browser('GET', `/login/${id}/wait`), 200, 'wait page');
  const waitHtml = await waitPage.text();
  const afterChallenge = waitHtml.slice(waitHtml.indexOf('id="challenge"'));
  if (!waitHtml.includes('id="challenge"')) throw new StepError('wait page has no number', waitHtml);
  const challenge = Number.parseInt(between(afterChallenge, '>', '<', 'number').trim(), 10);
  if (!Number.isInteger(challenge)) throw new StepError('wait page number is not a number', waitHtml);

  // 5. The app approves with that number.
  await appApprove(phone, id, challenge);

  // 6. Continue → consent → back to the merchant with a code.
  await expectRedirect(
    await browser('GET', `/login/${id}/continue`),
    'continue',
    (l) => l === `/login/${id}/consent`,
  );
  const callbackUrl = await expectRedirect(
    await browser('POST', `/login/${id}/consent`, { csrf, decision: 'accept' }),
    'consent',
    (l) => l.startsWith(redirectUri),
  );

  // The relying party: validate the callback, redeem the code, read userinfo.
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) throw new Error('token response has no ID token');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

  process.stdout.write(
    `${JSON.stringify({ sub: claims.sub, id_token_claims: claims, userinfo })}\n`,
  );
}

function describe(error) {
  const lines = [error?.stack ?? String(error)];
  for (const key of ['code', 'error', 'error_description', 'status']) {
    if (error?.[key] !== undefined) lines.push(`${key}: ${error[key]}`);
  }
  if (error?.body !== undefined) {
    lines.push(`body: ${typeof error.body === 'string' ? error.body : JSON.stringify(error.body)}`);
  }
  if (error?.cause !== undefined) {
    const cause = error.cause;
    if (cause instanceof Response) {
      lines.push(`cause: HTTP ${cause.status} response`);
    } else {
      try {
        lines.push(`cause: ${JSON.stringify(cause)}`);
      } catch {
        lines.push(`cause: ${String(cause)}`);
      }
    }
  }
  if (error?.response instanceof Response) {
    lines.push(`response: HTTP ${error.response.status}`);
  }
  return lines.join('\n');
}

try {
  await main();
  process.exit(0);
} catch (error) {
  let text = describe(error);
  // openid-client's ResponseBodyError and similar keep the raw response; read its body.
  const response = error?.response instanceof Response ? error.response : error?.cause instanceof Response ? error.cause : undefined;
  if (response && !response.bodyUsed) {
    text += `\nresponse body: ${await response.text().catch(() => '(unreadable)')}`;
  }
  process.stderr.write(`${text}\n`);
  process.exit(1);
}
