// Runs the guides' code examples as a reader would: the literal bash with bash
// (curl included), TypeScript with tsx, Python with python3 and the generated
// client, against the real server (or the mock, as `npm run mock` serves it, for the mock guide), with
// the environment the guides tell readers to set. A guide example that breaks
// fails here; so does a block without a marker saying whether it runs, and a
// TypeScript example that no longer type-checks.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { root } from '../../scripts/docs-guides.ts';
import { startIdentityServer, type IdentityServer } from '../identity/support.ts';
import { mainTenant } from '../support/fixtures.ts';
import type { RunningMock } from '../../src/mock/mock-server.ts';
import { startTestMock } from '../support/mock.ts';
import { guideExamples, type GuideExample } from './guide-examples.ts';

const examples = guideExamples();
const runnable = examples.filter((example) => example.run);
const scratch = path.join(root, 'test-results', 'guide-examples');

let server: IdentityServer;
let mock: RunningMock | null = null;
let app: { clientId: string; clientSecret: string };
let workflowId: string;

interface Output {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: Record<string, string>, input?: string): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function json(response: Response): Promise<any> {
  const body = await response.json();
  if (!response.ok) throw new Error(`set-up: ${response.url} answered ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function post(pathname: string, body: unknown, key = server.secretKey): Promise<any> {
  return json(
    await fetch(`${server.baseUrl}${pathname}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** What the guides ask readers to export, plus the values a step refers to (`$KEY_ID`...), made fresh for each example. */
async function environmentFor(example: GuideExample): Promise<Record<string, string>> {
  const common = { PYTHONPATH: path.join(root, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1', NO_COLOR: '1' };
  if (example.target === 'mock') {
    if (!mock) throw new Error('the mock is not running');
    return { ...common, AETHERFLOW_API_URL: mock.url, AETHERFLOW_API_KEY: 'sk_test_anything' };
  }
  const env: Record<string, string> = {
    ...common,
    AETHERFLOW_API_URL: server.baseUrl,
    AETHERFLOW_API_KEY: server.secretKey,
    AETHERFLOW_EMAIL: server.owner.email,
    AETHERFLOW_PASSWORD: server.owner.password,
    AETHERFLOW_CLIENT_ID: app.clientId,
    AETHERFLOW_CLIENT_SECRET: app.clientSecret,
    WORKFLOW_ID: workflowId,
  };
  const uses = (name: string) => new RegExp(`\\b${name}\\b`).test(example.code);
  if (uses('AETHERFLOW_ACCESS_TOKEN') || uses('AETHERFLOW_REFRESH_TOKEN')) {
    const session = await post('/v1/auth/login', { email: server.owner.email, password: server.owner.password });
    env.AETHERFLOW_ACCESS_TOKEN = session.data.token;
    env.AETHERFLOW_REFRESH_TOKEN = session.data.refresh_token;
  }
  if (uses('KEY_ID') || uses('LEAKED_KEY')) {
    const key = await mainTenant(server).key({ name: `for ${example.where}` });
    env.KEY_ID = key.id;
    env.LEAKED_KEY = key.secret;
  }
  if (uses('APP_TOKEN')) {
    const basic = Buffer.from(`${app.clientId}:${app.clientSecret}`).toString('base64');
    const token = await json(
      await fetch(`${server.baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=workflows%3Aread+runs%3Aread',
      }),
    );
    env.APP_TOKEN = token.access_token;
  }
  return env;
}

function fileOf(example: GuideExample, extension: string): string {
  return path.join(scratch, `${path.basename(example.file, '.md')}-${example.line}.${extension}`);
}

/** Lines of JSON `{ file, code, output }` from a batch runner, by file. */
function parseBatch(result: Output, files: string[]): Map<string, Output> {
  const outputs = new Map<string, Output>();
  for (const line of result.output.split('\n')) {
    if (!line.startsWith('{"file":')) continue;
    const entry = JSON.parse(line) as { file: string; code: number; output: string };
    outputs.set(entry.file, { code: entry.code, output: entry.output });
  }
  // An example that killed the runner leaves the rest without an answer: say so.
  for (const file of files)
    if (!outputs.has(file))
      outputs.set(file, {
        code: null,
        output: `the runner stopped before this example (exit ${result.code}):\n${result.output.slice(-4000)}`,
      });
  return outputs;
}

/**
 * Runs every example: bash blocks each in their own bash, four at a time; TypeScript
 * and Python each in one process of their own that runs the files one after another
 * (test/docs/runners/), so a few dozen examples do not each pay for starting Node with
 * tsx or Python with the generated client. Each example still runs as written, with
 * its own environment.
 */
async function runAll(list: GuideExample[]): Promise<Map<GuideExample, Output>> {
  const results = new Map<GuideExample, Output>();
  const envs = new Map<GuideExample, Record<string, string>>();
  for (const example of list) envs.set(example, await environmentFor(example));

  const bash = list.filter((example) => example.language === 'bash');
  const bashRuns = (async () => {
    const queue = [...bash];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let example = queue.shift(); example; example = queue.shift()) {
          results.set(
            example,
            await run('bash', ['-e', '-o', 'pipefail', '-s'], envs.get(example) ?? {}, example.code),
          );
        }
      }),
    );
  })();

  const batch = async (language: 'ts' | 'python', extension: string, command: string, args: string[]) => {
    const examples = list.filter((example) => example.language === language);
    const jobs = examples.map((example) => {
      const file = fileOf(example, extension);
      writeFileSync(file, example.code);
      return { file, env: envs.get(example) ?? {} };
    });
    const jobsFile = path.join(scratch, `${language}-jobs.json`);
    writeFileSync(jobsFile, JSON.stringify(jobs));
    const processEnv = { PYTHONPATH: path.join(root, 'clients', 'python'), PYTHONDONTWRITEBYTECODE: '1' };
    const outputs = parseBatch(
      await run(command, [...args, jobsFile], processEnv),
      jobs.map((job) => job.file),
    );
    examples.forEach((example, index) =>
      results.set(example, outputs.get(jobs[index]?.file ?? '') ?? { code: null, output: 'no result' }),
    );
  };

  await Promise.all([
    bashRuns,
    batch('ts', 'ts', process.execPath, [
      '--import',
      'tsx',
      path.join(root, 'test', 'docs', 'runners', 'typescript.ts'),
    ]),
    batch('python', 'py', 'python3', [path.join(root, 'test', 'docs', 'runners', 'python.py')]),
  ]);
  return results;
}

let results: Map<GuideExample, Output>;
let typeCheck: Promise<Output>;

/** Starts tsc over the TypeScript examples (each as a module of its own), while the rest is set up. */
function startTypeCheck(): Promise<Output> {
  const typescript = runnable.filter((example) => example.language === 'ts');
  const files = typescript.map((example) => fileOf(example, 'check.ts'));
  typescript.forEach((example, index) => writeFileSync(files[index] ?? '', `${example.code}\nexport {};\n`));
  const config = path.join(scratch, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({ extends: '../../tsconfig.json', include: files.map((file) => path.basename(file)) }),
  );
  return run(
    process.execPath,
    [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', config],
    {},
  );
}

beforeAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  typeCheck = startTypeCheck();
  const needsMock = runnable.some((example) => example.target === 'mock');
  [server, mock] = await Promise.all([startIdentityServer(), needsMock ? startTestMock() : Promise.resolve(null)]);
  const registered = await post('/v1/oauth/clients', {
    name: 'Docs examples',
    client_type: 'confidential',
    redirect_uris: ['https://reports.acme.example/callback'],
    scopes: ['workflows:read', 'runs:read'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  });
  app = { clientId: registered.data.client_id, clientSecret: registered.data.client_secret };
  workflowId = (
    await post('/v1/workflows', {
      name: 'Docs example',
      trigger: { type: 'manual' },
      steps: [{ id: 'hello', type: 'log', message: 'Hello' }],
    })
  ).data.id;
  results = await runAll(runnable);
}, 120_000);

afterAll(async () => {
  await Promise.all([server?.close(), mock?.close(), typeCheck]);
});

test('every example block of the guides says whether it runs, and most do', () => {
  expect(examples.length).toBeGreaterThan(30);
  const notRun = examples.filter((example) => !example.run);
  expect(notRun.every((example) => (example.reason ?? '').length > 5)).toBe(true);
  expect(runnable.length).toBeGreaterThan(notRun.length * 3);
  for (const language of ['bash', 'ts', 'python'] as const)
    expect(runnable.some((example) => example.language === language)).toBe(true);
});

describe('guide examples run', () => {
  test.each(
    runnable.map(
      (example) =>
        [`${example.where} (${example.language}${example.target === 'mock' ? ', mock' : ''})`, example] as const,
    ),
  )('%s', (_name, example) => {
    const { code, output } = results.get(example) ?? { code: null, output: 'not run' };
    expect(code, output).toBe(0);
    if (example.expect) {
      expect(output, `expected the error ${example.expect}`).toMatch(new RegExp(`"code":\\s*"${example.expect}"`));
    } else {
      expect(output, 'an error envelope').not.toMatch(/"success":\s*false/);
      expect(output, 'an OAuth error').not.toMatch(/"error":\s*"[a-z_]+"/);
    }
  });
});

test('the TypeScript examples type-check against the SDK and the contract', async () => {
  const { code, output } = await typeCheck;
  expect(code, output).toBe(0);
});
