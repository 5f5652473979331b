import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from '../../src/rate-limit/index.ts';
import { send, setup, subject, T0 } from './support.ts';

const POLICY_FREE_API_KEY =
  '"plan-minute";q=60;w=60, "plan-hour";q=1000;w=3600, "read";q=1000;w=60, "api-key";q=1000;w=3600';

describe('rateLimitHeaders', () => {
  it('carries the governing policy in both styles and every applicable policy in RateLimit-Policy', async () => {
    const { limiter } = setup(undefined, T0 + 18_000);
    await send(limiter, subject(), 2);
    const decision = await limiter.consume(subject());
    expect(rateLimitHeaders(decision)).toEqual({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '57',
      'X-RateLimit-Reset': String((T0 + 79_000) / 1000),
      'RateLimit-Policy': POLICY_FREE_API_KEY,
      RateLimit: '"plan-minute";r=57;t=61',
    });
  });

  it('adds Retry-After when refused, agreeing with the reset of the governing policy', async () => {
    const { limiter, clock } = setup(undefined, T0 + 5000);
    await send(limiter, subject(), 60);
    clock.nowMs = T0 + 20_300;
    const refused = await limiter.consume(subject());
    expect(rateLimitHeaders(refused)).toEqual({
      'X-RateLimit-Limit': '60',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String((T0 + 66_000) / 1000),
      'RateLimit-Policy': POLICY_FREE_API_KEY,
      RateLimit: '"plan-minute";r=0;t=46',
      'Retry-After': '46',
    });
    expect(refused.retryAfterSeconds).toBe(46);
  });

  it('lists the events and auth-method policies that apply instead', async () => {
    const { limiter } = setup();
    const decision = await limiter.consume(subject({ category: 'events', plan: 'enterprise', authMethod: 'oauth' }));
    expect(rateLimitHeaders(decision)['RateLimit-Policy']).toBe(
      '"plan-minute";q=1000;w=60, "plan-hour";q=50000;w=3600, "events-ip";q=10000;w=60, "oauth-token";q=5000;w=3600',
    );
  });

  it('rounds up: a reset within a second is the next whole second, and t is never negative', async () => {
    const { limiter } = setup(undefined, T0 + 400);
    const fresh = await limiter.standing(subject());
    expect(rateLimitHeaders(fresh)).toMatchObject({
      'X-RateLimit-Remaining': '60',
      'X-RateLimit-Reset': String(T0 / 1000 + 1),
      RateLimit: '"plan-minute";r=60;t=0',
    });
  });

  it('recomputes t and Retry-After against a later instant when asked to', async () => {
    const { limiter } = setup(undefined, T0);
    await send(limiter, subject(), 60);
    const refused = await limiter.consume(subject());
    expect(rateLimitHeaders(refused)).toMatchObject({ RateLimit: '"plan-minute";r=0;t=61', 'Retry-After': '61' });
    expect(rateLimitHeaders(refused, T0 + 60_500)).toMatchObject({
      RateLimit: '"plan-minute";r=0;t=1',
      'Retry-After': '1',
    });
  });

  it('are the numbers of what happens next: Remaining more requests pass, then Retry-After', async () => {
    const { limiter, clock } = setup(undefined, T0 + 777);
    const who = subject();
    const first = rateLimitHeaders(await limiter.consume(who));
    const remaining = Number(first['X-RateLimit-Remaining']);
    expect(await send(limiter, who, remaining)).toBe(remaining);
    const refused = rateLimitHeaders(await limiter.consume(who));
    clock.nowMs = Number(refused['X-RateLimit-Reset']) * 1000;
    expect((await limiter.consume(who)).allowed).toBe(true);
  });
});
