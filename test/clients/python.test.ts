// The generated Python client (clients/python) and its hand-written helpers against
// the real server, from Python's own unittest (test/clients/python/), and the
// client's README examples as written: the system python3 runs them with the
// servers' URLs and keys in its environment (no pip, no packages but Debian's).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { examplesOf } from '../docs/guide-examples.ts';
import { mainTenant } from '../support/fixtures.ts';
import { generousRateLimits, startTestServer, type TestServer } from '../support/server.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const clientDir = path.join(root, 'clients', 'python');

let server: TestServer;
let limited: TestServer;
let strict: TestServer;
let draining: TestServer;

beforeAll(async () => {
  const limits = generousRateLimits();
  const oneAMinute = (name: 'read' | 'write') => ({ name, limit: 1, windowSeconds: 60 });
  [server, limited, strict, draining] = await Promise.all([
    startTestServer(),
    startTestServer({ rateLimitConfig: { ...limits, categories: { ...limits.categories, read: oneAMinute('read') } } }),
    startTestServer({ rateLimitConfig: { ...limits, categories: { ...limits.categories, read: oneAMinute('read'), write: oneAMinute('write') } } }),
    startTestServer(),
  ]);
  draining.server.drain();
});
afterAll(async () => {
  await Promise.all([server?.close(), limited?.close(), strict?.close(), draining?.close()]);
});

const pythonEnv = { PYTHONPATH: clientDir, PYTHONDONTWRITEBYTECODE: '1' };

function run(command: string, args: string[], options: { cwd: string; env: Record<string, string>; input?: string }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (options.input !== undefined) child.stdin?.end(options.input);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

test('python3 -m unittest: workflows with an API key; 401, 403 and 429 through the envelope', async () => {
  const readOnly = await mainTenant(server).key({ name: 'python read only', type: 'restricted', scopes: ['workflows:read'] });
  const { code, output } = await run('python3', ['-m', 'unittest', '-v', 'test_workflows'], {
    cwd: path.join(root, 'test', 'clients', 'python'),
    env: {
      ...pythonEnv,
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

test('python3 -m unittest: the helpers (pagination, errors, retries on a real 429 and 503, idempotency keys)', async () => {
  const { code, output } = await run('python3', ['-m', 'unittest', '-v', 'test_helpers'], {
    cwd: path.join(root, 'test', 'clients', 'python'),
    env: {
      ...pythonEnv,
      AETHERFLOW_API_URL: server.baseUrl,
      AETHERFLOW_API_KEY: server.secretKey,
      AETHERFLOW_STRICT_API_URL: strict.baseUrl,
      AETHERFLOW_STRICT_API_KEY: strict.secretKey,
      AETHERFLOW_DRAINING_API_URL: draining.baseUrl,
    },
  });
  expect(output, output).toMatch(/^Ran 10 tests/m);
  expect(code, output).toBe(0);
  expect(output).toMatch(/^OK$/m);
}, 30_000);

test("the README's examples run as written, one after the other, as one script", async () => {
  const examples = examplesOf('clients/python/README.md').filter((example) => example.language === 'python');
  const runnable = examples.filter((example) => example.run);
  expect(runnable.length).toBeGreaterThanOrEqual(5);
  const script = runnable.map((example) => `# ${example.where}\n${example.code}`).join('\n');
  const { code, output } = await run('python3', ['-'], { cwd: clientDir, env: { ...pythonEnv, AETHERFLOW_API_URL: server.baseUrl, AETHERFLOW_API_KEY: server.secretKey }, input: script });
  expect(code, output).toBe(0);
  expect(output).toMatch(/^run_[0-9A-Za-z]{24} succeeded \{'greeting': 'Hello Ada'\}$/m);
  expect(output).toContain("('say', {'message': 'Hello Ada', 'level': 'info'})");
  expect(output).toMatch(/^404 not_found req_[0-9A-Za-z]{24}$/m);
  expect(output).toContain('body.steps[0].type must be one of set, wait, log, fail');
  expect(output).not.toMatch(/Traceback/);
}, 30_000);

test('the README is for Python 3, and links every API class and the reference anchors the generated docs use', () => {
  const readme = readFileSync(path.join(clientDir, 'README.md'), 'utf8');
  expect(readme).not.toMatch(/2\.7|GIT_USER_ID|GIT_REPO_ID/);
  for (const file of readdirSync(path.join(clientDir, 'docs')).filter((name) => name.endsWith('Api.md'))) expect(readme, file).toContain(`(docs/${file})`);
  // The generated docs link back to these sections of the README.
  expect(readme).toContain('\n## Documentation for API endpoints\n');
  expect(readme).toContain('\n## Documentation for models\n');
  const setup = readFileSync(path.join(clientDir, 'setup.py'), 'utf8');
  expect(setup).toContain('python_requires=">=3.8"');
  expect(readFileSync(path.join(clientDir, 'requirements.txt'), 'utf8')).not.toContain('python_version<="2.7"');
});

