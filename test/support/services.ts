// The external services of the scale-out configuration. Tests that need them run
// when TEST_DATABASE_URL / TEST_REDIS_URL point at a PostgreSQL and a Redis (as
// .ci/run does for its second pass, see .ci/services); without them, `npm test`
// runs everything on the embedded SQLite default and in-memory counters.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export const testDatabaseUrl = process.env.TEST_DATABASE_URL || null;
export const testRedisUrl = process.env.TEST_REDIS_URL || null;

/** A fresh, empty PostgreSQL database for one test server (on `server`, TEST_DATABASE_URL's by default); dropped by the returned function. */
export async function freshPostgresDatabase(
  server: string | null = testDatabaseUrl,
): Promise<{ url: string; drop(): Promise<void> }> {
  if (!server) throw new Error('TEST_DATABASE_URL is not set');
  const name = `aetherflow_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A key prefix no other test server uses, so servers sharing one Redis do not see each other's counters. */
export function freshRedisPrefix(): string {
  return `aetherflow-test:${randomBytes(6).toString('hex')}:`;
}

export function redisClient(): Redis {
  if (!testRedisUrl) throw new Error('TEST_REDIS_URL is not set');
  return new Redis(testRedisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
}
