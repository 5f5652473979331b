import { describe, expect, it } from 'vitest';
import {
  bucketExpiresAtMs,
  bucketMsFor,
  bucketStartMs,
  isBucketLive,
  nextRoomAtMs,
} from '../../src/rate-limit/sliding-window.ts';
import { T0 } from './support.ts';

const minute = { key: 'k', limit: 3, windowMs: 60_000, bucketMs: 1000 };

describe('buckets', () => {
  it('are whole seconds, a sixtieth of the window by default, never under a second', () => {
    expect(bucketMsFor(60, 60)).toBe(1000);
    expect(bucketMsFor(3600, 60)).toBe(60_000);
    expect(bucketMsFor(900, 60)).toBe(15_000);
    expect(bucketMsFor(10, 60)).toBe(1000);
    expect(bucketMsFor(100, 60)).toBe(1000);
    expect(bucketMsFor(60, 1)).toBe(60_000);
  });

  it('are aligned on the epoch, so every instance agrees on them', () => {
    expect(bucketStartMs(T0 + 1999, 1000)).toBe(T0 + 1000);
    expect(bucketStartMs(T0 + 59_999, 60_000)).toBe(T0);
  });

  it('stop counting one full window after they end', () => {
    expect(bucketExpiresAtMs(T0, minute)).toBe(T0 + 61_000);
    expect(isBucketLive(T0, minute, T0 + 60_999)).toBe(true);
    expect(isBucketLive(T0, minute, T0 + 61_000)).toBe(false);
  });
});

describe('nextRoomAtMs', () => {
  it('is now when nothing is counted', () => {
    expect(nextRoomAtMs([], minute, T0 + 123)).toBe(T0 + 123);
  });

  it('is when the oldest bucket expires while there is room', () => {
    const buckets = [
      { startMs: T0 + 5000, count: 1 },
      { startMs: T0 + 2000, count: 1 },
    ];
    expect(nextRoomAtMs(buckets, minute, T0 + 10_000)).toBe(T0 + 63_000);
  });

  it('is when a request fits again for an exhausted counter', () => {
    const buckets = [
      { startMs: T0, count: 1 },
      { startMs: T0 + 4000, count: 2 },
      { startMs: T0 + 9000, count: 2 },
    ];
    // 5 counted against a limit of 3 (the limit was lowered since): 3 must expire first.
    expect(nextRoomAtMs(buckets, minute, T0 + 10_000)).toBe(T0 + 65_000);
    expect(nextRoomAtMs([{ startMs: T0, count: 3 }], minute, T0 + 10_000)).toBe(T0 + 61_000);
  });
});
