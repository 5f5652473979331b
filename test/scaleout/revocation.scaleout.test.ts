// Revocations last: an OAuth access token revoked through RFC 7009 and a session ended by
// logout stay refused when Redis loses everything (its keys deleted, as a Redis restarted
// empty would have them) and when every instance restarts. Revocations live in the
// database; Redis is only a cache and a broadcast.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { startCluster, type Cluster, type Instance } from '../support/instances.ts';
import { redisClient } from '../support/services.ts';

const json = (credential?: string) => ({
  'Content-Type': 'application/json',
  ...(credential ? { Authorization: `Bearer ${credential}` } : {}),
});

async function status(instance: Instance, token: string): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${instance.url}/v1/auth/verify`, { headers: json(token) });
  const body = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, code: body.error?.code };
}

/** What a Redis restarted empty holds of this cluster: nothing. Only this cluster's keys go (the server is shared). */
async function emptyRedis(cluster: Cluster): Promise<number> {
  const redis = redisClient();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${cluster.env.REDIS_KEY_PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

describe('revocations survive Redis losing everything and every instance restarting', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    await client.query("UPDATE accounts SET plan = 'enterprise'");
    await client.end();
  }, 90_000);
  afterAll(() => cluster?.close());

  test('an RFC 7009 revocation and a logout', { timeout: 90_000 }, async () => {
    const [a, b] = cluster.instances as [Instance, Instance];
    const app = (await (
      await fetch(`${a.url}/v1/oauth/clients`, {
        method: 'POST',
        headers: json(cluster.key),
        body: JSON.stringify({
          name: 'Sync',
          client_type: 'confidential',
          redirect_uris: ['https://sync.example.com/cb'],
          scopes: ['workflows:read'],
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_post',
        }),
      })
    ).json()) as { data: { client_id: string; client_secret: string } };
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    const credentials = { client_id: app.data.client_id, client_secret: app.data.client_secret };
    const issued = (await (
      await fetch(`${a.url}/oauth/token`, form({ grant_type: 'client_credentials', ...credentials }))
    ).json()) as { access_token: string };
    const accessToken = issued.access_token;
    expect(await status(b, accessToken)).toMatchObject({ status: 200 });

    const session = (await (
      await fetch(`${a.url}/v1/auth/login`, { method: 'POST', headers: json(), body: JSON.stringify(cluster.owner) })
    ).json()) as { data: { token: string } };
    const sessionToken = session.data.token;
    expect(await status(b, sessionToken)).toMatchObject({ status: 200 });

    expect(
      (
        await fetch(
          `${a.url}/oauth/revoke`,
          form({ token: accessToken, token_type_hint: 'access_token', ...credentials }),
        )
      ).status,
    ).toBe(200);
    expect(
      (await fetch(`${a.url}/v1/auth/logout`, { method: 'POST', headers: json(sessionToken), body: '{}' })).status,
    ).toBe(200);
    expect(await status(b, accessToken)).toMatchObject({ status: 401, code: 'token_revoked' });
    expect(await status(b, sessionToken)).toMatchObject({ status: 401, code: 'token_revoked' });

    // Its rate-limit counters at least were there to lose.
    expect(await emptyRedis(cluster)).toBeGreaterThan(0);
    for (const instance of [a, b]) {
      expect(await status(instance, accessToken)).toMatchObject({ status: 401, code: 'token_revoked' });
      expect(await status(instance, sessionToken)).toMatchObject({ status: 401, code: 'token_revoked' });
    }

    // Every instance stops; new ones start on the same database and the emptied Redis.
    for (const instance of [a, b]) await instance.stop();
    await emptyRedis(cluster);
    const restarted = [await cluster.start(), await cluster.start()];
    for (const instance of restarted) {
      expect(await status(instance, accessToken)).toMatchObject({ status: 401, code: 'token_revoked' });
      expect(await status(instance, sessionToken)).toMatchObject({ status: 401, code: 'token_revoked' });
    }
  });
});
