// Two real server processes sharing one PostgreSQL and one Redis agree: limits
// hold across them, a revocation on one is seen by the other at once, an
// Idempotency-Key raced on both runs once, and a killed instance loses no
// acknowledged write.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { authorizationCode, exchangeCode, login, registerApp, type IdentityServer } from '../identity/support.ts';
import { startCluster, type Cluster } from '../support/instances.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const auth = (key: string) => ({ Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
const workflow = (name: string) =>
  JSON.stringify({ name, trigger: { type: 'manual' }, steps: [{ id: 'a', type: 'log', message: 'hi' }] });

async function query<Row extends Record<string, unknown>>(
  cluster: Cluster,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const client = new pg.Client({ connectionString: cluster.databaseUrl });
  await client.connect();
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('a burst split across two instances', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  }, 90_000);
  afterAll(() => cluster?.close());

  test('admits exactly the limit', { timeout: 60_000 }, async () => {
    // The bootstrap account is on the free plan: 60 requests a minute for the whole account.
    const [a, b] = cluster.instances;
    const statuses = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        fetch(`${(i % 2 ? a! : b!).url}/v1/usage`, { headers: auth(cluster.key) }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.filter((s) => s === 429)).toHaveLength(90);
  });
});

describe('two instances', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
    // What `npm run admin -- plan` does: these tests are not about the plan limit.
    await query(cluster, "UPDATE accounts SET plan = 'enterprise'");
  }, 90_000);
  afterAll(() => cluster?.close());

  test('/health reports the database and Redis on both', async () => {
    for (const instance of cluster.instances) {
      const health = (await (await fetch(`${instance.url}/health`)).json()) as {
        status: string;
        checks: { database: { status: string }; redis: { status: string } | null };
      };
      expect(health).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' }, redis: { status: 'ok' } } });
    }
  });

  test('a key revoked through A is refused by B on the next request', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const created = (await (
      await fetch(`${a.url}/v1/auth/api-keys`, {
        method: 'POST',
        headers: auth(cluster.key),
        body: JSON.stringify({ name: 'short-lived', type: 'secret', scopes: ['workflows:read'] }),
      })
    ).json()) as { data: { id: string; secret: string } };
    expect((await fetch(`${b.url}/v1/workflows`, { headers: auth(created.data.secret) })).status).toBe(200);
    expect(
      (await fetch(`${a.url}/v1/auth/api-keys/${created.data.id}`, { method: 'DELETE', headers: auth(cluster.key) }))
        .status,
    ).toBe(200);
    const refused = await fetch(`${b.url}/v1/workflows`, { headers: auth(created.data.secret) });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('revoked_api_key');
  });

  // Authentication caches keys, sessions and plans (src/cache/): each of these warms B first.
  const warm = async (url: string, credential: string) => {
    for (let i = 0; i < 5; i++)
      expect((await fetch(`${url}/v1/workflows`, { headers: auth(credential) })).status).toBe(200);
  };

  test('a workflow replaced, then deleted, through A is answered as such by B on the next request', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const created = (await (
      await fetch(`${a.url}/v1/workflows`, { method: 'POST', headers: auth(cluster.key), body: workflow('first') })
    ).json()) as { data: { id: string } };
    const read = async (url: string) => fetch(`${url}/v1/workflows/${created.data.id}`, { headers: auth(cluster.key) });
    // B keeps version 1 as what GET answers (src/domain/workflows.ts).
    for (let i = 0; i < 3; i++)
      expect(((await (await read(b.url)).json()) as { data: { version: number } }).data.version).toBe(1);
    expect(
      (
        await fetch(`${a.url}/v1/workflows/${created.data.id}`, {
          method: 'PUT',
          headers: auth(cluster.key),
          body: workflow('second'),
        })
      ).status,
    ).toBe(200);
    expect(await (await read(b.url)).json()).toMatchObject({ data: { name: 'second', version: 2 } });
    expect(
      (await fetch(`${a.url}/v1/workflows/${created.data.id}`, { method: 'DELETE', headers: auth(cluster.key) }))
        .status,
    ).toBe(200);
    expect((await read(b.url)).status).toBe(404);
  });

  test('a key rotated on A without grace is refused by B on the next request', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const created = (await (
      await fetch(`${a.url}/v1/auth/api-keys`, {
        method: 'POST',
        headers: auth(cluster.key),
        body: JSON.stringify({ name: 'to rotate', type: 'secret', scopes: ['workflows:read'] }),
      })
    ).json()) as { data: { id: string; secret: string } };
    await warm(b.url, created.data.secret);
    const rotated = await fetch(`${a.url}/v1/auth/api-keys/${created.data.id}/rotate`, {
      method: 'POST',
      headers: auth(cluster.key),
      body: JSON.stringify({ grace_period_seconds: 0 }),
    });
    expect(rotated.status).toBe(200);
    const refused = await fetch(`${b.url}/v1/workflows`, { headers: auth(created.data.secret) });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('expired_api_key');
  });

  test('a leaked key reported to A is refused by B on the next request', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const created = (await (
      await fetch(`${a.url}/v1/auth/api-keys`, {
        method: 'POST',
        headers: auth(cluster.key),
        body: JSON.stringify({ name: 'leaked', type: 'secret', scopes: ['workflows:read'] }),
      })
    ).json()) as { data: { secret: string } };
    await warm(b.url, created.data.secret);
    const reported = await fetch(`${a.url}/v1/credentials/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ credential: created.data.secret }),
    });
    expect(reported.status).toBeLessThan(300);
    const refused = await fetch(`${b.url}/v1/workflows`, { headers: auth(created.data.secret) });
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('revoked_api_key');
  });

  test('a plan changed by npm run admin reaches both instances on the next request', { timeout: 60_000 }, async () => {
    const policy = async (url: string) =>
      (await fetch(`${url}/v1/workflows`, { headers: auth(cluster.key) })).headers.get('ratelimit-policy') ?? '';
    for (const instance of cluster.instances) await warm(instance.url, cluster.key);
    const admin = (plan: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', 'set-plan', '--plan', plan], {
          cwd: ROOT,
          env: cluster.env,
          stdio: 'ignore',
        });
        child.once('exit', resolve);
      });
    expect(await admin('pro')).toBe(0);
    try {
      for (const instance of cluster.instances) expect(await policy(instance.url)).toContain('"plan-minute";q=300');
    } finally {
      expect(await admin('enterprise')).toBe(0);
    }
    for (const instance of cluster.instances) expect(await policy(instance.url)).toContain('"plan-minute";q=1000');
  });

  test('concurrent rotations of one key on both instances leave exactly one current secret', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const created = (await (
      await fetch(`${a.url}/v1/auth/api-keys`, {
        method: 'POST',
        headers: auth(cluster.key),
        body: JSON.stringify({ name: 'rotated', type: 'secret', scopes: ['workflows:read'] }),
      })
    ).json()) as { data: { id: string } };
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/v1/auth/api-keys/${created.data.id}/rotate`, {
          method: 'POST',
          headers: auth(cluster.key),
          body: '{}',
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 409),
      statuses.join(','),
    ).toBe(true);
    const current = await query(cluster, 'SELECT hash FROM api_key_secrets WHERE key_id = $1 AND expires_at IS NULL', [
      created.data.id,
    ]);
    expect(current).toHaveLength(1);
    // The last successful rotation's secret is the one that works without X-Key-Expires-At.
    const secrets = await Promise.all(
      responses
        .filter((r) => r.status === 200)
        .map(async (r) => ((await r.json()) as { data: { secret: string } }).data.secret),
    );
    const uses = await Promise.all(
      secrets.map(async (secret) => fetch(`${a.url}/v1/workflows`, { headers: auth(secret) })),
    );
    expect(uses.filter((r) => r.status === 200 && r.headers.get('x-key-expires-at') === null)).toHaveLength(1);
  });

  /** What the identity test helpers need of a server, for instance `i` of the cluster. */
  const on = (i: number) =>
    ({ baseUrl: cluster.instances[i]!.url, secretKey: cluster.key, owner: cluster.owner }) as unknown as IdentityServer;

  test('a session logged out on A is refused by B on the next request', async () => {
    const session = await login(on(0).baseUrl, cluster.owner.email, cluster.owner.password);
    expect((await fetch(`${on(1).baseUrl}/v1/auth/verify`, { headers: auth(session.token) })).status).toBe(200);
    const logout = await fetch(`${on(0).baseUrl}/v1/auth/logout`, {
      method: 'POST',
      headers: auth(session.token),
      body: '{}',
    });
    expect(logout.status).toBe(200);
    const refused = await fetch(`${on(1).baseUrl}/v1/auth/verify`, { headers: auth(session.token) });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('token_revoked');
  });

  test('an authorization code redeemed on A cannot be redeemed on B, even in a race', async () => {
    const app = await registerApp(on(0));
    const first = await authorizationCode(on(0), app);
    expect((await exchangeCode(on(0), app, first.code, first.verifier)).status).toBe(200);
    const replay = await exchangeCode(on(1), app, first.code, first.verifier);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    const second = await authorizationCode(on(1), app);
    const raced = await Promise.all([0, 1, 0, 1].map((i) => exchangeCode(on(i), app, second.code, second.verifier)));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
  });

  test('one Idempotency-Key raced on both instances runs the operation once', async () => {
    const [a, b] = cluster.instances as unknown as [{ url: string }, { url: string }];
    const name = `Raced ${Date.now()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${(i % 2 ? a : b).url}/v1/workflows`, {
          method: 'POST',
          headers: { ...auth(cluster.key), 'Idempotency-Key': `race-${name.replace(/ /g, '-')}` },
          body: workflow(name),
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      statuses.join(','),
    ).toBe(true);
    const ids = new Set(
      await Promise.all(
        responses
          .filter((r) => r.status === 201)
          .map(async (r) => ((await r.json()) as { data: { id: string } }).data.id),
      ),
    );
    expect(ids.size).toBe(1);
    expect(await query(cluster, 'SELECT id FROM workflows WHERE name = $1', [name])).toHaveLength(1);
  });

  test('kill -9 of an instance during a write burst loses no acknowledged write', { timeout: 60_000 }, async () => {
    const victim = await cluster.start();
    const survivor = cluster.instances[0]!;
    const acknowledged: string[] = [];
    let sent = 0;
    const writer = async () => {
      for (;;) {
        sent += 1;
        try {
          const response = await fetch(`${victim.url}/v1/workflows`, {
            method: 'POST',
            headers: auth(cluster.key),
            body: workflow(`Burst ${sent}`),
          });
          if (response.status !== 201) continue;
          acknowledged.push(((await response.json()) as { data: { id: string } }).data.id);
        } catch {
          return; // the connection died with the instance
        }
      }
    };
    const writers = Array.from({ length: 8 }, writer);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await victim.kill();
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(20);
    const stored = new Set(
      (await query<{ id: string }>(cluster, 'SELECT id FROM workflows WHERE id = ANY($1)', [acknowledged])).map(
        (row) => row.id,
      ),
    );
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    // And the survivor serves them.
    expect(
      (await fetch(`${survivor.url}/v1/workflows/${acknowledged.at(-1)}`, { headers: auth(cluster.key) })).status,
    ).toBe(200);
  });
});
