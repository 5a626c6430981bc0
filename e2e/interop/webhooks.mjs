// Independent check of Nod's webhooks, the way a merchant following the Vipps MobilePay
// documentation would check them, in Node with node:crypto only:
//
// 1. A receiver on 127.0.0.1 (NOD_RECEIVER_PORT) takes Webhooks API events at
//    /hooks/vipps?shop=nod and the Login API's CONSENT_REVOKED at /consent.
// 2. An access token from POST /accesstoken/get registers the receiver for
//    login.merchant-initiated.ping.v1 (POST /webhooks/v1/webhooks).
// 3. A merchant-initiated login is started and approved in the app; the ping event is
//    verified exactly as the Webhooks API's "Request authentication" sample does it:
//    the content hash of the JSON payload, and the HMAC-SHA256 (keyed with the secret)
//    of `POST\n{pathAndQuery}\n{x-ms-date};{host};{content hash}`, `pathAndQuery` and
//    `host` taken from `new URL(registered url)`.
// 4. The tokens are redeemed, userinfo read, the consent revoked in the app; the
//    CONSENT_REVOKED body (text/plain, an unsigned JWT) is decoded.
//
// Env: NOD_BASE, NOD_CLIENT_ID, NOD_CLIENT_SECRET, NOD_PHONE, NOD_RECEIVER_PORT.
// Success: one line of JSON on stdout, exit 0. Failure: the error on stderr, exit 1.

import crypto from 'node:crypto';
import http from 'node:http';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const base = env('NOD_BASE');
const clientId = env('NOD_CLIENT_ID');
const clientSecret = env('NOD_CLIENT_SECRET');
const phone = env('NOD_PHONE');
const port = Number(env('NOD_RECEIVER_PORT'));

// The receiver: every request, with its raw body, queued by path.
const arrived = [];
const waiters = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    arrived.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204).end();
    for (const w of waiters.splice(0)) w();
  });
});

async function next(pathname, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = arrived.findIndex((r) => new URL(r.url, 'http://x').pathname === pathname);
    if (i >= 0) return arrived.splice(i, 1)[0];
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`nothing arrived at ${pathname} within ${timeoutMs} ms`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, Math.min(left, 200));
    });
  }
}

async function call(method, path, { headers = {}, body, form } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (form !== undefined) {
    init.headers['content-type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const response = await fetch(new URL(path, base), init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

// The Webhooks API's request authentication, ported from its JavaScript sample.
function verify(request, secret, requestUrl) {
  const payloadJson = JSON.parse(request.body);
  const hashedPayload = crypto.createHash('sha256').update(JSON.stringify(payloadJson)).digest('base64');
  // The sample hashes JSON.stringify of the payload; Nod must send exactly those bytes.
  const hashedBody = crypto.createHash('sha256').update(request.body).digest('base64');
  if (hashedPayload !== hashedBody) throw new Error('the body is not JSON.stringify of its payload');
  if (request.headers['x-ms-content-sha256'] !== hashedPayload) {
    throw new Error(`x-ms-content-sha256 ${request.headers['x-ms-content-sha256']} != ${hashedPayload}`);
  }
  const url = new URL(requestUrl);
  const pathAndQuery = url.pathname + url.search;
  const host = url.host;
  if (request.url !== pathAndQuery) throw new Error(`request target ${request.url} != ${pathAndQuery}`);
  if (request.headers.host !== host) throw new Error(`Host ${request.headers.host} != ${host}`);
  const dateTime = request.headers['x-ms-date'];
  if (!/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(dateTime ?? '')) {
    throw new Error(`x-ms-date is not an RFC 1123 date: ${dateTime}`);
  }
  const expectedSignedString = `POST\n${pathAndQuery}\n${dateTime};${host};${hashedPayload}`;
  const expectedSignature = crypto.createHmac('sha256', secret).update(expectedSignedString).digest('base64');
  const expectedAuth = `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${expectedSignature}`;
  if (expectedAuth !== request.headers.authorization) {
    throw new Error(`Authorization fields do not match expected value: ${request.headers.authorization} != ${expectedAuth}`);
  }
  return { payload: payloadJson, date: dateTime, host, pathAndQuery };
}

function decodeUnsignedJwt(token) {
  const parts = token.split('.');
  const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { parts: parts.length, signature: parts[2] ?? null, header: decode(parts[0]), claims: decode(parts[1]) };
}

async function main() {
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));

  // 2. Access token, registration.
  const token = await call('POST', '/accesstoken/get', {
    headers: { client_id: clientId, client_secret: clientSecret, 'Ocp-Apim-Subscription-Key': 'ignored' },
  });
  for (const key of ['token_type', 'expires_in', 'ext_expires_in', 'expires_on', 'not_before', 'resource', 'access_token']) {
    if (typeof token[key] !== 'string') throw new Error(`accesstoken/get: ${key} is not a string: ${JSON.stringify(token)}`);
  }
  const bearer = { authorization: `Bearer ${token.access_token}` };
  const hookUrl = `http://127.0.0.1:${port}/hooks/vipps?shop=nod`;
  const registered = await call('POST', '/webhooks/v1/webhooks', {
    headers: bearer,
    body: { url: hookUrl, events: ['login.merchant-initiated.ping.v1'] },
  });
  const listed = await call('GET', '/webhooks/v1/webhooks', { headers: bearer });

  // 3. A merchant-initiated login, approved in the app.
  const started = await call('POST', '/vipps-login-ciba/api/backchannel/authentication', {
    headers: { authorization: basic },
    form: { login_hint: `urn:msisdn:${phone}`, scope: 'openid name' },
  });
  const { device_token: device } = await call('POST', '/app-api/v1/devices', { body: { phone_number: phone } });
  const app = { authorization: `Bearer ${device}` };
  const { login_requests: pending } = await call('GET', '/app-api/v1/login-requests', { headers: app });
  const request = pending.find((r) => r.kind === 'merchant_initiated');
  if (!request) throw new Error(`no merchant-initiated request in ${JSON.stringify(pending)}`);
  await call('POST', `/app-api/v1/login-requests/${request.id}/approve`, { headers: app, body: { consent: true } });
  const ping = verify(await next('/hooks/vipps'), registered.secret, hookUrl);
  if (ping.payload.auth_req_id !== started.auth_req_id) {
    throw new Error(`ping for ${ping.payload.auth_req_id}, started ${started.auth_req_id}`);
  }

  // 4. Tokens (the ping said the person answered: one poll), userinfo, revoke.
  const tokens = await call('POST', '/access-management-1.0/access/oauth2/token', {
    headers: { authorization: basic },
    form: { grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: started.auth_req_id },
  });
  const userinfo = await call('GET', '/vipps-userinfo-api/userinfo', { headers: { authorization: `Bearer ${tokens.access_token}` } });
  await call('DELETE', `/app-api/v1/consents/${encodeURIComponent(clientId)}`, { headers: app });
  const revoked = await next('/consent');
  const jwt = decodeUnsignedJwt(revoked.body);

  server.close();
  process.stdout.write(`${JSON.stringify({
    registered: { id: registered.id, secret_length: registered.secret.length },
    listed,
    ping: { verified: true, ...ping },
    auth_req_id: started.auth_req_id,
    userinfo_sub: userinfo.sub,
    consent_revoked: {
      content_type: revoked.headers['content-type'],
      authorization: revoked.headers.authorization ?? null,
      ...jwt,
    },
  })}\n`);
}

main().catch((e) => {
  server.close();
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
