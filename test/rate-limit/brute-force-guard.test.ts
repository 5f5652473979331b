import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from '../../src/rate-limit/index.ts';
import { setup, T0 } from './support.ts';

const alice = { username: 'alice@example.com', clientIp: '203.0.113.5' };

describe('login guard: failed attempts per username and address', () => {
  it('blocks a username from an address after 10 failures, not another user from another address', async () => {
    const { guard } = setup();
    for (let n = 1; n <= 10; n += 1) {
      expect((await guard.check('login', alice)).allowed).toBe(true);
      expect(await guard.recordFailure('login', alice)).toMatchObject({ allowed: true, governing: { used: n } });
    }
    const blocked = await guard.check('login', alice);
    expect(blocked).toMatchObject({
      allowed: false,
      governing: { name: 'login', appliesTo: 'username_and_client_ip', limit: 10, windowSeconds: 900, remaining: 0 },
    });
    // 15 min buckets are 15 s long: the failures all sit in the bucket starting at T0.
    expect(blocked.retryAfterSeconds).toBe(915);
    expect((await guard.check('login', { username: 'bob@example.com', clientIp: '198.51.100.20' })).allowed).toBe(true);
    // Each side of the pair on its own is not blocked either.
    expect((await guard.check('login', { username: 'bob@example.com', clientIp: alice.clientIp })).allowed).toBe(true);
    expect((await guard.check('login', { ...alice, clientIp: '198.51.100.20' })).allowed).toBe(true);
  });

  it('treats usernames that differ in case or surrounding space as one', async () => {
    const { guard } = setup();
    for (const username of ['Alice@Example.com', ' alice@example.com ', 'ALICE@EXAMPLE.COM']) {
      for (let i = 0; i < 3; i += 1) await guard.recordFailure('login', { ...alice, username });
    }
    expect((await guard.check('login', alice)).governing.used).toBe(9);
  });

  it('counts only failures: a forgiven attempt is taken back', async () => {
    const { guard } = setup();
    for (let i = 0; i < 25; i += 1) {
      const attempt = await guard.attempt('login', alice);
      expect(attempt.decision.allowed).toBe(true);
      await attempt.forgive();
      await attempt.forgive(); // idempotent
    }
    expect((await guard.check('login', alice)).governing.used).toBe(0);
  });

  it('lets exactly the limit of parallel attempts through, where check-then-record would let all of them', async () => {
    const { guard } = setup();
    const attempts = await Promise.all(Array.from({ length: 50 }, () => guard.attempt('login', alice)));
    expect(attempts.filter((a) => a.decision.allowed)).toHaveLength(10);
    // A refused attempt counted nothing, so forgiving it takes nothing back.
    await Promise.all(attempts.filter((a) => !a.decision.allowed).map((a) => a.forgive()));
    expect((await guard.check('login', alice)).governing.used).toBe(10);
  });

  it('lifts the block after Retry-After, not a second before', async () => {
    const { guard, clock } = setup(undefined, T0 + 321);
    for (let i = 0; i < 10; i += 1) {
      await guard.recordFailure('login', alice);
      clock.advance(7_000);
    }
    const blocked = await guard.check('login', alice);
    const wait = blocked.retryAfterSeconds ?? 0;
    const at = clock.nowMs;
    clock.nowMs = at + (wait - 1) * 1000;
    expect((await guard.check('login', alice)).allowed).toBe(false);
    clock.nowMs = at + wait * 1000;
    expect((await guard.attempt('login', alice)).decision.allowed).toBe(true);
  });
});

describe('failed-credentials guard: per address', () => {
  it('blocks an address after 20 failures a minute, and no other', async () => {
    const { guard, clock } = setup();
    const attacker = { clientIp: '192.0.2.66' };
    for (let i = 0; i < 20; i += 1)
      expect((await guard.recordFailure('failed_credentials', attacker)).allowed).toBe(true);
    const refused = await guard.recordFailure('failed_credentials', attacker);
    expect(refused).toMatchObject({
      allowed: false,
      governing: { name: 'failed-credentials', appliesTo: 'client_ip', used: 20 },
    });
    expect((await guard.check('failed_credentials', attacker)).allowed).toBe(false);
    expect((await guard.check('failed_credentials', { clientIp: '192.0.2.67' })).allowed).toBe(true);
    clock.advance((refused.retryAfterSeconds ?? 0) * 1000);
    expect((await guard.check('failed_credentials', attacker)).allowed).toBe(true);
  });
});

describe('leaked-key report guard: every report counts', () => {
  it('admits 10 reports a minute from an address, then refuses with headers', async () => {
    const { guard } = setup(undefined, T0);
    const reporter = { clientIp: '2001:db8:aa::1' };
    for (let n = 1; n <= 10; n += 1) expect((await guard.consume('leaked_key_reports', reporter)).allowed).toBe(true);
    const refused = await guard.consume('leaked_key_reports', reporter);
    expect(refused.allowed).toBe(false);
    expect(rateLimitHeaders(refused)).toEqual({
      'X-RateLimit-Limit': '10',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(T0 / 1000 + 61),
      'RateLimit-Policy': '"leaked-key-reports";q=10;w=60',
      RateLimit: '"leaked-key-reports";r=0;t=61',
      'Retry-After': '61',
    });
    // Another address of the same /64 is the same client.
    expect((await guard.consume('leaked_key_reports', { clientIp: '2001:db8:aa::2' })).allowed).toBe(false);
  });

  it('shares no counter with the request limits or the other guards', async () => {
    const { guard } = setup();
    const ip = { clientIp: '203.0.113.5' };
    for (let i = 0; i < 10; i += 1) await guard.consume('leaked_key_reports', ip);
    expect((await guard.check('failed_credentials', ip)).governing.used).toBe(0);
    expect((await guard.check('login', alice)).governing.used).toBe(0);
  });
});
