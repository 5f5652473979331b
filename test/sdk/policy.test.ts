// The SDK's decisions as pure functions of a response and the clock: how long to
// wait before a retry, and which requests get an Idempotency-Key. (The same
// behaviour end to end, on the wire, is in server.test.ts and mock.test.ts.)
import { describe, expect, test } from 'vitest';
import { acceptsIdempotencyKey, backoffDelayMs, DEFAULT_RETRY, serverDelayMs } from '@aetherflow/sdk';
import { retryDelayMs } from '../../sdk/typescript/src/retry.ts';

const NOW = Date.parse('2026-11-22T09:30:00.000Z');
const respond = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

describe('how long to wait', () => {
  test('Retry-After in seconds or as an HTTP date; else a spent limit’s X-RateLimit-Reset on a 429; else nothing', () => {
    expect(serverDelayMs(respond(429, { 'Retry-After': '18' }), NOW)).toBe(18_000);
    expect(serverDelayMs(respond(503, { 'Retry-After': new Date(NOW + 5_000).toUTCString() }), NOW)).toBe(5_000);
    expect(serverDelayMs(respond(429, { 'X-RateLimit-Reset': String(NOW / 1000 + 42) }), NOW)).toBe(42_000);
    expect(serverDelayMs(respond(429, { 'X-RateLimit-Reset': String(NOW / 1000 - 1) }), NOW)).toBe(0);
    expect(serverDelayMs(respond(503, { 'X-RateLimit-Reset': String(NOW / 1000 + 42) }), NOW)).toBeNull();
    expect(serverDelayMs(respond(503), NOW)).toBeNull();
  });

  test('backoff doubles from baseDelayMs, is capped at maxDelayMs (60 s), and is jittered between half and all of it', () => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((attempt) => backoffDelayMs(attempt, DEFAULT_RETRY, () => 1));
    expect(steps).toEqual([500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    expect(backoffDelayMs(3, DEFAULT_RETRY, () => 0)).toBe(1000);
    expect(backoffDelayMs(20, DEFAULT_RETRY, () => 0.999)).toBeLessThanOrEqual(60_000);
  });

  test('retries only the listed statuses, within maxAttempts, and never waits longer than maxRetryAfterMs', () => {
    const clock = { now: () => NOW, random: () => 0.5 };
    expect(retryDelayMs(respond(429, { 'Retry-After': '61' }), 1, DEFAULT_RETRY, clock)).toBe(61_000);
    expect(retryDelayMs(respond(429, { 'Retry-After': '3600' }), 1, DEFAULT_RETRY, clock)).toBeNull();
    expect(
      retryDelayMs(respond(429, { 'Retry-After': '1' }), DEFAULT_RETRY.maxAttempts, DEFAULT_RETRY, clock),
    ).toBeNull();
    expect(retryDelayMs(respond(503), 2, DEFAULT_RETRY, clock)).toBe(750);
    for (const status of [400, 401, 403, 404, 409, 500, 502])
      expect(retryDelayMs(respond(status), 1, DEFAULT_RETRY, clock)).toBeNull();
  });
});

describe('which requests get an Idempotency-Key', () => {
  const request = (method: string, url: string) =>
    new Request(url, { method, ...(method === 'POST' ? { body: '{}' } : {}) });

  test('the POSTs that declare the header, under any base path; nothing else', () => {
    expect(acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/workflows'))).toBe(true);
    expect(
      acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/workflows/wf_8YR4gJzvRZgYZocv0h3DdJlU/run')),
    ).toBe(true);
    expect(
      acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/runs/run_35gnryj5h9ZI97wYlUGtELxG/retry')),
    ).toBe(true);
    expect(acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/connections'))).toBe(true);
    expect(acceptsIdempotencyKey(request('POST', 'https://gateway.example/aetherflow/v1/events'), '/aetherflow')).toBe(
      true,
    );

    expect(acceptsIdempotencyKey(request('GET', 'https://api.aetherflow.com/v1/workflows'))).toBe(false);
    expect(
      acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/runs/run_35gnryj5h9ZI97wYlUGtELxG/cancel')),
    ).toBe(false);
    expect(acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/auth/api-keys'))).toBe(false);
    expect(
      acceptsIdempotencyKey(
        request('POST', 'https://api.aetherflow.com/v1/auth/api-keys/key_hBaKBGlPDNLoQ8V8kCS2RSSm/rotate'),
      ),
    ).toBe(false);
    expect(acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/oauth/token'))).toBe(false);
    expect(acceptsIdempotencyKey(request('POST', 'https://api.aetherflow.com/v1/workflows/wf_1/run/extra'))).toBe(
      false,
    );
  });
});
