// The README's quick start, as a new user runs it: `npm start` on an empty data
// directory prints a key and a curl command that works; the README's first
// workflow run (its bash block, run as written with that key) ends `succeeded`
// with what its steps produced; a restart prints no secret again; SIGTERM stops
// the server cleanly, also when it is sent to npm (which a process manager or a
// container runtime does). A port in use ends `npm start` with one clear line.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, onTestFinished, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-quickstart-'));
const otherDataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-quickstart-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(otherDataDir, { recursive: true, force: true });
});

/** The first bash block after the README heading `heading`. */
function readmeBlock(heading: string): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.indexOf(`\n## ${heading}\n`);
  expect(section, `README.md has a section "${heading}"`).toBeGreaterThan(-1);
  const block = /```bash\n([\s\S]*?)\n```/.exec(readme.slice(section));
  expect(block, `a bash block in "${heading}"`).not.toBeNull();
  return block![1]!;
}

/** The README's block with the reader's own key and the server's address put where the README says to. */
function asReader(block: string, key: string, url: string): string {
  const lines = block.split('\n');
  expect(
    lines.filter((line) => /^KEY=sk_test_\.\.\. /.test(line)),
    'the block sets KEY to the printed key',
  ).toHaveLength(1);
  return lines
    .map((line) => line.replace(/^KEY=sk_test_\.\.\.(?= )/, `KEY=${key}`))
    .map((line) => line.replace('http://127.0.0.1:3000', url))
    .join('\n');
}

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

async function start(options: { dataDir?: string; port?: number } = {}): Promise<Started> {
  // What `npm start` runs (package.json's script: the bundle, built when stale), without
  // npm in between (so SIGTERM reaches the server itself).
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } })
    .scripts.start;
  const [exec, command, ...args] = script.split(/\s+/);
  expect([exec, command]).toEqual(['exec', 'node']);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: options.dataDir ?? dataDir, PORT: String(options.port ?? 0) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child);
}

async function started(child: ChildProcess): Promise<Started> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
    if (match) return { child, output: () => output, url: match[1]! };
    if (child.exitCode !== null) throw new Error(`the server exited: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not start: ${output}`);
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill('SIGTERM');
  return exited;
}

test('first start prints a working key and curl command; a restart prints no secret', { timeout: 90_000 }, async () => {
  const first = await start();
  await expect.poll(() => first.output(), { timeout: 10_000 }).toContain('curl ');
  const key = /Test API key: (sk_test_[0-9A-Za-z]{38})/.exec(first.output())?.[1];
  expect(key, first.output()).toBeDefined();
  expect(first.output()).toMatch(/Owner login: {2}owner@example\.com {2}password: \S{12,}/);
  // The bundle runs the worker of background checkpoints (it warns when it cannot).
  expect(first.output()).not.toContain('background checkpoints stopped');

  const curl = /curl (\S+) -H "Authorization: Bearer (\S+)"/.exec(first.output());
  expect(curl?.[1]).toBe(`${first.url}/v1/workflows`);
  const response = await fetch(curl![1]!, { headers: { Authorization: `Bearer ${curl![2]}` } });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ success: true, data: [], next_cursor: null });

  // The README's first workflow run, as written, with the printed key.
  const { stdout } = await promisify(execFile)(
    'bash',
    ['-e', '-c', asReader(readmeBlock('First workflow run'), key!, first.url)],
    { cwd: root },
  );
  const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as { success: boolean; data: Record<string, unknown> };
  expect(run.success, stdout).toBe(true);
  expect(run.data).toMatchObject({
    status: 'succeeded',
    input: { name: 'Ada' },
    output: { greeting: 'Hello Ada' },
    error: null,
  });
  expect(run.data.steps).toEqual([
    expect.objectContaining({ step_id: 'greet', type: 'set', status: 'succeeded', output: { greeting: 'Hello Ada' } }),
    expect.objectContaining({
      step_id: 'say',
      type: 'log',
      status: 'succeeded',
      output: { message: 'Hello Ada', level: 'info' },
    }),
  ]);

  expect(await stop(first)).toBe(0);
  expect(first.output()).toContain('"msg":"stopped"');

  const second = await start();
  const again = await fetch(`${second.url}/v1/workflows`, { headers: { Authorization: `Bearer ${key}` } });
  expect(again.status).toBe(200);
  expect(second.output()).not.toContain('Test API key');
  expect(await stop(second)).toBe(0);
});

test(
  'a port in use ends npm start with one clear line and exit code 1, creating nothing',
  { timeout: 90_000 },
  async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      const script = (
        JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }
      ).scripts.start;
      const child = spawn(process.execPath, script.split(/\s+/).slice(2), {
        cwd: root,
        env: { PATH: process.env.PATH, DATA_DIR: otherDataDir, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, stderr).toBe(1);
      // A stale bundle is rebuilt first, which says so; what follows is the one line.
      const lines = stderr
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('Building dist/main.js'));
      expect(lines).toEqual([
        `Cannot listen on 127.0.0.1:${port}: the port is already in use. Stop what is using it, or start on another port: PORT=${port < 65535 ? port + 1 : 3001} npm start`,
      ]);
      expect(stdout).not.toContain('Test API key');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    // The failed start created no account: the next start is still the first, and shows its key.
    const next = await start({ dataDir: otherDataDir });
    await expect.poll(() => next.output(), { timeout: 10_000 }).toContain('Test API key: sk_test_');
    expect(await stop(next)).toBe(0);
  },
);

test(
  'SIGTERM sent to `npm start` reaches the server: it stops cleanly and leaves no process behind',
  { timeout: 90_000 },
  async () => {
    const npm = await started(
      spawn('npm', ['start', '--silent'], {
        cwd: root,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const pid = Number(/"pid":(\d+)/.exec(npm.output())?.[1]);
    expect(pid, npm.output()).toBeGreaterThan(0);
    onTestFinished(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    // /proc/PID/stat: "pid (comm) state ppid ...".
    const parent = Number(
      readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ')[1],
    );
    expect(parent, "the server runs as npm's own child, not behind a shell").toBe(npm.child.pid);
    await stop(npm);
    expect(npm.output()).toContain('"msg":"stopped"');
    // The server process itself is gone (with a shell between npm and node, it went on running, orphaned).
    await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  },
);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
