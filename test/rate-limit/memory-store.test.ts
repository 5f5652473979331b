import { describe, expect, it } from 'vitest';
import {
  InMemoryRateLimitStore,
  RateLimiter,
  type ConsumeResult,
  type CounterSpec,
  type RateLimitStore,
  type StoreReading,
} from '../../src/rate-limit/index.ts';
import { defaultConfig, send, setup, subject, T0, TestClock } from './support.ts';

const spec = (key: string, limit = 3): CounterSpec => ({ key, limit, windowMs: 60_000, bucketMs: 1000 });

describe('InMemoryRateLimitStore', () => {
  it('checks every counter, then counts on all or none', async () => {
    const store = new InMemoryRateLimitStore();
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
    const store = new InMemoryRateLimitStore();
    const counter = spec('c', 10);
    await store.consume([counter], T0 + 5000);
    // A clock stepped back (NTP): the earlier bucket is added to the counter after the later one.
    const answer = await store.consume([counter], T0 + 2000);
    expect(answer.counters[0]?.buckets).toEqual([
      { startMs: T0 + 2000, count: 1 },
      { startMs: T0 + 5000, count: 1 },
    ]);
    expect((await store.peek([counter], T0 + 6000)).counters[0]?.buckets.map((b) => b.startMs)).toEqual([T0 + 2000, T0 + 5000]);
  });

  it('keeps at most one bucket per bucket length of the window, plus one', async () => {
    const store = new InMemoryRateLimitStore();
    const busy = spec('busy', 1_000_000);
    for (let t = T0; t < T0 + 300_000; t += 250) await store.consume([busy], t);
    const { counters } = await store.peek([busy], T0 + 300_000);
    expect(counters[0]?.buckets.length).toBeLessThanOrEqual(61);
    expect(counters[0]?.buckets.reduce((sum, b) => sum + b.count, 0)).toBe(61 * 4 - 4);
  });

  it('forgets idle counters: memory shrinks back once their windows have passed', async () => {
    const { limiter, store, clock } = setup();
    for (let i = 0; i < 500; i += 1) {
      await limiter.consume(subject({ accountId: `acc_${i}`, principalId: `key_${i}`, clientIp: `10.0.${i >> 8}.${i & 255}` }));
    }
    // Per request: plan-minute, plan-hour, read, api-key.
    expect(store.size).toBe(2000);
    clock.advance(61_000);
    await limiter.consume(subject({ accountId: 'acc_x', principalId: 'key_x' }));
    // The minute counters are gone, the hourly ones still count.
    expect(store.size).toBe(1000 + 4);
    clock.advance(3600_000);
    await limiter.consume(subject({ accountId: 'acc_y', principalId: 'key_y' }));
    // The first 500 are all gone; acc_x's hourly counters still count its request.
    expect(store.size).toBe(4 + 2);
  });

  it('sweeps on its own schedule of clock time, and on demand', async () => {
    const store = new InMemoryRateLimitStore({ sweepIntervalMs: 60_000 });
    await store.consume([spec('a'), spec('b')], T0); // counters live until T0 + 61 s
    await store.consume([spec('c')], T0 + 61_000); // a sweep is due: a and b go
    expect(store.size).toBe(1);
    await store.consume([spec('d')], T0 + 100_000);
    expect(store.size).toBe(2);
    await store.consume([spec('e')], T0 + 125_000); // due again: c (to T0 + 122 s) goes, d stays
    expect(store.size).toBe(2);
    await store.consume([spec('f')], T0 + 170_000); // d expired at T0 + 161 s, next sweep at T0 + 185 s
    expect(store.size).toBe(3);
    store.sweep(T0 + 300_000);
    expect(store.size).toBe(0);
  });

  it('releases one count from the bucket it was taken from, while that bucket lives', async () => {
    const store = new InMemoryRateLimitStore();
    const counter = spec('k', 5);
    await store.consume([counter], T0 + 100);
    await store.consume([counter], T0 + 5100);
    await store.release([counter], T0 + 100, T0 + 6000);
    expect((await store.peek([counter], T0 + 6000)).counters[0]?.buckets).toEqual([{ startMs: T0 + 5000, count: 1 }]);
    await store.release([counter], T0 + 5100, T0 + 67_000); // expired by then: nothing to take back
    await store.release([counter], T0 + 100, T0 + 6000); // already empty: stays at zero
    expect(store.size).toBe(1);
    await store.release([counter], T0 + 5100, T0 + 6000);
    expect(store.size).toBe(0);
  });
});

/** A store that answers later than asked, as a networked one would. */
class SlowStore implements RateLimitStore {
  readonly #inner = new InMemoryRateLimitStore();
  #turn = 0;
  async #later(): Promise<void> {
    this.#turn += 1;
    for (let i = 0; i < this.#turn % 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
  }
  async consume(specs: readonly CounterSpec[], nowMs: number): Promise<ConsumeResult> {
    await this.#later();
    const result = await this.#inner.consume(specs, nowMs);
    await this.#later();
    return result;
  }
  async peek(specs: readonly CounterSpec[], nowMs: number): Promise<StoreReading> {
    await this.#later();
    return this.#inner.peek(specs, nowMs);
  }
  release(specs: readonly CounterSpec[], consumedAtMs: number, nowMs: number): Promise<void> {
    return this.#inner.release(specs, consumedAtMs, nowMs);
  }
}

describe('the limiter over a store that answers asynchronously', () => {
  it('still admits exactly the limit to concurrent requests: the atomic step is the store call', async () => {
    const clock = new TestClock();
    const limiter = new RateLimiter({ config: defaultConfig(), store: new SlowStore(), now: clock.now });
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.consume(subject())));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
    expect(await send(limiter, subject(), 1)).toBe(0);
  });
});
