// The Redis store keeps the store contract (store-contract.ts: the same counters as the
// in-memory store for the same calls, check-and-count atomic across two connections, as
// it is across instances), and so does the failover store in front of it while Redis
// answers. A *.scaleout.test.ts file: vitest.config.ts includes it when
// TEST_DATABASE_URL and TEST_REDIS_URL are set (.ci/run's second pass).
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../src/dependencies/redis.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { FailoverRateLimitStore } from '../../src/rate-limit/failover-store.ts';
import { InMemoryRateLimitStore } from '../../src/rate-limit/index.ts';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-store.ts';
import { freshRedisPrefix, redisClient, testRedisUrl } from '../support/services.ts';
import { describeStoreContract, spec, type StoreUnderTest } from './store-contract.ts';

const clients = [redisClient(), redisClient()] as const;
afterAll(async () => {
  await Promise.all(clients.map((client) => client.quit()));
});

/** How many counters live under `prefix` in Redis (a hash whose every field is gone is no key). */
async function keysUnder(prefix: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await clients[0].scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    count += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return count;
}

function redisStores(): { prefix: string; stores: [RedisRateLimitStore, RedisRateLimitStore] } {
  const prefix = freshRedisPrefix();
  return { prefix, stores: [new RedisRateLimitStore(clients[0], prefix), new RedisRateLimitStore(clients[1], prefix)] };
}

describeStoreContract('RedisRateLimitStore', {
  create(): StoreUnderTest {
    const { prefix, stores } = redisStores();
    return { handles: stores, counterCount: () => keysUnder(prefix) };
  },
});

describeStoreContract('FailoverRateLimitStore over Redis', {
  async create(): Promise<StoreUnderTest> {
    const prefix = freshRedisPrefix();
    const logger = createLogger({ level: 'silent' });
    // Two instances: each its own connection (and Dependency) and its own memory.
    const connections = await Promise.all([0, 1].map(() => connectRedis(testRedisUrl!, { timeoutMs: 2_000, logger })));
    const stores = connections.map(
      (connection) =>
        new FailoverRateLimitStore(
          new RedisRateLimitStore(connection.redis, prefix),
          new InMemoryRateLimitStore(),
          connection.dependency,
          logger,
        ),
    );
    return {
      handles: [stores[0]!, stores[1]!],
      counterCount: () => keysUnder(prefix),
      close: async () => void (await Promise.all(connections.map((connection) => connection.close()))),
    };
  },
});

describe('RedisRateLimitStore', () => {
  it('expires idle counters in Redis itself', async () => {
    const { prefix, stores } = redisStores();
    await stores[0].consume([spec('short', 5, 1000, 1000)], Date.now());
    expect(await clients[0].pttl(`${prefix}short`)).toBeGreaterThan(0);
    expect(await clients[0].pttl(`${prefix}short`)).toBeLessThanOrEqual(2000);
  });
});
