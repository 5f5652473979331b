// Address matching for allowlists, fences and trusted proxies (src/net/cidr.ts).
import { describe, expect, it } from 'vitest';
import { cidrContains, cidrWithin, isLoopback, parseCidr } from '../../src/net/cidr.ts';

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`${text} did not parse`);
  return parsed;
};

describe('parseCidr', () => {
  it('takes IPv4 and IPv6 networks and normalises their text', () => {
    expect(cidr('203.0.113.0/24').text).toBe('203.0.113.0/24');
    expect(cidr('2001:DB8::/32').text).toBe('2001:db8::/32');
  });
  it('refuses what is not a network', () => {
    for (const text of [
      '203.0.113.0',
      '203.0.113.0/33',
      '2001:db8::/129',
      '10.0.0.0/8/1',
      'localhost/8',
      '010.0.0.0/8',
      '10.0.0.0/-1',
      '',
      '/24',
    ]) {
      expect(parseCidr(text), text).toBeNull();
    }
  });
});

describe('cidrContains', () => {
  it('matches IPv4 clients, plain or as Node reports them on a dual-stack socket', () => {
    const network = cidr('203.0.113.0/24');
    expect(cidrContains(network, '203.0.113.7')).toBe(true);
    expect(cidrContains(network, '::ffff:203.0.113.7')).toBe(true);
    expect(cidrContains(network, '203.0.114.7')).toBe(false);
  });
  it('matches IPv6 clients, with brackets or a zone', () => {
    const network = cidr('2001:db8::/32');
    expect(cidrContains(network, '2001:db8:1::5')).toBe(true);
    expect(cidrContains(network, '[2001:db8::1]')).toBe(true);
    expect(cidrContains(network, 'fe80::1%eth0')).toBe(false);
    expect(cidrContains(network, '2001:db9::1')).toBe(false);
  });
  it('never matches what is not an address', () => {
    expect(cidrContains(cidr('0.0.0.0/0'), 'not-an-ip')).toBe(false);
  });
});

describe('cidrWithin', () => {
  it('is true only when every address of the inner network is in the outer one', () => {
    expect(cidrWithin(cidr('10.1.2.0/24'), cidr('10.0.0.0/8'))).toBe(true);
    expect(cidrWithin(cidr('10.0.0.0/8'), cidr('10.1.0.0/16'))).toBe(false);
    expect(cidrWithin(cidr('11.0.0.0/24'), cidr('10.0.0.0/8'))).toBe(false);
    expect(cidrWithin(cidr('10.0.0.0/8'), cidr('0.0.0.0/0'))).toBe(true);
  });
});

describe('isLoopback', () => {
  it('knows 127/8 and ::1, mapped or not', () => {
    for (const address of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1'])
      expect(isLoopback(address), address).toBe(true);
    for (const address of ['10.0.0.1', '::2', 'nope']) expect(isLoopback(address), address).toBe(false);
  });
});
