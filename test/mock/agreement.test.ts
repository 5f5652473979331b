// The mock tells the truth: the same bad requests sent to `npm run mock` and to the
// real server get the same answer: status, envelope, error code and message, the
// places named in `details`, and the headers that carry meaning (WWW-Authenticate,
// Allow, CORS). Each request has one problem only, so the order in which the two
// check things cannot matter.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningMock } from '../../src/mock/mock-server.ts';
import { startTestMock } from '../support/mock.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let mock: RunningMock;
let server: TestServer;

beforeAll(async () => {
  [mock, server] = await Promise.all([startTestMock(), startTestServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([mock?.close(), server?.close()]);
});

interface Case {
  name: string;
  method?: string;
  path: string;
  /** Sent as is; `KEY` in a value stands for a valid key (the server's; any on the mock). */
  headers?: Record<string, string>;
  body?: string;
}

const json = { 'Content-Type': 'application/json' };
const withKey = { Authorization: 'Bearer KEY' };

const cases: Case[] = [
  { name: 'unknown path', path: '/v1/nothing-here', headers: withKey },
  { name: 'unknown path under /oauth', path: '/oauth/nothing-here' },
  { name: 'method the path does not take', method: 'PATCH', path: '/v1/workflows', headers: withKey },
  {
    name: 'CORS preflight of a path without one',
    method: 'OPTIONS',
    path: '/v1/workflows',
    headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'GET' },
  },
  {
    name: 'CORS preflight of /v1/events',
    method: 'OPTIONS',
    path: '/v1/events',
    headers: {
      Origin: 'https://shop.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization,content-type',
    },
  },
  {
    name: 'a preflight without its headers',
    method: 'OPTIONS',
    path: '/v1/events',
    headers: { Origin: 'https://shop.example' },
  },
  { name: 'no credential', path: '/v1/workflows' },
  {
    name: 'no credential, on /v1/events (CORS headers too)',
    method: 'POST',
    path: '/v1/events',
    headers: { ...json, Origin: 'https://shop.example' },
    body: '{"type":"order.created","data":{}}',
  },
  { name: 'an empty X-API-Key', path: '/v1/workflows', headers: { 'X-API-Key': '' } },
  { name: 'Authorization that is not Bearer', path: '/v1/workflows', headers: { Authorization: 'Basic dXNlcjpwYXNz' } },
  { name: 'two credentials', path: '/v1/workflows', headers: { ...withKey, 'X-API-Key': 'KEY' } },
  { name: 'a query parameter over its maximum', path: '/v1/workflows?limit=500', headers: withKey },
  { name: 'a query parameter the operation does not take', path: '/v1/workflows?colour=blue', headers: withKey },
  { name: 'a malformed path parameter', path: '/v1/workflows/not-a-workflow-id', headers: withKey },
  {
    name: 'a header parameter over its maximum',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, ...json, 'Idempotency-Key': 'k'.repeat(300) },
    body: '{"type":"order.created","data":{}}',
  },
  {
    name: 'a body missing a required field',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, ...json },
    body: '{"type":"order.created"}',
  },
  {
    name: 'a body field of the wrong type',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, ...json },
    body: '{"type":"order.created","data":["ord_1"]}',
  },
  {
    name: 'an array item outside its enum',
    method: 'POST',
    path: '/v1/auth/api-keys',
    headers: { ...withKey, ...json },
    body: '{"name":"Dashboard","type":"restricted","scopes":["runs:read","runs:everything"]}',
  },
  {
    name: 'a body that is not JSON',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, ...json },
    body: '{"type":',
  },
  {
    name: 'a body of another media type',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, 'Content-Type': 'text/plain' },
    body: 'order.created',
  },
  {
    name: 'a body over 1 MiB',
    method: 'POST',
    path: '/v1/events',
    headers: { ...withKey, ...json },
    body: `{"type":"order.created","data":{"blob":"${'x'.repeat(1_100_000)}"}}`,
  },
  {
    name: 'an OAuth request missing a required field',
    method: 'POST',
    path: '/oauth/token',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'scope=workflows%3Aread',
  },
];

interface Seen {
  status: number;
  body: unknown;
  headers: Record<string, string | null>;
}

const MEANINGFUL = [
  'www-authenticate',
  'allow',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
  'access-control-expose-headers',
];

async function send(base: string, key: string, one: Case): Promise<Seen> {
  const headers = Object.fromEntries(
    Object.entries(one.headers ?? {}).map(([name, value]) => [name, value.replace('KEY', key)]),
  );
  const response = await fetch(`${base}${one.path}`, {
    method: one.method ?? 'GET',
    headers,
    ...(one.body !== undefined ? { body: one.body } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: compared as text
  }
  // Request ids differ by nature; everything else must not.
  if (body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object')
    delete (body.error as { request_id?: unknown }).request_id;
  return {
    status: response.status,
    body,
    headers: Object.fromEntries(MEANINGFUL.map((name) => [name, response.headers.get(name)])),
  };
}

describe('the mock answers bad requests as the server does', () => {
  test.each(cases.map((one) => [one.name, one] as const))('%s', async (_name, one) => {
    const [fromServer, fromMock] = await Promise.all([
      send(server.baseUrl, server.secretKey, one),
      send(mock.url, 'sk_test_anything', one),
    ]);
    expect(fromServer.status, 'the case must be refused by the server').toBeGreaterThanOrEqual(
      one.method === 'OPTIONS' && one.path === '/v1/events' && one.headers?.['Access-Control-Request-Method']
        ? 200
        : 400,
    );
    expect(fromMock).toEqual(fromServer);
  });
});

describe('examples asked for with Prefer have headers that agree with their body', () => {
  const ask = (path: string, prefer: string) =>
    fetch(`${mock.url}${path}`, { headers: { Authorization: 'Bearer sk_test_anything', Prefer: prefer } });

  test('a 401 names its error in WWW-Authenticate (none for authentication_required)', async () => {
    const expired = await ask('/v1/runs', 'code=401, example=token_expired');
    const body = (await expired.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('token_expired');
    expect(expired.headers.get('www-authenticate')).toBe(
      `Bearer realm="aetherflow", error="invalid_token", error_description="${body.error.message}"`,
    );
    const missing = await ask('/v1/runs', 'code=401, example=authentication_required');
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="aetherflow"');
  });

  test("a 403 insufficient_scope names the operation's own scope; other 403s carry no challenge", async () => {
    const scope = await ask('/v1/auth/api-keys', 'code=403');
    expect(((await scope.json()) as { error: { message: string } }).error.message).toBe(
      'This operation needs the keys:read scope, which this credential does not hold.',
    );
    expect(scope.headers.get('www-authenticate')).toBe(
      'Bearer realm="aetherflow", error="insufficient_scope", scope="keys:read"',
    );
    const ip = await ask('/v1/auth/api-keys', 'code=403, example=ip_not_allowed');
    expect(ip.status).toBe(403);
    expect(ip.headers.get('www-authenticate')).toBeNull();
  });

  test('a 429 says X-RateLimit-Remaining: 0 and when to retry', async () => {
    for (const example of ['rate_limit_exceeded', 'too_many_attempts']) {
      const limited = await ask('/v1/workflows', `code=429, example=${example}`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
