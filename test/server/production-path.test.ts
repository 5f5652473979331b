// The production configuration takes shortcuts that the rest of the suite (which
// validates every response) does not: JSON bodies written without Express's res.json
// (src/http/send-json.ts), and security headers replayed from what helmet set once
// (src/http/security-headers.ts), and request validation on a copy of the contract without
// responses and response-only components, one path per validator (src/http/contract-validation.ts). These tests
// check that the answers are the same.
import { createRequire } from 'node:module';
import express from 'express';
import helmet from 'helmet';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientFor } from '../support/api.ts';
import { untypedRequest } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { loadContract } from '../../src/contract/operations.ts';
import { pathDocument } from '../../src/http/contract-validation.ts';
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

describe('request validation on one document per path', () => {
  const refsOf = (node: unknown, refs: string[] = []): string[] => {
    if (node === null || typeof node !== 'object') return refs;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') refs.push(value);
      else refsOf(value, refs);
    }
    return refs;
  };
  const resolve = (document: object, ref: string) =>
    ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (node, part) => (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        document,
      );

  it('holds its path alone, without responses, and every $ref left in it resolves', () => {
    const contract = loadContract();
    let refs = 0;
    for (const template of new Set(contract.operations.map((operation) => operation.path))) {
      const document = pathDocument(contract, template, { withResponses: false }) as {
        paths: Record<string, Record<string, { responses?: unknown }>>;
        components: Record<string, object>;
      };
      expect(Object.keys(document.paths)).toEqual([template]);
      for (const [method, operation] of Object.entries(document.paths[template]!))
        expect(operation.responses, `${method} ${template}`).toBeUndefined();
      expect(Object.keys(document.components.responses ?? {}), template).toEqual([]);
      for (const ref of refsOf(document)) {
        refs++;
        expect(resolve(document, ref), `${template}: ${ref}`).toBeDefined();
      }
    }
    expect(refs).toBeGreaterThan(20);
  });

  it('keeps the responses when they are validated, every $ref resolving', () => {
    const contract = loadContract();
    for (const template of new Set(contract.operations.map((operation) => operation.path))) {
      const document = pathDocument(contract, template, { withResponses: true }) as {
        paths: Record<string, Record<string, { responses?: unknown }>>;
      };
      for (const operation of contract.operations.filter((each) => each.path === template))
        expect(document.paths[template]![operation.method]!.responses, `${operation.method} ${template}`).toBeDefined();
      for (const ref of refsOf(document)) expect(resolve(document, ref), `${template}: ${ref}`).toBeDefined();
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

describe("the validator's route lookup", () => {
  it("compiles the request's own route only, not every route of the contract", async () => {
    // express-openapi-validator's metadata step compiles a path-to-regexp per route of its
    // document, on every request, until one matches; each path has a validator of its own.
    const fromValidator = createRequire(createRequire(import.meta.url).resolve('express-openapi-validator'));
    const pathToRegexp = fromValidator('path-to-regexp') as { pathToRegexp: (...args: unknown[]) => unknown };
    const compile = vi.spyOn(pathToRegexp, 'pathToRegexp');
    try {
      const server = production;
      const id = await createWorkflow(server, server.secretKey, 'Lookup');
      expect(
        (
          await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
            params: { path: { workflow_id: id } },
          })
        ).status,
      ).toBe(200);
      compile.mockClear();
      for (let i = 0; i < 5; i++)
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
      expect(compile.mock.calls.map(([route]) => route)).toEqual(Array(6).fill('/v1/workflows/:workflow_id'));
      // What the validator refuses is still refused, with its path parameters as it decodes them.
      const refused = await clientFor(server, server.secretKey).GET('/v1/workflows/{workflow_id}', {
        params: { path: { workflow_id: 'not an id' } },
      });
      expect(refused.status).toBe(400);
      expect(refused.error?.error.code).toBe('validation_failed');
    } finally {
      compile.mockRestore();
    }
  });
});
