// Every operation's code samples (curl, the TypeScript SDK, the Python client:
// scripts/code-samples.ts, shown in the reference as x-codeSamples) run against a
// real server as a reader would run them: curl with bash, TypeScript with tsx
// against the workspace SDK, Python with the system python3 against
// clients/python. The environment gives the API's address and the credential;
// the ids, tokens and codes the samples quote are the contract's examples, so each
// sample runs in a world where they are real (test/support/example-world.ts):
// the test makes those things and puts their real values in the sample's text,
// as a reader puts in their own ids.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeSamples, sampleRequests, type CodeSample } from '../../scripts/code-samples.ts';
import { root } from '../../scripts/docs-guides.ts';
import { loadContractDocument } from '../support/contract-document.ts';
import { startExampleWorld, substitute, type ExampleWorld, type Prepared } from '../support/example-world.ts';

const contract = loadContractDocument();
const samples = codeSamples(contract.raw);
const chosen = sampleRequests(contract.raw);
const scratch = path.join(root, 'test-results', 'code-samples');

interface Job {
  operationId: string;
  sample: CodeSample;
  source: string;
  env: Record<string, string>;
  file: string;
}

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

function environment(world: ExampleWorld, prepared: Prepared): Record<string, string> {
  const env: Record<string, string> = {
    AETHERFLOW_API_URL: world.server.baseUrl,
    PYTHONPATH: path.join(root, 'clients', 'python'),
    PYTHONDONTWRITEBYTECODE: '1',
    NO_COLOR: '1',
  };
  const credential = prepared.credential;
  if (credential?.scheme === 'bearer')
    env[credential.kind === 'session' ? 'AETHERFLOW_ACCESS_TOKEN' : 'AETHERFLOW_API_KEY'] = credential.token;
  if (credential?.scheme === 'basic')
    Object.assign(env, {
      AETHERFLOW_CLIENT_ID: credential.clientId,
      AETHERFLOW_CLIENT_SECRET: credential.clientSecret,
    });
  if (prepared.cookie) env.AETHERFLOW_BROWSER_COOKIE = prepared.cookie;
  return env;
}

/** Lines of JSON `{ file, code, output }` from a batch runner (test/docs/runners/), by file. */
function parseBatch(result: Output, files: string[]): Map<string, Output> {
  const outputs = new Map<string, Output>();
  for (const line of result.output.split('\n')) {
    if (!line.startsWith('{"file":')) continue;
    const entry = JSON.parse(line) as { file: string; code: number; output: string };
    outputs.set(entry.file, { code: entry.code, output: entry.output });
  }
  for (const file of files)
    if (!outputs.has(file))
      outputs.set(file, {
        code: null,
        output: `the runner stopped before this sample (exit ${result.code}):\n${result.output.slice(-4000)}`,
      });
  return outputs;
}

// curl as written, and the HTTP status it got.
const CURL_WRAPPER = 'curl() { command curl -sS -w \'\\nHTTP_STATUS %{http_code}\\n\' "$@"; }\n';

let world: ExampleWorld;
const results = new Map<string, Output>();
let typeCheck: Output;

beforeAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  world = await startExampleWorld();
  const jobs: Job[] = [];
  for (const [operationId, list] of samples) {
    const requests = chosen.get(operationId);
    if (!requests) continue;
    for (const sample of list) {
      // Each sample gets a world of its own making: a deleted workflow, a used code cannot serve twice.
      const prepared = await world.prepare(
        sample.label === 'curl'
          ? requests.shell
          : sample.label === 'TypeScript'
            ? requests.typescript
            : requests.python,
      );
      const extension = sample.label === 'curl' ? 'sh' : sample.label === 'TypeScript' ? 'ts' : 'py';
      jobs.push({
        operationId,
        sample,
        source: substitute(prepared.substitutions, sample.source),
        env: environment(world, prepared),
        file: path.join(scratch, `${operationId}.${extension}`),
      });
    }
  }
  for (const job of jobs) writeFileSync(job.file, job.source);

  const bash = jobs.filter((job) => job.sample.label === 'curl');
  const bashRuns = (async () => {
    const queue = [...bash];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let job = queue.shift(); job; job = queue.shift())
          results.set(job.file, await run('bash', ['-e', '-o', 'pipefail', '-s'], job.env, CURL_WRAPPER + job.source));
      }),
    );
  })();
  const batch = async (label: CodeSample['label'], command: string, args: string[], name: string) => {
    const list = jobs.filter((job) => job.sample.label === label);
    const jobsFile = path.join(scratch, `${name}-jobs.json`);
    writeFileSync(jobsFile, JSON.stringify(list.map((job) => ({ file: job.file, env: job.env }))));
    const outputs = parseBatch(
      await run(command, [...args, jobsFile], {
        PYTHONPATH: path.join(root, 'clients', 'python'),
        PYTHONDONTWRITEBYTECODE: '1',
      }),
      list.map((job) => job.file),
    );
    for (const [file, output] of outputs) results.set(file, output);
  };
  // The TypeScript samples also type-check against the SDK (each a module of its own).
  const tsFiles = jobs.filter((job) => job.sample.label === 'TypeScript').map((job) => path.basename(job.file));
  writeFileSync(
    path.join(scratch, 'tsconfig.json'),
    JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { moduleDetection: 'force' }, include: tsFiles }),
  );
  [typeCheck] = await Promise.all([
    run(
      process.execPath,
      [
        path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--noEmit',
        '-p',
        path.join(scratch, 'tsconfig.json'),
      ],
      {},
    ),
    bashRuns,
    batch(
      'TypeScript',
      process.execPath,
      ['--import', 'tsx', path.join(root, 'test', 'docs', 'runners', 'typescript.ts')],
      'ts',
    ),
    batch('Python', 'python3', [path.join(root, 'test', 'docs', 'runners', 'python.py')], 'python'),
  ]);
}, 240_000);

afterAll(async () => {
  // What each sample printed, beside it, for a look after a failure.
  for (const [file, { output }] of results) writeFileSync(`${file}.out`, output);
  await world?.close();
});

describe('code samples', () => {
  test('every operation has a curl, a TypeScript and a Python sample', () => {
    const operations = contract
      .operations()
      .map((operation) => operation.operationId)
      .sort();
    expect([...samples.keys()].sort()).toEqual(operations);
    for (const list of samples.values())
      expect(list.map((sample) => sample.label)).toEqual(['curl', 'TypeScript', 'Python']);
  });

  test('the TypeScript samples type-check against the SDK and the contract', () => {
    expect(typeCheck.code, typeCheck.output).toBe(0);
  });

  const all = [...samples].flatMap(([operationId, list]) =>
    list.map((sample) => [`${operationId} (${sample.label})`, operationId, sample] as const),
  );
  test.each(all)('%s runs against the server', (_name, operationId, sample) => {
    const extension = sample.label === 'curl' ? 'sh' : sample.label === 'TypeScript' ? 'ts' : 'py';
    const { code, output } = results.get(path.join(scratch, `${operationId}.${extension}`)) ?? {
      code: null,
      output: 'not run',
    };
    expect(code, output).toBe(0);
    if (sample.label === 'curl') {
      const status = Number(/HTTP_STATUS (\d+)\s*$/.exec(output)?.[1]);
      expect(status, output).toBeGreaterThanOrEqual(200);
      expect(status, output).toBeLessThan(400);
    }
    expect(output, 'an error envelope').not.toMatch(/"success":\s*false/);
  });
});
