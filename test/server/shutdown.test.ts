// SIGTERM under load, on a real server process (src/main.ts, as `npm start` runs it),
// behind what a load balancer does: it checks /health every 100 ms and sends nothing
// new to an instance once /health has said 503 three times in a row. For the drain period /health answers 503
// (`shutting_down`) and every answer carries `Connection: close` while new connections
// are still accepted; then the listener stops accepting (new connections are refused,
// not reset), in-flight requests get their answers, and the process exits 0. No
// connection is reset, no answer is an error, and every acknowledged write is in the
// database afterwards. On SQLite here; with TEST_DATABASE_URL and TEST_REDIS_URL, on
// PostgreSQL and Redis too.
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { spawnInstance, type Instance } from '../support/instances.ts';
import { startLoad, tally } from '../support/load.ts';
import { freshPostgresDatabase, freshRedisPrefix, testDatabaseUrl, testRedisUrl } from '../support/services.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const DRAIN_MS = 1_500;
const TIMEOUT_MS = 15_000;

async function startServer(
  extraEnv: Record<string, string> = {},
): Promise<{ instance: Instance; key: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-shutdown-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  // The default policy with every limit a thousand times higher: this is about shutdown, not limits.
  const limits = path.join(dataDir, 'rate-limits.yaml');
  writeFileSync(
    limits,
    readFileSync(path.join(root, 'config', 'rate-limits.yaml'), 'utf8').replace(
      /^(\s*limit:\s*)(\d+)/gm,
      (_m, head: string, n: string) => `${head}${Number(n) * 1000}`,
    ),
  );
  const instance = await spawnInstance({
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    AETHERFLOW_OWNER_EMAIL: 'owner@example.com',
    AETHERFLOW_OWNER_PASSWORD: 'correct horse battery staple',
    RATE_LIMIT_CONFIG: limits,
    VALIDATE_RESPONSES: 'true',
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
    SHUTDOWN_TIMEOUT_MS: String(TIMEOUT_MS),
    ...extraEnv,
  });
  cleanups.push(() => instance.kill());
  const key = /Test API key: (sk_test_[0-9A-Za-z]{38})/.exec(instance.output())?.[1];
  if (!key) throw new Error(`no key printed:\n${instance.output()}`);
  return { instance, key, dataDir };
}

interface HealthSeen {
  at: number;
  status: number | null;
  shuttingDown: boolean | null;
  error: string | null;
}

/** GET /health every 100 ms, each on a new connection, until the server refuses connections; `healthy` turns false at the third 503 in a row. */
function pollHealth(url: string): { seen: HealthSeen[]; healthy: () => boolean; done: Promise<void> } {
  const seen: HealthSeen[] = [];
  let failures = 0;
  let removed = false;
  const done = (async () => {
    for (;;) {
      const at = Date.now();
      const answer = await new Promise<HealthSeen>((resolve) => {
        const request = http.get(`${url}/health`, { agent: false }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve({
              at,
              status: response.statusCode ?? null,
              shuttingDown: (JSON.parse(text) as { shutting_down: boolean }).shutting_down,
              error: null,
            }),
          );
        });
        request.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ at, status: null, shuttingDown: null, error: error.code ?? error.message }),
        );
      });
      seen.push(answer);
      failures = answer.status === 503 ? failures + 1 : 0;
      if (failures >= 3) removed = true;
      if (answer.error === 'ECONNREFUSED') return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return { seen, healthy: () => !removed, done };
}

async function sigtermUnderLoad(instance: Instance, key: string) {
  const health = pollHealth(instance.url);
  const load = startLoad({ urls: [instance.url], key, workers: 8, stopOnRefused: true, routed: health.healthy });
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  const signalledAt = Date.now();
  const code = await instance.stop();
  const exitedAt = Date.now();
  await load.stop();
  await health.done;
  const afterSignal = load.since(signalledAt);
  const answered = afterSignal.filter((outcome) => outcome.status !== null);
  const refusedAt = health.seen.find((seen) => seen.error === 'ECONNREFUSED')?.at ?? null;
  const draining = health.seen.filter(
    (seen) => seen.at > signalledAt && seen.status === 503 && seen.shuttingDown === true,
  );
  return { load, code, signalledAt, exitedAt, afterSignal, answered, refusedAt, draining };
}

function expectCleanShutdown(result: Awaited<ReturnType<typeof sigtermUnderLoad>>, label: string): void {
  const { load, code, signalledAt, exitedAt, afterSignal, answered, refusedAt, draining } = result;
  // Not one connection reset or cut short: a socket error other than a refused connection is a reset.
  expect(
    load.outcomes.filter((outcome) => outcome.error !== null && outcome.error !== 'ECONNREFUSED'),
    JSON.stringify(tally(load.outcomes)),
  ).toEqual([]);
  expect(
    load.outcomes.filter((outcome) => outcome.status !== null && (outcome.status < 200 || outcome.status >= 300)),
    JSON.stringify(tally(load.outcomes)),
  ).toEqual([]);
  expect(code).toBe(0);
  expect(exitedAt - signalledAt).toBeLessThan(TIMEOUT_MS);
  // The drain: /health said 503 shutting_down, and answers sent well after the signal closed their connections.
  expect(draining.length, 'no /health 503 while draining').toBeGreaterThan(0);
  const late = answered.filter((outcome) => outcome.startedAt > signalledAt + 100);
  expect(late.length, 'no request was answered during the drain').toBeGreaterThan(0);
  expect(late.filter((outcome) => outcome.connection !== 'close')).toEqual([]);
  // Still accepting during the drain, refused only after it.
  expect(refusedAt).not.toBeNull();
  expect(refusedAt! - signalledAt).toBeGreaterThanOrEqual(DRAIN_MS);
  console.log(
    `SIGTERM under load (${label}): ${load.outcomes.length} requests, ${afterSignal.length} after the signal (${JSON.stringify(tally(afterSignal))}); ` +
      `/health 503 ${draining.length} times while draining; refused after ${refusedAt! - signalledAt} ms; exit ${code} after ${exitedAt - signalledAt} ms`,
  );
}

describe('SIGTERM under load', () => {
  test(
    'on SQLite: drains, refuses new connections only afterwards, resets none, loses no acknowledged write, exits 0',
    { timeout: 90_000 },
    async () => {
      const { instance, key, dataDir } = await startServer();
      const result = await sigtermUnderLoad(instance, key);
      expectCleanShutdown(result, 'SQLite');
      const sqlite = new SqliteDatabase(path.join(dataDir, 'aetherflow.sqlite'), { readonly: true });
      try {
        const ids = result.load.acknowledged;
        expect(ids.length).toBeGreaterThan(0);
        const found = sqlite
          .prepare(`select count(*) as n from workflows where id in (${ids.map(() => '?').join(',')})`)
          .get(...ids) as { n: number };
        expect(found.n).toBe(ids.length);
      } finally {
        sqlite.close();
      }
    },
  );

  // Defined on the PostgreSQL + Redis pass only (CI runs the suite on both), so nothing is ever skipped.
  if (testDatabaseUrl && testRedisUrl) {
    test('on PostgreSQL and Redis: the same', { timeout: 90_000 }, async () => {
      const database = await freshPostgresDatabase();
      cleanups.push(() => database.drop());
      const { instance, key } = await startServer({
        DATABASE_URL: database.url,
        REDIS_URL: testRedisUrl!,
        REDIS_KEY_PREFIX: freshRedisPrefix(),
      });
      const result = await sigtermUnderLoad(instance, key);
      expectCleanShutdown(result, 'PostgreSQL + Redis');
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const found = await client.query<{ n: string }>('select count(*) as n from workflows where id = any($1)', [
          result.load.acknowledged,
        ]);
        expect(Number(found.rows[0]!.n)).toBe(result.load.acknowledged.length);
      } finally {
        await client.end();
      }
    });
  }
});
