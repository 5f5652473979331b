// Per-IP limits count per address as a client can change it. An IPv4 address is one
// client; an IPv6 host is normally handed a whole /64, and could otherwise step past any
// per-IP limit by using the next address of it, so IPv6 addresses count per /64.
// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) is IPv4.

import { isIP } from 'node:net';

export function clientIpKey(address: string): string {
  const bare = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family !== 6) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  const hextets = expandIpv6(bare);
  if (hextets.slice(0, 5).every((part) => part === 0) && hextets[5] === 0xffff) {
    const [high = 0, low = 0] = hextets.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${hextets
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (isIP has checked it). */
function expandIpv6(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const groups = (text: string): number[] => (text === '' ? [] : text.split(':').flatMap(parseGroup));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const zeros = new Array<number>(8 - front.length - back.length).fill(0);
  return [...front, ...zeros, ...back];
}

function parseGroup(group: string): number[] {
  if (!group.includes('.')) return [parseInt(group, 16)];
  const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}
