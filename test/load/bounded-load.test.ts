// A bounded load run against a real server process (`node --import tsx src/main.ts`
// on SQLite, the default rate-limit policy, response validation on): autocannon on
// loopback for a fixed time with 50 keys in three accounts on the free, pro and
// enterprise plans, reading, writing, running and ingesting. Every answer is a 2xx
// or a 429 (the plans' limits are far below what the run asks), no request errors
// or times out, the server's resident memory stays under RSS_BOUND_MB, and its
// open file descriptors come back to where they were (no leak).
//
// `npm test` runs LOAD_SECONDS=5; `npm run test:load` runs 20 s.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bootstrap } from '../../src/bootstrap.ts';
import { ownerAuthority, type UserPrincipal } from '../../src/auth/principal.ts';
import { composeServer } from '../../src/compose.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { spawnInstance, type Instance } from '../support/instances.ts';

const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 5);
/** The stated bound on the server's resident memory during the run. */
const RSS_BOUND_MB = 400;
const KEYS_PER_PLAN = { free: 10, pro: 20, enterprise: 20 } as const;

let dataDir: string;
let instance: Instance;
const keys: Array<{ secret: string; plan: string; workflowId?: string }> = [];

/** Accounts and keys created through the real services on the data directory, as an admin would, before the server starts. */
async function prepare(env: Record<string, string>): Promise<void> {
  const config = loadConfig(env);
  const server = await composeServer(config, { logger: createLogger({ level: 'silent' }) });
  try {
    await bootstrap(config, server.services.accounts, server.services.apiKeys, server.services.transaction);
    for (const [plan, count] of Object.entries(KEYS_PER_PLAN) as Array<[keyof typeof KEYS_PER_PLAN, number]>) {
      const { accountId, projectId } = await server.services.accounts.createAccount(`Load ${plan}`, plan);
      const owner: UserPrincipal = ownerAuthority({
        userId: 'usr_000000000000000000000000',
        accountId,
        projectId,
        environment: 'test',
        plan,
        label: 'load',
      });
      const { transaction, workflows } = server.services;
      const workflow = await transaction((tx) =>
        workflows.create(
          owner as never,
          {
            name: `Load ${plan}`,
            trigger: { type: 'manual' },
            steps: [{ id: 'a', type: 'log', message: 'load' }],
          } as never,
          tx,
        ),
      );
      for (let i = 0; i < count; i++) {
        const key = await transaction((tx) =>
          server.services.apiKeys.create(
            owner,
            {
              name: `Load ${plan} ${i}`,
              type: 'secret',
              environment: 'test',
              scopes: ['read', 'write', 'workflows:execute'],
            },
            tx,
          ),
        );
        keys.push({ secret: key.secret, plan, workflowId: (workflow as { id: string }).id });
      }
    }
  } finally {
    await server.close();
  }
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'aetherflow-load-'));
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    AETHERFLOW_OWNER_PASSWORD: 'correct horse battery staple',
    VALIDATE_RESPONSES: 'true',
    LOG_LEVEL: 'warn',
  };
  await prepare(env);
  // The listening line is an info line: let this one through, quiet after.
  instance = await spawnInstance({ ...env, LOG_LEVEL: 'info' });
}, 120_000);
afterAll(async () => {
  await instance?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test(
  `${LOAD_SECONDS} s of load with ${Object.values(KEYS_PER_PLAN).reduce((a: number, b) => a + b, 0)} keys on three plans: only 2xx and 429, memory bounded, no descriptor leak`,
  { timeout: (LOAD_SECONDS + 60) * 1000 },
  async () => {
    const pid = instance.child.pid!;
    // Warm up every route once, then take the baseline.
    for (const key of keys.slice(0, 3))
      await (
        await fetch(`${instance.url}/v1/workflows`, { headers: { Authorization: `Bearer ${key.secret}` } })
      ).text();
    const fdsBefore = openFds(pid);
    const rssBefore = rssMb(pid);

    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 200);
    let pick = 0;
    const next = () => keys[pick++ % keys.length]!;
    const json = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
    const routes: Array<
      (key: (typeof keys)[number]) => {
        method: 'GET' | 'POST';
        path: string;
        headers: Record<string, string>;
        body?: string;
      }
    > = [
      (k) => ({ method: 'GET', path: '/v1/workflows?limit=20', headers: json(k.secret) }),
      (k) => ({ method: 'GET', path: '/v1/runs', headers: json(k.secret) }),
      (k) => ({ method: 'GET', path: '/v1/usage', headers: json(k.secret) }),
      (k) => ({ method: 'GET', path: '/v1/auth/verify', headers: json(k.secret) }),
      (k) => ({
        method: 'POST',
        path: '/v1/workflows',
        headers: json(k.secret),
        body: JSON.stringify({
          name: 'Load',
          trigger: { type: 'manual' },
          steps: [{ id: 'a', type: 'log', message: 'x' }],
        }),
      }),
      (k) => ({
        method: 'POST',
        path: `/v1/workflows/${k.workflowId}/run`,
        headers: json(k.secret),
        body: JSON.stringify({ input: { n: 1 } }),
      }),
      (k) => ({
        method: 'POST',
        path: '/v1/events',
        headers: json(k.secret),
        body: JSON.stringify({ type: 'order.created', data: { id: 'o' } }),
      }),
      (k) => ({ method: 'GET', path: '/v1/connections', headers: { 'X-API-Key': k.secret } }),
    ];
    let route = 0;
    const result = await autocannon({
      url: instance.url,
      connections: 50,
      duration: LOAD_SECONDS,
      requests: [{ setupRequest: (request) => ({ ...request, ...routes[route++ % routes.length]!(next()) }) }],
    });
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMb(pid));

    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats as unknown as Record<string, { count: number }>).map(
        ([status, { count }]) => [status, count],
      ),
    );
    // The connections autocannon opened are closed; the server's descriptors come back.
    await expect.poll(() => openFds(pid), { timeout: 10_000, interval: 200 }).toBeLessThanOrEqual(fdsBefore + 2);
    const fdsAfter = openFds(pid);
    console.log(
      `load: ${LOAD_SECONDS} s, ${keys.length} keys, 50 connections: ${result.requests.total} requests (${Math.round(result.requests.average)}/s), statuses ${JSON.stringify(statuses)}, errors ${result.errors}, timeouts ${result.timeouts}; ` +
        `server RSS ${rssBefore.toFixed(0)} MB before, peak ${peakRss.toFixed(0)} MB (bound ${RSS_BOUND_MB} MB); open fds ${fdsBefore} before, ${fdsAfter} after`,
    );
    expect(Object.keys(statuses).filter((status) => !/^2\d\d$/.test(status) && status !== '429')).toEqual([]);
    expect(statuses['429'] ?? 0, 'the plans are exceeded: some answers must be 429').toBeGreaterThan(0);
    expect(
      Object.entries(statuses)
        .filter(([s]) => s.startsWith('2'))
        .reduce((n, [, c]) => n + c, 0),
    ).toBeGreaterThan(0);
    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    expect(peakRss).toBeLessThan(RSS_BOUND_MB);
    expect(fdsAfter).toBeLessThanOrEqual(fdsBefore + 2);
    // And it still answers.
    expect((await fetch(`${instance.url}/health`)).status).toBe(200);
  },
);
