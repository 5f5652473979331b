// IPv4 and IPv6 networks in CIDR notation, for key allowlists and trusted proxies.
// Addresses are compared as 128-bit integers; IPv4 (and IPv4-mapped IPv6, as Node
// reports IPv4 clients on a dual-stack socket) live in ::ffff:0:0/96.
import { isIP } from 'node:net';

export interface Cidr {
  /** The network address, as a 128-bit integer. */
  network: bigint;
  /** Prefix length in the 128-bit space. */
  bits: number;
  /** As written, normalised: `203.0.113.0/24`, `2001:db8::/32`. */
  text: string;
}

const MAPPED_PREFIX = 0xffffn << 32n;

export function parseIp(address: string): bigint | null {
  const unbracketed = address.replace(/^\[|\]$/g, '');
  const kind = isIP(unbracketed);
  if (kind === 4) return MAPPED_PREFIX | ipv4ToBigInt(unbracketed);
  if (kind !== 6) return null;
  // IPv4-mapped or IPv4-embedded tail (`::ffff:192.0.2.1`).
  let text = unbracketed.toLowerCase().split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  if (parts.length !== 8) return null;
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part || '0', 16)), 0n);
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

export function parseCidr(text: string): Cidr | null {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return null;
  const kind = isIP(address);
  const length = Number(prefix);
  if (kind === 0 || (kind === 4 && length > 32) || (kind === 6 && length > 128)) return null;
  const ip = parseIp(address);
  if (ip === null) return null;
  const bits = kind === 4 ? 96 + length : length;
  const mask = bits === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - bits)) - 1n);
  return { network: ip & mask, bits, text: `${address.toLowerCase()}/${length}` };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = parseIp(address);
  if (ip === null) return false;
  const shift = BigInt(128 - cidr.bits);
  return ip >> shift === cidr.network >> shift;
}

/** True when every address of `inner` is in `outer` (same or longer prefix, same network under `outer`'s prefix). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.bits < outer.bits) return false;
  const shift = BigInt(128 - outer.bits);
  return inner.network >> shift === outer.network >> shift;
}

export function isLoopback(address: string): boolean {
  const ip = parseIp(address);
  if (ip === null) return false;
  return ip === 1n || ip >> 24n === (MAPPED_PREFIX | (127n << 24n)) >> 24n;
}
