// The Redis store behaves exactly as the in-memory one (same counters for the same
// calls), and its check-and-count is atomic across separate connections, as it is
// across instances. A *.scaleout.test.ts file: vitest.config.ts includes it when
// TEST_DATABASE_URL and TEST_REDIS_URL are set (.ci/run's second pass).
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryRateLimitStore, type CounterSpec, type RateLimitStore } from '../../src/rate-limit/index.ts';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-store.ts';
import { freshRedisPrefix, redisClient } from '../support/services.ts';
import { T0 } from './support.ts';

const spec = (key: string, limit: number, windowMs = 60_000, bucketMs = 1000): CounterSpec => ({ key, limit, windowMs, bucketMs });

describe('RedisRateLimitStore', () => {
  const clients = [redisClient(), redisClient()];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });
  const newStores = () => {
    const prefix = freshRedisPrefix();
    return clients.map((client) => new RedisRateLimitStore(client, prefix));
  };

  it('checks every counter, then counts on all or none', async () => {
    const [store] = newStores() as [RedisRateLimitStore];
    const tight = spec('tight', 1);
    const loose = spec('loose', 10);
    expect((await store.consume([tight, loose], T0)).admitted).toBe(true);
    const refused = await store.consume([loose, tight], T0);
    expect(refused.admitted).toBe(false);
    expect(refused.counters.map((c) => [c.key, c.buckets])).toEqual([
      ['loose', [{ startMs: T0, count: 1 }]],
      ['tight', [{ startMs: T0, count: 1 }]],
    ]);
  });

  it('gives the same answers as the in-memory store for the same sequence of calls', async () => {
    const [redis] = newStores() as [RedisRateLimitStore];
    const memory = new InMemoryRateLimitStore();
    const specs = [spec('minute', 7), spec('hour', 20, 3_600_000, 60_000)];
    let now = T0;
    const trace = async (store: RateLimitStore, at: number, op: number) =>
      op === 2 ? store.peek(specs, at) : op === 1 ? (await store.release(specs, at - 500, at), store.peek(specs, at)) : store.consume(specs, at);
    for (let i = 0; i < 120; i++) {
      now += [250, 1000, 4000, 20_000][i % 4]!;
      const op = i % 11 === 5 ? 1 : i % 7 === 3 ? 2 : 0;
      expect(await trace(redis, now, op), `call ${i}`).toEqual(await trace(memory, now, op));
    }
  });

  it('admits exactly the limit when two connections race', async () => {
    const stores = newStores();
    const limit = spec('race', 50);
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => stores[i % 2]!.consume([limit], T0 + (i % 10))));
    expect(results.filter((r) => r.admitted)).toHaveLength(50);
  });

  it('expires idle counters in Redis itself', async () => {
    const [store] = newStores() as [RedisRateLimitStore];
    const prefix = (store as unknown as { prefix: string }).prefix;
    await store.consume([spec('short', 5, 1000, 1000)], Date.now());
    expect(await clients[0]!.pttl(`${prefix}short`)).toBeGreaterThan(0);
    expect(await clients[0]!.pttl(`${prefix}short`)).toBeLessThanOrEqual(2000);
  });
});
