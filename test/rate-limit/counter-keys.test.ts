import { describe, expect, it } from 'vitest';
import {
  BruteForceGuard,
  clientIpKey,
  InMemoryRateLimitStore,
  RateLimiter,
  type CounterSpec,
} from '../../src/rate-limit/index.ts';
import {
  accountCounterKey,
  clientIpCounterKey,
  principalCounterKey,
  usernameCounterKey,
} from '../../src/rate-limit/counter-keys.ts';
import { defaultConfig, subject, TestClock } from './support.ts';

describe('clientIpKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    [' 203.0.113.9 ', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::ff', '2001:db8:1:2::/64'],
    ['[2001:db8::1]', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(clientIpKey(address)).toBe(key);
  });

  it.each(['', 'localhost', '203.0.113', '1.2.3.4.5', 'unknown'])('refuses %j', (address) => {
    expect(() => clientIpKey(address)).toThrowError(TypeError);
  });
});

describe('counter keys', () => {
  it('hold the policy name, the kind of id and the id, encoded so ids cannot collide', () => {
    expect(principalCounterKey('read', 'key_1')).toBe('rl:read:principal:key_1');
    expect(accountCounterKey('plan-hour', 'acc_1')).toBe('rl:plan-hour:account:acc_1');
    expect(clientIpCounterKey('events-ip', '2001:db8::1')).toBe('rl:events-ip:ip:2001%3Adb8%3A0%3A0%3A%3A%2F64');
    expect(principalCounterKey('read', 'a:principal:b')).not.toBe(principalCounterKey('read:principal:a', 'b'));
  });

  it('refuse an empty id, which would pool unrelated clients', () => {
    expect(() => accountCounterKey('plan-hour', '')).toThrowError(/empty id/);
  });

  it('hash a normalised username, so no e-mail address is stored', () => {
    const key = usernameCounterKey('login', ' Alice@Example.COM', '203.0.113.9');
    expect(key).toBe(usernameCounterKey('login', 'alice@example.com', '203.0.113.9'));
    expect(key).toMatch(/^rl:login:user:[A-Za-z0-9_-]{22}:ip:203\.0\.113\.9$/);
    expect(key.toLowerCase()).not.toContain('alice');
  });
});

/** Records the keys the engine asks for, around the real store. */
class KeyRecordingStore extends InMemoryRateLimitStore {
  readonly keys = new Set<string>();
  override consume(specs: readonly CounterSpec[], nowMs: number) {
    for (const spec of specs) this.keys.add(spec.key);
    return super.consume(specs, nowMs);
  }
}

it('no key the engine stores carries a secret, a username or a raw IPv6 host address', async () => {
  const store = new KeyRecordingStore();
  const clock = new TestClock();
  const config = defaultConfig();
  const limiter = new RateLimiter({ config, store, now: clock.now });
  const guard = new BruteForceGuard({ config, store, now: clock.now });
  await limiter.consume(subject({ principalId: 'key_IcPmIPE3Ti4aU0RCnhYaZI9Y', clientIp: '2001:db8::abcd' }));
  await limiter.consume(subject({ category: 'events', clientIp: '2001:db8::abcd' }));
  await guard.recordFailure('login', { username: 'carol@example.com', clientIp: '2001:db8::abcd' });
  await guard.consume('leaked_key_reports', { clientIp: '198.51.100.1' });
  expect([...store.keys].sort()).toEqual([
    'rl:api-key:principal:key_A1',
    'rl:api-key:principal:key_IcPmIPE3Ti4aU0RCnhYaZI9Y',
    'rl:events-ip:ip:2001%3Adb8%3A0%3A0%3A%3A%2F64',
    'rl:leaked-key-reports:ip:198.51.100.1',
    expect.stringMatching(/^rl:login:user:[A-Za-z0-9_-]{22}:ip:2001%3Adb8%3A0%3A0%3A%3A%2F64$/),
    'rl:plan-hour:account:acc_A',
    'rl:plan-minute:account:acc_A',
    'rl:read:principal:key_IcPmIPE3Ti4aU0RCnhYaZI9Y',
  ]);
});
