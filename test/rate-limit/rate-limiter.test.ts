import { describe, expect, it } from 'vitest';
import type { RateLimitSubject, RequestPolicyScope } from '../../src/rate-limit/index.ts';
import { configWithLimits, send, setup, subject, T0 } from './support.ts';

const standingOf = (
  decision: { policies: readonly { name: string; used: number; remaining: number }[] },
  name: string,
) => decision.policies.find((policy) => policy.name === name);

describe('each kind of policy: the N-th request passes, the N+1-th is refused', () => {
  const cases: [string, string, Partial<RateLimitSubject>, RequestPolicyScope][] = [
    ['read', 'categories.read', { category: 'read' }, 'category'],
    ['write', 'categories.write', { category: 'write' }, 'category'],
    ['execute', 'categories.execute', { category: 'execute' }, 'category'],
    ['events-ip', 'events_per_client_ip', { category: 'events' }, 'client_ip'],
    ['plan-minute', 'plans.pro.0', { plan: 'pro' }, 'plan'],
    ['plan-hour', 'plans.enterprise.1', { plan: 'enterprise' }, 'plan'],
    ['api-key', 'auth_methods.api_key', { authMethod: 'api_key' }, 'auth_method'],
    ['oauth-token', 'auth_methods.oauth', { authMethod: 'oauth' }, 'auth_method'],
    ['jwt', 'auth_methods.jwt', { authMethod: 'jwt' }, 'auth_method'],
  ];

  it.each(cases)('%s', async (name, path, overrides, appliesTo) => {
    const { limiter } = setup(configWithLimits({ [path]: 5 }));
    const who = subject(overrides);
    for (let n = 1; n <= 5; n += 1) {
      const decision = await limiter.consume(who);
      expect(decision.allowed).toBe(true);
      expect(decision.governing).toMatchObject({ name, appliesTo, limit: 5, used: n, remaining: 5 - n });
      expect(decision.retryAfterSeconds).toBeNull();
    }
    const refused = await limiter.consume(who);
    expect(refused.allowed).toBe(false);
    expect(refused.governing).toMatchObject({ name, appliesTo, used: 5, remaining: 0 });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('with the default policy: 100 writes a minute on the pro plan', async () => {
    const { limiter } = setup();
    const who = subject({ plan: 'pro', category: 'write' });
    expect(await send(limiter, who, 100)).toBe(100);
    const refused = await limiter.consume(who);
    expect(refused).toMatchObject({ allowed: false, governing: { name: 'write', limit: 100, remaining: 0 } });
    expect(standingOf(refused, 'plan-minute')).toMatchObject({ used: 100, remaining: 200 });
  });

  it('with the default policy: 1000 an hour on the free plan, however they are spread', async () => {
    const { limiter, clock } = setup();
    // One every 1.1 s stays under 60 a minute; a JWT (2000/h) leaves plan-hour the tightest.
    const who = subject({ authMethod: 'jwt' });
    for (let n = 1; n <= 1000; n += 1) {
      expect((await limiter.consume(who)).allowed).toBe(true);
      clock.advance(1100);
    }
    const refused = await limiter.consume(who);
    expect(refused).toMatchObject({ allowed: false, governing: { name: 'plan-hour', limit: 1000, used: 1000 } });
    expect(standingOf(refused, 'plan-minute')?.remaining).toBeGreaterThan(0);
  });

  it('with the default policy: 10000 events a minute from one address, whatever keys send them', async () => {
    const { limiter } = setup();
    // Twenty enterprise accounts, one key each, so no account or key limit is reached first.
    const senders = Array.from({ length: 20 }, (_, i) =>
      subject({ category: 'events', plan: 'enterprise', accountId: `acc_${i}`, principalId: `key_${i}` }),
    );
    let admitted = 0;
    for (let n = 0; n < 10_000; n += 1)
      if ((await limiter.consume(senders[n % 20] as RateLimitSubject)).allowed) admitted += 1;
    expect(admitted).toBe(10_000);
    const fresh = subject({ category: 'events', plan: 'enterprise', accountId: 'acc_new', principalId: 'key_new' });
    expect(await limiter.consume(fresh)).toMatchObject({
      allowed: false,
      governing: { name: 'events-ip', appliesTo: 'client_ip' },
    });
    expect((await limiter.consume({ ...fresh, clientIp: '198.51.100.7' })).allowed).toBe(true);
  });
});

describe('composition', () => {
  it('a free-plan key hits 60 a minute long before its 1000-a-minute read limit', async () => {
    const { limiter } = setup();
    const who = subject();
    expect(await send(limiter, who, 60)).toBe(60);
    const refused = await limiter.consume(who);
    expect(refused).toMatchObject({
      allowed: false,
      governing: { name: 'plan-minute', appliesTo: 'plan', limit: 60, remaining: 0 },
    });
    expect(standingOf(refused, 'read')).toMatchObject({ used: 60, remaining: 940 });
  });

  it('the governing policy is the one with least remaining, whichever it is at the time', async () => {
    const { limiter } = setup();
    const first = await limiter.consume(subject());
    expect(first.governing).toMatchObject({ name: 'plan-minute', remaining: 59 });
    const { limiter: other } = setup(configWithLimits({ 'auth_methods.api_key': 3 }));
    expect((await other.consume(subject())).governing).toMatchObject({ name: 'api-key', remaining: 2 });
  });

  it('on a tie in remaining, the policy resetting last governs', async () => {
    // plan-minute and api-key both have 59 left; api-key's request counts for an hour.
    const { limiter } = setup(configWithLimits({ 'auth_methods.api_key': 60 }));
    expect((await limiter.consume(subject())).governing).toMatchObject({ name: 'api-key', remaining: 59 });
    // A full tie (same remaining, same reset, same window) falls back to the name, so it is stable.
    const { limiter: even } = setup(configWithLimits({ 'categories.read': 60 }));
    expect((await even.consume(subject())).governing).toMatchObject({ name: 'plan-minute', remaining: 59 });
  });

  it('a refused request is counted by no policy, however often it is retried', async () => {
    const { limiter } = setup(configWithLimits({ 'categories.write': 3 }));
    const writer = subject({ category: 'write' });
    expect(await send(limiter, writer, 3)).toBe(3);
    for (let i = 0; i < 10; i += 1) expect((await limiter.consume(writer)).allowed).toBe(false);
    const reads = await limiter.consume(subject({ category: 'read' }));
    expect(reads.allowed).toBe(true);
    expect(standingOf(reads, 'plan-minute')?.used).toBe(4);
    expect(standingOf(reads, 'plan-hour')?.used).toBe(4);
    expect(standingOf(reads, 'api-key')?.used).toBe(4);
    expect(standingOf(reads, 'read')?.used).toBe(1);
  });

  it('two principals of different accounts do not interfere', async () => {
    const { limiter } = setup();
    const alice = subject({ accountId: 'acc_A', principalId: 'key_A' });
    const bob = subject({ accountId: 'acc_B', principalId: 'key_B' });
    expect(await send(limiter, alice, 61)).toBe(60);
    expect(await limiter.consume(bob)).toMatchObject({ allowed: true, governing: { name: 'plan-minute', used: 1 } });
  });

  it('two principals of one account share its plan limits but not their own', async () => {
    const { limiter } = setup(configWithLimits({ 'categories.read': 5 }));
    const keyOne = subject({ principalId: 'key_1' });
    const keyTwo = subject({ principalId: 'key_2' });
    expect(await send(limiter, keyOne, 6)).toBe(5);
    const other = await limiter.consume(keyTwo);
    expect(other.allowed).toBe(true);
    expect(standingOf(other, 'read')?.used).toBe(1);
    expect(standingOf(other, 'plan-minute')?.used).toBe(6);
  });

  it('event ingestion is counted per client address, and not per category of the key', async () => {
    const { limiter } = setup(configWithLimits({ events_per_client_ip: 3 }));
    const fromOneIp = (i: number) =>
      subject({ category: 'events', accountId: `acc_${i}`, principalId: `key_${i}`, clientIp: '192.0.2.1' });
    for (let i = 0; i < 3; i += 1) expect((await limiter.consume(fromOneIp(i))).allowed).toBe(true);
    expect((await limiter.consume(fromOneIp(9))).allowed).toBe(false);
    // The same client seen through a dual-stack socket is the same address.
    expect((await limiter.consume({ ...fromOneIp(9), clientIp: '::ffff:192.0.2.1' })).allowed).toBe(false);
    expect((await limiter.consume({ ...fromOneIp(9), clientIp: '192.0.2.2' })).allowed).toBe(true);
    // Events do not touch the key's read limit.
    expect(standingOf(await limiter.standing(subject({ principalId: 'key_0' })), 'read')?.used).toBe(0);
  });

  it('an IPv6 client counts per /64', async () => {
    const { limiter } = setup(configWithLimits({ events_per_client_ip: 2 }));
    const at = (clientIp: string, i: number) =>
      subject({ category: 'events', clientIp, accountId: `acc_${i}`, principalId: `key_${i}` });
    expect((await limiter.consume(at('2001:db8:1:2::1', 1))).allowed).toBe(true);
    expect((await limiter.consume(at('2001:db8:1:2:ffff::9', 2))).allowed).toBe(true);
    expect((await limiter.consume(at('2001:db8:1:2:abcd:1:2:3', 3))).allowed).toBe(false);
    expect((await limiter.consume(at('2001:db8:1:3::1', 4))).allowed).toBe(true);
  });
});

describe('the sliding window across a window edge', () => {
  it('a request counts until the end of its one-second bucket plus one minute, not a moment less', async () => {
    const { limiter, clock } = setup(undefined, T0 + 500);
    const who = subject();
    expect(await send(limiter, who, 60)).toBe(60);
    clock.nowMs = T0 + 60_999;
    expect(await limiter.consume(who)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock.nowMs = T0 + 61_000;
    expect(await limiter.consume(who)).toMatchObject({ allowed: true, governing: { name: 'plan-minute', used: 1 } });
  });

  it('slides: a fixed window would reset at the minute, this one frees only what has aged out', async () => {
    const { limiter, clock } = setup(undefined, T0 + 10_000);
    const who = subject();
    expect(await send(limiter, who, 30)).toBe(30);
    clock.nowMs = T0 + 40_000;
    expect(await send(limiter, who, 30)).toBe(30);
    clock.nowMs = T0 + 60_000; // the start of the next fixed minute
    expect((await limiter.consume(who)).allowed).toBe(false);
    clock.nowMs = T0 + 71_000; // the first 30 have aged out, the last 30 still count
    expect(await send(limiter, who, 31)).toBe(30);
    clock.nowMs = T0 + 100_999;
    expect((await limiter.consume(who)).allowed).toBe(false);
    clock.nowMs = T0 + 101_000;
    expect(await send(limiter, who, 31)).toBe(30);
  });

  it('never admits more than the limit in any window, and refuses only what a window one bucket longer would', async () => {
    const { limiter, clock } = setup(configWithLimits({ 'plans.free.0': 10 }));
    const who = subject();
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const admitted: number[] = [];
    const refused: number[] = [];
    for (let i = 0; i < 3000; i += 1) {
      clock.advance(Math.floor(random() * 400));
      ((await limiter.consume(who)).allowed ? admitted : refused).push(clock.nowMs);
    }
    const countIn = (fromExclusive: number, toInclusive: number) =>
      admitted.filter((t) => t > fromExclusive && t <= toInclusive).length;
    for (const t of admitted) expect(countIn(t - 60_000, t)).toBeLessThanOrEqual(10);
    for (const t of refused) expect(countIn(t - 61_000, t)).toBeGreaterThanOrEqual(10);
    expect(admitted.length).toBeGreaterThan(50);
    expect(refused.length).toBeGreaterThan(100);
  });
});

describe('retryAfterSeconds is truthful', () => {
  const offsets = [0, 1, 499, 999];

  it.each(offsets)('per minute, refused %i ms into a second', async (offset) => {
    const { limiter, clock } = setup(undefined, T0 + 7000 + offset);
    const who = subject();
    expect(await send(limiter, who, 20)).toBe(20);
    clock.advance(23_456);
    expect(await send(limiter, who, 40)).toBe(40);
    clock.advance(1234);
    const refused = await limiter.consume(who);
    const wait = refused.retryAfterSeconds ?? 0;
    expect(wait).toBeGreaterThanOrEqual(1);
    const refusedAt = clock.nowMs;
    clock.nowMs = refusedAt + (wait - 1) * 1000;
    expect((await limiter.standing(who)).allowed).toBe(wait === 1);
    clock.nowMs = refusedAt + wait * 1000;
    expect((await limiter.consume(who)).allowed).toBe(true);
  });

  it.each(offsets)('per hour, refused %i ms into a second', async (offset) => {
    const { limiter, clock } = setup(configWithLimits({ 'plans.free.1': 5 }), T0 + offset);
    const who = subject();
    for (let i = 0; i < 5; i += 1) {
      expect((await limiter.consume(who)).allowed).toBe(true);
      clock.advance(4 * 60_000 + 1717);
    }
    const refused = await limiter.consume(who);
    expect(refused.governing.name).toBe('plan-hour');
    const wait = refused.retryAfterSeconds ?? 0;
    const refusedAt = clock.nowMs;
    clock.nowMs = refusedAt + (wait - 1) * 1000;
    expect((await limiter.standing(who)).allowed).toBe(false);
    clock.nowMs = refusedAt + wait * 1000;
    expect((await limiter.consume(who)).allowed).toBe(true);
  });

  it('covers every exhausted policy, not only the governing one', async () => {
    // read is exhausted first and frees up first; plan-hour is exhausted later but frees up later.
    const { limiter, clock } = setup(configWithLimits({ 'categories.read': 3, 'plans.free.1': 4 }));
    const reader = subject();
    expect(await send(limiter, reader, 3)).toBe(3);
    clock.advance(5000);
    expect((await limiter.consume(subject({ category: 'write' }))).allowed).toBe(true);
    const refused = await limiter.consume(reader);
    expect(refused.policies.filter((p) => p.remaining === 0).map((p) => p.name)).toEqual(['plan-hour', 'read']);
    expect(refused.governing.name).toBe('plan-hour');
    clock.advance((refused.retryAfterSeconds ?? 0) * 1000);
    expect((await limiter.consume(reader)).allowed).toBe(true);
  });
});

describe('reset is exact against the clock', () => {
  it('is when the oldest counted request ages out, and remaining grows exactly then', async () => {
    const { limiter, clock } = setup(undefined, T0 + 250);
    const who = subject();
    await send(limiter, who, 3);
    clock.nowMs = T0 + 30_000;
    const decision = await limiter.consume(who);
    expect(decision.governing).toMatchObject({ name: 'plan-minute', remaining: 56, resetAtMs: T0 + 61_000 });
    clock.nowMs = T0 + 60_999;
    expect((await limiter.standing(who)).governing.remaining).toBe(56);
    clock.nowMs = T0 + 61_000;
    expect((await limiter.standing(who)).governing).toMatchObject({ remaining: 59, resetAtMs: T0 + 91_000 });
  });

  it('is now when nothing is counted', async () => {
    const { limiter } = setup(undefined, T0 + 400);
    const decision = await limiter.standing(subject());
    expect(decision.allowed).toBe(true);
    expect(decision.governing).toMatchObject({ name: 'plan-minute', used: 0, remaining: 60, resetAtMs: T0 + 400 });
  });
});

describe('standing and usage count nothing', () => {
  it('standing() shows what a request would meet without counting it', async () => {
    const { limiter } = setup();
    const who = subject();
    await send(limiter, who, 59);
    for (let i = 0; i < 20; i += 1)
      expect(await limiter.standing(who)).toMatchObject({ allowed: true, governing: { remaining: 1 } });
    await send(limiter, who, 1);
    expect(await limiter.standing(who)).toMatchObject({
      allowed: false,
      retryAfterSeconds: 61,
      governing: { remaining: 0 },
    });
  });

  it('usage() lists every policy of the caller, tightest first', async () => {
    const { limiter } = setup(undefined, T0 + 18_000);
    const who = subject({ plan: 'pro' });
    await send(limiter, who, 3);
    await send(limiter, { ...who, category: 'write' }, 2);
    const usage = await limiter.usage(who);
    expect(usage.map((p) => [p.name, p.appliesTo, p.used, p.remaining])).toEqual([
      ['write', 'category', 2, 98],
      ['plan-minute', 'plan', 5, 295],
      ['execute', 'category', 0, 500],
      ['api-key', 'auth_method', 5, 995],
      ['read', 'category', 3, 997],
      ['plan-hour', 'plan', 5, 9995],
      ['events-ip', 'client_ip', 0, 10_000],
    ]);
    expect((await limiter.usage(who)).map((p) => p.used)).toEqual(usage.map((p) => p.used));
  });
});

describe('concurrency', () => {
  it('many concurrent requests over the limit admit exactly the limit', async () => {
    const { limiter } = setup();
    const who = subject();
    const decisions = await Promise.all(Array.from({ length: 150 }, () => limiter.consume(who)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
    const after = await limiter.standing(who);
    expect(after.policies.map((p) => [p.name, p.used])).toEqual([
      ['plan-minute', 60],
      ['plan-hour', 60],
      ['read', 60],
      ['api-key', 60],
    ]);
  });

  it('concurrent requests of several keys of one account admit exactly the account limit', async () => {
    const { limiter } = setup();
    const keys = Array.from({ length: 7 }, (_, i) =>
      subject({ principalId: `key_${i}`, category: i % 2 ? 'write' : 'read' }),
    );
    const decisions = await Promise.all(
      Array.from({ length: 140 }, (_, i) => limiter.consume(keys[i % 7] as RateLimitSubject)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
  });
});

describe('subjects that cannot be counted', () => {
  it('are refused with a rejected promise, not a decision that pools them with others', async () => {
    const { limiter } = setup();
    await expect(limiter.consume(subject({ clientIp: 'unknown', category: 'events' }))).rejects.toThrowError(TypeError);
    await expect(limiter.consume(subject({ accountId: '' }))).rejects.toThrowError(/empty id/);
  });
});
