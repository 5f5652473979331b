// The in-memory store: the store contract (store-contract.ts), and what only memory
// does: forgetting idle counters by sweeping them on a schedule of clock time.
import { describe, expect, it } from 'vitest';
import {
  InMemoryRateLimitStore,
  RateLimiter,
  type ConsumeResult,
  type CounterSpec,
  type RateLimitStore,
  type StoreReading,
} from '../../src/rate-limit/index.ts';
import { describeStoreContract, spec } from './store-contract.ts';
import { defaultConfig, send, setup, subject, T0, TestClock } from './support.ts';

describeStoreContract('InMemoryRateLimitStore', {
  reference: true,
  create() {
    const store = new InMemoryRateLimitStore();
    return { handles: [store, store], counterCount: () => store.size };
  },
});

describe('InMemoryRateLimitStore', () => {
  it('forgets idle counters: memory shrinks back once their windows have passed', async () => {
    const { limiter, store, clock } = setup();
    for (let i = 0; i < 500; i += 1) {
      await limiter.consume(
        subject({ accountId: `acc_${i}`, principalId: `key_${i}`, clientIp: `10.0.${i >> 8}.${i & 255}` }),
      );
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
    await store.consume([spec('a', 3), spec('b', 3)], T0); // counters live until T0 + 61 s
    await store.consume([spec('c', 3)], T0 + 61_000); // a sweep is due: a and b go
    expect(store.size).toBe(1);
    await store.consume([spec('d', 3)], T0 + 100_000);
    expect(store.size).toBe(2);
    await store.consume([spec('e', 3)], T0 + 125_000); // due again: c (to T0 + 122 s) goes, d stays
    expect(store.size).toBe(2);
    await store.consume([spec('f', 3)], T0 + 170_000); // d expired at T0 + 161 s, next sweep at T0 + 185 s
    expect(store.size).toBe(3);
    store.sweep(T0 + 300_000);
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
