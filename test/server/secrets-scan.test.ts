// After a broad mix of real traffic, every operation of the contract at least once
// (logins and refreshes, API keys created, rotated, used and reported leaked,
// connections of every auth type, the whole OAuth code flow through the consent
// page, refresh, client credentials, introspection, revocation), every secret the
// test saw is searched for, byte for byte, in the database (SQLite file and WAL,
// or a pg_dump), in the captured logs, in the audit entries as the API lists
// them, and in every answer other than the one that handed it out. None is found.
// (test/server/secrets-at-rest.test.ts covers keys sent where they should not be:
// query strings, unknown paths; this test covers every kind of secret.)
import { beforeAll, expect, test } from 'vitest';
import { useIdentityServer } from '../support/api.ts';
import { loadContractDocument } from '../support/contract-document.ts';
import { databaseBytes } from '../support/database-bytes.ts';
import { authorizationCode, basicAuth } from '../identity/support.ts';

/** Secret -> what it is. */
const secrets = new Map<string, string>();
/** Every answer's text, with the request that got it. */
const answers: Array<{ request: string; text: string; issued: string[] }> = [];

function remember(kind: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 8)
    throw new Error(`${kind} is not a secret string: ${JSON.stringify(value)}`);
  secrets.set(value, kind);
  return value;
}

/** One call; `issues` names the fields of `data` that hand out a secret (remembered, and allowed in this answer only). */
async function call(
  method: string,
  path: string,
  options: {
    key?: string;
    body?: unknown;
    form?: Record<string, string>;
    basic?: [string, string];
    headers?: Record<string, string>;
    issues?: Record<string, string>;
  } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  if (options.basic) headers.Authorization = basicAuth(options.basic[0], options.basic[1]);
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${api.server.baseUrl}${path}`, {
    method,
    headers,
    redirect: 'manual',
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : undefined;
  const issued: string[] = [];
  for (const [field, kind] of Object.entries(response.status < 400 ? (options.issues ?? {}) : {})) {
    const holder = json?.data ?? json;
    issued.push(remember(kind, holder?.[field]));
  }
  answers.push({
    request: `${method} ${path} -> ${response.status}`,
    text: `${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`,
    issued,
  });
  return { status: response.status, json, text, headers: response.headers };
}

async function ok<T extends { status: number }>(what: string, promise: Promise<T>): Promise<T> {
  const result = await promise;
  if (result.status >= 400)
    throw new Error(`${what} answered ${result.status}: ${JSON.stringify((result as { json?: unknown }).json)}`);
  return result;
}

const api = useIdentityServer();
beforeAll(async () => {
  const key = remember('bootstrap API key', api.server.secretKey);
  remember('owner password', api.server.owner.password);

  // Public and discovery.
  await ok('health', call('GET', '/health'));
  await ok('metadata', call('GET', '/.well-known/oauth-authorization-server'));
  await ok('jwks', call('GET', '/.well-known/jwks.json'));

  // Sessions: login, a wrong password, verify, refresh, logout.
  const wrongPassword = remember('wrong password', `${api.server.owner.password}-but-wrong`);
  await call('POST', '/v1/auth/login', { body: { email: api.server.owner.email, password: wrongPassword } });
  await call('POST', '/v1/auth/login', {
    body: { email: 'nobody@example.com', password: remember('password of nobody', 'a password nobody has 42') },
  });
  const session = await ok(
    'login',
    call('POST', '/v1/auth/login', {
      body: { email: api.server.owner.email, password: api.server.owner.password },
      issues: { token: 'session access token', refresh_token: 'session refresh token' },
    }),
  );
  await ok('verify', call('GET', '/v1/auth/verify', { key: session.json.data.token }));
  const refreshed = await ok(
    'refresh',
    call('POST', '/v1/auth/refresh', {
      body: { refresh_token: session.json.data.refresh_token },
      issues: { token: 'refreshed access token', refresh_token: 'refreshed refresh token' },
    }),
  );
  // The used refresh token again: reuse detection revokes the session.
  await call('POST', '/v1/auth/refresh', { body: { refresh_token: session.json.data.refresh_token } });
  const second = await ok(
    'login again',
    call('POST', '/v1/auth/login', {
      body: { email: api.server.owner.email, password: api.server.owner.password },
      issues: { token: 'session access token', refresh_token: 'session refresh token' },
    }),
  );
  await ok(
    'logout',
    call('POST', '/v1/auth/logout', {
      key: second.json.data.token,
      body: { refresh_token: second.json.data.refresh_token },
    }),
  );
  await call('GET', '/v1/auth/verify', { key: refreshed.json.data.token });

  // API keys of every type, used both ways, rotated, revoked, reported leaked.
  const secret = await ok(
    'create key',
    call('POST', '/v1/auth/api-keys', {
      key,
      body: { name: 'Backend', type: 'secret', scopes: ['workflows:read', 'keys:read'] },
      issues: { secret: 'secret API key' },
    }),
  );
  const restricted = await ok(
    'create rk',
    call('POST', '/v1/auth/api-keys', {
      key,
      body: { name: 'Dashboard', type: 'restricted', scopes: ['read'] },
      issues: { secret: 'restricted API key' },
    }),
  );
  const client = await ok(
    'create ck',
    call('POST', '/v1/auth/api-keys', {
      key,
      body: { name: 'Mobile app', type: 'client', scopes: ['events:write'] },
      issues: { secret: 'client API key' },
    }),
  );
  await ok('list keys', call('GET', '/v1/auth/api-keys', { key }));
  await ok('get key', call('GET', `/v1/auth/api-keys/${secret.json.data.id}`, { key }));
  await ok('use sk', call('GET', '/v1/workflows', { headers: { 'X-API-Key': secret.json.data.secret } }));
  await ok('use rk', call('GET', '/v1/runs', { key: restricted.json.data.secret }));
  await call('GET', '/v1/workflows', { key: client.json.data.secret });
  const rotated = await ok(
    'rotate',
    call('POST', `/v1/auth/api-keys/${secret.json.data.id}/rotate`, {
      key,
      body: { grace_period_seconds: 60 },
      issues: { secret: 'rotated API key' },
    }),
  );
  await ok('old secret in grace', call('GET', '/v1/workflows', { key: secret.json.data.secret }));
  await ok('new secret', call('GET', '/v1/workflows', { key: rotated.json.data.secret }));
  await ok('revoke', call('DELETE', `/v1/auth/api-keys/${restricted.json.data.id}`, { key }));
  await call('GET', '/v1/runs', { key: restricted.json.data.secret });
  await ok(
    'report leak',
    call('POST', '/v1/credentials/revoke', {
      body: { credential: client.json.data.secret, source_url: 'https://paste.example.com/abc', reporter: 'scanner' },
    }),
  );
  await ok(
    'preflight',
    call('OPTIONS', '/v1/events', {
      headers: { Origin: 'https://shop.example.com', 'Access-Control-Request-Method': 'POST' },
    }),
  );
  await call('POST', '/v1/events', {
    key: client.json.data.secret,
    body: { type: 'order.created', data: { order_id: 'o-1' } },
  });

  // Connections of every auth type, their credentials never to be seen again.
  const credentialsOf: Record<string, Record<string, string>> = {
    api_key: { api_key: 'conn-api-key-5b1c7e0f9a2d4e3b' },
    bearer: { token: 'conn-bearer-token-7d2e9a4c1b8f6035' },
    basic: { username: 'svc-reports', password: 'conn-basic-password-3f8a2c9e71d4' },
    oauth2: {
      access_token: 'conn-oauth-access-6e1d3b9a0c7f2854',
      refresh_token: 'conn-oauth-refresh-2a9c7e5d1f3b8046',
      client_id: 'conn-client-id',
      client_secret: 'conn-oauth-client-secret-9b4f1e7a',
    },
  };
  const connectionIds: string[] = [];
  for (const [authType, credentials] of Object.entries(credentialsOf)) {
    for (const [field, value] of Object.entries(credentials))
      if (field !== 'username' && field !== 'client_id') remember(`connection ${field}`, value);
    const created = await ok(
      'connection',
      call('POST', '/v1/connections', {
        key,
        body: { name: `Svc ${authType}`, provider: 'acme', auth_type: authType, credentials },
      }),
    );
    connectionIds.push(created.json.data.id);
  }
  // Refused while carrying a credential: still never stored or logged.
  await call('POST', '/v1/connections', {
    key,
    body: {
      name: 'Bad',
      provider: 'acme',
      auth_type: 'nope',
      credentials: { token: remember('refused connection token', 'refused-conn-token-0c4e8a2f6b1d') },
    },
  });
  await ok('list connections', call('GET', '/v1/connections', { key }));
  await ok('get connection', call('GET', `/v1/connections/${connectionIds[0]}`, { key }));
  await ok('delete connection', call('DELETE', `/v1/connections/${connectionIds[1]}`, { key }));

  // Workflows, runs, events.
  const definition = {
    name: 'Greeter',
    trigger: { type: 'manual' },
    steps: [{ id: 'hi', type: 'log', message: 'hi {{input.name}}' }],
  };
  const workflow = await ok(
    'workflow',
    call('POST', '/v1/workflows', { key, body: definition, headers: { 'Idempotency-Key': 'secrets-scan-1' } }),
  );
  const wf = workflow.json.data.id as string;
  await ok('list workflows', call('GET', '/v1/workflows', { key }));
  await ok('get workflow', call('GET', `/v1/workflows/${wf}`, { key }));
  await ok(
    'replace workflow',
    call('PUT', `/v1/workflows/${wf}`, {
      key,
      body: { ...definition, steps: [{ id: 'w', type: 'wait', seconds: 300 }] },
    }),
  );
  const run = await ok('run', call('POST', `/v1/workflows/${wf}/run`, { key, body: { input: { name: 'Ada' } } }));
  await ok('list runs', call('GET', '/v1/runs', { key }));
  await ok('get run', call('GET', `/v1/runs/${run.json.data.id}`, { key }));
  await ok('cancel', call('POST', `/v1/runs/${run.json.data.id}/cancel`, { key }));
  await ok('replace again', call('PUT', `/v1/workflows/${wf}`, { key, body: definition }));
  await ok('retry', call('POST', `/v1/runs/${run.json.data.id}/retry`, { key }));
  await ok('event', call('POST', '/v1/events', { key, body: { type: 'order.created', data: { order_id: 'o-2' } } }));
  await ok('delete workflow', call('DELETE', `/v1/workflows/${wf}`, { key }));

  // OAuth: an app, the code flow through the login and consent pages, refresh, client credentials, introspection, revocation.
  const appAnswer = await ok(
    'app',
    call('POST', '/v1/oauth/clients', {
      key,
      body: {
        name: 'Reports',
        client_type: 'confidential',
        redirect_uris: ['https://app.example-reports.com/oauth/callback'],
        scopes: ['workflows:read', 'runs:read'],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      },
      issues: { client_secret: 'OAuth client secret' },
    }),
  );
  const app = appAnswer.json.data as {
    client_id: string;
    client_secret: string;
    redirect_uris: string[];
    scopes: string[];
  };
  await ok('list apps', call('GET', '/v1/oauth/clients', { key }));
  await ok('get app', call('GET', `/v1/oauth/clients/${app.client_id}`, { key }));
  const { code, verifier, redirectUri } = await authorizationCode(api.server, {
    ...app,
    client_secret: app.client_secret,
  });
  remember('authorization code', code);
  remember('PKCE verifier', verifier);
  const basic: [string, string] = [app.client_id, app.client_secret];
  const tokens = await ok(
    'code exchange',
    call('POST', '/oauth/token', {
      basic,
      form: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
      issues: { access_token: 'OAuth access token', refresh_token: 'OAuth refresh token' },
    }),
  );
  // The code again: refused, and what it issued is revoked.
  await call('POST', '/oauth/token', {
    basic,
    form: { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier },
  });
  const second2 = await authorizationCode(api.server, { ...app, client_secret: app.client_secret });
  remember('authorization code', second2.code);
  const tokens2 = await ok(
    'second exchange',
    call('POST', '/oauth/token', {
      basic,
      form: {
        grant_type: 'authorization_code',
        code: second2.code,
        redirect_uri: second2.redirectUri,
        code_verifier: second2.verifier,
      },
      issues: { access_token: 'OAuth access token', refresh_token: 'OAuth refresh token' },
    }),
  );
  await ok('use OAuth token', call('GET', '/v1/workflows', { key: tokens2.json.access_token }));
  const refreshedOAuth = await ok(
    'refresh grant',
    call('POST', '/oauth/token', {
      basic,
      form: { grant_type: 'refresh_token', refresh_token: tokens2.json.refresh_token },
      issues: { access_token: 'OAuth access token', refresh_token: 'OAuth refresh token' },
    }),
  );
  const machine = await ok(
    'client credentials',
    call('POST', '/oauth/token', {
      basic,
      body: { grant_type: 'client_credentials', scope: 'workflows:read' },
      issues: { access_token: 'client-credentials access token' },
    }),
  );
  await ok(
    'introspect',
    call('POST', '/oauth/introspect', { basic, form: { token: refreshedOAuth.json.access_token } }),
  );
  await ok(
    'introspect refresh',
    call('POST', '/oauth/introspect', { basic, form: { token: refreshedOAuth.json.refresh_token } }),
  );
  await ok(
    'revoke access',
    call('POST', '/oauth/revoke', {
      basic,
      form: { token: machine.json.access_token, token_type_hint: 'access_token' },
    }),
  );
  await ok(
    'revoke refresh',
    call('POST', '/oauth/revoke', { basic, form: { token: refreshedOAuth.json.refresh_token } }),
  );
  await call('POST', '/oauth/token', {
    basic: [app.client_id, remember('wrong client secret', `${app.client_secret}x`)],
    form: { grant_type: 'client_credentials' },
  });
  void tokens;

  // Audit log and usage, with a session and a key.
  await ok('audit', call('GET', '/v1/audit-logs?limit=100', { key }));
  await ok('usage', call('GET', '/v1/usage', { key }));
  await ok('delete app', call('DELETE', `/v1/oauth/clients/${app.client_id}`, { key }));

  await api.server.server.runner.idle();
  await api.server.server.flush();
});

test('the traffic reached every operation of the contract', () => {
  const reached = new Set(api.server.logs.flatMap((line) => /"operation":"(\w+)"/.exec(line)?.[1] ?? []));
  const missing = loadContractDocument()
    .operations()
    .map((operation) => operation.operationId)
    .filter((id) => !reached.has(id));
  expect(missing).toEqual([]);
  // Every kind of secret was seen.
  expect(new Set(secrets.values()).size).toBeGreaterThanOrEqual(20);
});

test('the database bytes (SQLite file and WAL, or a pg_dump) hold none of the secrets', () => {
  const bytes = databaseBytes(api.server);
  expect(bytes).toContain('https://paste.example.com/abc'); // the scan reads real rows
  const found = [...secrets].filter(([value]) => bytes.includes(value)).map(([, kind]) => kind);
  expect(found).toEqual([]);
});

test('the captured logs hold none of them', () => {
  const logs = api.server.logs.join('');
  expect(logs).toContain('"operation":"issueToken"');
  const found = [...secrets].filter(([value]) => logs.includes(value)).map(([, kind]) => kind);
  expect(found).toEqual([]);
});

test('the audit entries, as the API lists them, hold none of them', async () => {
  let text = '';
  let cursor: string | null = null;
  do {
    const response = await fetch(`${api.server.baseUrl}/v1/audit-logs?limit=100${cursor ? `&cursor=${cursor}` : ''}`, {
      headers: { Authorization: `Bearer ${api.server.secretKey}` },
    });
    const page = (await response.json()) as { data: unknown[]; next_cursor: string | null };
    text += JSON.stringify(page.data);
    cursor = page.next_cursor;
  } while (cursor);
  for (const action of [
    'auth.login_failed',
    'token.refresh_reuse_detected',
    'api_key.rotated',
    'api_key.reported_leaked',
    'oauth.code_replayed',
    'token.revoked',
    'connection.created',
  ])
    expect(text).toContain(action);
  const found = [...secrets].filter(([value]) => text.includes(value)).map(([, kind]) => kind);
  expect(found).toEqual([]);
});

test('no answer repeats a secret, except the one answer that handed it out', () => {
  const leaks: string[] = [];
  for (const answer of answers) {
    for (const [value, kind] of secrets) {
      if (!answer.issued.includes(value) && answer.text.includes(value))
        leaks.push(`${answer.request} contains the ${kind}`);
    }
  }
  expect(leaks).toEqual([]);
});
