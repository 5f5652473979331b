// A PostgreSQL and a Redis of a test's own, on their own ports and data directories
// under a temporary folder, that the test may stop, restart and freeze (SIGSTOP) to
// show what the server does when a dependency fails. Never the shared servers of
// TEST_DATABASE_URL / TEST_REDIS_URL, which other tests (and other people) use.
// The binaries are those .ci/services installs from Debian's packages.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);

function postgresBin(): string {
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (!newest) throw new Error('PostgreSQL is not installed (.ci/services installs it)');
  return path.join('/usr/lib/postgresql', newest, 'bin');
}

/** PostgreSQL refuses to run as root: as root, its commands run as the postgres user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function signal(pids: number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return (
          Number(
            readFileSync(`/proc/${entry}/stat`, 'utf8')
              .replace(/^.*\) /s, '')
              .split(' ')[1],
          ) === pid
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

export interface BreakablePostgres {
  /** The `postgres` database: tests create their own in it. */
  url: string;
  /** Stops it the way a crash or a kill does (`pg_ctl stop -m immediate`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP to the server and every backend: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startPostgres(): Promise<BreakablePostgres> {
  const bin = postgresBin();
  const root = mkdtempSync(path.join(tmpdir(), 'aetherflow-pg-'));
  const data = path.join(root, 'data');
  if (process.getuid?.() === 0)
    chownSync(
      root,
      Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
      Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
    );
  await run(...asPostgres(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']));
  const port = await freePort();
  const pgCtl = (...args: string[]) => run(...asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, ...args]));
  const start = async () => {
    await pgCtl(
      '-w',
      '-l',
      path.join(root, 'log'),
      '-o',
      `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100`,
      'start',
    );
  };
  const pids = () => {
    const file = path.join(data, 'postmaster.pid');
    if (!existsSync(file)) return [];
    const postmaster = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return [postmaster, ...childrenOf(postmaster)];
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => void (await pgCtl('-m', 'immediate', 'stop')),
    start,
    freeze: () => signal(pids(), 'SIGSTOP'),
    // The server first, then the backends: each would otherwise find the other still stopped.
    thaw: () => signal(pids(), 'SIGCONT'),
    async destroy() {
      signal(pids(), 'SIGCONT');
      await pgCtl('-m', 'immediate', 'stop').catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface BreakableRedis {
  url: string;
  /** Kills it (SIGKILL): it comes back empty, as a Redis without persistence does. */
  stop(): Promise<void>;
  start(): Promise<void>;
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<BreakableRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async () => {
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = server;
    let output = '';
    server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      const check = () => {
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          server.stdout?.off('data', check);
          resolve();
        }
      };
      server.stdout?.on('data', check);
      server.once('exit', () => reject(new Error(`redis-server exited:\n${output}`)));
    });
  };
  const stop = async () => {
    const server = child;
    child = null;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGCONT');
    server.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    destroy: stop,
  };
}
