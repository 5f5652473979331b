// The production configuration takes shortcuts that the rest of the suite (which
// validates every response) does not: JSON bodies written without Express's res.json
// (src/http/send-json.ts), and security headers replayed from what helmet set once
// (src/http/security-headers.ts), and request validation on a copy of the contract without
// responses and response-only components (src/http/contract-validation.ts). These tests
// check that the answers are the same.
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientFor } from '../support/api.ts';
import { untypedRequest } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { loadContract } from '../../src/contract/operations.ts';
import { requestsOnlyDocument } from '../../src/http/contract-validation.ts';
import { securityHeaders } from '../../src/http/security-headers.ts';
import { createWorkflow } from './auth-helpers.ts';

let validating: TestServer;
let production: TestServer;

beforeAll(async () => {
  [validating, production] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { VALIDATE_RESPONSES: 'false' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([validating?.close(), production?.close()]);
});

/** Headers whose values differ between any two answers (ids, times, counters). */
const VARYING = new Set([
  'x-request-id',
  'date',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
  'ratelimit',
  'content-length',
  'keep-alive',
]);
const shape = (headers: Headers) => [...headers.entries()].filter(([name]) => !VARYING.has(name)).sort();

describe('JSON answers written directly', () => {
  it('carry the same status, headers and body as through res.json', async () => {
    const pairs = await Promise.all(
      [validating, production].map(async (server) => {
        const id = await createWorkflow(server, server.secretKey, 'Same answer');
        const get = await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: id } },
        });
        const list = await clientFor(server, server.secretKey).GET('/v1/workflows', {
          params: { query: { limit: 1 } },
        });
        const created = await clientFor(server, server.secretKey).POST('/v1/workflows', {
          body: { name: 'Again', trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] },
        });
        return { get, list, created };
      }),
    );
    const [a, b] = pairs as [(typeof pairs)[0], (typeof pairs)[0]];
    for (const name of ['get', 'list', 'created'] as const) {
      expect(b[name].status, name).toBe(a[name].status);
      expect(shape(b[name].headers), name).toEqual(shape(a[name].headers));
      expect(Number(b[name].headers.get('content-length')), name).toBe(Buffer.byteLength(b[name].text));
      expect(Object.keys(b[name].data ?? b[name].error ?? {}).sort(), name).toEqual(
        Object.keys(a[name].data ?? a[name].error ?? {}).sort(),
      );
    }
    expect(b.get.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('leaves conditional requests to Express', async () => {
    const id = await createWorkflow(production, production.secretKey, 'Conditional');
    const answer = await clientFor(production, production.secretKey).GET('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: id } },
      headers: { 'If-None-Match': '*' },
    });
    const direct = express();
    direct.set('etag', false);
    direct.get('/', (_req, res) => void res.json({ a: 1 }));
    const listener = direct.listen(0);
    try {
      const port = (listener.address() as { port: number }).port;
      const reference = await fetch(`http://127.0.0.1:${port}/`, { headers: { 'If-None-Match': '*' } });
      expect(answer.status).toBe(reference.status);
    } finally {
      listener.close();
    }
  });
});

describe('security headers', () => {
  it('are the ones helmet sets, with the same options', async () => {
    const options = {
      strictTransportSecurity: { maxAge: 63_072_000, includeSubDomains: true },
      frameguard: { action: 'deny' as const },
      referrerPolicy: { policy: 'no-referrer' as const },
    };
    const headersOf = async (middleware: express.RequestHandler) => {
      const app = express();
      app.set('x-powered-by', false);
      app.use(middleware);
      app.get('/', (_req, res) => void res.end());
      const listener = app.listen(0);
      try {
        const port = (listener.address() as { port: number }).port;
        return shape((await fetch(`http://127.0.0.1:${port}/`)).headers);
      } finally {
        listener.close();
      }
    };
    expect(await headersOf(securityHeaders(options))).toEqual(await headersOf(helmet(options)));
  });

  it('are on every answer of the server, as before', async () => {
    const health = await clientFor(production, null).GET('/health');
    for (const name of [
      'strict-transport-security',
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
    ]) {
      expect(health.headers.get(name), name).toEqual(expect.any(String));
    }
  });
});

describe('request validation on the requests-only contract', () => {
  it('has no responses, and every $ref left in it resolves', () => {
    const document = requestsOnlyDocument(loadContract()) as {
      paths: Record<string, Record<string, { responses?: unknown }>>;
      components: Record<string, object>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item))
        expect(operation.responses, `${method} ${path}`).toBeUndefined();
    }
    expect(Object.keys(document.components.responses ?? {})).toEqual([]);
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') refs.push(value);
        else walk(value);
      }
    };
    walk(document);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const target = ref
        .slice(2)
        .split('/')
        .reduce<unknown>(
          (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
          document,
        );
      expect(target, ref).toBeDefined();
    }
  });

  it('refuses bad requests exactly as validation on the whole contract does', async () => {
    const valid = { name: 'Valid', trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] };
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/v1/workflows', { body: { ...valid, name: 42 } }],
      ['POST', '/v1/workflows', { body: { ...valid, extra: true } }],
      ['POST', '/v1/workflows', { body: { trigger: { type: 'manual' }, steps: [] } }],
      ['POST', '/v1/workflows', { body: { ...valid, trigger: { type: 'never' } } }],
      ['POST', '/v1/workflows', { body: { ...valid, steps: [{ id: 'a', type: 'wait', seconds: -1 }] } }],
      ['GET', '/v1/workflows?limit=0', {}],
      ['GET', '/v1/workflows?limit=abc', {}],
      ['GET', '/v1/workflows?unknown=1', {}],
      ['GET', '/v1/workflows/not-an-id', {}],
      ['POST', '/v1/auth/api-keys', { body: { name: 'k', type: 'root' } }],
      ['POST', '/v1/events', { body: { type: 7 } }],
      ['GET', '/v1/audit-logs?since=yesterday', {}],
    ];
    for (const [method, path, options] of cases) {
      const [a, b] = await Promise.all(
        [validating, production].map((server) =>
          untypedRequest(server, method, path, { ...options, key: server.secretKey }),
        ),
      );
      expect(a!.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(a!.status, `${method} ${path}`).toBeLessThan(500);
      expect(
        { status: b!.status, code: b!.error?.error?.code, details: b!.error?.error?.details },
        `${method} ${path}`,
      ).toEqual({ status: a!.status, code: a!.error?.error?.code, details: a!.error?.error?.details });
    }
  });
});

describe('path parameters in production', () => {
  it('are checked by the validator on every request: a valid id is found, an unknown one is 404, a malformed one 400', async () => {
    const server = production;
    const id = await createWorkflow(server, server.secretKey, 'Lookup');
    for (let i = 0; i < 3; i++)
      expect(
        (
          await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
            params: { path: { workflow_id: id } },
          })
        ).status,
      ).toBe(200);
    expect(
      (
        await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
          params: { path: { workflow_id: 'wf_doesnotexist000000000000' } },
        })
      ).status,
    ).toBe(404);
    const refused = await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
      params: { path: { workflow_id: 'not an id' } },
    });
    expect(refused.status).toBe(400);
    expect(refused.error?.error.code).toBe('validation_failed');
  });
});
