// Keyed hashes of secrets (API keys, refresh tokens, codes, client secrets).
// HMAC under a server-side secret: a stolen database alone cannot be used to test
// guesses, and a lookup by hash stays an index lookup. Secrets here are random
// and long, so a slow KDF would add latency without adding strength.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type KeyedHash = (value: string) => string;

export function keyedHasher(secret: Buffer, purpose: string): KeyedHash {
  // A distinct key per purpose, so a hash of one kind of secret is never valid as another.
  const key = createHmac('sha256', secret).update(`aetherflow:${purpose}`).digest();
  return (value) => createHmac('sha256', key).update(value, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
