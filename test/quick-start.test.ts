// The README's quick start, as a new user runs it: `npm start` on an empty data
// directory prints a key and a curl command that works; a restart prints no
// secret again; SIGTERM stops the server cleanly.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-quickstart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  output: () => string;
  url: string;
}

async function start(): Promise<Started> {
  // What `npm start` runs (package.json's script: the bundle, built when stale), without
  // npm in between (so SIGTERM reaches the server itself).
  const script = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [command, ...args] = script.split(/\s+/);
  expect(command).toBe('node');
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

  expect(await stop(first)).toBe(0);
  expect(first.output()).toContain('"msg":"stopped"');

  const second = await start();
  const again = await fetch(`${second.url}/v1/workflows`, { headers: { Authorization: `Bearer ${key}` } });
  expect(again.status).toBe(200);
  expect(second.output()).not.toContain('Test API key');
  expect(await stop(second)).toBe(0);
});
