// The failover store keeps the store contract whether the shared store answers (its
// counters are then the shared ones) or not (each instance counts in its own memory),
// and moves between the two as the dependency goes down and comes back.
import { describe, expect, it } from 'vitest';
import { FailoverRateLimitStore } from '../../src/rate-limit/failover-store.ts';
import { InMemoryRateLimitStore } from '../../src/rate-limit/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { failoverOverMemory, switchableDependency } from './failover-stores.ts';
import { describeStoreContract, spec } from './store-contract.ts';
import { T0 } from './support.ts';

describeStoreContract('FailoverRateLimitStore, shared store up', { create: () => failoverOverMemory('up') });
describeStoreContract('FailoverRateLimitStore, shared store down', { create: () => failoverOverMemory('down') });

describe('FailoverRateLimitStore', () => {
  it('counts in its own memory while the shared store is down, and in the shared store again once it answers', async () => {
    let up = true;
    const dependency = switchableDependency(() => up);
    const shared = new InMemoryRateLimitStore();
    const local = new InMemoryRateLimitStore();
    const store = new FailoverRateLimitStore(shared, local, dependency, createLogger({ level: 'silent' }));
    const counter = spec('k', 10);
    try {
      await store.consume([counter], T0);
      expect([shared.size, local.size]).toEqual([1, 0]);

      up = false;
      dependency.markDown(new Error('connect ECONNREFUSED'));
      const down = await store.consume([counter], T0 + 1000);
      // What the shared store counted is not seen meanwhile: only this instance's count.
      expect(down.counters[0]?.buckets).toEqual([{ startMs: T0 + 1000, count: 1 }]);
      expect((await shared.peek([counter], T0 + 1000)).counters[0]?.buckets).toEqual([{ startMs: T0, count: 1 }]);

      up = true;
      await expect.poll(() => dependency.available, { interval: 10, timeout: 5_000 }).toBe(true);
      const back = await store.consume([counter], T0 + 2000);
      // Back on the shared counters; the memory count is not carried over.
      expect(back.counters[0]?.buckets).toEqual([
        { startMs: T0, count: 1 },
        { startMs: T0 + 2000, count: 1 },
      ]);
      expect(local.size).toBe(1);
    } finally {
      dependency.close();
    }
  });
});
