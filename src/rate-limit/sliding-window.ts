/**
 * The sliding-window algorithm: a bucketed sliding log.
 *
 * Each counter is a handful of buckets, `{bucket start → count}`. Time is cut into
 * buckets of `bucketMs` aligned on the Unix epoch (so every instance sharing a store
 * agrees on them): whole seconds, about `window / bucketsPerWindow` long, at least 1 s.
 * A request is counted in the bucket it falls in, and the whole bucket stops counting at
 * `bucket start + bucketMs + windowMs`, one full window after the bucket's END.
 *
 * Error bound: a request made at `t` counts from `t` until some moment in
 * `(t + window, t + window + bucketMs]`. It therefore counts for at least a full window,
 * so NO interval of `window` ever holds more than `limit` admitted requests (the limit is
 * never exceeded, unlike the two-fixed-window estimate, which can let through up to twice
 * the limit); and it counts for less than one bucket longer than an exact sliding log
 * would, so a client is never held back more than `bucketMs` (1/60 of the window with
 * the default 60 buckets: 1 s on a per-minute limit, 1 min on a per-hour one) beyond
 * the exact answer. Memory is at most `bucketsPerWindow + 1` numbers per counter,
 * whatever the limit, where an exact log would keep one timestamp per request.
 *
 * Everything here is a pure function of the buckets and the clock, so a store (in memory,
 * or a Redis Lua script with one hash per counter) only has to keep the buckets, apply
 * `isBucketLive`, and count; the standings are derived from what it returns.
 */

export interface CounterSpec {
  /** Built from ids and addresses only (counter-keys.ts), never from a secret. */
  readonly key: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly bucketMs: number;
}

export interface CounterBucket {
  readonly startMs: number;
  readonly count: number;
}

const SECOND_MS = 1000;

/** Whole seconds so that every expiry, hence every `reset` and `Retry-After`, is a whole second. */
export function bucketMsFor(windowSeconds: number, bucketsPerWindow: number): number {
  return Math.max(1, Math.floor(windowSeconds / bucketsPerWindow)) * SECOND_MS;
}

export function bucketStartMs(atMs: number, bucketMs: number): number {
  return Math.floor(atMs / bucketMs) * bucketMs;
}

/** The instant a bucket stops counting: a full window after the bucket ends. */
export function bucketExpiresAtMs(startMs: number, spec: Pick<CounterSpec, 'windowMs' | 'bucketMs'>): number {
  return startMs + spec.bucketMs + spec.windowMs;
}

export function isBucketLive(
  startMs: number,
  spec: Pick<CounterSpec, 'windowMs' | 'bucketMs'>,
  nowMs: number,
): boolean {
  return bucketExpiresAtMs(startMs, spec) > nowMs;
}

export function countUsed(buckets: readonly CounterBucket[]): number {
  return buckets.reduce((sum, bucket) => sum + bucket.count, 0);
}

/**
 * The earliest moment at which `remaining` grows if nothing more is counted; `nowMs` when
 * nothing is counted. For an exhausted counter that is exactly when one more request is
 * admitted, which is what makes `Retry-After` truthful.
 * `buckets` are the live buckets at `nowMs`.
 */
export function nextRoomAtMs(buckets: readonly CounterBucket[], spec: CounterSpec, nowMs: number): number {
  const used = countUsed(buckets);
  if (used === 0) return nowMs;
  // remaining = max(0, limit - used) grows exactly when used drops below min(used, limit).
  const threshold = Math.min(used, spec.limit);
  let left = used;
  // Stores answer oldest first; a copy is sorted only for a caller that does not.
  const ordered = buckets.every((bucket, i) => i === 0 || buckets[i - 1]!.startMs <= bucket.startMs);
  for (const bucket of ordered ? buckets : [...buckets].sort((a, b) => a.startMs - b.startMs)) {
    left -= bucket.count;
    if (left < threshold) return bucketExpiresAtMs(bucket.startMs, spec);
  }
  // Unreachable: once every bucket has expired, left is 0 and threshold is at least 1.
  return nowMs;
}
