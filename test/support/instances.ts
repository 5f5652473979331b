// Real server processes (`src/main.ts`, as `npm start` runs it) sharing one
// PostgreSQL database and one Redis: what several instances behind a load
// balancer are. The first instance bootstraps; the test reads its printed key.
// An instance that logged an unhandled rejection or an uncaught exception fails
// stop() and kill(), and so the test or the hook that ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshPostgresDatabase, freshRedisPrefix, testRedisUrl } from './services.ts';

const root = path.resolve(import.meta.dirname, '..', '..');

export interface Instance {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no chance to finish anything. */
  kill(): Promise<void>;
}

export interface Cluster {
  env: Record<string, string>;
  databaseUrl: string;
  instances: Instance[];
  /** The secret test key printed by the first instance's bootstrap. */
  key: string;
  owner: { email: string; password: string };
  start(): Promise<Instance>;
  close(): Promise<void>;
}

/** `services`: a PostgreSQL server and a Redis of the test's own (test/support/breakable-services.ts), instead of TEST_DATABASE_URL's and TEST_REDIS_URL. */
export async function startCluster(
  size: number,
  extraEnv: Record<string, string> = {},
  services?: { postgres: string; redis: string },
): Promise<Cluster> {
  const redisUrl = services?.redis ?? testRedisUrl;
  if (!redisUrl) throw new Error('TEST_REDIS_URL is not set');
  const database = await freshPostgresDatabase(services?.postgres);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-cluster-'));
  const owner = { email: 'owner@example.com', password: 'correct horse battery staple' };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: freshRedisPrefix(),
    // Every instance must share the secrets: a key hashed by one is verified by the other.
    AETHERFLOW_HASH_SECRET: randomBytes(32).toString('base64'),
    AETHERFLOW_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AETHERFLOW_OWNER_EMAIL: owner.email,
    AETHERFLOW_OWNER_PASSWORD: owner.password,
    VALIDATE_RESPONSES: 'true',
    // The "listening" line (with the port) is an info line.
    LOG_LEVEL: 'info',
    // As test/support/server.ts: a busy test machine is slower than the 1 s production deadline.
    DEPENDENCY_TIMEOUT_MS: '5000',
    ...extraEnv,
  };
  const instances: Instance[] = [];
  const start = async () => {
    const instance = await spawnInstance(env);
    instances.push(instance);
    return instance;
  };
  const first = await start();
  const key = /Test API key: (sk_test_[0-9A-Za-z]{38})/.exec(first.output())?.[1];
  if (!key) throw new Error(`the first instance printed no key:\n${first.output()}`);
  for (let i = 1; i < size; i++) await start();
  return {
    env,
    databaseUrl: database.url,
    instances,
    key,
    owner,
    start,
    async close() {
      const killed = await Promise.allSettled(instances.map((instance) => instance.kill()));
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
      for (const outcome of killed) if (outcome.status === 'rejected') throw outcome.reason;
    },
  };
}

/** One server process with this environment (SQLite when it names no DATABASE_URL); resolves once it listens. */
export async function spawnInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  let listeningSeenAt: number | null = null;
  while (!url) {
    url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
    if (url) listeningSeenAt ??= Date.now();
    // The bootstrap banner follows the listening line: wait for it to be complete. On a busy
    // machine it can come in a later chunk than the listening line, so give it half a second.
    if (url && output.includes('First start') && !output.includes('curl ')) url = undefined;
    if (url && !output.includes('First start') && Date.now() - listeningSeenAt! < 500) url = undefined;
    if (child.exitCode !== null) throw new Error(`an instance exited at start:\n${output}`);
    if (Date.now() > deadline) throw new Error(`an instance did not start:\n${output}`);
    if (!url) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      assertNothingEscaped(output);
      return code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      assertNothingEscaped(output);
    },
  };
}

/** The lines src/main.ts logs for a failure nobody handled. */
export function assertNothingEscaped(output: string): void {
  const escaped = output.split('\n').filter((line) => /"msg":"(unhandled rejection|uncaught exception)"/.test(line));
  if (escaped.length > 0) throw new Error(`the instance logged failures nobody handled:\n${escaped.join('\n')}`);
}
