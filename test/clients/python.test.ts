// The generated Python client (clients/python) against the real server, from
// Python's own unittest (test/clients/python/): the system python3 runs it with
// the servers' URLs and keys in its environment.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { mainTenant } from '../support/fixtures.ts';
import { generousRateLimits, startTestServer, type TestServer } from '../support/server.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

let server: TestServer;
let limited: TestServer;

beforeAll(async () => {
  const limits = generousRateLimits();
  [server, limited] = await Promise.all([
    startTestServer(),
    startTestServer({ rateLimitConfig: { ...limits, categories: { ...limits.categories, read: { name: 'read', limit: 1, windowSeconds: 60 } } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.close(), limited?.close()]);
});

function run(command: string, args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

test('python3 -m unittest: workflows with an API key; 401, 403 and 429 through the envelope', async () => {
  const readOnly = await mainTenant(server).key({ name: 'python read only', type: 'restricted', scopes: ['workflows:read'] });
  const { code, output } = await run('python3', ['-m', 'unittest', '-v', 'test_workflows'], {
    cwd: path.join(root, 'test', 'clients', 'python'),
    env: {
      PYTHONPATH: path.join(root, 'clients', 'python'),
      PYTHONDONTWRITEBYTECODE: '1',
      AETHERFLOW_API_URL: server.baseUrl,
      AETHERFLOW_API_KEY: server.secretKey,
      AETHERFLOW_READ_ONLY_KEY: readOnly.secret,
      AETHERFLOW_LIMITED_API_URL: limited.baseUrl,
      AETHERFLOW_LIMITED_API_KEY: limited.secretKey,
    },
  });
  expect(output, output).toMatch(/^Ran 7 tests/m);
  expect(code, output).toBe(0);
  expect(output).toMatch(/^OK$/m);
}, 30_000);
