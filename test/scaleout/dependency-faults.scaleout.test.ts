// Two real server processes under steady load, on a PostgreSQL and a Redis of this
// test's own (never the shared ones), while each dependency is stopped, then frozen
// (SIGSTOP), and brought back. What must hold (issue 25):
//  - no instance exits, and nothing escapes (an unhandled rejection fails the test);
//  - every answer during a PostgreSQL fault is a 2xx or a 503 service_unavailable with
//    Retry-After, and comes within BOUND_MS, never held for the length of the fault;
//  - during a Redis fault every answer is a 2xx: limits fall back to per-instance
//    counters, caches are off, and /health says `degraded`;
//  - service returns by itself within seconds of the dependency's return;
//  - every acknowledged write is in the database at the end;
//  - the outage is logged once per instance, not once per request;
//  - SIGTERM with PostgreSQL stopped, and with it frozen, exits within the deadline.
// The figures (how fast the 503s came, how long the return took) are logged.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAetherFlowClient } from '@aetherflow/sdk';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  startPostgres,
  startRedis,
  type BreakablePostgres,
  type BreakableRedis,
} from '../support/breakable-services.ts';
import { startCluster, type Cluster, type Instance } from '../support/instances.ts';
import { startLoad, tally, unexpected, type Load, type Outcome } from '../support/load.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TIMEOUT_MS = 1_000;
/** The longest any answer may take during a fault: the deadline, plus room for a busy machine. */
const BOUND_MS = 3 * TIMEOUT_MS;
/** Each fault lasts this long: twice the bound, so that an answer held for the fault's length would show. */
const FAULT_MS = 6_000;
const SHUTDOWN_TIMEOUT_MS = 8_000;

let postgres: BreakablePostgres;
let redis: BreakableRedis;
let cluster: Cluster;
let load: Load;
let configDir: string | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const auth = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  // The default policy with every limit a thousand times higher: this is about faults, not limits.
  configDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-faults-'));
  const limits = path.join(configDir, 'rate-limits.yaml');
  writeFileSync(
    limits,
    readFileSync(path.join(ROOT, 'config', 'rate-limits.yaml'), 'utf8').replace(
      /^(\s*limit:\s*)(\d+)/gm,
      (_m, head: string, n: string) => `${head}${Number(n) * 1000}`,
    ),
  );
  cluster = await startCluster(
    2,
    {
      RATE_LIMIT_CONFIG: limits,
      DEPENDENCY_TIMEOUT_MS: String(TIMEOUT_MS),
      SHUTDOWN_DRAIN_MS: '500',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    },
    { postgres: postgres.url, redis: redis.url },
  );
  load = startLoad({ urls: cluster.instances.map((instance) => instance.url), key: cluster.key, workers: 4 });
  await sleep(1_000);
}, 120_000);

afterAll(async () => {
  // What an instance that ended said last, for whoever reads a failure.
  for (const instance of cluster?.instances ?? [])
    if (instance.child.exitCode !== null)
      console.log(
        `an instance ended (${instance.child.exitCode}); its last output:\n${instance.output().slice(-3000)}`,
      );
  await load?.stop();
  postgres?.thaw();
  redis?.thaw();
  try {
    await cluster?.close();
  } finally {
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  }
}, 60_000);

interface Health {
  status: number;
  body: {
    status: string;
    shutting_down: boolean;
    checks: { database: { status: string }; redis: { status: string } | null };
  };
}

async function health(instance: Instance): Promise<Health> {
  const response = await fetch(`${instance.url}/health`);
  return { status: response.status, body: (await response.json()) as Health['body'] };
}

/** Until a write is acknowledged on every instance: how long after `since` each took. */
async function recovery(since: number): Promise<number[]> {
  return Promise.all(
    cluster.instances.map(async (instance) => {
      for (;;) {
        const response = await fetch(`${instance.url}/v1/workflows`, {
          method: 'POST',
          headers: auth(cluster.key),
          body: JSON.stringify({
            name: 'After the fault',
            trigger: { type: 'manual' },
            steps: [{ id: 'a', type: 'log', message: 'back' }],
          }),
        });
        await response.body?.cancel();
        if (response.status === 201) return Date.now() - since;
        if (Date.now() - since > 20_000)
          throw new Error(
            `instance ${instance.url} not back 20 s after the fault ended (last answer ${response.status})`,
          );
        await sleep(100);
      }
    }),
  );
}

const logLines = (instance: Instance, message: string) =>
  instance
    .output()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${message}`)).length;

function summary(outcomes: Outcome[]): string {
  const slowest = outcomes.reduce((most, outcome) => Math.max(most, outcome.ms), 0);
  const refused = outcomes
    .filter((outcome) => outcome.status === 503)
    .map((outcome) => outcome.ms)
    .sort((a, b) => a - b);
  const median = refused[Math.floor(refused.length / 2)] ?? 0;
  const refusals = refused.length > 0 ? `, 503s in ${median} ms (median) / ${refused.at(-1)!} ms (slowest)` : '';
  return `${outcomes.length} answers ${JSON.stringify(tally(outcomes))}, slowest ${slowest} ms${refusals}`;
}

describe('dependency faults under load, two instances', () => {
  test(
    'PostgreSQL stopped: fast 503s with Retry-After, /health says which, the SDK waits Retry-After, all back within seconds; no run or last-used time lost',
    { timeout: 60_000 },
    async () => {
      const [a] = cluster.instances as [Instance];
      // A run in a 2 s wait when PostgreSQL stops: it cannot persist its step until PostgreSQL is back.
      const created = (await (
        await fetch(`${a.url}/v1/workflows`, {
          method: 'POST',
          headers: auth(cluster.key),
          body: JSON.stringify({
            name: 'Across the outage',
            trigger: { type: 'manual' },
            steps: [
              { id: 'w', type: 'wait', seconds: 2 },
              { id: 's', type: 'set', values: { done: true } },
            ],
          }),
        })
      ).json()) as { data: { id: string } };
      const run = await fetch(`${a.url}/v1/workflows/${created.data.id}/run`, {
        method: 'POST',
        headers: auth(cluster.key),
        body: '{}',
      });
      expect(run.status).toBe(202);
      const runId = ((await run.json()) as { data: { id: string } }).data.id;
      // A key used once (so that it is known to A), then again while PostgreSQL is down.
      const key = (await (
        await fetch(`${a.url}/v1/auth/api-keys`, {
          method: 'POST',
          headers: auth(cluster.key),
          body: JSON.stringify({ name: 'Used in the outage', type: 'secret', scopes: ['workflows:read'] }),
        })
      ).json()) as { data: { id: string; secret: string } };
      expect((await fetch(`${a.url}/v1/workflows`, { headers: auth(key.data.secret) })).status).toBe(200);

      const started = Date.now();
      const before = cluster.instances.map((instance) => logLines(instance, 'database unavailable'));
      await postgres.stop();
      await sleep(FAULT_MS / 4);
      const usedAt = Date.now();
      expect((await fetch(`${a.url}/v1/workflows`, { headers: auth(key.data.secret) })).status).toBe(503);
      // The OAuth endpoints answer in their own form.
      const token = await fetch(`${a.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=cli_000000000000000000000000&client_secret=not-a-secret',
      });
      expect(token.status).toBe(503);
      expect(token.headers.get('retry-after')).toBe('2');
      expect(((await token.json()) as { error: string }).error).toBe('temporarily_unavailable');
      await sleep(FAULT_MS / 4);
      for (const instance of cluster.instances) {
        const seen = await health(instance);
        expect(seen.status).toBe(503);
        expect(seen.body).toMatchObject({
          status: 'unavailable',
          shutting_down: false,
          checks: { database: { status: 'error' }, redis: { status: 'ok' } },
        });
      }
      // The SDK retries a 503 after the Retry-After the server gave (the sleep is recorded, not slept).
      const sleeps: number[] = [];
      const sdk = createAetherFlowClient({
        baseUrl: cluster.instances[0]!.url,
        apiKey: cluster.key,
        sleep: (ms) => {
          sleeps.push(ms);
          return Promise.resolve();
        },
      });
      const { error, response } = await sdk.GET('/v1/workflows');
      expect(response.status).toBe(503);
      expect(error).toMatchObject({
        success: false,
        error: { code: 'service_unavailable', type: 'api_error', status: 503 },
      });
      expect(sleeps).toEqual([2_000, 2_000]);
      await sleep(FAULT_MS / 2);
      await postgres.start();
      const restoredAt = Date.now();
      const back = await recovery(restoredAt);
      const during = load.since(started).filter((outcome) => outcome.startedAt < restoredAt);
      console.log(
        `PostgreSQL stopped ${restoredAt - started} ms: ${summary(during)}; every instance writes again ${Math.max(...back)} ms after PostgreSQL is back`,
      );
      expect(unexpected(during), JSON.stringify(tally(during))).toEqual([]);
      expect(during.filter((outcome) => outcome.status === 503).length, 'the fault was not seen').toBeGreaterThan(0);
      expect(during.filter((outcome) => outcome.ms > BOUND_MS)).toEqual([]);
      expect(Math.max(...back)).toBeLessThan(10_000);
      // Once per instance, not once per request.
      cluster.instances.forEach((instance, i) =>
        expect(logLines(instance, 'database unavailable') - before[i]!).toBeGreaterThanOrEqual(1),
      );
      cluster.instances.forEach((instance, i) =>
        expect(logLines(instance, 'database unavailable') - before[i]!).toBeLessThanOrEqual(3),
      );
      // The run resumed where it was and finished; the use of the key during the outage was written once PostgreSQL was back.
      await expect
        .poll(
          async () =>
            (
              (await (await fetch(`${a.url}/v1/runs/${runId}`, { headers: auth(cluster.key) })).json()) as {
                data: { status: string };
              }
            ).data.status,
          { timeout: 15_000 },
        )
        .toBe('succeeded');
      const client = new pg.Client({ connectionString: cluster.databaseUrl });
      await client.connect();
      try {
        const lastUsed = async () =>
          (
            await client.query<{ last_used_at: string | null }>('select last_used_at from api_keys where id = $1', [
              key.data.id,
            ])
          ).rows[0]?.last_used_at ?? null;
        await expect
          .poll(async () => Date.parse((await lastUsed()) ?? '0'), { timeout: 15_000 })
          .toBeGreaterThanOrEqual(usedAt - 1_000);
      } finally {
        await client.end();
      }
    },
  );

  test(
    'Redis stopped: every answer a 2xx (per-instance limits, caches off), /health degraded, shared counters again when it is back',
    { timeout: 60_000 },
    async () => {
      const started = Date.now();
      await redis.stop();
      await sleep(FAULT_MS / 2);
      for (const instance of cluster.instances) {
        const seen = await health(instance);
        expect(seen.status).toBe(200);
        expect(seen.body).toMatchObject({
          status: 'degraded',
          checks: { database: { status: 'ok' }, redis: { status: 'error' } },
        });
        expect(instance.output()).toContain('rate limits: Redis unavailable');
      }
      await sleep(FAULT_MS / 2);
      await redis.start();
      const restoredAt = Date.now();
      const back = await recovery(restoredAt);
      const during = load.since(started).filter((outcome) => outcome.startedAt < restoredAt);
      console.log(
        `Redis stopped ${restoredAt - started} ms: ${summary(during)}; back ${Math.max(...back)} ms after Redis is`,
      );
      expect(
        during.filter((outcome) => outcome.status === null || outcome.status >= 300),
        JSON.stringify(tally(during)),
      ).toEqual([]);
      expect(during.filter((outcome) => outcome.ms > BOUND_MS)).toEqual([]);
      // Back on Redis by itself: /health ok, and the instances count in Redis again.
      await expect
        .poll(async () => (await Promise.all(cluster.instances.map(health))).map((seen) => seen.body.status), {
          timeout: 10_000,
        })
        .toEqual(['ok', 'ok']);
      for (const instance of cluster.instances)
        expect(instance.output()).toContain('rate limits: shared counters in Redis again');
    },
  );

  test(
    'PostgreSQL frozen (SIGSTOP): answers within the bound, never held for the freeze; back within seconds of SIGCONT',
    { timeout: 60_000 },
    async () => {
      const started = Date.now();
      postgres.freeze();
      await sleep(FAULT_MS);
      postgres.thaw();
      const restoredAt = Date.now();
      const back = await recovery(restoredAt);
      const during = load.since(started).filter((outcome) => outcome.startedAt < restoredAt);
      console.log(
        `PostgreSQL frozen ${restoredAt - started} ms: ${summary(during)}; back ${Math.max(...back)} ms after SIGCONT`,
      );
      expect(unexpected(during), JSON.stringify(tally(during))).toEqual([]);
      expect(during.filter((outcome) => outcome.status === 503).length, 'the fault was not seen').toBeGreaterThan(0);
      expect(during.filter((outcome) => outcome.ms > BOUND_MS)).toEqual([]);
      expect(Math.max(...back)).toBeLessThan(10_000);
    },
  );

  test(
    'Redis frozen (SIGSTOP): every answer a 2xx within the bound; back on Redis after SIGCONT',
    { timeout: 60_000 },
    async () => {
      const started = Date.now();
      redis.freeze();
      await sleep(FAULT_MS / 2);
      for (const instance of cluster.instances)
        expect((await health(instance)).body).toMatchObject({
          status: 'degraded',
          checks: { redis: { status: 'error' } },
        });
      await sleep(FAULT_MS / 2);
      redis.thaw();
      const restoredAt = Date.now();
      await recovery(restoredAt);
      const during = load.since(started).filter((outcome) => outcome.startedAt < restoredAt);
      console.log(`Redis frozen ${restoredAt - started} ms: ${summary(during)}`);
      expect(
        during.filter((outcome) => outcome.status === null || outcome.status >= 300),
        JSON.stringify(tally(during)),
      ).toEqual([]);
      expect(during.filter((outcome) => outcome.ms > BOUND_MS)).toEqual([]);
      await expect
        .poll(async () => (await Promise.all(cluster.instances.map(health))).map((seen) => seen.body.status), {
          timeout: 10_000,
        })
        .toEqual(['ok', 'ok']);
    },
  );

  test('no instance exited, and every acknowledged write is in the database', { timeout: 30_000 }, async () => {
    for (const instance of cluster.instances) expect(instance.child.exitCode).toBeNull();
    await load.stop();
    const ids = load.acknowledged;
    expect(ids.length).toBeGreaterThan(0);
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const found = await client.query<{ id: string }>('select id from workflows where id = any($1)', [ids]);
      expect(ids.length - found.rows.length).toBe(0);
    } finally {
      await client.end();
    }
    console.log(`faults: ${load.outcomes.length} requests in all, ${ids.length} writes acknowledged, all found`);
  });

  test(
    'SIGTERM with PostgreSQL stopped, then with it frozen: each instance exits within the deadline, naming what failed',
    { timeout: 60_000 },
    async () => {
      const [first, second] = cluster.instances as [Instance, Instance];
      const stopUnder = async (instance: Instance) => {
        const signalledAt = Date.now();
        const code = await instance.stop();
        return { code, ms: Date.now() - signalledAt };
      };
      await postgres.stop();
      await sleep(500);
      const whileStopped = await stopUnder(first);
      await postgres.start();
      await sleep(1_000);
      postgres.freeze();
      await sleep(500);
      const whileFrozen = await stopUnder(second);
      postgres.thaw();
      console.log(
        `SIGTERM with PostgreSQL stopped: exit ${whileStopped.code} after ${whileStopped.ms} ms; frozen: exit ${whileFrozen.code} after ${whileFrozen.ms} ms (deadline ${SHUTDOWN_TIMEOUT_MS} ms)`,
      );
      for (const [instance, outcome] of [
        [first, whileStopped],
        [second, whileFrozen],
      ] as const) {
        expect(outcome.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
        // The runner could not hand its leases back: not a clean close, said so, but no hang.
        expect(outcome.code).toBe(1);
        expect(instance.output()).toContain('"msg":"stopped; some resources did not close cleanly"');
        expect(instance.output()).not.toContain('shutdown deadline passed');
      }
    },
  );
});
