// The SDK as its users get it: `npm pack` makes the tarball, a scratch project
// outside this repository installs it, and programs there call a live server:
// plain Node ESM with no TypeScript anywhere, and a strict TypeScript project
// type-checked (libraries' declarations included) and compiled by the repo's tsc
// with `node16` and with `bundler` module resolution, then run by Node. The SDK
// README's examples run there too, as a reader would paste them.
//
// The install is offline. The registry is never asked: the SDK's own dependencies
// (openapi-fetch and what it needs), and @types/node for the TypeScript project,
// are packed from this repository's node_modules, the versions `npm ci` installed
// and the other tests use, and installed beside the SDK, which finds them there as
// it would find them from the registry. (`npm install --offline` with the SDK alone
// needs the registry's metadata in the npm cache, which `npm ci` does not put there.)
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { examplesOf } from '../docs/guide-examples.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const sdkDir = path.join(root, 'sdk', 'typescript');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const execFileAsync = promisify(execFile);

interface Packed {
  filename: string;
  files: { path: string }[];
}

/** Runs a command; resolves with its output, rejects with its output when it fails. */
async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) failed: ${failed.message}\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    );
  }
}

async function pack(args: string[], destination: string): Promise<Packed[]> {
  const output = await run(
    npm,
    ['pack', ...args, '--pack-destination', destination, '--json', '--loglevel=error'],
    root,
  );
  // npm prints the prepack script's banner before the JSON.
  return JSON.parse(output.slice(output.indexOf('['), output.lastIndexOf(']') + 1)) as Packed[];
}

/** The packages `names` and their production dependencies, transitively, as installed in this repository. */
function installedPackages(names: string[]): string[] {
  const found = new Set<string>();
  const visit = (name: string) => {
    if (found.has(name)) return;
    found.add(name);
    const manifest = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
  };
  names.forEach(visit);
  return [...found].map((name) => path.join(root, 'node_modules', name));
}

const sdkManifest = JSON.parse(readFileSync(path.join(sdkDir, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const readmeExamples = examplesOf('sdk/typescript/README.md').filter((example) => example.language === 'ts');

const WORKFLOW = {
  name: 'From the package',
  trigger: { type: 'manual' },
  steps: [{ id: 'greet', type: 'log', message: 'Hello {{input.name}}' }],
};
const MISSING_WORKFLOW = 'wf_000000000000000000000000';

/** Plain JavaScript, as a Node user without TypeScript writes it. */
const plainProgram = `import { createAetherFlowClient, isAetherFlowError, unwrap } from '@aetherflow/sdk';

const [baseUrl, apiKey] = process.argv.slice(2);
const aetherflow = createAetherFlowClient({ baseUrl, apiKey });
const { data: workflow } = await unwrap(aetherflow.POST('/v1/workflows', { body: ${JSON.stringify(WORKFLOW)} }));
const names = [];
for await (const item of aetherflow.paginate('/v1/workflows', { query: { limit: 1 } })) names.push(item.name);
let missing = null;
try {
  await unwrap(aetherflow.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: '${MISSING_WORKFLOW}' } } }));
} catch (error) {
  if (isAetherFlowError(error)) missing = { status: error.status, code: error.code, requestId: error.requestId };
}
console.log(JSON.stringify({ id: workflow.id, names, missing }));
`;

/** Strict TypeScript: the contract's types must reach the consumer, or the expected errors below are not errors. */
const typedProgram = (
  baseUrl: string,
  apiKey: string,
) => `import { createAetherFlowClient, isAetherFlowError, unwrap, type AetherFlowError, type ErrorCode, type Schema } from '@aetherflow/sdk';

const aetherflow = createAetherFlowClient({ baseUrl: ${JSON.stringify(baseUrl)}, apiKey: ${JSON.stringify(apiKey)} });
const input: Schema<'WorkflowInput'> = ${JSON.stringify(WORKFLOW)};
const { data: workflow } = await unwrap(aetherflow.POST('/v1/workflows', { body: input }));
const id: string = workflow.id;
const names: string[] = [];
for await (const item of aetherflow.paginate('/v1/workflows', { query: { limit: 1 } })) names.push(item.name);

let missing: { status: number; code: AetherFlowError['code'] } | null = null;
try {
  await unwrap(aetherflow.GET('/v1/workflows/{workflow_id}', { params: { path: { workflow_id: '${MISSING_WORKFLOW}' } } }));
} catch (error) {
  if (isAetherFlowError(error, 'not_found')) {
    const code: ErrorCode | 'unknown_error' | string = error.code;
    missing = { status: error.status, code };
  }
}

function neverCalled(): void {
  // @ts-expect-error: not a path of the contract
  void aetherflow.GET('/v1/no-such-path');
  // @ts-expect-error: a workflow's name is a string
  void aetherflow.POST('/v1/workflows', { body: { ...input, name: 42 } });
  // @ts-expect-error: not a code of the catalogue
  const code: ErrorCode = 'no_such_code';
  void code;
}
void neverCalled;

console.log(JSON.stringify({ id, names, missing }));
`;

function tsconfig(resolution: 'node16' | 'bundler') {
  return {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: resolution === 'node16' ? 'node16' : 'esnext',
      moduleResolution: resolution,
      strict: true,
      noUncheckedIndexedAccess: true,
      // The SDK's declarations and its dependencies' are checked too, under the consumer's settings.
      skipLibCheck: false,
      types: ['node'],
      outDir: `out-${resolution}`,
    },
    files: ['index.ts'],
  };
}

interface Outcome {
  id: string;
  names: string[];
  missing: { status: number; code: string; requestId?: string } | null;
}

describe('the SDK as a package', () => {
  let server: TestServer;
  let scratch: string;
  let project: string;
  let packed: Packed;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'aetherflow-sdk-package-'));
    project = path.join(scratch, 'consumer');
    mkdirSync(project);
    const [sdk, dependencies, started] = await Promise.all([
      pack(['-w', '@aetherflow/sdk'], scratch),
      pack(
        ['--ignore-scripts', ...installedPackages([...Object.keys(sdkManifest.dependencies), '@types/node'])],
        scratch,
      ),
      startTestServer(),
    ]);
    server = started;
    packed = sdk[0] as Packed;
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
    );
    const tarballs = [packed, ...dependencies].map((entry) => path.join(scratch, entry.filename));
    await run(
      npm,
      ['install', ...tarballs, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      project,
    );
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('the tarball holds JavaScript, declarations and the contract types, not the TypeScript sources', () => {
    const files = packed.files.map((file) => file.path).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/api.d.ts',
        'dist/client.js',
        'dist/types.d.ts',
      ]),
    );
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    const installed = path.join(project, 'node_modules', '@aetherflow', 'sdk');
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(manifest.private).toBeUndefined();
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    // The declarations stand alone: nothing points back into this repository.
    for (const file of files.filter((name) => name.endsWith('.d.ts')))
      expect(readFileSync(path.join(installed, file), 'utf8')).not.toMatch(/\.\.\/\.\.\/|generated\/api/);
  });

  const expectOutcome = (output: string) => {
    const outcome = JSON.parse(output.trim().split('\n').at(-1) ?? '') as Outcome;
    expect(outcome.id).toMatch(/^wf_[0-9A-Za-z]{24}$/);
    expect(outcome.names).toContain('From the package');
    expect(outcome.missing).toMatchObject({ status: 404, code: 'not_found' });
  };

  test('plain Node ESM, no TypeScript: create, paginate, a typed error', async () => {
    writeFileSync(path.join(project, 'plain.mjs'), plainProgram);
    const output = await run(process.execPath, ['plain.mjs', server.baseUrl, server.secretKey], project);
    expectOutcome(output);
    expect(JSON.parse(output.trim()).missing.requestId).toMatch(/^req_/);
  });

  test.each(['node16', 'bundler'] as const)(
    'strict TypeScript with %s module resolution type-checks, compiles and runs',
    async (resolution) => {
      writeFileSync(path.join(project, 'index.ts'), typedProgram(server.baseUrl, server.secretKey));
      const config = `tsconfig.${resolution}.json`;
      writeFileSync(path.join(project, config), JSON.stringify(tsconfig(resolution), null, 2));
      await run(process.execPath, [tsc, '-p', config], project);
      expectOutcome(await run(process.execPath, [path.join(`out-${resolution}`, 'index.js')], project));
    },
    60_000,
  );

  test("the README's examples type-check and run against the installed package", async () => {
    const runnable = readmeExamples.filter((example) => example.run);
    expect(runnable.length).toBeGreaterThanOrEqual(4);
    const files = runnable.map((example) => `readme-${example.line}.ts`);
    runnable.forEach((example, index) =>
      writeFileSync(path.join(project, files[index] ?? ''), `${example.code}\nexport {};\n`),
    );
    const config = { ...tsconfig('node16'), files };
    config.compilerOptions.outDir = 'out-readme';
    writeFileSync(path.join(project, 'tsconfig.readme.json'), JSON.stringify(config, null, 2));
    await run(process.execPath, [tsc, '-p', 'tsconfig.readme.json'], project);
    const env = {
      ...process.env,
      AETHERFLOW_API_URL: server.baseUrl,
      AETHERFLOW_API_KEY: server.secretKey,
      AETHERFLOW_EMAIL: server.owner.email,
      AETHERFLOW_PASSWORD: server.owner.password,
    };
    for (const [index, example] of runnable.entries()) {
      const file = path.join('out-readme', (files[index] ?? '').replace(/\.ts$/, '.js'));
      const { stdout, stderr } = await execFileAsync(process.execPath, [file], { cwd: project, env }).catch(
        (error: { stdout: string; stderr: string; message: string }) => {
          throw new Error(`${example.where} failed: ${error.message}\n${error.stdout}${error.stderr}`);
        },
      );
      expect(`${stdout}${stderr}`, example.where).not.toMatch(/"success":\s*false/);
    }
  }, 60_000);
});
