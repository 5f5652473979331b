// Client keys in browser apps: a web page on another origin sends an event with a
// ck_ key through a real browser (Debian's chromium, driven by playwright-core):
// the browser's preflight is answered, the POST goes through, and the page reads
// the body and the rate-limit headers. The same page is refused by the browser on
// any other operation, whose preflight gets 405. The CORS answers are read off the
// contract (src/http/cors.ts), and agree with what it declares.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { corsPolicies } from '../../src/http/cors.ts';
import { loadContract } from '../../src/contract/operations.ts';
import { useTestServer } from '../support/api.ts';
import { loadContractDocument } from '../support/contract-document.ts';
import { mainTenant } from '../support/fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';

// What the functions passed to page.evaluate() see, in the browser (this file is not compiled with the DOM library).
declare function fetch(
  url: string,
  init?: Record<string, unknown>,
): Promise<{ status: number; headers: { get(name: string): string | null }; json(): Promise<unknown> }>;

const api = useTestServer();
let page: http.Server;
let pageOrigin: string;
let browser: Browser;
let clientKey: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  clientKey = (await mainTenant(api.server).key({ name: 'Shop web app', type: 'client', scopes: ['events:write'] }))
    .secret;
  // The shop's web page, served from another origin (another port of localhost).
  page = http.createServer((_req, res) =>
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end('<!doctype html><title>Shop</title><h1>Shop</h1>'),
  );
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  pageOrigin = `http://localhost:${(page.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
});

async function openShop() {
  const tab = await browser.newPage();
  await tab.goto(`${pageOrigin}/`);
  return tab;
}

describe('CORS: POST /v1/events from a web page, nothing else', () => {
  test('a page on another origin sends an event with a client key and reads the answer', async () => {
    const tab = await openShop();
    const result = await tab.evaluate(
      async ({ api, key }) => {
        const response = await fetch(`${api}/v1/events`, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${key}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': 'checkout-7f3a',
          },
          body: JSON.stringify({ type: 'checkout.completed', data: { order_id: 'ord_10482' } }),
        });
        return {
          status: response.status,
          body: await response.json(),
          remaining: response.headers.get('X-RateLimit-Remaining'),
          requestId: response.headers.get('X-Request-Id'),
        };
      },
      { api: api.server.baseUrl, key: clientKey },
    );
    await tab.close();
    expect(result.status).toBe(202);
    expect(result.body).toMatchObject({ success: true, data: { type: 'checkout.completed', triggered_runs: [] } });
    expect(Number(result.remaining)).toBeGreaterThan(0);
    expect(result.requestId).toMatch(/^req_/);
    // The browser asked first: the preflight reached the server and was answered.
    const lines = api.server.logs.map(
      (line) => JSON.parse(line) as { method?: string; operation?: string; status?: number },
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ method: 'OPTIONS', operation: 'preflightEvent', status: 204 }),
    );
  }, 30_000);

  test('the page can read an error too (a 401 with its envelope and challenge)', async () => {
    const tab = await openShop();
    const result = await tab.evaluate(
      async ({ api }) => {
        const response = await fetch(`${api}/v1/events`, {
          method: 'POST',
          headers: { 'X-API-Key': 'ck_test_not_a_real_key', 'Content-Type': 'application/json' },
          body: '{"type":"checkout.completed","data":{}}',
        });
        return {
          status: response.status,
          body: await response.json(),
          challenge: response.headers.get('WWW-Authenticate'),
        };
      },
      { api: api.server.baseUrl },
    );
    await tab.close();
    expect(result).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_key' } } });
    expect(result.challenge).toMatch(/^Bearer realm="aetherflow", error="invalid_token"/);
  }, 30_000);

  test('the browser refuses the page any other operation, even with a key that may call it', async () => {
    const secret = (await mainTenant(api.server).key({ name: 'Wrongly shipped secret key' })).secret;
    const tab = await openShop();
    const outcomes = await tab.evaluate(
      async ({ api, key }) => {
        const attempt = async (path: string, init: Record<string, unknown>) => {
          try {
            const response = await fetch(`${api}${path}`, init);
            return `answered ${response.status}`;
          } catch (error) {
            return `refused: ${(error as Error).name}`;
          }
        };
        return {
          list: await attempt('/v1/workflows', { headers: { Authorization: `Bearer ${key}` } }),
          create: await attempt('/v1/workflows', {
            method: 'POST',
            headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
            body: '{"name":"x","trigger":{"type":"manual"},"steps":[{"id":"a","type":"log","message":"a"}]}',
          }),
          health: await attempt('/health', {}),
        };
      },
      { api: api.server.baseUrl, key: secret },
    );
    await tab.close();
    expect(outcomes).toEqual({
      list: 'refused: TypeError',
      create: 'refused: TypeError',
      health: 'refused: TypeError',
    });
    // The create never reached its handler: only its preflight came, and got 405.
    const lines = api.server.logs.map(
      (line) =>
        JSON.parse(line) as { method?: string; path?: string | null; operation?: string | null; status?: number },
    );
    expect(lines.filter((line) => line.operation === 'createWorkflow')).toEqual([]);
  }, 30_000);

  test("the server's CORS answers are the ones the contract declares", () => {
    const contract = loadContractDocument();
    const policy = corsPolicies(loadContract()).get('/v1/events');
    expect([...corsPolicies(loadContract()).keys()]).toEqual(['/v1/events']);
    const declared = (operationId: string, status: number) => {
      const headers = contract.response(operationId, status)?.headers ?? {};
      return Object.fromEntries(
        Object.entries(headers).map(([name, header]) => [
          name,
          contract.resolve<{ example?: unknown }>(header).value.example,
        ]),
      );
    };
    for (const [name, value] of Object.entries(policy?.preflight ?? {}))
      expect(String(declared('preflightEvent', 204)[name]), name).toBe(value);
    for (const [name, value] of Object.entries(policy?.response ?? {}))
      expect(String(declared('ingestEvent', 202)[name]), name).toBe(value);
  });
});
