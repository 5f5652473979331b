// Keyed hashes of secrets (API keys, refresh tokens, codes, client secrets).
// HMAC under a server-side secret: a stolen database alone cannot be used to test
// guesses, and a lookup by hash stays an index lookup. Secrets here are random
// and long, so a slow KDF would add latency without adding strength.
//
// Rotation of the hash secret: the current secret hashes everything new; previous
// secrets (AETHERFLOW_HASH_SECRET_PREVIOUS) still match what was stored under them,
// through `candidates`, and long-lived secrets are re-hashed under the current one
// when next used (see ApiKeyVerifier.authenticate).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface KeyedHash {
  /** The hash under the current secret: what is stored for a new secret. */
  (value: string): string;
  /** The hash under every secret, current first: what a stored hash may be. */
  candidates(value: string): string[];
}

export function keyedHasher(secret: Buffer, purpose: string, previous: readonly Buffer[] = []): KeyedHash {
  // A distinct key per purpose, so a hash of one kind of secret is never valid as another.
  const keys = [secret, ...previous].map((s) => createHmac('sha256', s).update(`aetherflow:${purpose}`).digest());
  const under = (key: Buffer, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('hex');
  const hash = ((value: string) => under(keys[0]!, value)) as KeyedHash;
  hash.candidates = (value) => keys.map((key) => under(key, value));
  return hash;
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
