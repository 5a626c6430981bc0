// Interoperability check for merchant-initiated login: openid-client (a certified
// relying-party library) starts a CIBA request against a running Nod and polls for the
// tokens, while this script, acting as the person's app, approves through Nod's app API.
//
// Env: NOD_ISSUER, NOD_BASE, NOD_CLIENT_ID, NOD_CLIENT_SECRET, NOD_PHONE.
// Success: one line of JSON on stdout, exit 0. Failure: the error on stderr, exit 1.

import * as client from 'openid-client';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const base = env('NOD_BASE');
const phone = env('NOD_PHONE');

async function app(method, path, token, body) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(new URL(path, base), { method, headers, body: body && JSON.stringify(body) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

async function main() {
  const config = await client.discovery(
    new URL(env('NOD_ISSUER')),
    env('NOD_CLIENT_ID'),
    undefined,
    client.ClientSecretBasic(env('NOD_CLIENT_SECRET')),
    { execute: [client.allowInsecureRequests] },
  );
  const metadata = config.serverMetadata();
  if (!metadata.backchannel_authentication_endpoint) throw new Error('discovery has no backchannel_authentication_endpoint');

  const started = await client.initiateBackchannelAuthentication(config, {
    scope: 'openid name phoneNumber',
    login_hint: `urn:msisdn:${phone}`,
    binding_message: 'TILL-42',
  });

  // The person's app: register, find the request, approve it with consent.
  const { device_token: device } = await app('POST', '/app-api/v1/devices', null, { phone_number: phone });
  const { login_requests: pending } = await app('GET', '/app-api/v1/login-requests', device);
  const request = pending.find((r) => r.kind === 'merchant_initiated');
  if (!request) throw new Error(`no merchant-initiated request in ${JSON.stringify(pending)}`);
  if (request.binding_message !== 'TILL-42') throw new Error(`binding message ${request.binding_message}`);
  const next = await app('POST', `/app-api/v1/login-requests/${request.id}/approve`, device, { consent: true });

  const tokens = await client.pollBackchannelAuthenticationGrant(config, started);
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  process.stdout.write(`${JSON.stringify({
    auth_req_id: started.auth_req_id,
    expires_in: started.expires_in,
    interval: started.interval,
    next,
    id_token_claims: claims,
    userinfo,
  })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  if (error?.cause) process.stderr.write(`cause: ${JSON.stringify(error.cause)}\n`);
  process.exit(1);
});
