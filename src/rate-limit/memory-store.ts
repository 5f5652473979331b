// The single-instance store. JavaScript runs one callback at a time and every operation
// here completes synchronously before its promise resolves, so concurrent consume()
// calls are serialised: the check-then-count over several counters is atomic.

import {
  bucketExpiresAtMs,
  bucketStartMs,
  isBucketLive,
  type CounterBucket,
  type CounterSpec,
} from './sliding-window.ts';
import type { ConsumeResult, CounterSnapshot, RateLimitStore, StoreReading } from './store.ts';

interface Counter {
  /** bucket start (ms) → count */
  readonly buckets: Map<number, number>;
  /** When the newest bucket expires, and with it the whole counter. */
  expiresAtMs: number;
}

export interface InMemoryRateLimitStoreOptions {
  /**
   * How often (in clock time) idle counters are swept. Sweeping runs inside store calls,
   * not on a timer, so it follows the injected clock and leaves no handle open.
   */
  readonly sweepIntervalMs?: number;
}

export class InMemoryRateLimitStore implements RateLimitStore {
  readonly #counters = new Map<string, Counter>();
  readonly #sweepIntervalMs: number;
  #nextSweepAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: InMemoryRateLimitStoreOptions = {}) {
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
  }

  /** How many counters are held: what bounded memory is measured by. */
  get size(): number {
    return this.#counters.size;
  }

  /** Drops every counter whose buckets have all expired. */
  sweep(nowMs: number): void {
    for (const [key, counter] of this.#counters) {
      if (counter.expiresAtMs <= nowMs) this.#counters.delete(key);
    }
    this.#nextSweepAtMs = nowMs + this.#sweepIntervalMs;
  }

  consume(specs: readonly CounterSpec[], nowMs: number): Promise<ConsumeResult> {
    this.#sweepWhenDue(nowMs);
    // The check needs only each counter's sum: the buckets are listed once, for the answer.
    const admitted = specs.every((spec) => this.#liveCount(spec, nowMs) < spec.limit);
    if (admitted) for (const spec of specs) this.#add(spec, nowMs);
    const counters = specs.map((spec) => ({ key: spec.key, buckets: this.#liveBuckets(spec, nowMs) }));
    return Promise.resolve({ admitted, atMs: nowMs, counters });
  }

  peek(specs: readonly CounterSpec[], nowMs: number): Promise<StoreReading> {
    this.#sweepWhenDue(nowMs);
    const current = specs.map((spec) => this.#liveBuckets(spec, nowMs));
    return Promise.resolve({ atMs: nowMs, counters: snapshots(specs, current) });
  }

  release(specs: readonly CounterSpec[], consumedAtMs: number, nowMs: number): Promise<void> {
    for (const spec of specs) {
      const counter = this.#counters.get(spec.key);
      const startMs = bucketStartMs(consumedAtMs, spec.bucketMs);
      const count = counter?.buckets.get(startMs);
      if (counter === undefined || count === undefined || !isBucketLive(startMs, spec, nowMs)) continue;
      if (count > 1) counter.buckets.set(startMs, count - 1);
      else counter.buckets.delete(startMs);
      if (counter.buckets.size === 0) this.#counters.delete(spec.key);
    }
    return Promise.resolve();
  }

  #sweepWhenDue(nowMs: number): void {
    if (nowMs >= this.#nextSweepAtMs) this.sweep(nowMs);
  }

  /** Prunes the counter's expired buckets and returns the sum of the live ones. */
  #liveCount(spec: CounterSpec, nowMs: number): number {
    const counter = this.#counters.get(spec.key);
    if (counter === undefined) return 0;
    let used = 0;
    for (const [startMs, count] of counter.buckets) {
      if (isBucketLive(startMs, spec, nowMs)) used += count;
      else counter.buckets.delete(startMs);
    }
    if (counter.buckets.size === 0) this.#counters.delete(spec.key);
    return used;
  }

  /** Prunes the counter's expired buckets and returns the live ones, oldest first. */
  #liveBuckets(spec: CounterSpec, nowMs: number): CounterBucket[] {
    const counter = this.#counters.get(spec.key);
    if (counter === undefined) return [];
    const live: CounterBucket[] = [];
    // Buckets are usually added in time order (a Map keeps insertion order): sorted only when not.
    let ordered = true;
    for (const [startMs, count] of counter.buckets) {
      if (!isBucketLive(startMs, spec, nowMs)) {
        counter.buckets.delete(startMs);
        continue;
      }
      if (live.length > 0 && live[live.length - 1]!.startMs > startMs) ordered = false;
      live.push({ startMs, count });
    }
    if (counter.buckets.size === 0) this.#counters.delete(spec.key);
    return ordered ? live : live.sort((a, b) => a.startMs - b.startMs);
  }

  #add(spec: CounterSpec, nowMs: number): void {
    const startMs = bucketStartMs(nowMs, spec.bucketMs);
    const counter = this.#counters.get(spec.key) ?? { buckets: new Map<number, number>(), expiresAtMs: 0 };
    counter.buckets.set(startMs, (counter.buckets.get(startMs) ?? 0) + 1);
    counter.expiresAtMs = Math.max(counter.expiresAtMs, bucketExpiresAtMs(startMs, spec));
    this.#counters.set(spec.key, counter);
  }
}

function snapshots(specs: readonly CounterSpec[], buckets: readonly CounterBucket[][]): CounterSnapshot[] {
  return specs.map((spec, index) => ({ key: spec.key, buckets: buckets[index] ?? [] }));
}
