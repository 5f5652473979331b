// Express's `trust proxy` function: whether a hop's address is one of the configured
// proxies. Express asks it several times per request (for req.ip, req.secure and
// req.protocol, once per forwarded hop), and parsing an address into 128 bits costs
// more than the rest of the check, so answers are remembered per address text. The
// addresses asked about are socket peers and the hops of trusted proxies' headers: a
// client can put any text there, so the memory is bounded (lru-cache: the least
// recently asked address goes first, and the proxies' own, asked on every request, stay).
import { LRUCache } from 'lru-cache';
import { cidrContains, type Cidr } from '../net/cidr.ts';

const REMEMBERED = 1024;

export function trustedProxy(networks: readonly Cidr[]): (address: string) => boolean {
  if (networks.length === 0) return () => false;
  const known = new LRUCache<string, boolean>({ max: REMEMBERED });
  return (address) => {
    let trusted = known.get(address);
    if (trusted === undefined) {
      trusted = networks.some((cidr) => cidrContains(cidr, address));
      known.set(address, trusted);
    }
    return trusted;
  };
}
