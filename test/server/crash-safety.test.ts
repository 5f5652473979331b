// Crash safety with real server processes (`node --import tsx src/main.ts`, as
// `npm start` runs it):
//  - kill -9 during a mixed write burst (workflows, runs, connections, events, API
//    keys) on SQLite, the default: after a restart on the same data directory every
//    write that was acknowledged is there, `PRAGMA integrity_check` says ok, and the
//    acknowledged runs all finish. With TEST_DATABASE_URL the same burst runs on
//    PostgreSQL too.
//  - SIGTERM with many requests in flight: each of them gets its complete answer,
//    new connections are accepted until the listener closes and refused afterwards,
//    never reset, and the process exits 0.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { spawnInstance, type Instance } from '../support/instances.ts';
import { rawRequest } from '../support/raw-http.ts';
import { freshPostgresDatabase, testDatabaseUrl } from '../support/services.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The default policy with every limit a thousand times higher: these tests are about durability, not limits. */
function roomyRateLimits(dir: string): string {
  const file = path.join(dir, 'rate-limits.yaml');
  writeFileSync(
    file,
    readFileSync(path.join(root, 'config', 'rate-limits.yaml'), 'utf8').replace(
      /^(\s*limit:\s*)(\d+)/gm,
      (_m, head: string, n: string) => `${head}${Number(n) * 1000}`,
    ),
  );
  return file;
}

async function startServer(
  extraEnv: Record<string, string> = {},
): Promise<{ env: Record<string, string>; instance: Instance; key: string; dataDir: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-crash-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    AETHERFLOW_OWNER_EMAIL: 'owner@example.com',
    AETHERFLOW_OWNER_PASSWORD: 'correct horse battery staple',
    RATE_LIMIT_CONFIG: roomyRateLimits(dataDir),
    VALIDATE_RESPONSES: 'true',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const instance = await spawnInstance(env);
  cleanups.push(() => instance.kill());
  const key = /Test API key: (sk_test_[0-9A-Za-z]{38})/.exec(instance.output())?.[1];
  if (!key) throw new Error(`no key printed:\n${instance.output()}`);
  return { env, instance, key, dataDir };
}

const headers = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
const quickWorkflow = (name: string) => ({
  name,
  trigger: { type: 'manual' },
  steps: [
    { id: 'a', type: 'set', values: { n: name } },
    { id: 'b', type: 'log', message: 'done {{vars.n}}' },
  ],
});

type Kind = 'workflows' | 'runs' | 'connections' | 'events' | 'api_keys';

/**
 * Ten writers send each kind of write in turn; once every kind has at least `minimumEach`
 * acknowledged writes (or 20 s passed), the server is killed mid-burst. Returns what was
 * acknowledged, by table.
 */
async function writeUntilKilled(
  url: string,
  key: string,
  victim: Instance,
  minimumEach: number,
): Promise<{ acknowledged: Record<Kind, string[]>; sent: number }> {
  const created = (await (
    await fetch(`${url}/v1/workflows`, {
      method: 'POST',
      headers: headers(key),
      body: JSON.stringify(quickWorkflow('Run target')),
    })
  ).json()) as { data: { id: string } };
  const acknowledged: Record<Kind, string[]> = { workflows: [], runs: [], connections: [], events: [], api_keys: [] };
  const writes: Array<[Kind, string, () => unknown]> = [
    ['workflows', '/v1/workflows', () => quickWorkflow(`Burst ${randomBytes(4).toString('hex')}`)],
    ['runs', `/v1/workflows/${created.data.id}/run`, () => ({ input: { n: 1 } })],
    [
      'connections',
      '/v1/connections',
      () => ({
        name: 'Burst',
        provider: 'acme',
        auth_type: 'bearer',
        credentials: { token: randomBytes(12).toString('hex') },
      }),
    ],
    ['events', '/v1/events', () => ({ type: 'order.created', data: { order: randomBytes(4).toString('hex') } })],
    ['api_keys', '/v1/auth/api-keys', () => ({ name: 'Burst', type: 'secret', scopes: ['workflows:read'] })],
  ];
  let sent = 0;
  let dead = false;
  const writer = async (offset: number) => {
    for (let i = offset; !dead; i++) {
      const [kind, target, body] = writes[i % writes.length]!;
      sent += 1;
      try {
        const response = await fetch(`${url}${target}`, {
          method: 'POST',
          headers: headers(key),
          body: JSON.stringify(body()),
        });
        const text = await response.text();
        // Acknowledged: a complete success answer reached the client.
        if (response.status === 201 || response.status === 202)
          acknowledged[kind].push((JSON.parse(text) as { data: { id: string } }).data.id);
      } catch {
        dead = true; // the connection died with the server
      }
    }
  };
  const writers = Array.from({ length: 10 }, (_, i) => writer(i));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && Object.values(acknowledged).some((ids) => ids.length < minimumEach))
    await new Promise((resolve) => setTimeout(resolve, 100));
  await victim.kill();
  await Promise.all(writers);
  acknowledged.workflows.push(created.data.id);
  return { acknowledged, sent };
}

function missingAfterRestart(
  acknowledged: Record<Kind, string[]>,
  present: (table: Kind, ids: string[]) => Promise<Set<string>>,
) {
  return Promise.all(
    (Object.keys(acknowledged) as Kind[]).map(async (table) => {
      const found = await present(table, acknowledged[table]);
      return acknowledged[table].filter((id) => !found.has(id)).map((id) => `${table}/${id}`);
    }),
  ).then((lists) => lists.flat());
}

async function expectRunsFinish(url: string, key: string, runIds: string[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const statuses = await Promise.all(
          runIds.map(
            async (id) =>
              (
                (await (await fetch(`${url}/v1/runs/${id}`, { headers: headers(key) })).json()) as {
                  data: { status: string };
                }
              ).data.status,
          ),
        );
        return statuses.filter((status) => status !== 'succeeded');
      },
      { timeout: 20_000, interval: 250 },
    )
    .toEqual([]);
}

describe('kill -9 during a mixed write burst', () => {
  test(
    'on SQLite: every acknowledged write survives the restart, the file passes its integrity check, acknowledged runs finish',
    { timeout: 120_000 },
    async () => {
      const { env, instance, key, dataDir } = await startServer();
      const { acknowledged, sent } = await writeUntilKilled(instance.url, key, instance, 20);
      const total = Object.values(acknowledged).flat().length;
      console.log(
        `kill -9 on SQLite: ${sent} writes sent, ${total} acknowledged (${Object.entries(acknowledged)
          .map(([k, v]) => `${k} ${v.length}`)
          .join(', ')})`,
      );
      for (const kind of Object.keys(acknowledged) as Kind[])
        expect(acknowledged[kind].length, kind).toBeGreaterThanOrEqual(20);

      // The files as the crash left them (with their write-ahead log), before anything else opens them.
      const file = path.join(dataDir, 'aetherflow.sqlite');
      const sqlite = new SqliteDatabase(file);
      try {
        expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(sqlite.pragma('foreign_key_check')).toEqual([]);
        const present = (table: Kind, ids: string[]) =>
          Promise.resolve(
            new Set(
              (
                sqlite
                  .prepare(`select id from ${table} where id in (${ids.map(() => '?').join(',')})`)
                  .all(...ids) as Array<{ id: string }>
              ).map((row) => row.id),
            ),
          );
        expect(await missingAfterRestart(acknowledged, present)).toEqual([]);
      } finally {
        sqlite.close();
      }

      const restarted = await spawnInstance(env);
      cleanups.push(() => restarted.kill());
      // Served again through the API, and the interrupted runs resume and finish.
      for (const id of acknowledged.workflows.slice(-3))
        expect((await fetch(`${restarted.url}/v1/workflows/${id}`, { headers: headers(key) })).status).toBe(200);
      for (const id of acknowledged.connections.slice(-3))
        expect((await fetch(`${restarted.url}/v1/connections/${id}`, { headers: headers(key) })).status).toBe(200);
      for (const id of acknowledged.api_keys.slice(-3))
        expect((await fetch(`${restarted.url}/v1/auth/api-keys/${id}`, { headers: headers(key) })).status).toBe(200);
      await expectRunsFinish(restarted.url, key, acknowledged.runs);
      expect(await restarted.stop()).toBe(0);
    },
  );

  // Defined on the PostgreSQL pass only (CI runs the suite on both), so nothing is ever skipped.
  if (testDatabaseUrl) {
    test('on PostgreSQL: every acknowledged write survives the restart', { timeout: 120_000 }, async () => {
      const database = await freshPostgresDatabase();
      cleanups.push(() => database.drop());
      const { env, instance, key } = await startServer({ DATABASE_URL: database.url });
      const { acknowledged, sent } = await writeUntilKilled(instance.url, key, instance, 20);
      console.log(
        `kill -9 on PostgreSQL: ${sent} writes sent, ${Object.values(acknowledged).flat().length} acknowledged`,
      );
      for (const kind of Object.keys(acknowledged) as Kind[])
        expect(acknowledged[kind].length, kind).toBeGreaterThanOrEqual(20);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const present = async (table: Kind, ids: string[]) =>
          new Set(
            (await client.query<{ id: string }>(`select id from ${table} where id = any($1)`, [ids])).rows.map(
              (row) => row.id,
            ),
          );
        expect(await missingAfterRestart(acknowledged, present)).toEqual([]);
      } finally {
        await client.end();
      }
      // Served again after a restart. (On PostgreSQL the killed instance's runs stay `running`
      // until their 60 s leases expire and are taken over then: too slow to wait for here.)
      const restarted = await spawnInstance(env);
      cleanups.push(() => restarted.kill());
      for (const id of acknowledged.runs.slice(-3))
        expect((await fetch(`${restarted.url}/v1/runs/${id}`, { headers: headers(key) })).status).toBe(200);
      expect(await restarted.stop()).toBe(0);
    });
  }
});

describe('SIGTERM', () => {
  test(
    'every request sent before the signal gets its complete answer; new connections are accepted, then refused, never reset; exit 0',
    { timeout: 120_000 },
    async () => {
      const { instance, key } = await startServer();
      const port = Number(new URL(instance.url).port);
      // Fifty workflow writes and ten logins, which hash a password with a memory-hard KDF (tens of
      // ms each, four at a time): enough to keep the server busy, well within its 10 s shutdown grace.
      const login = JSON.stringify({ email: 'owner@example.com', password: 'correct horse battery staple' });
      const requests = Array.from({ length: 60 }, (_, i) =>
        i % 6 !== 0
          ? {
              method: 'POST',
              target: '/v1/workflows',
              headers: [
                ['Authorization', `Bearer ${key}`],
                ['Content-Type', 'application/json'],
              ] as Array<[string, string]>,
              body: JSON.stringify(quickWorkflow(`In flight ${i}`)),
            }
          : {
              method: 'POST',
              target: '/v1/auth/login',
              headers: [['Content-Type', 'application/json']] as Array<[string, string]>,
              body: login,
            },
      );
      // Every request is written in full, each on its own connection, before the signal.
      const sent: Array<Promise<number | null>> = [];
      const answers = requests.map((request) =>
        rawRequest(instance.url, request, 60_000, (written) => sent.push(written)).then(
          (answer) => answer,
          (error: Error) => error,
        ),
      );
      const sentAt = await Promise.all(sent);
      expect(sentAt.filter((at) => at === null)).toEqual([]);
      const exited = instance.stop().then((code) => ({ code, at: Date.now() }));
      // New connections are accepted until the listener closes (it waits for a moment without any, at most a
      // second), then refused; never reset.
      const signalledAt = Date.now();
      let refusedAt: number | null = null;
      const outcomes = new Set<string>();
      while (refusedAt === null && Date.now() - signalledAt < 5_000) {
        const outcome = await new Promise<string>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve('accepted');
          });
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        });
        outcomes.add(outcome);
        if (outcome === 'ECONNREFUSED') refusedAt = Date.now();
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }

      const settled = await Promise.all(answers);
      const failures = settled.flatMap((answer, i) =>
        answer instanceof Error
          ? [`#${i}: ${answer.message}`]
          : answer.status !== (i % 6 !== 0 ? 201 : 200)
            ? [`#${i}: ${answer.status} ${answer.text.slice(0, 200)}`]
            : [],
      );
      expect(failures).toEqual([]);
      const exit = await exited;
      expect(exit.code).toBe(0);
      expect(refusedAt, 'a new connection was still accepted 5 s after the signal').not.toBeNull();
      expect([...outcomes].filter((outcome) => outcome !== 'accepted' && outcome !== 'ECONNREFUSED')).toEqual([]);
      expect(instance.output()).toContain('"msg":"stopped"');
      console.log(
        `SIGTERM: ${settled.length} requests sent before the signal, all answered in full; new connections refused ${refusedAt! - signalledAt} ms after it, exit ${exit.at - signalledAt} ms after it`,
      );
    },
  );
});
