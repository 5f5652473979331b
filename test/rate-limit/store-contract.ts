// What every rate-limit store promises (src/rate-limit/store.ts), as one suite that
// each store runs: the in-memory store always, the Redis store and the failover store
// over Redis in the scale-out pass (*.scaleout.test.ts), the failover store over
// memory always. A store that breaks the contract fails the same assertions whatever
// it keeps its counters in.
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryRateLimitStore, type CounterSpec, type RateLimitStore } from '../../src/rate-limit/index.ts';
import { T0 } from './support.ts';

/** One store under test, reached through two handles on the same counters. */
export interface StoreUnderTest {
  /** Two handles on the same counters: two connections for a networked store, the same object otherwise. */
  handles: readonly [RateLimitStore, RateLimitStore];
  /** How many counters the store still keeps (a counter whose every bucket is gone is not kept). */
  counterCount: () => number | Promise<number>;
  close?: () => void | Promise<void>;
}

export interface StoreContractOptions {
  /** A fresh, empty store (its own counters, shared with nothing else). */
  create: () => StoreUnderTest | Promise<StoreUnderTest>;
  /** The in-memory store is the reference the others are compared with; it is not compared with itself. */
  reference?: boolean;
}

export const spec = (key: string, limit: number, windowMs = 60_000, bucketMs = 1000): CounterSpec => ({
  key,
  limit,
  windowMs,
  bucketMs,
});

export function describeStoreContract(name: string, options: StoreContractOptions): void {
  describe(`${name}: the store contract`, () => {
    const opened: StoreUnderTest[] = [];
    const fresh = async (): Promise<StoreUnderTest> => {
      const store = await options.create();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => Promise.resolve(store.close?.())));
    });

    it('checks every counter, then counts on all or none', async () => {
      const [store] = (await fresh()).handles;
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

    it('lists the live buckets oldest first, even when they were counted out of time order', async () => {
      const [store] = (await fresh()).handles;
      const counter = spec('c', 10);
      await store.consume([counter], T0 + 5000);
      // A clock stepped back (NTP): the earlier bucket is added to the counter after the later one.
      const answer = await store.consume([counter], T0 + 2000);
      expect(answer.counters[0]?.buckets).toEqual([
        { startMs: T0 + 2000, count: 1 },
        { startMs: T0 + 5000, count: 1 },
      ]);
      expect((await store.peek([counter], T0 + 6000)).counters[0]?.buckets.map((b) => b.startMs)).toEqual([
        T0 + 2000,
        T0 + 5000,
      ]);
    });

    it('keeps at most one bucket per bucket length of the window, plus one', async () => {
      const [store] = (await fresh()).handles;
      const busy = spec('busy', 1_000_000);
      for (let t = T0; t < T0 + 300_000; t += 250) await store.consume([busy], t);
      const { counters } = await store.peek([busy], T0 + 300_000);
      expect(counters[0]?.buckets.length).toBeLessThanOrEqual(61);
      expect(counters[0]?.buckets.reduce((sum, b) => sum + b.count, 0)).toBe(61 * 4 - 4);
    });

    it('releases one count from the bucket it was taken from, while that bucket lives', async () => {
      const underTest = await fresh();
      const [store] = underTest.handles;
      const counter = spec('k', 5);
      await store.consume([counter], T0 + 100);
      await store.consume([counter], T0 + 5100);
      await store.release([counter], T0 + 100, T0 + 6000);
      expect((await store.peek([counter], T0 + 6000)).counters[0]?.buckets).toEqual([{ startMs: T0 + 5000, count: 1 }]);
      await store.release([counter], T0 + 5100, T0 + 67_000); // expired by then: nothing to take back
      await store.release([counter], T0 + 100, T0 + 6000); // already empty: stays at zero
      expect(await underTest.counterCount()).toBe(1);
      await store.release([counter], T0 + 5100, T0 + 6000);
      expect(await underTest.counterCount()).toBe(0);
    });

    it('admits exactly the limit when two handles race', async () => {
      const { handles } = await fresh();
      const limit = spec('race', 50);
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) => handles[i % 2]!.consume([limit], T0 + (i % 10))),
      );
      expect(results.filter((r) => r.admitted)).toHaveLength(50);
    });

    if (!options.reference) {
      it('gives the same answers as the in-memory store for the same sequence of calls', async () => {
        const [store] = (await fresh()).handles;
        const memory = new InMemoryRateLimitStore();
        const specs = [spec('minute', 7), spec('hour', 20, 3_600_000, 60_000)];
        let now = T0;
        const trace = async (target: RateLimitStore, at: number, op: number) =>
          op === 2
            ? target.peek(specs, at)
            : op === 1
              ? (await target.release(specs, at - 500, at), target.peek(specs, at))
              : target.consume(specs, at);
        for (let i = 0; i < 120; i++) {
          now += [250, 1000, 4000, 20_000][i % 4]!;
          const op = i % 11 === 5 ? 1 : i % 7 === 3 ? 2 : 0;
          expect(await trace(store, now, op), `call ${i}`).toEqual(await trace(memory, now, op));
        }
      });
    }
  });
}
