// The shared store for several instances: the same counters as memory-store.ts,
// kept in Redis, one hash per counter ({bucket start -> count}). Each call is one
// Lua script over all the counters of a request, so "check every counter, then
// count on all of them or none" is atomic across instances. Time comes from the
// caller (the instances' clocks, kept in sync by NTP), so a counter means the same
// thing in memory and in Redis; expiries are relative, so Redis's own clock does
// not matter.
import type { Redis } from 'ioredis';
import type { CounterBucket, CounterSpec } from './sliding-window.ts';
import type { ConsumeResult, CounterSnapshot, RateLimitStore, StoreReading } from './store.ts';

// ARGV: now, mode (consume | peek), then limit, windowMs, bucketMs per key.
// Returns: {admitted (1|0), flat list per key of [n, start1, count1, ...]}.
const SCRIPT = `
local now = tonumber(ARGV[1])
local mode = ARGV[2]
local live = {}
local sums = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + (i - 1) * 3 + 2])
  local bucket = tonumber(ARGV[2 + (i - 1) * 3 + 3])
  local fields = redis.call('HGETALL', key)
  local buckets = {}
  local sum = 0
  for j = 1, #fields, 2 do
    local start = tonumber(fields[j])
    local count = tonumber(fields[j + 1])
    if start + bucket + window <= now then
      redis.call('HDEL', key, fields[j])
    else
      buckets[start] = count
      sum = sum + count
    end
  end
  live[i] = buckets
  sums[i] = sum
end
local admitted = 0
if mode == 'consume' then
  admitted = 1
  for i = 1, #KEYS do
    if sums[i] >= tonumber(ARGV[2 + (i - 1) * 3 + 1]) then admitted = 0 end
  end
  if admitted == 1 then
    for i, key in ipairs(KEYS) do
      local window = tonumber(ARGV[2 + (i - 1) * 3 + 2])
      local bucket = tonumber(ARGV[2 + (i - 1) * 3 + 3])
      local start = math.floor(now / bucket) * bucket
      redis.call('HINCRBY', key, string.format('%d', start), 1)
      redis.call('PEXPIRE', key, start + bucket + window - now)
      live[i][start] = (live[i][start] or 0) + 1
    end
  end
end
local out = {admitted}
for i = 1, #KEYS do
  local flat = {}
  for start, count in pairs(live[i]) do
    table.insert(flat, string.format('%d', start))
    table.insert(flat, count)
  end
  table.insert(out, flat)
end
return out
`;

// ARGV: consumedAt, now, then windowMs, bucketMs per key.
const RELEASE = `
local consumed = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 + (i - 1) * 2 + 1])
  local bucket = tonumber(ARGV[2 + (i - 1) * 2 + 2])
  local start = math.floor(consumed / bucket) * bucket
  if start + bucket + window > now then
    local field = string.format('%d', start)
    local left = redis.call('HINCRBY', key, field, -1)
    if left <= 0 then redis.call('HDEL', key, field) end
  end
end
return 1
`;

type Reply = [number, ...Array<Array<string | number>>];

export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    /** Namespaces the keys, so that several deployments (or test runs) can share a Redis. */
    private readonly prefix: string,
  ) {}

  async consume(specs: readonly CounterSpec[], nowMs: number): Promise<ConsumeResult> {
    const reply = await this.run('consume', specs, nowMs);
    return { admitted: reply[0] === 1, atMs: nowMs, counters: this.snapshots(specs, reply) };
  }

  async peek(specs: readonly CounterSpec[], nowMs: number): Promise<StoreReading> {
    const reply = await this.run('peek', specs, nowMs);
    return { atMs: nowMs, counters: this.snapshots(specs, reply) };
  }

  async release(specs: readonly CounterSpec[], consumedAtMs: number, nowMs: number): Promise<void> {
    if (specs.length === 0) return;
    const args = specs.flatMap((spec) => [spec.windowMs, spec.bucketMs]);
    await this.redis.eval(
      RELEASE,
      specs.length,
      ...specs.map((spec) => this.prefix + spec.key),
      consumedAtMs,
      nowMs,
      ...args,
    );
  }

  private async run(mode: 'consume' | 'peek', specs: readonly CounterSpec[], nowMs: number): Promise<Reply> {
    if (specs.length === 0) return [mode === 'consume' ? 1 : 0];
    const args = specs.flatMap((spec) => [spec.limit, spec.windowMs, spec.bucketMs]);
    return (await this.redis.eval(
      SCRIPT,
      specs.length,
      ...specs.map((spec) => this.prefix + spec.key),
      nowMs,
      mode,
      ...args,
    )) as Reply;
  }

  private snapshots(specs: readonly CounterSpec[], reply: Reply): CounterSnapshot[] {
    return specs.map((spec, index) => {
      const flat = (reply[index + 1] ?? []) as Array<string | number>;
      const buckets: CounterBucket[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        buckets.push({ startMs: Number(flat[i]), count: Number(flat[i + 1]) });
      return { key: spec.key, buckets: buckets.sort((a, b) => a.startMs - b.startMs) };
    });
  }
}
