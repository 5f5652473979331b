// Prism behind the mock's front: `prism mock` of the bundled contract on a
// loopback port of its own, with its CORS answers off (the front answers CORS as
// the server does). Spawned as node_modules/.bin/prism itself, never through npx
// (stopping npx leaves Prism running), as one process (--multiprocess=false) so
// that stopping its pid stops it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface PrismProcess {
  url: string;
  /** Everything Prism printed (the last 64 KB), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 6 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface PrismOptions {
  /** The project root: node_modules/.bin/prism and generated/openapi.json are found from it. */
  root: string;
  /** Made-up data from the schemas instead of the examples (`prism mock --dynamic`). */
  dynamic?: boolean;
  startTimeoutMs?: number;
  /** Called when Prism exits without being stopped (it crashed), with its last output. */
  onCrash?: (output: string) => void;
}

const HOST = '127.0.0.1';
const OUTPUT_LIMIT = 64 * 1024;

export async function startPrism(options: PrismOptions): Promise<PrismProcess> {
  const bin = path.join(options.root, 'node_modules', '.bin', 'prism');
  const spec = path.join(options.root, 'generated', 'openapi.json');
  if (!existsSync(bin)) throw new Error(`Prism is not installed (${bin} is missing): run npm ci`);
  if (!existsSync(spec)) throw new Error(`${spec} is missing: run npm run generate`);
  let lastError: Error | undefined;
  // Another process may take the probed port before Prism binds it: try another one.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOn(bin, spec, await freePort(), options);
    } catch (error) {
      lastError = error as Error;
      if (!/EADDRINUSE/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError ?? new Error('Prism could not start');
}

async function startOn(bin: string, spec: string, port: number, options: PrismOptions): Promise<PrismProcess> {
  const args = [
    'mock',
    spec,
    '--host',
    HOST,
    '--port',
    String(port),
    '--cors=false',
    '--multiprocess=false',
    ...(options.dynamic ? ['--dynamic'] : []),
  ];
  const child = spawn(bin, args, {
    cwd: options.root,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const capture = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', capture);
  child.stderr.on('data', capture);
  let exited = false;
  let stopping = false;
  let started = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      if (started && !stopping) options.onCrash?.(output);
      resolve();
    });
    child.once('error', (error) => {
      output += `\n${error.message}`;
      exited = true;
      resolve();
    });
  });
  // A mock left behind by a crashed parent would hold its port: it dies with us.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    stopping = true;
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 6_000);
    await exit;
    clearTimeout(timer);
  };

  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  while (!(await accepts(url))) {
    if (exited) throw new Error(`Prism exited before accepting requests:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prism did not accept requests on ${url} in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  started = true;
  return { url, output: () => output, stop };
}

async function accepts(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
