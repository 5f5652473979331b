// Where counters live. In memory on one instance (memory-store.ts); in Redis when several
// instances serve together, behind this same interface. Every operation takes all the
// counters of one request at once, because the check and the count must be one atomic
// step across all of them: with Redis, one Lua script over the request's keys that, per
// key, drops the buckets `isBucketLive` rejects, sums the rest, and only when every sum
// is below its limit increments each key's current bucket (HINCRBY) and sets its expiry
// (PEXPIRE to windowMs + bucketMs).

import type { CounterBucket, CounterSpec } from './sliding-window.ts';

export interface CounterSnapshot {
  readonly key: string;
  /** The live buckets, oldest first; a request just admitted is already counted. */
  readonly buckets: readonly CounterBucket[];
}

export interface StoreReading {
  /** The instant the snapshots describe; a shared store may substitute its own clock. */
  readonly atMs: number;
  /** One per spec, in the order of the specs. */
  readonly counters: readonly CounterSnapshot[];
}

export interface ConsumeResult extends StoreReading {
  /** True when every counter had room and each counted one more; false when none changed. */
  readonly admitted: boolean;
}

export interface RateLimitStore {
  /** Counts one request on every counter if, and only if, every counter has room. */
  consume(specs: readonly CounterSpec[], nowMs: number): Promise<ConsumeResult>;
  /** Reads the counters without counting. */
  peek(specs: readonly CounterSpec[], nowMs: number): Promise<StoreReading>;
  /**
   * Takes back one request counted at `consumedAtMs` (a login that turned out to be good)
   * from each counter, if its bucket is still live.
   */
  release(specs: readonly CounterSpec[], consumedAtMs: number, nowMs: number): Promise<void>;
}
