// Starts Prism (the contract's mock, or a validating proxy in front of the real
// server) for a test run, and makes sure it never outlives the run.
//
// Prism is spawned as node_modules/.bin/prism itself, never through npx: killing
// npx leaves Prism running. It runs as one process (--multiprocess=false), so
// stopping its pid stops it. Its output is captured for error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const prismBin = path.join(repoRoot, 'node_modules', '.bin', 'prism');

export type PrismOptions = (
  | { spec: string; mode: 'mock' }
  /**
   * `errors: true` turns every contract violation of the upstream's answers into a 500
   * with `sl-violations`. `validateRequest` is false by default: with it, Prism itself
   * answers a bad or unauthenticated request (422/401 in its own problem+json) instead of
   * forwarding it, so the server's own 400/401 would never be exercised.
   */
  | { spec: string; mode: 'proxy'; upstream: string; errors: true; validateRequest?: boolean }
) & {
  /** How long to wait for Prism to accept requests; 30 s by default. */
  startTimeoutMs?: number;
};

export interface PrismServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  baseUrl: string;
  pid: number;
  /** Everything Prism printed so far (the last 256 KB). */
  output(): string;
  /** SIGTERM, then SIGKILL after 6 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 256 * 1024;
const KILL_AFTER_MS = 6_000;
const PORT_ATTEMPTS = 3;

/** Prism processes of this test process that have not exited yet. */
const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL is all that can be sent there.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  // A signal ends Node without 'exit'. Take the signal only when nobody else
  // (vitest) handles it, then re-raise it so the default behaviour still happens.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue;
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      process.kill(process.pid, signal);
    });
  }
}

export async function startPrism(options: PrismOptions): Promise<PrismServer> {
  if (!existsSync(prismBin)) {
    throw new Error(`Prism is not installed (${prismBin} is missing): run npm install`);
  }
  const spec = path.resolve(options.spec);
  if (!existsSync(spec)) {
    throw new Error(`Prism cannot start: the contract ${spec} does not exist (run npm run generate)`);
  }
  installExitHooks();

  let lastFailure: Error | undefined;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort(HOST);
    try {
      return await startOnPort(options, spec, port);
    } catch (error) {
      // Another process took the port between the probe and Prism's bind: try another.
      if (error instanceof PortTakenError) {
        lastFailure = error;
        continue;
      }
      throw error;
    }
  }
  throw lastFailure ?? new Error('Prism could not start');
}

class PortTakenError extends Error {}

async function startOnPort(options: PrismOptions, spec: string, port: number): Promise<PrismServer> {
  const args =
    options.mode === 'mock'
      ? ['mock', spec]
      : [
          'proxy',
          spec,
          options.upstream,
          ...(options.errors ? ['--errors'] : []),
          `--validate-request=${options.validateRequest ?? false}`,
        ];
  // Prism's own CORS answers are off: CORS is the server's (only where the contract has a preflight).
  args.push('--host', HOST, '--port', String(port), '--multiprocess=false', '--cors=false');

  const child = spawn(prismBin, args, {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let output = '';
  const capture = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let exited = child.exitCode !== null || child.signalCode !== null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      // Spawning failed (ENOENT, EACCES): no 'exit' follows.
      output += `\n[spawn error] ${error.message}`;
      exited = true;
      running.delete(child);
      resolve();
    });
  });

  const baseUrl = `http://${HOST}:${port}`;
  const description = `Prism ${options.mode} of ${spec} on ${baseUrl}`;

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, KILL_AFTER_MS);
    await exit;
    clearTimeout(timer);
  };

  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  while (true) {
    if (exited) {
      const message = `${description} exited before accepting requests (exit code ${child.exitCode}, signal ${child.signalCode}). Its output:\n${output}`;
      throw /EADDRINUSE/.test(output) ? new PortTakenError(message) : new Error(message);
    }
    if (await accepts(baseUrl)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${description} did not accept requests within ${timeoutMs / 1000} s. Its output:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }

  if (child.pid === undefined) throw new Error(`${description} has no pid`);
  return { baseUrl, pid: child.pid, output: () => output, stop };
}

/** Any HTTP answer (even a 404 for this made-up path) means Prism is listening. */
async function accepts(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/__prism_ready_probe`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}
