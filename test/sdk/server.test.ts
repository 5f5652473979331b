// The TypeScript SDK against the real server: every way to authenticate, typed
// errors, pagination, idempotency keys, and retries on a real 429 (tiny limits,
// the server's clock moved by the SDK's injected sleep) and a real 503 (a
// draining instance). Nothing is mocked; failures are provoked on the wire.
import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  AetherFlowError,
  clientCredentialsTokenProvider,
  createAetherFlowClient,
  isAetherFlowError,
  sessionTokenProvider,
  unwrap,
  type AccessToken,
  type ErrorCode,
  type Fetch,
  type ListPath,
  type Schema,
} from '@aetherflow/sdk';
import { useIdentityServer, useTestServer } from '../support/api.ts';
import { mainTenant } from '../support/fixtures.ts';
import { generousRateLimits } from '../support/server.ts';
import { HOUR, MINUTE, movableClock } from '../identity/support.ts';

const workflow = (name: string): Schema<'WorkflowInput'> => ({
  name,
  trigger: { type: 'manual' },
  steps: [{ id: 'hello', type: 'log', message: 'Hello {{input.name}}' }],
});

/** The real fetch, recording what went out and what came back. */
function recordingFetch() {
  const exchanges: { method: string; path: string; headers: Headers; status: number }[] = [];
  const fetcher: Fetch = async (request) => {
    const response = await fetch(request);
    exchanges.push({
      method: request.method,
      path: new URL(request.url).pathname,
      headers: request.headers,
      status: response.status,
    });
    return response;
  };
  return { exchanges, fetch: fetcher };
}

describe('SDK against the real server', () => {
  const time = movableClock();

  const api = useIdentityServer({ clock: time.clock });

  test('an API key: create, read, list, typed results; Bearer by default, X-API-Key on request', async () => {
    const wire = recordingFetch();
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      fetch: wire.fetch,
    });
    const created = await unwrap(aetherflow.POST('/v1/workflows', { body: workflow('SDK hello') }));
    expectTypeOf(created.data).toEqualTypeOf<Schema<'Workflow'>>();
    expect(created.data).toMatchObject({ name: 'SDK hello', status: 'active' });

    const { data, error, response } = await aetherflow.GET('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: created.data.id } },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    expect(data?.data.id).toBe(created.data.id);
    expect(
      wire.exchanges.every((exchange) => exchange.headers.get('Authorization') === `Bearer ${api.server.secretKey}`),
    ).toBe(true);

    const viaHeader = recordingFetch();
    const other = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      apiKeyHeader: 'x-api-key',
      fetch: viaHeader.fetch,
    });
    const verified = await unwrap(other.GET('/v1/auth/verify'));
    expect(verified.data).toMatchObject({ authenticated: true, auth_method: 'api_key', key_type: 'secret' });
    expect(viaHeader.exchanges[0]?.headers.get('X-API-Key')).toBe(api.server.secretKey);
    expect(viaHeader.exchanges[0]?.headers.has('Authorization')).toBe(false);
  });

  test('paginate follows next_cursor across pages; pages yields each page', async () => {
    const key = await mainTenant(api.server).key({ name: 'pagination' });
    const aetherflow = createAetherFlowClient({ baseUrl: api.server.baseUrl, apiKey: key.secret });
    const made: string[] = [];
    for (let index = 0; index < 5; index++)
      made.push((await unwrap(aetherflow.POST('/v1/workflows', { body: workflow(`Page ${index}`) }))).data.id);

    const seen: string[] = [];
    for await (const item of aetherflow.paginate('/v1/workflows', { query: { limit: 2 } })) {
      expectTypeOf(item).toEqualTypeOf<Schema<'Workflow'>>();
      seen.push(item.id);
    }
    expect(new Set(seen)).toEqual(new Set([...made, ...seen.filter((id) => !made.includes(id))]));
    expect(made.every((id) => seen.includes(id))).toBe(true);
    expect(new Set(seen).size).toBe(seen.length);

    const sizes: number[] = [];
    for await (const page of aetherflow.pages('/v1/workflows', { query: { limit: 2 } })) sizes.push(page.data.length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(seen.length);
    expect(sizes.length).toBe(Math.ceil(seen.length / 2));
  });

  test('errors: unwrap throws an AetherFlowError carrying the envelope (401, 403, 404, 400)', async () => {
    const anonymous = createAetherFlowClient({ baseUrl: api.server.baseUrl });
    const missing = await unwrap(anonymous.GET('/v1/workflows')).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(AetherFlowError);
    expect(missing).toMatchObject({ status: 401, code: 'authentication_required', type: 'authentication_error' });

    const readOnly = await mainTenant(api.server).key({
      name: 'read only',
      type: 'restricted',
      scopes: ['workflows:read'],
    });
    const reader = createAetherFlowClient({ baseUrl: api.server.baseUrl, apiKey: readOnly.secret });
    const refused = await unwrap(reader.POST('/v1/workflows', { body: workflow('not allowed') })).catch(
      (error: unknown) => error,
    );
    if (!isAetherFlowError(refused, 'insufficient_scope'))
      throw new Error(`expected insufficient_scope, got ${String(refused)}`);
    expectTypeOf(refused.code).toEqualTypeOf<AetherFlowError['code']>();
    expectTypeOf<ErrorCode>().toMatchTypeOf<AetherFlowError['code']>();
    expect(refused.status).toBe(403);
    expect(refused.envelope?.error).toMatchObject({
      type: 'authorization_error',
      code: 'insufficient_scope',
      status: 403,
    });
    expect(refused.requestId).toMatch(/^req_/);
    expect(refused.requestId).toBe(refused.response.headers.get('X-Request-Id'));
    expect(refused.docUrl).toContain('#insufficient_scope');

    const owner = createAetherFlowClient({ baseUrl: api.server.baseUrl, apiKey: api.server.secretKey });
    const notFound = await unwrap(
      owner.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: 'wf_000000000000000000000000' } } }),
    ).catch((error: unknown) => error);
    expect(notFound).toMatchObject({ status: 404, code: 'not_found' });

    // The openapi-fetch result types the error body as the envelope, without throwing.
    const { error } = await owner.POST('/v1/workflows', { body: { ...workflow('bad'), steps: [] } });
    expect(error?.error.code).toBe('validation_failed');
    const invalid = new AetherFlowError(error, new Response(null, { status: 400 }));
    expect(invalid.details.length).toBeGreaterThan(0);
  });

  test('an access token from login works as it is', async () => {
    const login = await unwrap(
      createAetherFlowClient({ baseUrl: api.server.baseUrl }).POST('/v1/auth/login', {
        body: { email: api.server.owner.email, password: api.server.owner.password },
      }),
    );
    const aetherflow = createAetherFlowClient({ baseUrl: api.server.baseUrl, accessToken: login.data.token });
    const verified = await unwrap(aetherflow.GET('/v1/auth/verify'));
    expect(verified.data).toMatchObject({ auth_method: 'jwt', authenticated: true });
  });

  test('a token provider: called once for concurrent requests, renewed before expiry, and once when the server says token_expired', async () => {
    let calls = 0;
    const session = sessionTokenProvider({
      baseUrl: api.server.baseUrl,
      email: api.server.owner.email,
      password: api.server.owner.password,
    });
    const counted = async (): Promise<AccessToken> => {
      calls += 1;
      return (await session()) as AccessToken;
    };

    // The SDK reads the same clock as the server: it renews the token before it expires.
    const wire = recordingFetch();
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      tokenProvider: counted,
      now: time.now,
      fetch: wire.fetch,
    });
    const first = await Promise.all(Array.from({ length: 5 }, () => unwrap(aetherflow.GET('/v1/auth/verify'))));
    expect(calls).toBe(1);
    expect(new Set(first.map((result) => result.data.expires_at)).size).toBe(1);

    time.advance(HOUR - 30_000); // inside the 60 s renewal margin
    await Promise.all(Array.from({ length: 5 }, () => unwrap(aetherflow.GET('/v1/auth/verify'))));
    expect(calls).toBe(2);
    expect(wire.exchanges.filter((exchange) => exchange.status === 401)).toEqual([]);

    // A client whose clock says the token is still good learns otherwise from the server.
    let reactiveCalls = 0;
    const reactiveSession = sessionTokenProvider({
      baseUrl: api.server.baseUrl,
      email: api.server.owner.email,
      password: api.server.owner.password,
    });
    const seen = recordingFetch();
    const reactive = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      tokenProvider: async () => {
        reactiveCalls += 1;
        return reactiveSession();
      },
      now: () => 0,
      fetch: seen.fetch,
    });
    await unwrap(reactive.GET('/v1/auth/verify'));
    time.advance(2 * HOUR);
    const after = await Promise.all(
      Array.from({ length: 5 }, () => unwrap(reactive.GET('/v1/workflows', { params: { query: { limit: 1 } } }))),
    );
    expect(after).toHaveLength(5);
    expect(reactiveCalls).toBe(2);
    expect(seen.exchanges.filter((exchange) => exchange.status === 401).length).toBeGreaterThanOrEqual(1);
    expect(seen.exchanges.filter((exchange) => exchange.path === '/v1/auth/refresh')).toEqual([]); // the provider's own requests use their own client
  });

  test('a client-credentials provider gets an OAuth app its own tokens', async () => {
    const owner = createAetherFlowClient({ baseUrl: api.server.baseUrl, apiKey: api.server.secretKey });
    const app = await unwrap(
      owner.POST('/v1/oauth/clients', {
        body: {
          name: 'SDK reports',
          client_type: 'confidential',
          redirect_uris: ['http://127.0.0.1:8765/callback'],
          scopes: ['workflows:read'],
          grant_types: ['client_credentials'],
        },
      }),
    );
    const secret = app.data.client_secret;
    if (!secret) throw new Error('a confidential app has a secret');
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      tokenProvider: clientCredentialsTokenProvider({
        baseUrl: api.server.baseUrl,
        clientId: app.data.client_id,
        clientSecret: secret,
        scope: 'workflows:read',
        now: time.now,
      }),
      now: time.now,
    });
    const verified = await unwrap(aetherflow.GET('/v1/auth/verify'));
    expect(verified.data).toMatchObject({
      auth_method: 'oauth',
      client_id: app.data.client_id,
      scopes: ['workflows:read'],
    });

    const wrong = clientCredentialsTokenProvider({
      baseUrl: api.server.baseUrl,
      clientId: app.data.client_id,
      clientSecret: 'wrong',
      now: time.now,
    });
    const failure = await wrong().catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 401, code: 'invalid_client', type: 'oauth_error' });
  });

  test('Idempotency-Key: on the operations that declare it, the same on every attempt; a lost response is retried without running twice', async () => {
    const wire = recordingFetch();
    let dropNext = true;
    // The server answers, but the answer is lost on the way back (a dropped connection).
    const lossy: Fetch = async (request) => {
      const response = await wire.fetch(request);
      if (dropNext && request.method === 'POST') {
        dropNext = false;
        await response.body?.cancel();
        throw new TypeError('fetch failed: connection reset');
      }
      return response;
    };
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      fetch: lossy,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
      random: () => 0,
    });
    const name = `Exactly once ${Date.now()}`;
    const { data, response } = await aetherflow.POST('/v1/workflows', { body: workflow(name) });
    expect(response.status).toBe(201);
    expect(response.headers.get('Idempotent-Replayed')).toBe('true');
    const posts = wire.exchanges.filter((exchange) => exchange.method === 'POST');
    expect(posts).toHaveLength(2);
    const key = posts[0]?.headers.get('Idempotency-Key');
    expect(key).toMatch(/^[0-9a-f-]{36}$/);
    expect(posts[1]?.headers.get('Idempotency-Key')).toBe(key);
    expect(sleeps).toEqual([250]); // backoff: half of 500 ms with random() = 0
    const named: string[] = [];
    for await (const item of aetherflow.paginate('/v1/workflows', { query: { limit: 100 } }))
      if (item.name === name) named.push(item.id);
    expect(named).toEqual([data?.data.id]);

    // Operations that do not declare the header never get one; a key the caller sets is kept.
    await unwrap(
      aetherflow.POST('/v1/auth/api-keys', {
        body: { name: 'no idempotency', type: 'secret', scopes: ['workflows:read'] },
      }),
    );
    await unwrap(
      aetherflow.POST('/v1/workflows', { body: workflow('own key'), headers: { 'Idempotency-Key': 'my-own-key-1' } }),
    );
    const later = wire.exchanges.slice(-2);
    expect(later[0]).toMatchObject({ path: '/v1/auth/api-keys' });
    expect(later[0]?.headers.has('Idempotency-Key')).toBe(false);
    expect(later[1]?.headers.get('Idempotency-Key')).toBe('my-own-key-1');
    expect(
      wire.exchanges
        .filter((exchange) => exchange.method === 'GET')
        .every((exchange) => !exchange.headers.has('Idempotency-Key')),
    ).toBe(true);

    // A POST without an Idempotency-Key is not repeated after a lost answer.
    dropNext = true;
    const before = wire.exchanges.length;
    await expect(
      aetherflow.POST('/v1/auth/api-keys', { body: { name: 'once', type: 'secret', scopes: ['workflows:read'] } }),
    ).rejects.toThrow(/connection reset/);
    expect(wire.exchanges.length - before).toBe(1);
  });

  test('type checks: unknown paths, wrong bodies and paginating a non-list do not compile', () => {
    const aetherflow = createAetherFlowClient({ baseUrl: api.server.baseUrl, apiKey: api.server.secretKey });
    const compileOnly = () => {
      // @ts-expect-error not an operation of the contract
      void aetherflow.GET('/v1/nothing');
      // @ts-expect-error `name` is required
      void aetherflow.POST('/v1/workflows', { body: { steps: [], trigger: { type: 'manual' } } });
    };
    // paginate and pages take exactly the cursor-paginated lists.
    expectTypeOf<'/v1/workflows' | '/v1/runs' | '/v1/audit-logs'>().toMatchTypeOf<ListPath>();
    expectTypeOf<'/v1/usage'>().not.toMatchTypeOf<ListPath>();
    expectTypeOf<'/v1/workflows/{workflow_id}'>().not.toMatchTypeOf<ListPath>();
    expect(typeof compileOnly).toBe('function');
    expect(() => createAetherFlowClient({ apiKey: 'a', accessToken: 'b' })).toThrow(/one of/);
  });
});

describe('SDK retries on a real 429 and a real 503', () => {
  const time = movableClock();
  const api = useTestServer(() => {
    const limits = generousRateLimits();
    return {
      clock: time.clock,
      rateLimitConfig: {
        ...limits,
        categories: { ...limits.categories, read: { name: 'read', limit: 2, windowSeconds: 60 } },
      },
    };
  });

  test('429: waits exactly Retry-After (the injected sleep moves the server clock), then succeeds', async () => {
    const wire = recordingFetch();
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      fetch: wire.fetch,
      now: time.now,
      sleep: (ms) => {
        sleeps.push(ms);
        time.advance(ms);
        return Promise.resolve();
      },
    });
    await unwrap(aetherflow.GET('/v1/workflows'));
    await unwrap(aetherflow.GET('/v1/workflows'));
    const third = await unwrap(aetherflow.GET('/v1/workflows'));
    expect(third.success).toBe(true);
    expect(wire.exchanges.map((exchange) => exchange.status)).toEqual([200, 200, 429, 200]);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
    expect(sleeps[0]).toBeLessThanOrEqual(61_000);
    expect((sleeps[0] ?? 0) % 1000).toBe(0); // whole seconds: Retry-After
  });

  test('429: a bounded number of attempts, then the typed error with retryAfterSeconds; a wait beyond maxRetryAfterMs is not attempted', async () => {
    time.advance(2 * MINUTE);
    const wire = recordingFetch();
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      fetch: wire.fetch,
      retry: { maxAttempts: 4 },
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    await unwrap(aetherflow.GET('/v1/workflows'));
    await unwrap(aetherflow.GET('/v1/workflows'));
    const limited = await unwrap(aetherflow.GET('/v1/workflows')).catch((error: unknown) => error);
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect((limited as AetherFlowError).retryAfterSeconds).toBeGreaterThan(0);
    expect(wire.exchanges.map((exchange) => exchange.status)).toEqual([200, 200, 429, 429, 429, 429]);
    expect(sleeps).toHaveLength(3);

    const impatient = recordingFetch();
    const quick = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      apiKey: api.server.secretKey,
      fetch: impatient.fetch,
      retry: { maxRetryAfterMs: 500 },
      sleep: () => expect.fail('must not wait'),
    });
    const { response } = await quick.GET('/v1/workflows');
    expect(response.status).toBe(429);
    expect(impatient.exchanges).toHaveLength(1);
  });

  test('503 from a draining instance: exponential backoff with jitter, capped, then the 503', async () => {
    api.server.server.drain();
    const wire = recordingFetch();
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      fetch: wire.fetch,
      retry: { maxAttempts: 5, baseDelayMs: 1000, maxDelayMs: 3000 },
      random: () => 1,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    const { data, error, response } = await aetherflow.GET('/health');
    expect(response.status).toBe(503);
    expect(data ?? error).toMatchObject({ status: 'unavailable' });
    expect(wire.exchanges.map((exchange) => exchange.status)).toEqual([503, 503, 503, 503, 503]);
    expect(sleeps).toEqual([1000, 2000, 3000, 3000]);

    const jittered: number[] = [];
    const withJitter = createAetherFlowClient({
      baseUrl: api.server.baseUrl,
      retry: { maxAttempts: 3 },
      random: () => 0.5,
      sleep: (ms) => {
        jittered.push(ms);
        return Promise.resolve();
      },
    });
    await withJitter.GET('/health');
    expect(jittered).toEqual([375, 750]);
  });
});
