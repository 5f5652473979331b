// The TypeScript SDK against the mock (what `npm run mock` serves to frontend
// teams: Prism behind our front): the happy path from the contract's examples, every error through
// `Prefer`, retries on the mock's 429 and 503 with its example headers, and
// pagination over the mock's fixed pages.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { AetherFlowError, createAetherFlowClient, unwrap, type Fetch } from '@aetherflow/sdk';
import type { RunningMock } from '../../src/mock/mock-server.ts';
import { startTestMock } from '../support/mock.ts';

describe('SDK against the mock', () => {
  let mock: RunningMock & { baseUrl: string };

  beforeAll(async () => {
    const started = await startTestMock();
    mock = Object.assign(started, { baseUrl: started.url });
  });
  afterAll(async () => {
    await mock?.close();
  });

  test('any API key reaches the examples; results are typed as on the real server', async () => {
    const aetherflow = createAetherFlowClient({ baseUrl: mock.baseUrl, apiKey: 'sk_test_anything' });
    const list = await unwrap(aetherflow.GET('/v1/workflows'));
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data[0]?.id).toMatch(/^wf_/);
    const created = await unwrap(
      aetherflow.POST('/v1/workflows', {
        body: {
          name: 'From the mock',
          trigger: { type: 'manual' },
          steps: [{ id: 'log', type: 'log', message: 'hi' }],
        },
      }),
    );
    expect(created.data.id).toMatch(/^wf_/);
  });

  test('CORS as on the real server: a web app on another origin may send events, and nothing else', async () => {
    const origin = 'http://localhost:5173';
    const preflight = await fetch(`${mock.baseUrl}/v1/events`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,idempotency-key',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(preflight.headers.get('Access-Control-Allow-Headers')).toBe(
      'Authorization, X-API-Key, Content-Type, Idempotency-Key',
    );
    const aetherflow = createAetherFlowClient({
      baseUrl: mock.baseUrl,
      apiKey: 'ck_test_anything',
      headers: { Origin: origin },
    });
    const { response } = await aetherflow.POST('/v1/events', {
      body: { type: 'order.created', data: { order_id: 'ord_1' } },
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('Access-Control-Allow-Origin')).toBe('*');
    expect(response.headers.get('Access-Control-Expose-Headers')).toMatch(/X-RateLimit-Remaining/);

    const elsewhere = await fetch(`${mock.baseUrl}/v1/workflows`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
    });
    expect(elsewhere.status).toBe(405);
    expect(elsewhere.headers.get('Access-Control-Allow-Origin')).toBeNull();
    const answer = await fetch(`${mock.baseUrl}/v1/workflows`, {
      headers: { Origin: origin, Authorization: 'Bearer sk_test_anything' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('Access-Control-Allow-Origin')).toBeNull();
  });

  test('errors come back typed: no credential (401), and any example with Prefer', async () => {
    const anonymous = createAetherFlowClient({ baseUrl: mock.baseUrl });
    await expect(unwrap(anonymous.GET('/v1/workflows'))).rejects.toMatchObject({
      status: 401,
      code: 'authentication_required',
    });

    for (const [status, example] of [
      [401, 'revoked_api_key'],
      [403, 'insufficient_scope'],
      [403, 'ip_not_allowed'],
      [404, 'not_found'],
    ] as const) {
      const aetherflow = createAetherFlowClient({
        baseUrl: mock.baseUrl,
        apiKey: 'sk_test_anything',
        headers: { Prefer: `code=${status}, example=${example}` },
      });
      const error = await unwrap(
        aetherflow.GET('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: 'wf_8YR4gJzvRZgYZocv0h3DdJlU' } },
        }),
      ).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AetherFlowError);
      expect(error).toMatchObject({ status, code: example });
      expect((error as AetherFlowError).envelope?.error.request_id).toMatch(/^req_/);
    }
  });

  test('429 (Prefer: code=429): retried after the example Retry-After, a bounded number of times, then the typed error', async () => {
    const statuses: number[] = [];
    const recording: Fetch = async (request) => {
      const response = await fetch(request);
      statuses.push(response.status);
      return response;
    };
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: mock.baseUrl,
      apiKey: 'sk_test_anything',
      headers: { Prefer: 'code=429' },
      fetch: recording,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    const error = await unwrap(aetherflow.GET('/v1/workflows')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterSeconds: 18 });
    expect(statuses).toEqual([429, 429, 429]);
    expect(sleeps).toEqual([18_000, 18_000]);
  });

  test('503 on /health (Prefer: code=503): exponential backoff, then the 503', async () => {
    const sleeps: number[] = [];
    const aetherflow = createAetherFlowClient({
      baseUrl: mock.baseUrl,
      headers: { Prefer: 'code=503' },
      random: () => 0,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    const { response } = await aetherflow.GET('/health');
    expect(response.status).toBe(503);
    expect(sleeps).toEqual([250, 500]);
  });

  test('pagination: a last page ends it; the mock repeating its example cursor stops it with an error', async () => {
    const paused = createAetherFlowClient({
      baseUrl: mock.baseUrl,
      apiKey: 'sk_test_anything',
      headers: { Prefer: 'example=paused_only' },
    });
    const items = [];
    for await (const item of paused.paginate('/v1/workflows')) items.push(item);
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((item) => item.status === 'paused')).toBe(true);

    const firstPage = createAetherFlowClient({ baseUrl: mock.baseUrl, apiKey: 'sk_test_anything' });
    let pagesSeen = 0;
    await expect(
      (async () => {
        for await (const page of firstPage.pages('/v1/workflows')) {
          pagesSeen += 1;
          expect(page.next_cursor).not.toBeNull();
        }
      })(),
    ).rejects.toThrow(/next_cursor/);
    expect(pagesSeen).toBe(2);
  });
});
