// The request pipeline of src/app.ts: unknown routes answered before anything
// else, body limits and parsers mapped to the envelope, request ids and security
// headers on every response.
import { describe, expect, test } from 'vitest';
import { offContract, useTestServer } from '../support/api.ts';
import { untypedRequest } from '../support/fixtures.ts';
import type { WorkflowInput } from './resource-helpers.ts';

const api = useTestServer({ env: { BODY_LIMIT_BYTES: String(64 * 1024) } });

const workflow: WorkflowInput = {
  name: 'Pipeline test',
  trigger: { type: 'manual' },
  steps: [{ id: 'a', type: 'log', message: 'hi' }],
};

describe('routes the contract does not describe', () => {
  test.each([
    '/v1/nope',
    '/v1/workflows/wf_000000000000000000000000/steps',
    '/admin',
    '/v1/workflows/',
    '/.env',
    '/v1/../etc/passwd',
  ])('%s -> 404 route_not_found envelope', async (path) => {
    const response = await untypedRequest(api.server, 'GET', path, { key: api.server.secretKey });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      success: false,
      error: { code: 'route_not_found', type: 'not_found_error', status: 404 },
    });
    expect(response.error?.error.request_id).toBe(response.headers.get('x-request-id'));
  });

  test('an unknown route is answered before authentication (no 401 leaks which paths exist)', async () => {
    const response = await untypedRequest(api.server, 'POST', '/v1/secret-admin');
    expect(response.status).toBe(404);
  });

  test('a known path with another method -> 405 method_not_allowed with Allow', async () => {
    const response = await untypedRequest(api.server, 'PATCH', '/v1/workflows', { key: api.server.secretKey });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
    expect(response.error?.error.code).toBe('method_not_allowed');
  });
});

describe('bodies', () => {
  test('over the size limit -> 413 payload_too_large, and nothing is created', async () => {
    const big = { ...workflow, description: 'x'.repeat(70 * 1024) };
    const response = await api.client.POST('/v1/workflows', { body: big });
    expect(response.status).toBe(413);
    expect(response.error?.error.code).toBe('payload_too_large');
    const list = await api.client.GET('/v1/workflows');
    expect(list.data?.data).toEqual([]);
  });

  test('malformed JSON -> 400 invalid_json', async () => {
    const response = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key: api.server.secretKey,
      body: '{"name": "x",',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('invalid_json');
  });

  test('a JSON scalar where an object is expected -> 400 (strict JSON)', async () => {
    const response = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key: api.server.secretKey,
      body: '"hello"',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(['invalid_json', 'validation_failed']).toContain(response.error?.error.code);
  });

  test('a content type the operation does not accept -> 415 unsupported_media_type', async () => {
    const response = await untypedRequest(api.server, 'POST', '/v1/workflows', {
      key: api.server.secretKey,
      body: 'name=x',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(response.status).toBe(415);
    expect(response.error?.error.code).toBe('unsupported_media_type');
  });

  test('a schema violation -> 400 validation_failed with details naming the field', async () => {
    const response = await api.client.POST('/v1/workflows', {
      body: offContract({ ...workflow, steps: [{ id: 'a', type: 'log' }] }),
    });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
    expect(
      response.error?.error.details?.some((d: { location: string }) => d.location.startsWith('body.steps[0]')),
    ).toBe(true);
  });

  test('an unknown query parameter -> 400 validation_failed', async () => {
    const response = await api.client.GET('/v1/workflows', { params: { query: offContract({ include: 'secrets' }) } });
    expect(response.status).toBe(400);
    expect(response.error?.error.code).toBe('validation_failed');
  });
});

describe('every response', () => {
  test('carries a fresh X-Request-Id (req_ + 24 base62), never the client-sent one', async () => {
    const first = await api.as(null).GET('/health', { headers: { 'X-Request-Id': 'req_forgedforgedforgedforged' } });
    const second = await api.as(null).GET('/v1/workflows');
    for (const response of [first, second])
      expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9A-Za-z]{24}$/);
    expect(first.headers.get('x-request-id')).not.toBe('req_forgedforgedforgedforged');
    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'));
  });

  test('carries HSTS and the usual security headers, errors included', async () => {
    for (const response of [await api.as(null).GET('/health'), await untypedRequest(api.server, 'GET', '/v1/nope')]) {
      expect(response.headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });
});
