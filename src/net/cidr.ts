// IPv4 and IPv6 networks in CIDR notation, for key allowlists, OAuth app fences and
// trusted proxies. Parsing and matching are ipaddr.js's; every address is compared in
// the IPv6 space, IPv4 as IPv4-mapped (::ffff:a.b.c.d), because Node reports IPv4
// clients on a dual-stack socket that way, and a v4 network must match them.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface Cidr {
  /** The network, as an IPv6 address (IPv4 mapped). */
  network: ipaddr.IPv6;
  /** Prefix length in the IPv6 space (an IPv4 /24 is 120). */
  bits: number;
  /** As written, normalised: `203.0.113.0/24`, `2001:db8::/32`. */
  text: string;
}

/** An address in the IPv6 space, or null when it is not an IP address. */
function parseAddress(address: string): ipaddr.IPv6 | null {
  const plain = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (isIP(plain) === 0) return null;
  const parsed = ipaddr.parse(plain);
  return parsed.kind() === 'ipv4' ? (parsed as ipaddr.IPv4).toIPv4MappedAddress() : (parsed as ipaddr.IPv6);
}

/** A network in CIDR notation (strict: a plain IPv4 or IPv6 address, `/`, a prefix length in range), or null. */
export function parseCidr(text: string): Cidr | null {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return null;
  const kind = isIP(address);
  const length = Number(prefix);
  if (kind === 0 || (kind === 4 && length > 32) || (kind === 6 && length > 128)) return null;
  const network = parseAddress(address);
  if (network === null) return null;
  return { network, bits: kind === 4 ? 96 + length : length, text: `${address.toLowerCase()}/${length}` };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = parseAddress(address);
  return ip !== null && ip.match(cidr.network, cidr.bits);
}

/** True when every address of `inner` is in `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.bits >= outer.bits && inner.network.match(outer.network, outer.bits);
}

export function isLoopback(address: string): boolean {
  const ip = parseAddress(address);
  if (ip === null) return false;
  return ip.range() === 'loopback' || (ip.isIPv4MappedAddress() && ip.toIPv4Address().range() === 'loopback');
}
