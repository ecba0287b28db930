// A real OAuth 2.0 authorization server (oidc-provider, in-memory adapter) on loopback for mailauth's
// end-to-end tests. TEST USE ONLY: any login name is accepted, and /test/* routes steer the server:
//   GET  /test/health                          readiness
//   POST /test/slow_down user_code=&count=N    the next N pending polls of that device code get slow_down
//   GET  /test/device_polls?user_code=         when each poll of that device code came and what it got
//   GET  /test/token_log                       every token request: grant, client, auth method used, result
//   POST /test/revoke_access_token token=      destroy one access token (its refresh token stays valid)
//   POST /test/expire_access_token token=      make one access token expire now
//
//   node server.mjs --state-dir DIR [--port 0] [--device-interval 1] [--tls-cert PEM --tls-key PEM]
//
// It binds 127.0.0.1 (port 0 = a free port chosen by the kernel), writes the client keys to DIR/keys/,
// prints one JSON line {"ready":true,"issuer":...} on stdout when it serves requests, and exits when its
// standard input closes (so it never outlives the test driver that started it) or on SIGTERM/SIGINT.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import * as querystring from 'node:querystring';

import Provider from 'oidc-provider';

function parseArgs(argv) {
  const out = { port: 0, deviceInterval: 1, stateDir: '', tlsCert: '', tlsKey: '' };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    const v = () => {
      i += 1;
      if (i >= argv.length) throw new Error(`${a} needs a value`);
      return argv[i];
    };
    if (a === '--port') out.port = Number(v());
    else if (a === '--state-dir') out.stateDir = v();
    else if (a === '--device-interval') out.deviceInterval = Number(v());
    else if (a === '--tls-cert') out.tlsCert = v();
    else if (a === '--tls-key') out.tlsKey = v();
    else throw new Error(`unknown option ${a}`);
  }
  if (!out.stateDir) throw new Error('--state-dir DIR is required');
  return out;
}

const args = parseArgs(process.argv.slice(2));
const keyDir = path.join(args.stateDir, 'keys');
fs.mkdirSync(keyDir, { recursive: true, mode: 0o700 });

// Client keys for private_key_jwt: RSA and P-256 registered with the client, one more key that is not.
function makeKey(name, type, options) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync(type, options);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  fs.writeFileSync(path.join(keyDir, `${name}.pem`), pem, { mode: 0o600 });
  return { ...publicKey.export({ format: 'jwk' }), use: 'sig', kid: name };
}
const rsaJwk = makeKey('client-rsa', 'rsa', { modulusLength: 2048 });
const ecJwk = makeKey('client-ec', 'ec', { namedCurve: 'P-256' });
const edJwk = makeKey('client-ed25519', 'ed25519', {});
makeKey('unregistered-rsa', 'rsa', { modulusLength: 2048 });

// The server's own signing key (ID tokens), so that oidc-provider does not fall back to its dev keys.
const { privateKey: serverKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const serverJwk = { ...serverKey.export({ format: 'jwk' }), use: 'sig', kid: 'server' };

const secrets = {
  'cc-basic': 'basic secret with spaces & symbols:%+',
  'cc-post': 'post-secret-0123456789',
  app: 'app secret: native & confidential',
  dovecot: 'dovecot-introspection-secret',
};
fs.writeFileSync(path.join(args.stateDir, 'secrets.json'), JSON.stringify(secrets, null, 2), { mode: 0o600 });

const loopback = ['http://127.0.0.1/callback'];
const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';
const clients = [
  { client_id: 'cc-basic', client_secret: secrets['cc-basic'], token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'mail' },
  { client_id: 'cc-post', client_secret: secrets['cc-post'], token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'mail' },
  { client_id: 'cc-jwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [rsaJwk, ecJwk, edJwk] },
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'mail' },
  // A confidential native app: authorization code with PKCE, loopback redirect on any port, refresh tokens.
  { client_id: 'app', client_secret: secrets.app, token_endpoint_auth_method: 'client_secret_basic',
    application_type: 'native', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    redirect_uris: loopback, scope: 'openid offline_access mail' },
  // A public native app: authorization code + device code, no client authentication.
  { client_id: 'public-app', token_endpoint_auth_method: 'none', application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token', deviceGrant], response_types: ['code'],
    redirect_uris: loopback, scope: 'openid offline_access mail' },
  // Device codes that expire after a few seconds.
  { client_id: 'device-short', token_endpoint_auth_method: 'none', application_type: 'native',
    grant_types: [deviceGrant], response_types: [], redirect_uris: [], scope: 'openid offline_access mail' },
  // The resource server (Dovecot's oauth2 passdb) that introspects access tokens.
  { client_id: 'dovecot', client_secret: secrets.dovecot, token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [], response_types: [], redirect_uris: [] },
];

const emailOf = (accountId) => (accountId.includes('@') ? accountId : `${accountId}@example.test`);

// Test-route state: pending slow_down answers and poll times per user code.
const slowDown = new Map(); // normalized user code -> polls still to answer with slow_down
const polls = new Map();    // normalized user code -> [{ t, result }]
const tokenLog = [];        // one entry per token request: grant, client, how it authenticated, result
const normalizeUserCode = (s) => String(s ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');

const tls = Boolean(args.tlsCert);
const server = tls
  ? https.createServer({ cert: fs.readFileSync(args.tlsCert), key: fs.readFileSync(args.tlsKey) })
  : http.createServer();
server.listen(args.port, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [serverJwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: emailOf(id), email_verified: true }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'offline_access', 'mail', 'admin'],
    features: {
      devInteractions: { enabled: true }, // the login and consent pages the tests walk
      clientCredentials: { enabled: true },
      deviceFlow: { enabled: true },
      // Dovecot's oauth2 passdb introspects with client "dovecot"; a client may also introspect its own tokens.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => client.clientId === 'dovecot' || token.clientId === client.clientId,
      },
      revocation: { enabled: true },
    },
    pkce: { required: () => true }, // S256 is the only method oidc-provider 9 knows
    rotateRefreshToken: true,
    // Dovecot's oauth2 passdb matches username_attribute = email against the SASL user.
    extraTokenClaims: async (_ctx, token) => (token.accountId
      ? { email: emailOf(token.accountId), username: token.accountId } : undefined),
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 600,
      RefreshToken: 24 * 3600,
      DeviceCode: (_ctx, _token, client) => (client?.clientId === 'device-short' ? 4 : 600),
      AuthorizationCode: 60,
      Grant: 24 * 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 24 * 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><body><h1>error</h1><pre>${JSON.stringify(out).replace(/</g, '&lt;')}</pre></body></html>`;
    },
  });
  provider.proxy = false;
  for (const event of ['server_error', 'authorization.error', 'grant.error', 'introspection.error', 'revocation.error']) {
    provider.on(event, (_ctx, err) => process.stderr.write(`${event}: ${err?.name ?? ''} ${err?.message ?? ''} ${err?.error_detail ?? ''}\n${event === 'server_error' ? `${err?.stack}\n` : ''}`));
  }

  // Test-only routes, and the device flow's knobs (interval, slow_down emulation, poll log).
  provider.use(async (ctx, next) => {
    if (ctx.path.startsWith('/test/')) {
      await testRoute(provider, ctx);
      return;
    }
    const isToken = ctx.path === '/token' && ctx.method === 'POST';
    const authShape = isToken ? describeAuth(ctx) : null;
    await next();
    if (ctx.path === '/device/auth' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body.interval = args.deviceInterval; // RFC 8628 §3.2: the client waits this long between polls
    }
    if (!isToken) return;
    const params = ctx.oidc?.params ?? {};
    const entry = {
      grant_type: params.grant_type, client_id: ctx.oidc?.client?.clientId ?? null, auth: authShape,
      status: ctx.status, error: ctx.body?.error ?? null, scope: ctx.body?.scope ?? null,
      refresh_token_issued: Boolean(ctx.body?.refresh_token),
      body_secret: Boolean(params.client_secret), assertion: Boolean(params.client_assertion),
    };
    if (params.grant_type === deviceGrant && params.device_code) {
      const code = await provider.DeviceCode.find(String(params.device_code), { ignoreExpiration: true });
      if (code) {
        const uc = normalizeUserCode(code.userCode);
        let result = ctx.body?.error ?? 'token';
        const left = slowDown.get(uc) ?? 0;
        if (left > 0 && result === 'authorization_pending') { // the client polls "too fast": answer slow_down
          slowDown.set(uc, left - 1);
          ctx.status = 400;
          ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off' };
          result = 'slow_down';
          entry.error = 'slow_down';
        }
        if (!polls.has(uc)) polls.set(uc, []);
        polls.get(uc).push({ t: Date.now() / 1000, result });
      }
    }
    tokenLog.push(entry);
  });

  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ ready: true, issuer, port, pid: process.pid, keys: keyDir })}\n`);
});

// How the client authenticated, without any secret: for the tests to check the method on the wire.
function describeAuth(ctx) {
  const h = ctx.get('authorization');
  return { basic: h.toLowerCase().startsWith('basic '), ...(ctx.is('application/x-www-form-urlencoded') ? {} : { content_type: ctx.get('content-type') }) };
}

async function readForm(ctx) {
  const chunks = [];
  for await (const c of ctx.req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/json')) return text ? JSON.parse(text) : {};
  return querystring.parse(text);
}

async function testRoute(provider, ctx) {
  const q = ctx.method === 'POST' ? await readForm(ctx) : Object.fromEntries(new URLSearchParams(ctx.querystring));
  ctx.type = 'json';
  switch (`${ctx.method} ${ctx.path}`) {
    case 'GET /test/health':
      ctx.body = { ok: true };
      return;
    case 'POST /test/slow_down': { // the next `count` pending polls of this user code get slow_down
      const uc = normalizeUserCode(q.user_code);
      if (!uc) ctx.throw(400, 'user_code required');
      slowDown.set(uc, Number(q.count ?? 1));
      ctx.body = { ok: true, user_code: uc, count: slowDown.get(uc) };
      return;
    }
    case 'GET /test/device_polls':
      ctx.body = { polls: polls.get(normalizeUserCode(q.user_code)) ?? [] };
      return;
    case 'GET /test/token_log':
      ctx.body = { requests: tokenLog };
      return;
    case 'POST /test/revoke_access_token': { // this access token only (RFC 7009 revocation also revokes its grant's refresh tokens)
      const at = await provider.AccessToken.find(String(q.token ?? ''));
      if (!at) ctx.throw(404, 'no such access token');
      await at.destroy();
      ctx.body = { ok: true };
      return;
    }
    case 'POST /test/expire_access_token': { // the access token reaches its expiry now, nothing else changes
      const at = await provider.AccessToken.find(String(q.token ?? ''));
      if (!at) ctx.throw(404, 'no such access token');
      const payload = await provider.AccessToken.adapter.find(at.jti);
      await provider.AccessToken.adapter.upsert(at.jti, { ...payload, exp: Math.floor(Date.now() / 1000) - 1 }, 60);
      ctx.body = { ok: true };
      return;
    }
    default:
      ctx.status = 404;
      ctx.body = { error: 'no such test route' };
  }
}

function stop() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
