// `npm run mock -- --port N` listens on N (Prism behind it on a port of its own);
// a port in use ends with one clear line and a non-zero exit; SIGTERM stops the
// mock and its Prism.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../support/free-port.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const started: ChildProcess[] = [];

/** The mock's command line as npm runs it, with its output collected. */
function mock(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'mock.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('npm run mock', () => {
  test('--port N: the mock answers on N, and SIGTERM stops it', async () => {
    const port = await freePort();
    const run = mock(['--port', String(port)]);
    await expect.poll(run.output, { timeout: 30_000, interval: 100 }).toContain(`on http://127.0.0.1:${port}`);
    const response = await fetch(`http://127.0.0.1:${port}/v1/workflows`, {
      headers: { Authorization: 'Bearer sk_test_anything' },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { success: boolean }).success).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  }, 60_000);

  test('a port in use: one clear line, exit code 1', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    try {
      const run = mock(['--port', String(port)]);
      expect(await run.exited).toBe(1);
      expect(run.output().trim()).toBe(
        `Port ${port} on 127.0.0.1 is already in use: stop what runs there, or pick another port with npm run mock -- --port <port>.`,
      );
    } finally {
      blocker.close();
    }
  }, 30_000);

  test('a port that is not a number is refused with the options', async () => {
    const run = mock(['--port', 'forty']);
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('--port must be a port number');
  });
});
