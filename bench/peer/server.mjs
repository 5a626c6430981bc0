// The peer Nod is measured against: node-oidc-provider, set up as close to Nod's demo
// sales unit as it allows. One Node process, the default in-memory adapter (nothing
// survives a restart), an RSA 2048 RS256 signing key generated at start, one client with
// client_secret_basic and the same redirect URI, pairwise subjects as Nod gives, PKCE not
// required (neither side is sent PKCE by the load generator), no development interactions:
// a tiny handler in the same HTTP server answers the login and consent interactions at once.
//
// Usage: PORT=18991 node bench/peer/server.mjs   (listens on 127.0.0.1 only)
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 18991);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID ?? 'demo-client';
const clientSecret = process.env.CLIENT_SECRET ?? 'demo-secret-for-test-mode-only-0123456789';
const redirectUri = process.env.REDIRECT_URI ?? 'http://localhost:3000/callback';
const accountId = 'bench-person';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-1', alg: 'RS256', use: 'sig' };
const pairwiseSalt = randomBytes(32).toString('hex');

const claims = {
  sub: accountId,
  name: 'Bench Person',
  given_name: 'Bench',
  family_name: 'Person',
  email: 'bench.person@example.com',
  email_verified: true,
  address: {
    street_address: 'Storgata 1',
    postal_code: '0155',
    region: 'Oslo',
    country: 'NO',
    formatted: 'Storgata 1\n0155 Oslo\nNO',
  },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      subject_type: 'pairwise',
    },
  ],
  jwks: { keys: [jwk] },
  claims: {
    openid: ['sub'],
    name: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
    address: ['address'],
  },
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: (ctx, sub, client) =>
    createHash('sha256').update(`${client.sectorIdentifier}${sub}${pairwiseSalt}`).digest('hex'),
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ ...claims, sub: id }),
  }),
  pkce: { required: () => false },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
});

const callback = provider.callback();

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  res.statusCode = 400;
  res.end(`unexpected prompt ${prompt.name}`);
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => {
  console.log(`peer listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
